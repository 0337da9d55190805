import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import type { Logger } from 'pino';
import copyStreams from 'pg-copy-streams';
import { encodeRecord } from '../../core/change-record.js';
import { CsvRowCutter } from '../../core/csv-row-cutter.js';
import type { ChangeLog } from '../../core/log/change-log.js';
import { ident } from '../../core/sql.js';
import { connect } from './connection.js';
import { type CapturedTable, snapshotRowsRecord, snapshotSchemaRecord } from '../../core/captured-table.js';
import type { SnapshotProgress } from '../../core/source.js';

/** Tables Postgres has no statistics for are counted when at most this big (a count takes well under a second). */
const COUNT_UNANALYZED_BYTES = 256 * 1024 * 1024;

export type { SnapshotProgress };

export interface SnapshotOptions {
  readonly url: string;
  readonly source: string;
  readonly slot: string;
  readonly tables: readonly CapturedTable[];
  readonly log: ChangeLog;
  readonly logger: Logger;
  readonly progress: SnapshotProgress;
  readonly chunkBytes?: number;
  /** Stops the copy (Ctrl-C during a long snapshot); the next start snapshots again. */
  readonly signal?: AbortSignal;
  /**
   * Copy tables added to a running source: the slot is a temporary one, used only for its
   * consistent point and snapshot; the source's own slot resumes from `resumeFrom`, and the
   * copied tables are fenced at the consistent point (see SnapshotEndHeader.fences).
   */
  readonly resumeFrom?: string;
}

/**
 * The initial snapshot, consistent with the slot: the slot is created with an exported
 * snapshot, and every table is copied inside a transaction that uses exactly that snapshot.
 * Whatever committed before the slot's consistent point is in the copy; everything after it
 * comes through the slot. The replication connection must stay open (and idle) until the copy
 * is done, or the exported snapshot disappears.
 *
 * Returns the consistent point, from which streaming starts.
 */
export async function takeSnapshot(o: SnapshotOptions): Promise<string> {
  const repl = await connect(o.url, { replication: 'database' } as never);
  const copier = await connect(o.url);
  // Ending the connections makes the COPY in flight fail, which unwinds the snapshot.
  const onAbort = (): void => {
    void copier.end().catch(() => undefined);
    void repl.end().catch(() => undefined);
  };
  o.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const temporary = o.resumeFrom ? 'TEMPORARY ' : '';
    const created = await repl.query(`CREATE_REPLICATION_SLOT ${ident(o.slot)} ${temporary}LOGICAL pgoutput EXPORT_SNAPSHOT`);
    const { consistent_point: lsn, snapshot_name: snapshotName } = created.rows[0] as { consistent_point: string; snapshot_name: string };
    o.logger.info({ slot: o.slot, lsn }, 'replication slot created; snapshot started');

    await o.log.append([encodeRecord({ kind: 'snapshot-begin', source: o.source, tables: o.tables.map((t) => t.replicaName), lsn })]);
    await copier.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    await copier.query(`SET TRANSACTION SNAPSHOT '${snapshotName}'`);
    o.progress.rowsTotal = await estimateRows(copier, o.tables);
    o.logger.info({ tables: o.tables.length, rowsTotal: o.progress.rowsTotal }, 'snapshot row estimate');
    for (const table of o.tables) {
      await copyTable(copier, table, o);
      o.progress.tablesDone++;
    }
    await copier.query('COMMIT');
    const end = o.resumeFrom
      ? { position: { lsn: o.resumeFrom, tsMs: Date.now() }, fences: Object.fromEntries(o.tables.map((t) => [t.replicaName, lsn])) }
      : { position: { lsn, tsMs: Date.now() } };
    await o.log.append([encodeRecord({ kind: 'snapshot-end', source: o.source, ...end })]);
    o.logger.info({ rows: o.progress.rows }, 'snapshot complete');
    return lsn;
  } finally {
    o.signal?.removeEventListener('abort', onAbort);
    await copier.end().catch(() => undefined);
    await repl.end().catch(() => undefined);
  }
}

/**
 * The rows the copy will read, for progress and ETA only: the planner's estimate (reltuples),
 * or, for a table never analyzed (reltuples -1, common right after a bulk load), an exact count
 * if the table is small enough to count quickly. Null when a big table has no estimate.
 * Runs inside the snapshot's transaction, so a count sees exactly what the copy will.
 */
async function estimateRows(client: Awaited<ReturnType<typeof connect>>, tables: readonly CapturedTable[]): Promise<number | null> {
  let total = 0;
  for (const t of tables) {
    const name = `${ident(t.schema)}.${ident(t.name)}`;
    const r = await client.query(`SELECT reltuples::float8 AS n, pg_relation_size(oid)::float8 AS bytes FROM pg_class WHERE oid = $1::regclass`, [name]);
    const { n, bytes } = (r.rows[0] ?? { n: -1, bytes: 0 }) as { n: number; bytes: number };
    if (n >= 0 && !(n === 0 && bytes > 0)) total += Math.round(n);
    else if (bytes <= COUNT_UNANALYZED_BYTES) total += Number((await client.query(`SELECT count(*)::float8 AS n FROM ONLY ${name}`)).rows[0].n);
    else return null;
  }
  return total;
}

function selectList(t: CapturedTable): string {
  return t.columns
    .map((c) => (c.conversion === 'pg-array' ? `array_to_json(${ident(c.name)})` : ident(c.name)))
    .join(', ');
}

async function copyTable(client: Awaited<ReturnType<typeof connect>>, t: CapturedTable, o: SnapshotOptions): Promise<void> {
  const chunkBytes = o.chunkBytes ?? 8 * 1024 * 1024;
  await o.log.append([snapshotSchemaRecord(o.source, t)]);
  const cutter = new CsvRowCutter();
  const emit = async (): Promise<void> => {
    const chunk = cutter.take();
    if (!chunk) return;
    await o.log.append([snapshotRowsRecord(o.source, t, chunk.rows, chunk.body)]);
    o.progress.rows += chunk.rows;
  };
  // The op letter rides along as the first column so the rows are log-ready as Postgres sends them.
  const sql = `COPY (SELECT 'r', ${selectList(t)} FROM ONLY ${ident(t.schema)}.${ident(t.name)}) TO STDOUT (FORMAT csv)`;
  const source = client.query(copyStreams.to(sql));
  await pipeline(
    source,
    new Writable({
      highWaterMark: chunkBytes,
      write(piece: Buffer, _enc, done) {
        cutter.push(piece);
        if (cutter.bufferedBytes < chunkBytes) return done();
        emit().then(() => done(), done);
      },
      final(done) {
        emit().then(() => done(), done);
      },
    }),
  );
  o.logger.debug({ table: `${t.schema}.${t.name}`, rows: o.progress.rows }, 'table copied');
}
