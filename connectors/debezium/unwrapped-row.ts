import type { ConnectSchema } from './connect-schema.js';
import type { JsonObject } from './json-text.js';
import { messageError } from './message-error.js';
import type { ChangeEvent, ChangeOpLetter, KafkaCoordinates } from './message-types.js';
import { isSnapshot, millisOf, sourcePositionOf, sourceTableOf } from './source-info.js';

const OPS = new Set(['c', 'u', 'd', 'r', 't']);

/**
 * A row flattened by ExtractNewRecordState: the `after` image itself, plus whatever metadata
 * `add.fields` asked for, prefixed `__` (`__op`, `__table`, `__lsn`, `__source_ts_ms`...), and
 * `__deleted: "true"` for deletes in `delete.tombstone.handling.mode=rewrite`. Without `__op` a
 * row is an upsert ('c'): for a keyed table that is all an insert or an update needs.
 */
export function unwrappedEvent(
  at: KafkaCoordinates,
  p: JsonObject,
  rowSchema: ConnectSchema | null,
  key: JsonObject | null,
  keySchema: ConnectSchema | null,
  root: string,
  fallbackConnector: string,
): ChangeEvent {
  const row: JsonObject = {};
  const meta: JsonObject = {};
  for (const k of Object.keys(p)) {
    if (k.startsWith('__')) meta[k.slice(2)] = p[k];
    else row[k] = p[k];
  }
  const pick = (...names: string[]) => names.map((n) => meta[n]).find((v) => v !== undefined && v !== null);
  const source: JsonObject = {};
  const put = (field: string, ...names: string[]): void => {
    const v = pick(...names);
    if (v !== undefined) source[field] = v;
  };
  put('connector', 'source_connector', 'connector');
  put('db', 'source_db', 'db');
  put('schema', 'source_schema', 'schema');
  put('table', 'source_table', 'table');
  put('ts_ms', 'source_ts_ms');
  put('lsn', 'source_lsn', 'lsn');
  put('txId', 'source_txId', 'txId');
  put('file', 'source_file', 'file');
  put('pos', 'source_pos', 'pos');
  put('gtid', 'source_gtid', 'gtid');
  put('snapshot', 'source_snapshot', 'snapshot');

  const deleted = meta.deleted === true || meta.deleted === 'true';
  const opField = pick('op');
  if (opField !== undefined && (typeof opField !== 'string' || !OPS.has(opField))) {
    throw messageError(at, `${root}__op`, `unknown operation ${JSON.stringify(opField)} (expected c, u, d, r or t)`);
  }
  const op: ChangeOpLetter = deleted ? 'd' : ((opField as ChangeOpLetter | undefined) ?? 'c');
  const table = sourceTableOf(source, at.topic, fallbackConnector);
  return {
    kind: 'change',
    at,
    op,
    table,
    before: op === 'd' ? row : null,
    after: op === 'd' || op === 't' ? null : row,
    key,
    rowSchema,
    keySchema,
    position: sourcePositionOf(Object.keys(source).length > 0 ? source : null, table.connector),
    transactionId: null,
    snapshot: isSnapshot(source),
    capturedMs: millisOf(meta.ts_ms),
    unwrapped: true,
    root,
  };
}
