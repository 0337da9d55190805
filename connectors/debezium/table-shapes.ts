import type { ColumnSpec, SchemaPart } from '../../core/change-record.js';
import { type ColumnPlan, defaultText, planConnectColumn } from './column-types.js';
import type { ConnectSchema } from './connect-schema.js';
import { type InferredKind, inferredPlan, kindOf, storedKind, widen } from './inferred-columns.js';
import { type JsonObject, type JsonValue, stringifyJson } from './json-text.js';
import { FieldError } from './message-error.js';
import type { ChangeEvent } from './message-types.js';

/** A table's current shape: its schema part and, parallel to its columns, how to write each value. */
export interface TableShape {
  readonly part: SchemaPart;
  readonly plans: readonly ColumnPlan[];
  readonly keyIdx: readonly number[];
  /** Schemas-enabled: the row schema the shape was built from (compared by identity: the decoder shares them). */
  readonly rowSchema: ConnectSchema | null;
  /** Schemaless: what each column's values have looked like so far. */
  readonly kinds: readonly InferredKind[] | null;
}

/** The shape an event needs; `commit()` makes it current once its rows were written. */
export interface ResolvedShape {
  readonly shape: TableShape;
  /** The schema part to put ahead of the rows: first sight, or columns/types/key changed. */
  readonly changed: SchemaPart | null;
  commit(): void;
}

function signature(p: SchemaPart): string {
  return JSON.stringify([p.identity, p.columns]);
}

/** The key columns: the key schema's fields, else (schemaless) the key's own; none for keyless tables. */
function keyNamesOf(e: ChangeEvent): string[] {
  if (e.keySchema) return e.keySchema.fields.map((f) => f.field);
  return e.key ? Object.keys(e.key) : [];
}

/**
 * Tracks every table's shape across events: from the Connect schema when messages carry one,
 * else inferred from the values. A table's first event in a session always yields a schema part
 * (the store ignores one that changes nothing, as it does for the native connectors).
 */
export class TableShapes {
  private readonly shapes = new Map<string, TableShape>();
  /** Shapes the store already has (schemaless inference continues from them rather than guessing afresh). */
  private readonly stored = new Map<string, SchemaPart>();
  private readonly emitted = new Set<string>();

  constructor(stored?: ReadonlyMap<string, SchemaPart>) {
    for (const [table, part] of stored ?? []) this.stored.set(table, part);
  }

  get(table: string): TableShape | undefined {
    return this.shapes.get(table) ?? this.fromStored(table);
  }

  private fromStored(table: string): TableShape | undefined {
    const part = this.stored.get(table);
    if (!part) return undefined;
    const kinds = part.columns.map(storedKind);
    const inferred = part.columns.every((c) => c.sourceType.startsWith('json:'));
    // Columns that came with a Connect schema are written from the next schema'd event's plans;
    // until then (a tombstone's key, say) a value is taken as the JSON shows it.
    const plans = part.columns.map((c, i): ColumnPlan => (inferred ? { ...inferredPlan(kinds[i]), spec: c } : { spec: c, write: plainText }));
    return { part, plans, keyIdx: keyIndexes(part.columns), rowSchema: null, kinds: inferred ? kinds : null };
  }

  /** The shape a change event (not a truncate) is written with. Throws FieldError for a key that is not a column. */
  resolve(e: ChangeEvent, table: string): ResolvedShape {
    const previous = this.get(table);
    const keys = keyNamesOf(e);
    const next = e.rowSchema ? this.fromSchema(e, table, e.rowSchema, keys, previous) : this.inferred(e, table, keys, previous);
    const first = !this.emitted.has(table);
    if (next === previous && !first) return { shape: next, changed: null, commit: () => undefined };
    const changed = first || !previous || signature(previous.part) !== signature(next.part) ? next.part : null;
    return {
      shape: next,
      changed,
      commit: () => {
        this.shapes.set(table, next);
        this.emitted.add(table);
      },
    };
  }

  private part(e: ChangeEvent, table: string, columns: ColumnSpec[]): SchemaPart {
    return {
      kind: 'schema',
      table,
      connector: e.table.connector,
      sourceDb: e.table.database,
      sourceSchema: e.table.schema,
      sourceTable: e.table.table,
      columns,
      identity: columns.some((c) => c.key) ? 'key' : 'full',
      bytes: 0,
    };
  }

  private fromSchema(e: ChangeEvent, table: string, row: ConnectSchema, keys: string[], previous: TableShape | undefined): TableShape {
    const keyList = keys.join('\u0000');
    if (previous && previous.rowSchema === row && previous.part.columns.filter((c) => c.key).map((c) => c.name).join('\u0000') === keyList) {
      return previous;
    }
    const plans: ColumnPlan[] = [];
    const columns = row.fields.map((f) => {
      const p = planConnectColumn(f, e.table.connector);
      const dflt = defaultText(p, f.default);
      const spec: ColumnSpec = { ...p.spec, name: f.field, key: keys.includes(f.field), ...(dflt === undefined ? {} : { default: dflt }) };
      plans.push({ ...p, spec });
      return spec;
    });
    const missing = keys.find((k) => !row.fields.some((f) => f.field === k));
    if (missing) throw new FieldError('key', `key field "${missing}" is not a column of ${e.table.schema}.${e.table.table}`);
    return { part: this.part(e, table, columns), plans, keyIdx: keyIndexes(columns), rowSchema: row, kinds: null };
  }

  /**
   * Without a schema: columns are the after image's fields (deletes' before images may hold
   * only the key, so they never drop columns); kinds widen with every value seen.
   */
  private inferred(e: ChangeEvent, table: string, keys: string[], previous: TableShape | undefined): TableShape {
    if (previous?.kinds && fits(e, keys, previous, previous.kinds)) return previous;
    const names = previous ? previous.part.columns.map((c) => c.name) : [];
    const kinds: InferredKind[] = previous?.kinds ? [...previous.kinds] : names.map(() => 'string' as InferredKind);
    const images = [e.after, e.before].filter((x): x is JsonObject => x !== null);
    // The key repeats the row's values; it only tells of a key column the images lack.
    if (e.key) images.push(Object.fromEntries(Object.entries(e.key).filter(([k]) => !images.some((im) => k in im))));
    for (const image of images) {
      for (const [name, v] of Object.entries(image)) {
        let i = names.indexOf(name);
        if (i < 0) {
          names.push(name);
          kinds.push('null');
          i = names.length - 1;
        }
        kinds[i] = widen(kinds[i], kindOf(v));
      }
    }
    const after = e.after;
    const keep = names.map((n) => !after || n in after || keys.includes(n));
    const columns: ColumnSpec[] = [];
    const plans: ColumnPlan[] = [];
    const kept: InferredKind[] = [];
    names.forEach((name, i) => {
      if (!keep[i]) return;
      const p = inferredPlan(kinds[i]);
      const spec: ColumnSpec = { ...p.spec, name, key: keys.includes(name) };
      columns.push(spec);
      plans.push({ ...p, spec });
      kept.push(kinds[i]);
    });
    const part = this.part(e, table, columns);
    if (previous && previous.kinds && signature(previous.part) === signature(part)) return previous;
    return { part, plans, keyIdx: keyIndexes(columns), rowSchema: null, kinds: kept };
  }
}

/** Whether an event's values fit a known inferred shape as it is: same columns, same key, no type widened. */
function fits(e: ChangeEvent, keys: readonly string[], shape: TableShape, kinds: readonly InferredKind[]): boolean {
  const columns = shape.part.columns;
  const keyCount = columns.reduce((n, c) => (c.key ? n + 1 : n), 0);
  if (keyCount !== keys.length || !keys.every((k) => columns.some((c) => c.key && c.name === k))) return false;
  for (const image of [e.after, e.before]) {
    if (!image) continue;
    for (const name in image) {
      const i = columns.findIndex((c) => c.name === name);
      if (i < 0 || widen(kinds[i], kindOf(image[name])) !== kinds[i]) return false;
    }
  }
  // An after image without a column drops it.
  return !e.after || columns.every((c) => c.key || c.name in e.after!);
}

function plainText(v: JsonValue): string {
  return typeof v === 'string' ? v : stringifyJson(v);
}

function keyIndexes(columns: readonly ColumnSpec[]): number[] {
  return columns.flatMap((c, i) => (c.key ? [i] : []));
}
