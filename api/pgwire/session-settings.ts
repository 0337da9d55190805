import { SluiceError } from '../../core/errors.js';

interface SettingSpec {
  readonly name: string;
  readonly value: string;
  readonly description: string;
  /** Sent to the client as ParameterStatus at start-up and when it changes. */
  readonly report?: boolean;
  /** Refuses values Sluice cannot honour (it answers in one encoding, one interval style). */
  readonly accept?: (value: string) => boolean;
}

const SPECS: readonly SettingSpec[] = [
  { name: 'application_name', value: '', description: 'Name of the client application', report: true },
  { name: 'client_encoding', value: 'UTF8', description: 'Client character set (UTF8 only)', report: true, accept: (v) => /^(utf-?8|unicode)$/i.test(v) },
  { name: 'DateStyle', value: 'ISO, MDY', description: 'Date output style (ISO only)', report: true, accept: (v) => /^\s*iso\b/i.test(v) },
  // Timestamps are always written with their offset (+00), so any zone the client names reads
  // back as the same instant; the name is kept so clients that echo it are satisfied.
  { name: 'TimeZone', value: 'UTC', description: 'Time zone the client asked for; values are sent in UTC with an explicit offset', report: true },
  { name: 'IntervalStyle', value: 'postgres', description: 'Interval output style (postgres only)', report: true, accept: (v) => v.toLowerCase() === 'postgres' },
  { name: 'integer_datetimes', value: 'on', description: 'Datetimes are integer based', report: true, accept: () => false },
  { name: 'standard_conforming_strings', value: 'on', description: "Backslashes in '...' strings are literal", report: true, accept: (v) => /^(on|true)$/i.test(v) },
  { name: 'server_version', value: '15.0', description: 'Postgres version Sluice speaks for', report: true, accept: () => false },
  { name: 'server_encoding', value: 'UTF8', description: 'Server character set', report: true, accept: () => false },
  { name: 'is_superuser', value: 'off', description: 'Sluice sessions are read-only', report: true, accept: () => false },
  { name: 'session_authorization', value: '', description: 'Session user', report: true, accept: () => false },
  { name: 'search_path', value: '"$user", public', description: 'Schema search order' },
  { name: 'extra_float_digits', value: '1', description: 'Float output precision (shortest exact always)' },
  { name: 'statement_timeout', value: '0', description: 'Query timeout in ms (0: the server limit api.queryTimeoutMs)', accept: (v) => parseDuration(v) !== null },
  { name: 'client_min_messages', value: 'notice', description: 'Message levels sent to the client' },
  { name: 'bytea_output', value: 'hex', description: 'bytea output format (hex only)', accept: (v) => v.toLowerCase() === 'hex' },
  { name: 'lc_messages', value: 'C', description: 'Message language' },
  { name: 'lc_monetary', value: 'C', description: 'Monetary format locale' },
  { name: 'lc_numeric', value: 'C', description: 'Numeric format locale' },
  { name: 'lc_time', value: 'C', description: 'Time format locale' },
  { name: 'default_transaction_isolation', value: 'read committed', description: 'Accepted; every query sees one committed state' },
  { name: 'transaction_isolation', value: 'read committed', description: 'Accepted; every query sees one committed state' },
  { name: 'default_transaction_read_only', value: 'on', description: 'Sluice is read-only' },
  { name: 'transaction_read_only', value: 'on', description: 'Sluice is read-only' },
  { name: 'idle_in_transaction_session_timeout', value: '0', description: 'Accepted, not enforced' },
  { name: 'lock_timeout', value: '0', description: 'Accepted; queries take no locks' },
  { name: 'row_security', value: 'on', description: 'Accepted' },
  { name: 'jit', value: 'off', description: 'Accepted' },
  { name: 'max_identifier_length', value: '63', description: 'Identifier length', accept: () => false },
  { name: 'max_index_keys', value: '32', description: 'Index keys', accept: () => false },
  { name: 'block_size', value: '8192', description: 'Block size', accept: () => false },
];

const BY_NAME = new Map(SPECS.map((s) => [s.name.toLowerCase(), s]));

/**
 * The Postgres session settings a client may read and set. Only settings that change nothing
 * about the engine are here: a SET of anything else (DuckDB's own settings included) is
 * refused, so a client cannot turn the sandbox off through the Postgres door.
 */
export class SessionSettings {
  private readonly values = new Map<string, string>();
  private readonly changed = new Set<string>();

  private readonly defaults = new Map<string, string>();

  /** `defaults` replaces built-in defaults (the search_path covers the store's schemas). */
  constructor(startup: Readonly<Record<string, string>>, user: string, defaults: Readonly<Record<string, string>> = {}) {
    for (const s of SPECS) this.defaults.set(s.name.toLowerCase(), defaults[s.name] ?? s.value);
    for (const [k, v] of this.defaults) this.values.set(k, v);
    this.values.set('session_authorization', user);
    // Start-up parameters are settings too; unknown ones are ignored as Postgres ignores none,
    // but clients send options (e.g. `options`, `replication`) that mean nothing here.
    for (const [k, v] of Object.entries(startup)) {
      const spec = BY_NAME.get(k.toLowerCase());
      if (spec && (!spec.accept || spec.accept(v))) this.values.set(spec.name.toLowerCase(), v);
    }
  }

  get(name: string): string {
    const spec = this.spec(name);
    return this.values.get(spec.name.toLowerCase())!;
  }

  /** The value, or undefined for a setting Sluice does not know (current_setting's lookup). */
  find(name: string): string | undefined {
    return this.values.get(name.toLowerCase());
  }

  /** The setting's canonical name, e.g. `DateStyle` for `datestyle`. */
  canonical(name: string): string {
    return this.spec(name).name;
  }

  set(name: string, value: string): void {
    const spec = this.spec(name);
    if (spec.accept && !spec.accept(value)) {
      throw new SluiceError('SLUICE_QUERY_FORBIDDEN', `Sluice does not support ${spec.name} = ${JSON.stringify(value)} (${spec.description})`);
    }
    this.values.set(spec.name.toLowerCase(), value);
    if (spec.report) this.changed.add(spec.name);
  }

  reset(name: string): void {
    const spec = this.spec(name);
    const value = this.defaults.get(spec.name.toLowerCase())!;
    if (spec.accept && !spec.accept(value)) return; // read-only: nothing to reset
    this.set(spec.name, value);
  }

  resetAll(): void {
    for (const s of SPECS) {
      const value = this.defaults.get(s.name.toLowerCase())!;
      if (!s.accept || s.accept(value)) this.set(s.name, value);
    }
  }

  /** Settings sent as ParameterStatus at start-up. */
  reported(): [string, string][] {
    return SPECS.filter((s) => s.report).map((s) => [s.name, this.values.get(s.name.toLowerCase())!]);
  }

  /** Reportable settings changed since the last call, for ParameterStatus after a SET. */
  takeChanged(): [string, string][] {
    const out = [...this.changed].map((n): [string, string] => [n, this.values.get(n.toLowerCase())!]);
    this.changed.clear();
    return out;
  }

  all(): [string, string, string][] {
    return SPECS.map((s) => [s.name, this.values.get(s.name.toLowerCase())!, s.description]);
  }

  /** The session's statement_timeout in ms, 0 when unset. */
  get statementTimeoutMs(): number {
    return parseDuration(this.get('statement_timeout')) ?? 0;
  }

  private spec(name: string): SettingSpec {
    const spec = BY_NAME.get(name.toLowerCase());
    if (!spec) {
      throw new SluiceError('SLUICE_QUERY_FORBIDDEN', `setting "${name}" cannot be read or changed through Sluice (only Postgres session settings such as application_name, search_path, statement_timeout)`);
    }
    return spec;
  }
}

/** `5000`, `5s`, `250ms`, `1min` as Postgres reads statement_timeout, in ms. */
function parseDuration(v: string): number | null {
  const m = /^\s*(\d+)\s*(ms|s|min|h)?\s*$/i.exec(v);
  if (!m) return null;
  const n = Number(m[1]);
  const unit = (m[2] ?? 'ms').toLowerCase();
  return n * ({ ms: 1, s: 1000, min: 60_000, h: 3_600_000 } as Record<string, number>)[unit];
}
