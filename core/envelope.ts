import type { ChangeRecord, ColumnSpec, SchemaPart } from './change-record.js';

/** Debezium's change event value, as its JSON converter (schemas disabled) writes it. */
export interface DebeziumEnvelope {
  readonly before: Record<string, unknown> | null;
  readonly after: Record<string, unknown> | null;
  readonly source: {
    readonly version: string;
    readonly connector: string;
    readonly name: string;
    readonly ts_ms: number;
    readonly snapshot: 'true' | 'false';
    readonly db: string;
    readonly schema: string;
    readonly table: string;
    readonly txId: number | null;
    readonly lsn: string | null;
  };
  readonly op: 'c' | 'u' | 'd' | 'r' | 't';
  readonly ts_ms: number;
}

/** Debezium's marker for a TOASTed value that the source did not send because it did not change. */
export const UNAVAILABLE_VALUE = '__debezium_unavailable_value';

const VERSION = 'sluice-0.1';

/** Splits CSV lines as the change-record writers produce them; the slow path, for consumers. */
export function parseCsv(body: Buffer): (string | null)[][] {
  const text = body.toString('utf8');
  const rows: (string | null)[][] = [];
  let row: (string | null)[] = [];
  let i = 0;
  while (i < text.length) {
    if (text[i] === '"') {
      let value = '';
      i++;
      for (;;) {
        const q = text.indexOf('"', i);
        value += text.slice(i, q);
        i = q + 1;
        if (text[i] === '"') {
          value += '"';
          i++;
        } else break;
      }
      row.push(value);
    } else {
      let j = i;
      while (j < text.length && text[j] !== ',' && text[j] !== '\n') j++;
      const raw = text.slice(i, j);
      row.push(raw === '' ? null : raw);
      i = j;
    }
    if (text[i] === ',') {
      i++;
      if (i === text.length || text[i] === '\n') row.push(null);
    }
    if (i >= text.length || text[i] === '\n') {
      rows.push(row);
      row = [];
      i++;
    }
  }
  return rows;
}

function jsonValue(c: ColumnSpec, v: string | null): unknown {
  if (v === null) return null;
  if (c.storeType === 'BOOLEAN') return v === 't' || v === 'true';
  if (c.storeType === 'SMALLINT' || c.storeType === 'INTEGER') return Number(v);
  if (c.storeType === 'BIGINT') return Number.isSafeInteger(Number(v)) ? Number(v) : v;
  if (c.storeType === 'JSON' || c.conversion === 'pg-array') return JSON.parse(v);
  return v;
}

function rowObject(columns: readonly ColumnSpec[], values: readonly (string | null)[], unchanged?: ReadonlySet<number>): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  columns.forEach((c, i) => (o[c.name] = unchanged?.has(i) ? UNAVAILABLE_VALUE : jsonValue(c, values[i + 1])));
  return o;
}

/**
 * The events of one 'changes' record in Debezium's envelope. `schemas` must hold each table's
 * shape as of the record; schema parts inside the record update it as they pass.
 */
export function toEnvelopes(record: ChangeRecord, schemas: Map<string, SchemaPart>): DebeziumEnvelope[] {
  const h = record.header;
  if (h.kind !== 'changes') return [];
  const out: DebeziumEnvelope[] = [];
  let at = 0;
  for (const part of h.parts) {
    const body = record.body.subarray(at, at + part.bytes);
    at += part.bytes;
    if (part.kind === 'schema') {
      schemas.set(part.table, part);
      continue;
    }
    const spec = schemas.get(part.table);
    if (!spec) continue;
    const source = {
      version: VERSION,
      connector: spec.connector,
      name: h.source,
      ts_ms: h.position?.tsMs ?? h.capturedMs,
      snapshot: h.snapshot ? ('true' as const) : ('false' as const),
      db: spec.sourceDb,
      schema: spec.sourceSchema,
      table: spec.sourceTable,
      txId: h.position?.txId ?? null,
      lsn: h.position?.lsn ?? null,
    };
    const event = (op: DebeziumEnvelope['op'], before: DebeziumEnvelope['before'], after: DebeziumEnvelope['after']): void => {
      out.push({ before, after, source, op, ts_ms: h.capturedMs });
    };
    if (part.kind === 'truncate') {
      event('t', null, null);
      continue;
    }
    const unchanged = part.kind === 'patch' ? new Set(part.unchanged) : undefined;
    let before: Record<string, unknown> | null = null;
    for (const values of parseCsv(body)) {
      const op = values[0] as string;
      if (op === 'b') {
        before = rowObject(spec.columns, values);
        continue;
      }
      const row = rowObject(spec.columns, values, unchanged);
      if (op === 'd') event('d', row, null);
      else if (op === 'u') event('u', before, row);
      else event(op as 'c' | 'r', null, row);
      before = null;
    }
  }
  return out;
}
