import type { SourcePosition } from '../../core/change-record.js';
import { type JsonObject, type JsonValue, JsonNumber } from './json-text.js';
import type { SourceTable } from './message-types.js';

function text(v: JsonValue | undefined): string | null {
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return String(v);
  if (v instanceof JsonNumber) return v.text;
  return null;
}

function integer(v: JsonValue | undefined): bigint | null {
  if (typeof v === 'number') return Number.isInteger(v) ? BigInt(v) : null;
  const t = text(v);
  return t !== null && /^-?\d+$/.test(t) ? BigInt(t) : null;
}

export function isMysqlFamily(connector: string): boolean {
  return connector === 'mysql' || connector === 'mariadb';
}

/**
 * The table an event is about. The `source` block names it (db, schema, table); only when it
 * does not (an unwrapped row without `add.fields`) does the topic, whose default form is
 * `<prefix>.<schema>.<table>` or `<prefix>.<database>.<table>`: topic routing SMTs rename topics,
 * never the source block.
 */
export function sourceTableOf(source: JsonObject | null, topic: string, fallbackConnector: string): SourceTable {
  const connector = text(source?.connector) ?? fallbackConnector;
  const parts = topic.split('.');
  const topicTable = parts[parts.length - 1];
  const topicSchema = parts.length >= 2 ? parts[parts.length - 2] : '';
  const table = text(source?.table) ?? topicTable;
  if (isMysqlFamily(connector)) {
    const db = text(source?.db) ?? topicSchema;
    return { connector, database: db, schema: db, table };
  }
  return { connector, database: text(source?.db) ?? '', schema: text(source?.schema) ?? topicSchema, table };
}

export interface ReplicaNaming {
  /** Postgres schema whose tables keep their bare name (native: `public`). */
  readonly defaultSchema?: string;
  /** MySQL/MariaDB database whose tables keep their bare name (native: the URL's database). */
  readonly defaultDatabase?: string;
}

/**
 * The replica's name, as the native connectors choose it: `public.orders` is `orders`,
 * `sales.orders` is `sales_orders` (Postgres); `items` of the default database is `items`, other
 * databases' tables get the database as a prefix (MySQL). Without a configured default database
 * every MySQL table is prefixed: two databases' `customers` must not share a replica.
 */
export function replicaNameOf(t: SourceTable, naming: ReplicaNaming = {}): string {
  if (isMysqlFamily(t.connector)) return (t.database === naming.defaultDatabase ? t.table : `${t.database}_${t.table}`).toLowerCase();
  const schema = t.schema;
  return (schema === '' || schema === (naming.defaultSchema ?? 'public') ? t.table : `${schema}_${t.table}`).toLowerCase();
}

/** Postgres' LSN text (`0/16B3748`) of the 64-bit LSN Debezium writes as a number. */
export function pgLsnText(lsn: bigint): string {
  return `${(lsn >> 32n).toString(16).toUpperCase()}/${(lsn & 0xffffffffn).toString(16).toUpperCase()}`;
}

/**
 * Sluice's source position of an event, from its `source` block: Postgres' LSN (as Sluice writes
 * LSNs) and txId; MySQL's binlog `file:pos` and GTID. These are where the event sits in the
 * source, not commit positions: fine for display and lag, not for resuming (Kafka offsets do that).
 */
export function sourcePositionOf(source: JsonObject | null, connector: string): SourcePosition | null {
  if (!source) return null;
  const tsMs = Number(integer(source.ts_ms) ?? 0n);
  if (connector === 'postgresql') {
    const lsn = integer(source.lsn);
    if (lsn === null) return null;
    const txId = integer(source.txId);
    return { lsn: pgLsnText(lsn), tsMs, ...(txId === null ? {} : { txId: Number(txId) }) };
  }
  if (isMysqlFamily(connector)) {
    const file = text(source.file);
    const pos = integer(source.pos);
    if (file === null || pos === null) return null;
    const gtid = text(source.gtid);
    return { lsn: `${file}:${pos}`, tsMs, ...(gtid ? { gtid } : {}) };
  }
  return null;
}

/** Identifies the source transaction: metadata id, else Postgres txId, else MySQL GTID. */
export function transactionIdOf(payload: JsonObject, source: JsonObject | null, connector: string): string | null {
  const tx = payload.transaction;
  if (tx && typeof tx === 'object' && !Array.isArray(tx) && !(tx instanceof JsonNumber)) {
    const id = text(tx.id);
    if (id) return id;
  }
  if (!source) return null;
  if (connector === 'postgresql') return text(source.txId);
  if (isMysqlFamily(connector)) return text(source.gtid);
  return null;
}

/** `snapshot` is a boolean in older versions and an enum (`true`, `first`, `last`, `incremental`, `false`) since. */
export function isSnapshot(source: JsonObject | null): boolean {
  const s = source?.snapshot;
  return s === true || (typeof s === 'string' && s !== 'false');
}

export function millisOf(v: JsonValue | undefined): number | null {
  const n = integer(v);
  return n === null ? null : Number(n);
}
