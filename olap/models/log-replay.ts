import type { DuckDBConnection } from '@duckdb/node-api';
import { type ChangeRecord, type SchemaPart, decodeRecord } from '../../core/change-record.js';
import type { ChangeLog } from '../../core/log/change-log.js';
import { PieceReader, firstPieceIndex } from '../../core/transaction-pieces.js';
import { messageOf } from '../../core/errors.js';
import { BatchApplier, TABLES_DDL } from '../batch-applier.js';
import { ModelMaintenanceError, type ModelRuntime } from './model-runtime.js';

/** Catalog the replay builds in: in memory, beside the store, never visible as the store. */
export const REPLAY_CATALOG = '__rebuild';

/**
 * Rebuilds models the Kappa way: every source's log is replayed from its start into a scratch
 * catalog (replicas and models alike, through the same applier and model maintenance as live
 * changes), so a history (scd2) comes back with every version the log holds. The connection
 * uses the scratch catalog as its default; names resolve there exactly as they do in the store.
 */
export class LogReplay {
  private readonly schemas = new Map<string, SchemaPart>();
  /** Next offset to replay, per source. */
  readonly offsets = new Map<string, number>();

  private constructor(
    private readonly conn: DuckDBConnection,
    readonly runtime: ModelRuntime,
    private readonly stageDir: string,
  ) {}

  static async open(conn: DuckDBConnection, runtime: ModelRuntime, stageDir: string): Promise<LogReplay> {
    await conn.run(`DETACH DATABASE IF EXISTS ${REPLAY_CATALOG}`);
    await conn.run(`ATTACH ':memory:' AS ${REPLAY_CATALOG}`);
    await conn.run(`USE ${REPLAY_CATALOG}`);
    await conn.run(`CREATE SCHEMA _sluice`);
    await conn.run(TABLES_DDL);
    runtime.load();
    await runtime.buildAll(conn);
    return new LogReplay(conn, runtime, stageDir);
  }

  /** Replays `log` of `source` from where this replay is up to `until` (exclusive). */
  async replay(source: string, log: ChangeLog, until: number): Promise<void> {
    let offset = this.offsets.get(source) ?? log.startOffset;
    while (offset < until) {
      // While a model waits for its input, one record at a time: it is built right after the
      // record that creates the input, and every later change reaches it (a history included).
      const raw = (await log.read(offset, this.runtime.hasWaiting() ? 1 : 16 * 1024 * 1024)).filter((r) => r.offset < until);
      const records = raw.map((r) => decodeRecord(r.payload));
      const pieceAt = firstPieceIndex(records);
      if (pieceAt === 0) {
        // The store's checkpoint (`until`) never sits inside a run of pieces: a run before it
        // ends (or is interrupted) before it, so the reader never applies anything past it.
        offset = await this.applyPieces(source, new PieceReader(log, offset, 16 * 1024 * 1024, new AbortController().signal));
        continue;
      }
      await this.applyBatch(source, pieceAt > 0 ? records.slice(0, pieceAt) : records);
      offset = pieceAt > 0 ? raw[pieceAt].offset : raw[raw.length - 1].offset + 1;
    }
    this.offsets.set(source, offset);
  }

  private async applyBatch(source: string, records: readonly ChangeRecord[]): Promise<void> {
    for (;;) {
      const applier = new BatchApplier(this.conn, source, this.schemas, this.stageDir, this.runtime);
      await this.conn.run('BEGIN TRANSACTION');
      try {
        await applier.apply(records);
        await this.conn.run('COMMIT');
        applier.commitSchemas();
        return;
      } catch (e) {
        await this.conn.run('ROLLBACK').catch(() => undefined);
        const failure = e instanceof ModelMaintenanceError ? e : (e as { cause?: unknown })?.cause;
        if (!(failure instanceof ModelMaintenanceError)) throw e;
        this.runtime.markFailed(failure.model, messageOf(failure.cause));
      } finally {
        await applier.cleanup();
      }
    }
  }

  /** One transaction in pieces, in one transaction here too; an abandoned run leaves nothing. */
  private async applyPieces(source: string, reader: PieceReader): Promise<number> {
    const applier = new BatchApplier(this.conn, source, this.schemas, this.stageDir, this.runtime);
    await this.conn.run('BEGIN TRANSACTION');
    try {
      for (;;) {
        const chunk = await reader.next();
        if (chunk.end === 'abandoned') {
          await this.conn.run('ROLLBACK');
          return chunk.nextOffset;
        }
        await applier.apply(chunk.records);
        await applier.cleanup();
        if (chunk.end === 'done') {
          await this.conn.run('COMMIT');
          applier.commitSchemas();
          return chunk.nextOffset;
        }
      }
    } catch (e) {
      await this.conn.run('ROLLBACK').catch(() => undefined);
      throw e;
    } finally {
      await applier.cleanup();
    }
  }

  async close(): Promise<void> {
    await this.conn.run('USE sluice').catch(() => undefined);
    await this.conn.run(`DETACH DATABASE IF EXISTS ${REPLAY_CATALOG}`).catch(() => undefined);
    this.conn.closeSync();
  }
}
