import type { Readable } from 'node:stream';
import type mysql from 'mysql2/promise';
import type { Logger } from 'pino';
import { snapshotRowsRecord, snapshotSchemaRecord } from '../../core/captured-table.js';
import { encodeRecord } from '../../core/change-record.js';
import { CsvBatchWriter } from '../../core/csv-batch-writer.js';
import type { ChangeLog } from '../../core/log/change-log.js';
import type { SnapshotProgress } from '../../core/source.js';
import { connectMysql, formatBinlogPosition } from './connection.js';
import { type MysqlTable, describeMysqlTable } from './table-catalog.js';
import { writeMysqlValue } from './value-writer.js';

export interface MysqlSnapshotOptions {
  readonly url: string;
  readonly defaultDb: string;
  readonly source: string;
  readonly tables: readonly MysqlTable[];
  readonly log: ChangeLog;
  readonly logger: Logger;
  readonly progress: SnapshotProgress;
  readonly signal?: AbortSignal;
  readonly chunkBytes?: number;
  /**
   * Copy tables added to a running source: the stream resumes from `resumeFrom` for the other
   * tables, and the copied ones are fenced at the copy's position (see SnapshotEndHeader).
   */
  readonly resumeFrom?: string;
}

/**
 * Opens a consistent-snapshot transaction and returns the binlog position it corresponds to.
 * MariaDB reports that position for the transaction itself (binlog_snapshot_file/position), so
 * no lock is needed. MySQL does not: there the position is read under FLUSH TABLES WITH READ
 * LOCK, held only between starting the transaction and reading the position.
 */
async function beginConsistentSnapshot(conn: mysql.Connection, url: string): Promise<string> {
  const [[version]] = await conn.query<mysql.RowDataPacket[]>('SELECT VERSION() AS v');
  await conn.query('SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ');
  if (String(version.v).includes('MariaDB')) {
    await conn.query('START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY');
    const [status] = await conn.query<mysql.RowDataPacket[]>(`SHOW STATUS LIKE 'binlog_snapshot_%'`);
    const get = (name: string): string => String(status.find((r) => String(r.Variable_name).toLowerCase() === name)?.Value);
    return formatBinlogPosition(get('binlog_snapshot_file'), Number(get('binlog_snapshot_position')));
  }
  const lock = await connectMysql(url);
  try {
    await lock.query('FLUSH TABLES WITH READ LOCK');
    await conn.query('START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY');
    const [rows] = await lock.query<mysql.RowDataPacket[]>('SHOW MASTER STATUS');
    return formatBinlogPosition(String(rows[0].File), Number(rows[0].Position));
  } finally {
    await lock.query('UNLOCK TABLES').catch(() => undefined);
    await lock.end().catch(() => undefined);
  }
}

/** Snapshot of `tables`, consistent with the returned binlog position. */
export async function takeMysqlSnapshot(o: MysqlSnapshotOptions): Promise<string> {
  const conn = await connectMysql(o.url);
  const onAbort = (): void => conn.destroy();
  o.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const position = await beginConsistentSnapshot(conn, o.url);
    // MySQL DDL is not transactional: reading each table once takes its metadata lock for the
    // rest of the transaction, so no ALTER can change a table under the copy. The shapes are
    // read after that, and are the ones the copy has.
    const tables: MysqlTable[] = [];
    for (const t of o.tables) {
      await conn.query(`SELECT 1 FROM \`${t.database}\`.\`${t.name}\` LIMIT 0`);
      tables.push(await describeMysqlTable(conn, `${t.database}.${t.name}`, o.defaultDb));
    }
    o.progress.rowsTotal = await estimateRows(conn, tables);
    o.logger.info({ position, rowsTotal: o.progress.rowsTotal }, 'snapshot started');
    await o.log.append([encodeRecord({ kind: 'snapshot-begin', source: o.source, tables: tables.map((t) => t.replicaName), lsn: position })]);
    for (const t of tables) {
      await copyTable(conn, t, o);
      o.progress.tablesDone++;
    }
    await conn.query('COMMIT');
    const end = o.resumeFrom
      ? { position: { lsn: o.resumeFrom, tsMs: Date.now() }, fences: Object.fromEntries(tables.map((t) => [t.replicaName, position])) }
      : { position: { lsn: position, tsMs: Date.now() } };
    await o.log.append([encodeRecord({ kind: 'snapshot-end', source: o.source, ...end })]);
    o.logger.info({ rows: o.progress.rows }, 'snapshot complete');
    return position;
  } finally {
    o.signal?.removeEventListener('abort', onAbort);
    await conn.end().catch(() => undefined);
  }
}

/**
 * The rows the copy will read, for progress and ETA only: information_schema's table_rows,
 * InnoDB's sampled estimate (it can be off by tens of percent). Null when the server has none.
 */
async function estimateRows(conn: mysql.Connection, tables: readonly MysqlTable[]): Promise<number | null> {
  let total = 0;
  for (const t of tables) {
    const [rows] = await conn.query<mysql.RowDataPacket[]>(
      'SELECT table_rows AS n FROM information_schema.tables WHERE table_schema = ? AND table_name = ?',
      [t.database, t.name],
    );
    const n = rows[0]?.n;
    if (n === null || n === undefined) return null;
    total += Number(n);
  }
  return total;
}

async function copyTable(conn: mysql.Connection, t: MysqlTable, o: MysqlSnapshotOptions): Promise<void> {
  const chunkBytes = o.chunkBytes ?? 8 * 1024 * 1024;
  await o.log.append([snapshotSchemaRecord(o.source, t)]);
  const w = new CsvBatchWriter(chunkBytes + 1024 * 1024);
  const flush = async (): Promise<void> => {
    if (w.rows === 0) return;
    const rows = w.rows;
    await o.log.append([snapshotRowsRecord(o.source, t, rows, w.take())]);
    o.progress.rows += rows;
  };
  const binary = new Set(t.columns.filter((_, i) => t.kinds[i] === 'binary' || t.kinds[i] === 'bits').map((c) => c.name));
  const cols = t.columns.map((c) => `\`${c.name.replace(/`/g, '``')}\``).join(', ');
  // Raw text as the server sends it (binary columns as bytes): no JS Date, number or JSON parsing.
  const stream = (conn as unknown as { connection: { query(o: object): { stream(o: object): Readable } } }).connection
    .query({
      sql: `SELECT ${cols} FROM \`${t.database}\`.\`${t.name}\``,
      rowsAsArray: true,
      typeCast: (field: { name: string; string(): string | null; buffer(): Buffer | null }) =>
        binary.has(field.name) ? field.buffer() : field.string(),
    })
    .stream({ highWaterMark: 1000 });
  for await (const row of stream as AsyncIterable<unknown[]>) {
    w.beginRow('r');
    for (let i = 0; i < row.length; i++) writeMysqlValue(w, t, i, row[i]);
    w.endRow();
    if (w.byteLength >= chunkBytes) await flush();
  }
  await flush();
}
