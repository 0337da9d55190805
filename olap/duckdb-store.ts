import { mkdirSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import type { Logger } from 'pino';
import type { ChangeRecord, SchemaPart, SourcePosition } from '../core/change-record.js';
import { LOW_SPACE_BYTES, diskFullError, freeBytes, isNoSpace } from '../core/disk-space.js';
import { SluiceError, messageOf } from '../core/errors.js';
import type { ChangeLog } from '../core/log/change-log.js';
import type { Checkpoint, ReplicaStore } from '../core/store.js';
import type { PieceChunk } from '../core/transaction-pieces.js';
import { BatchApplier, TABLES_DDL } from './batch-applier.js';
import { LogReplay, REPLAY_CATALOG } from './models/log-replay.js';
import { ModelMaintenanceError, ModelRuntime } from './models/model-runtime.js';
import { literal } from '../core/sql.js';
import { UTC_DATE_TRUNC_MACRO } from './query/utc-date-trunc.js';
import { installPgCatalog } from './pg-catalog/install.js';

/** The catalog every query sees the replicas in (and the database name clients connect to). */
export const CATALOG = 'sluice';

export interface StoreOptions {
  readonly path: string;
  /** Folder of model SQL files, if any. */
  readonly models?: string | null;
  readonly threads?: number;
  readonly memoryLimit?: string;
  readonly logger: Logger;
}

export interface TableInfo {
  readonly source: string;
  readonly table: string;
  /** The table's shape as last applied. */
  readonly spec: SchemaPart;
  readonly lastCommitMs: number | null;
  readonly position: string | null;
}

/**
 * The columnar replica: DuckDB, one schema per source, one table per captured table, plus
 * `_sluice` bookkeeping. One connection writes (the pipeline), serially; queries use their
 * own connections and only ever see committed store transactions, which contain whole source
 * transactions.
 */
export class DuckDbStore implements ReplicaStore {
  private writeQueue: Promise<unknown> = Promise.resolve();
  private readonly schemas = new Map<string, SchemaPart>();
  /** Checkpoint rows as committed; the writer is the only one changing them. */
  private readonly checkpoints = new Map<string, Checkpoint>();
  /** The store's database file; set by open(). */
  private path = '';
  // Set when a write failed: before the next one, the database is checked (DuckDB may have
  // invalidated it) and what this object caches of it is read again.
  private suspect = false;

  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly writer: DuckDBConnection,
    private readonly stageDir: string,
    private readonly logger: Logger,
    /** Replaced whole when a rebuild from the log swaps new models in. */
    public models: ModelRuntime,
    private readonly modelsDir: string | null,
  ) {}

  static async open(options: StoreOptions): Promise<DuckDbStore> {
    const stageDir = `${options.path}.stage`;
    mkdirSync(dirname(options.path), { recursive: true });
    rmSync(stageDir, { recursive: true, force: true });
    mkdirSync(stageDir, { recursive: true });
    let instance: DuckDBInstance;
    let writer: DuckDBConnection;
    try {
      // The store file is attached under a fixed catalog name: DuckDB would otherwise name it
      // after the file, and a source called like the file would make `<source>.<table>` ambiguous.
      instance = await DuckDBInstance.create(':memory:');
      writer = await instance.connect();
      await writer.run(`ATTACH ${literal(options.path)} AS ${CATALOG}`);
      await writer.run(`USE ${CATALOG}`);
    } catch (e) {
      throw new SluiceError('SLUICE_STORE_OPEN', `cannot open store ${options.path}: ${messageOf(e)}`, { cause: e });
    }
    const settings = [
      `SET GLOBAL TimeZone = 'UTC'`,
      `SET GLOBAL temp_directory = ${literal(options.path + '.tmp')}`,
      options.threads ? `SET GLOBAL threads = ${options.threads}` : '',
      options.memoryLimit ? `SET GLOBAL memory_limit = ${literal(options.memoryLimit)}` : '',
      // Dashboards group by integer ids (customer, product) with up to a few hundred thousand
      // values: DuckDB's perfect hash aggregate, an array indexed by the value, is about 2x faster
      // there than its hash table, and 2^18 slots per thread stay a few MB (default 2^12).
      `SET GLOBAL perfect_ht_threshold = 18`,
      `SET GLOBAL autoinstall_known_extensions = false`,
      `SET GLOBAL allow_community_extensions = false`,
      `CREATE SCHEMA IF NOT EXISTS _sluice`,
      // No PRIMARY KEY: updated on every commit, and DuckDB updates un-indexed rows in place.
      `CREATE TABLE IF NOT EXISTS _sluice.checkpoints (source VARCHAR NOT NULL, log_offset BIGINT NOT NULL,
         position JSON, snapshotting BOOLEAN NOT NULL, updated_at TIMESTAMPTZ NOT NULL)`,
      TABLES_DDL,
      // The store only ever reads its own staging folder; user SQL can touch no other file,
      // and nobody can turn that back on: the configuration is locked from here.
      `SET GLOBAL allowed_directories = [${literal(stageDir + '/')}]`,
      `SET GLOBAL enable_external_access = false`,
      `SET GLOBAL lock_configuration = true`,
    ];
    for (const sql of settings) if (sql) await writer.run(sql);
    // Postgres clients' catalog queries read an emulation kept in the in-memory catalog (olap/pg-catalog).
    await installPgCatalog(writer, CATALOG);
    const store = new DuckDbStore(instance, writer, stageDir, options.logger, new ModelRuntime(options.models ?? null), options.models ?? null);
    store.path = options.path;
    await store.loadSchemas(writer);
    await store.loadCheckpoints(writer);
    await store.reloadModels();
    return store;
  }

  /**
   * Reads the model files again and rebuilds every model from the replicas as they are now, in
   * one transaction: queries see the old models until it commits, then all the new ones.
   */
  reloadModels(options: { rebuildAll?: boolean } = {}): Promise<void> {
    return this.exclusive(async () => {
      this.models.load();
      for (;;) {
        await this.writer.run('BEGIN TRANSACTION');
        try {
          await this.models.buildAll(this.writer, false, options.rebuildAll);
          await this.writer.run('COMMIT');
          break;
        } catch (e) {
          await this.writer.run('ROLLBACK').catch(() => undefined);
          if (!(e instanceof ModelMaintenanceError)) throw e;
          // Everything built so far is rolled back with it; the next round builds it again.
          this.models.markFailed(e.model, messageOf(e.cause));
        }
      }
      for (const m of this.models.status()) {
        if (m.state === 'failed') this.logger.warn({ model: m.name, reason: m.error }, 'model refused');
      }
    });
  }

  /**
   * Whether opening the store built models anew (a new or changed definition): they were built
   * from the replicas, which cannot give an scd2 model its past, so the app follows up with a
   * rebuild from the log.
   */
  get modelsChangedAtOpen(): boolean {
    return this.models.rebuilt.size > 0;
  }

  /** State of the last rebuild of the models from the log, for /v1/models. */
  rebuild: { running: boolean; startedAt: string | null; finishedAt: string | null; error: string | null } = {
    running: false,
    startedAt: null,
    finishedAt: null,
    error: null,
  };

  /**
   * Rebuilds every model from the sources' logs, in the background: the logs are replayed into a
   * scratch catalog while the pipelines go on; then, with the writer held, the last records are
   * replayed and the new models copied over the old ones in one transaction. Queries see the old
   * models until that commit.
   */
  rebuildModelsFromLog(logs: ReadonlyMap<string, ChangeLog>): void {
    if (this.rebuild.running) return;
    this.rebuild = { running: true, startedAt: new Date().toISOString(), finishedAt: null, error: null };
    void this.runRebuild(logs).then(
      () => (this.rebuild = { ...this.rebuild, running: false, finishedAt: new Date().toISOString() }),
      (e) => {
        this.rebuild = { ...this.rebuild, running: false, finishedAt: new Date().toISOString(), error: messageOf(e) };
        this.logger.error({ err: e }, 'rebuilding the models from the log failed; the old models stay');
      },
    );
  }

  private async runRebuild(logs: ReadonlyMap<string, ChangeLog>): Promise<void> {
    const runtime = new ModelRuntime(this.modelsDir);
    const replay = await LogReplay.open(await this.instance.connect(), runtime, this.stageDir);
    try {
      const applied = (source: string): number => this.checkpoints.get(source)?.logOffset ?? 0;
      for (const [source, log] of logs) await replay.replay(source, log, applied(source));
      await this.exclusive(async () => {
        for (const [source, log] of logs) await replay.replay(source, log, applied(source));
        await this.writer.run('BEGIN TRANSACTION');
        try {
          await runtime.adoptFrom(this.writer, REPLAY_CATALOG);
          await this.writer.run('COMMIT');
        } catch (e) {
          await this.writer.run('ROLLBACK').catch(() => undefined);
          throw e;
        }
        this.models = runtime;
      });
    } finally {
      await replay.close();
    }
  }

  /** A new connection for queries, whose default catalog is the store. */
  async connect(): Promise<DuckDBConnection> {
    const conn = await this.instance.connect();
    await conn.run(`USE ${CATALOG}`);
    await conn.run(UTC_DATE_TRUNC_MACRO);
    return conn;
  }

  /** Runs `fn` on the writer connection, after every write queued before it. */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const guarded = async (): Promise<T> => {
      try {
        if (this.suspect) await this.recover();
        return await fn();
      } catch (e) {
        throw await this.writeFailed(e);
      }
    };
    const run = this.writeQueue.then(guarded, guarded);
    this.writeQueue = run.catch(() => undefined);
    return run;
  }

  /**
   * After a failed write. What DuckDB does when the disk fills up (1.5): a commit whose WAL write
   * fails is rolled back and the database goes on; a checkpoint that fails (an explicit one, or
   * the automatic one after a commit, which then reports the durable commit as failed) leaves
   * the database invalidated, every query on it failing, until it is detached and attached
   * again; attaching replays the WAL and needs no free space. So the database is probed, attached
   * again if DuckDB gave up on it, and the cached checkpoints and table shapes are re-read, since
   * a commit reported as failed may have happened.
   */
  private async recover(): Promise<void> {
    // A connection of its own: one whose default catalog is the invalidated database can run nothing.
    const conn = await this.instance.connect();
    try {
      try {
        await conn.run(`SELECT 1 FROM ${CATALOG}._sluice.checkpoints LIMIT 0`);
      } catch (e) {
        await conn.run(`DETACH DATABASE IF EXISTS ${CATALOG}`);
        await conn.run(`ATTACH ${literal(this.path)} AS ${CATALOG}`);
        this.logger.warn({ path: this.path, reason: messageOf(e) }, 'DuckDB gave up on the store after a failed write; attached it again');
      }
      await this.loadSchemas(conn);
      await this.loadCheckpoints(conn);
      this.suspect = false;
    } finally {
      conn.closeSync();
    }
  }

  /**
   * Every source's checkpoint as committed. Refilled, not just emptied, after a failed write: a
   * commit decides between UPDATE and INSERT of the checkpoint row by what is cached.
   */
  private async loadCheckpoints(conn: DuckDBConnection): Promise<void> {
    const cps = await conn.runAndReadAll(`SELECT source, log_offset, position::VARCHAR, snapshotting FROM ${CATALOG}._sluice.checkpoints`);
    this.checkpoints.clear();
    for (const row of cps.getRows()) {
      this.checkpoints.set(String(row[0]), {
        logOffset: Number(row[1]),
        position: row[2] === null ? null : (JSON.parse(String(row[2])) as SourcePosition),
        snapshotting: Boolean(row[3]),
      });
    }
  }

  /** The replicas' shapes as committed, read into the cache the appliers share. */
  private async loadSchemas(conn: DuckDBConnection): Promise<void> {
    const specs = await conn.runAndReadAll(`SELECT spec::VARCHAR FROM ${CATALOG}._sluice.tables`);
    this.schemas.clear();
    for (const [spec] of specs.getRows()) {
      const part = JSON.parse(String(spec)) as SchemaPart & { source: string };
      this.schemas.set(`${part.source}.${part.table}`, part);
    }
  }

  /** Marks the store for a check before the next write; a full disk becomes SLUICE_DISK_FULL. */
  private async writeFailed(e: unknown): Promise<unknown> {
    this.suspect = true;
    if (e instanceof SluiceError && e.code === 'SLUICE_DISK_FULL') return e;
    // DuckDB says "No space left" only in its message text, so the filesystem is asked instead.
    const free = isNoSpace(e) ? 0 : await freeBytes(dirname(this.path));
    if (free === null || free >= LOW_SPACE_BYTES) return e;
    return diskFullError(this.path, `writing the store (${free} bytes free)`, e instanceof SluiceError && e.cause !== undefined ? e.cause : e);
  }

  async checkpoint(source: string): Promise<Checkpoint | null> {
    // After every write queued before it; the cache holds every committed checkpoint.
    return this.exclusive(async () => this.checkpoints.get(source) ?? null);
  }

  apply(source: string, records: readonly ChangeRecord[], nextOffset: number): Promise<void> {
    return this.exclusive(() => this.withoutFailedModels(() => this.applyOnce(source, records, nextOffset)));
  }

  /**
   * A model failing at run time is taken out and the batch applied again without it: the
   * replicas and the other models must not stall behind one bad model.
   */
  private async withoutFailedModels<T>(attempt: () => Promise<T>): Promise<T> {
    for (;;) {
      try {
        return await attempt();
      } catch (e) {
        const failure = e instanceof SluiceError ? e.cause : e;
        if (!(failure instanceof ModelMaintenanceError)) throw e;
        const stale = this.models.markFailed(failure.model, messageOf(failure.cause));
        await this.writer.run(`DELETE FROM _sluice.models WHERE name IN (${stale.map(literal).join(', ')})`);
        this.logger.warn({ model: failure.model, reason: messageOf(failure.cause) }, 'model failed; taken out of maintenance');
      }
    }
  }

  private async applyOnce(source: string, records: readonly ChangeRecord[], nextOffset: number): Promise<void> {
    const applier = new BatchApplier(this.writer, source, this.schemas, this.stageDir, this.models);
    await this.writer.run('BEGIN TRANSACTION');
    try {
      const applied = await applier.apply(records);
      await this.commitWithCheckpoint(source, nextOffset, applied);
      applier.commitSchemas();
    } catch (e) {
      await this.writer.run('ROLLBACK').catch(() => undefined);
      throw e instanceof SluiceError
        ? e
        : new SluiceError('SLUICE_STORE_APPLY', `applying changes of source ${source} failed: ${messageOf(e)}`, { cause: e });
    } finally {
      await applier.cleanup();
    }
  }

  /** Writes the source's checkpoint into the open transaction and commits it. */
  private async commitWithCheckpoint(
    source: string,
    nextOffset: number,
    applied: { position: SourcePosition | null; snapshotting: boolean | null },
  ): Promise<void> {
    const previous = this.checkpoints.get(source);
    const cp: Checkpoint = {
      logOffset: nextOffset,
      position: applied.position ?? previous?.position ?? null,
      snapshotting: applied.snapshotting ?? previous?.snapshotting ?? false,
    };
    const pos = cp.position ? literal(JSON.stringify(cp.position)) : 'NULL';
    await this.writer.run(
      previous
        ? `UPDATE _sluice.checkpoints SET log_offset = ${nextOffset}, position = ${pos}, snapshotting = ${cp.snapshotting},
             updated_at = now() WHERE source = ${literal(source)}`
        : `INSERT INTO _sluice.checkpoints VALUES (${literal(source)}, ${nextOffset}, ${pos}, ${cp.snapshotting}, now())`,
    );
    await this.writer.run('COMMIT');
    this.checkpoints.set(source, cp);
  }

  /**
   * The writer stays held from the first piece to the last (a transaction of the store cannot
   * share its connection), so other sources' batches wait behind a transaction in pieces.
   */
  applyPieces(source: string, open: () => { next(): Promise<PieceChunk> }): Promise<{ nextOffset: number; applied: boolean }> {
    return this.exclusive(() => this.withoutFailedModels(() => this.applyPiecesOnce(source, open())));
  }

  private async applyPiecesOnce(source: string, reader: { next(): Promise<PieceChunk> }): Promise<{ nextOffset: number; applied: boolean }> {
    // One applier for all chunks: schema changes stay pending until the commit, like in one batch.
    const applier = new BatchApplier(this.writer, source, this.schemas, this.stageDir, this.models);
    await this.writer.run('BEGIN TRANSACTION');
    try {
      for (;;) {
        const chunk = await reader.next();
        if (chunk.end === 'abandoned') {
          // Its source sends the transaction again, whole: nothing of this run may stay.
          await this.writer.run('ROLLBACK');
          await this.writer.run('BEGIN TRANSACTION');
          await this.commitWithCheckpoint(source, chunk.nextOffset, { position: null, snapshotting: null });
          return { nextOffset: chunk.nextOffset, applied: false };
        }
        const applied = await applier.apply(chunk.records);
        // Staged rows are in the store's transaction now; their files need not wait for the commit.
        await applier.cleanup();
        if (chunk.end === 'done') {
          await this.commitWithCheckpoint(source, chunk.nextOffset, applied);
          applier.commitSchemas();
          return { nextOffset: chunk.nextOffset, applied: true };
        }
      }
    } catch (e) {
      await this.writer.run('ROLLBACK').catch(() => undefined);
      throw e instanceof SluiceError
        ? e
        : new SluiceError('SLUICE_STORE_APPLY', `applying a transaction in pieces of source ${source} failed: ${messageOf(e)}`, { cause: e });
    } finally {
      await applier.cleanup();
    }
  }

  /** Read on a connection of its own, so status calls do not queue behind a long apply. */
  async tableInfos(): Promise<TableInfo[]> {
    const conn = await this.connect();
    const r = await conn
      .runAndReadAll(`SELECT source, "table", spec::VARCHAR, last_commit_ms, position FROM _sluice.tables ORDER BY 1, 2`)
      .finally(() => conn.closeSync());
    return r.getRows().map((row) => ({
      source: String(row[0]),
      table: String(row[1]),
      spec: JSON.parse(String(row[2])) as SchemaPart,
      lastCommitMs: row[3] === null ? null : Number(row[3]),
      position: row[4] === null ? null : String(row[4]),
    }));
  }

  async close(): Promise<void> {
    await this.writeQueue;
    this.writer.closeSync();
    this.instance.closeSync();
    this.logger.debug('store closed');
  }
}
