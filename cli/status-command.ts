import { parseArgs } from 'node:util';
import { DEFAULT_API, getJson, normalizeApiUrl } from './api-client.js';
import { ago, compact, duration, grouped } from './figures.js';
import { type TextColumn, formatTable } from './text-table.js';

/** The fields of /v1/sources, /v1/tables and /v1/models the status view shows; all optional, as the API may grow. */
interface SourceRow {
  name?: string;
  kind?: string;
  state?: string;
  position?: string | null;
  acknowledged?: string | null;
  lagMs?: number;
  error?: { code?: string; message?: string } | null;
  applyError?: string | null;
  snapshot?: { tablesDone: number; tablesTotal: number; rows: number; rowsTotal?: number | null } | null;
}
interface TableRow {
  name?: string;
  sourceTable?: string;
  rows?: unknown;
  lagMs?: number;
  lastCommitAt?: string | null;
}
interface ModelRow {
  name?: string;
  state?: string;
  rows?: unknown;
  lagMs?: number;
  error?: string | null;
}

const text = (v: unknown): string => (v === null || v === undefined || v === '' ? '-' : String(v));

/** "done, 1,500,000 rows", or "1/3 tables, 1.20M of ~2.90M rows (41%)" while it runs. */
export function snapshotText(s: SourceRow['snapshot'], state: string | undefined): string {
  if (!s) return '-';
  if (state !== 'snapshotting') return s.tablesDone >= s.tablesTotal ? `done, ${grouped(s.rows)} rows` : `stopped at ${grouped(s.rows)} rows`;
  const total = s.rowsTotal ?? null;
  const of = total !== null && total > 0 ? ` of ~${compact(Math.max(total, s.rows))} rows (${Math.min(99, Math.floor((100 * s.rows) / total))}%)` : ' rows';
  return `${s.tablesDone}/${s.tablesTotal} tables, ${compact(s.rows)}${of}`;
}

function errorText(s: SourceRow): string {
  const parts: string[] = [];
  if (s.error) parts.push(s.error.code ? `${s.error.code}: ${s.error.message}` : text(s.error.message));
  if (s.applyError) parts.push(`apply: ${s.applyError}`);
  return parts.length ? parts.join('; ') : '-';
}

const SOURCE_COLUMNS: TextColumn[] = [
  { name: 'SOURCE' }, { name: 'KIND' }, { name: 'STATE' }, { name: 'POSITION' }, { name: 'LAG', align: 'right' }, { name: 'SNAPSHOT' }, { name: 'ERROR' },
];
const TABLE_COLUMNS: TextColumn[] = [
  { name: 'TABLE' }, { name: 'SOURCE TABLE' }, { name: 'ROWS', align: 'right' }, { name: 'LAG', align: 'right' }, { name: 'LAST COMMIT' },
];
const MODEL_COLUMNS: TextColumn[] = [{ name: 'MODEL' }, { name: 'STATE' }, { name: 'ROWS', align: 'right' }, { name: 'LAG', align: 'right' }, { name: 'ERROR' }];

/** The three sections as text; `now` is a parameter so tests can pin the "ago" column. */
export function renderStatus(api: string, sources: SourceRow[], tables: TableRow[], models: ModelRow[], now = Date.now()): string {
  const section = (title: string, columns: TextColumn[], rows: string[][]): string =>
    `${title}\n${rows.length ? formatTable(columns, rows) : '(none)\n'}`;
  return [
    `Sluice at ${api}\n`,
    section('Sources', SOURCE_COLUMNS, sources.map((s) => [
      text(s.name), text(s.kind), text(s.state), text(s.position), duration(s.lagMs ?? 0), snapshotText(s.snapshot, s.state), errorText(s),
    ])),
    section('Tables', TABLE_COLUMNS, tables.map((t) => [
      text(t.name), text(t.sourceTable), grouped(t.rows), duration(t.lagMs ?? 0), ago(t.lastCommitAt, now),
    ])),
    section('Models', MODEL_COLUMNS, models.map((m) => [text(m.name), text(m.state), grouped(m.rows), duration(m.lagMs ?? 0), text(m.error)])),
  ].join('\n');
}

export async function statusCommand(argv: string[], out: (s: string) => void): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { api: { type: 'string' } }, strict: true });
  const api = normalizeApiUrl(values.api ?? process.env.SLUICE_API ?? DEFAULT_API);
  // Sources first: if the API is down, that is the one error to report.
  const sources = await getJson<{ sources: SourceRow[] }>(api, '/v1/sources');
  const [tables, models] = await Promise.all([
    getJson<{ tables: TableRow[] }>(api, '/v1/tables'),
    getJson<{ models: ModelRow[] }>(api, '/v1/models'),
  ]);
  out(renderStatus(api, sources.sources ?? [], tables.tables ?? [], models.models ?? []));
}
