import { statSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildApi } from '../api/server.js';
import { MysqlSource } from '../connectors/mysql/mysql-source.js';
import { PostgresSource } from '../connectors/postgres/postgres-source.js';
import { type SchemaPart, decodeRecord } from '../core/change-record.js';
import type { SluiceConfig, SourceConfig } from '../core/config.js';
import { toEnvelopes } from '../core/envelope.js';
import { SluiceError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { ChangeLog } from '../core/log/change-log.js';
import { EmbeddedLog } from '../core/log/embedded-log.js';
import { Metrics, type SourceSample } from '../core/metrics.js';
import { KafkaLog } from '../core/log/kafka/kafka-log.js';
import { DebeziumKafkaSource } from '../connectors/debezium/debezium-kafka-source.js';
import { FollowerSource } from '../core/follower-source.js';
import type { ChangeSource, SourceStatus } from '../core/source.js';
import { SourcePipeline } from '../core/source-pipeline.js';
import { qualified } from '../core/sql.js';
import { BacklogGate } from '../core/log/backlog-gate.js';
import { GatedLog } from '../core/log/gated-log.js';
import { DuckDbStore } from '../olap/duckdb-store.js';
import { QueryEngine } from '../olap/query/query-engine.js';
import { PgServer } from '../api/pgwire/pg-server.js';
import { postgresDialect } from '../api/pgwire/postgres-dialect.js';

interface SourceRuntime {
  readonly source: ChangeSource;
  readonly log: ChangeLog;
  readonly pipeline: SourcePipeline;
  readonly gate: BacklogGate;
}

/**
 * Everything `sluice run` starts, wired together: per source a log, a connector writing it and
 * a pipeline applying it to the shared store; one API in front of the store. Start-up fails
 * fast (bad source, unreachable database, port taken) and stop() undoes whatever started.
 */
export class SluiceApp {
  private readonly runtimes: SourceRuntime[] = [];
  private storeInstance: DuckDbStore | null = null;
  private engine: QueryEngine | null = null;
  private api: FastifyInstance | null = null;
  private pg: PgServer | null = null;

  constructor(private readonly config: Readonly<SluiceConfig>, private readonly logger: Logger) {}

  get address(): { http: string; pgPort: number | null } | null {
    const a = this.api?.server.address();
    return a && typeof a === 'object' ? { http: `http://${a.address}:${a.port}`, pgPort: this.pg?.port ?? null } : null;
  }

  async start(): Promise<void> {
    try {
      this.storeInstance = await DuckDbStore.open({ ...this.config.store, models: this.config.models, logger: this.logger });
      const memory = this.config.store.memoryLimit;
      this.engine = new QueryEngine(() => this.storeInstance!.connect(), {
        memoryLimitHint: memory ? `store.memoryLimit = ${memory}, shared by all queries` : "DuckDB's default, 80% of RAM; set store.memoryLimit",
      });
      const metrics = new Metrics({ sources: () => this.metricsSample(), storeBytes: () => this.storeBytes() });
      for (const sc of this.config.sources) {
        const log = await this.openLog(sc.name);
        const gate = new BacklogGate(this.config.pipeline.maxBacklogBytes);
        const source = this.createSource(sc, new GatedLog(log, gate));
        const pipeline = new SourcePipeline(source, log, this.storeInstance, this.logger, this.config.pipeline.maxBatchBytes, gate);
        pipeline.onApplied((records, visibleAt, applyMs) => metrics.observeBatch(sc.name, records, visibleAt, applyMs));
        this.runtimes.push({ source, log, pipeline, gate });
        // The pipeline first, so the source learns what the store already committed before it streams.
        await pipeline.start();
        await source.start(await this.storedSchemas(sc.name));
      }
      this.api = await buildApi({
        query: this.engine,
        status: { sources: () => this.sourcesStatus(), tables: () => this.tablesStatus() },
        changes: { changes: (source, from, limit) => this.changeFeed(source, from, limit) },
        models: {
          list: async () => ({ models: await this.modelsStatus(), rebuild: this.storeInstance!.rebuild }),
          reload: async () => (this.rebuildModels(), { rebuild: this.storeInstance!.rebuild }),
        },
        queryTimeoutMs: this.config.api.queryTimeoutMs,
        maxRows: this.config.api.maxRows,
        users: this.config.api.auth?.users ?? null,
        logger: this.logger,
        metrics,
      });
      await this.api.listen({ host: this.config.api.host, port: this.config.api.port });
      this.pg = await PgServer.start({
        host: this.config.api.host,
        port: this.config.api.pgPort,
        openSession: () => this.engine!.session(),
        dialect: postgresDialect,
        queryTimeoutMs: this.config.api.queryTimeoutMs,
        tls: this.config.api.tls,
        users: this.config.api.auth?.users ?? null,
        logger: this.logger,
        metrics,
      });
      // New or changed model definitions: rebuild everything from the log, in the background.
      if (this.storeInstance.modelsChangedAtOpen) this.rebuildModels();
      this.logger.info({ http: this.address?.http, pgPort: this.pg.port }, 'sluice is running');
    } catch (e) {
      await this.stop();
      throw e;
    }
  }

  /** The source's log: a folder of its own under log.dir, or its topics on Kafka. */
  private async openLog(source: string): Promise<ChangeLog> {
    const c = this.config.log;
    if (c.kind === 'embedded') return EmbeddedLog.open({ ...c, dir: join(c.dir, source), logger: this.logger });
    return KafkaLog.open({ config: c, source, logger: this.logger, schemas: await this.storedSchemas(source) });
  }

  /** The shapes of a source's replicas as the store holds them, by replica table name. */
  private async storedSchemas(source: string): Promise<Map<string, SchemaPart>> {
    const schemas = new Map<string, SchemaPart>();
    for (const t of await this.storeInstance!.tableInfos()) if (t.source === source) schemas.set(t.table, t.spec);
    return schemas;
  }

  private createSource(sc: SourceConfig, log: ChangeLog): ChangeSource {
    const logger = this.logger.child({ source: sc.name });
    if (sc.follow) return new FollowerSource(sc.name, sc.kind);
    switch (sc.kind) {
      case 'postgres':
        return new PostgresSource(sc, log, logger);
      case 'mysql':
        return new MysqlSource(sc, log, logger);
      case 'debezium-kafka':
        return new DebeziumKafkaSource(sc, log, logger);
    }
  }

  /** Starts rebuilding every model from the sources' logs, in the background. */
  rebuildModels(): void {
    this.storeInstance!.rebuildModelsFromLog(new Map(this.runtimes.map((r) => [r.source.name, r.log])));
  }

  /** The store, for tools that drive it directly (benchmarks). */
  store(): DuckDbStore {
    if (!this.storeInstance) throw new SluiceError('SLUICE_INTERNAL', 'the store is not open');
    return this.storeInstance;
  }

  pipelineFor(source: string): SourcePipeline | undefined {
    return this.runtimes.find((r) => r.source.name === source)?.pipeline;
  }

  /** The sources' own status, without touching the store: cheap enough to poll for a progress bar. */
  sourceStatuses(): SourceStatus[] {
    return this.runtimes.map((r) => r.source.status());
  }

  async sourcesStatus(): Promise<object[]> {
    // While the store is failing (its disk full, say) the status page is what explains it.
    const tables = await this.storeInstance!.tableInfos().catch(() => []);
    return this.runtimes.map(({ source, pipeline, log, gate }) => {
      const s = source.status();
      const p = pipeline.status();
      // The log's own failure first: it lasts until an append succeeds, while the source's
      // error is cleared each time it reconnects.
      const logError = log.writeError ? { code: log.writeError.code, message: log.writeError.message } : null;
      const lastCommit = Math.max(0, ...tables.filter((t) => t.source === s.name).map((t) => t.lastCommitMs ?? 0));
      return {
        ...s,
        log: { endOffset: p.logEndOffset, appliedOffset: p.appliedOffset, backlogBytes: gate.backlogBytes },
        lastBatchMs: Math.round(p.lastBatchMs * 10) / 10,
        applyError: p.error,
        lastError: logError ?? (p.errorCode ? { code: p.errorCode, message: p.error } : null) ?? s.error,
        lagMs: p.appliedOffset < p.logEndOffset && lastCommit > 0 ? Date.now() - lastCommit : 0,
      };
    });
  }

  /** The per-source gauges of /metrics, computed as /v1/sources computes them. */
  private async metricsSample(): Promise<SourceSample[]> {
    const statuses = (await this.sourcesStatus()) as { name: string; state: SourceSample['state']; lagMs: number; log: { endOffset: number; appliedOffset: number } }[];
    return statuses.map((s) => ({
      name: s.name,
      state: s.state,
      lagMs: s.lagMs,
      logEndOffset: s.log.endOffset,
      appliedOffset: s.log.appliedOffset,
      logBytes: this.runtimes.find((r) => r.source.name === s.name)?.log.sizeBytes() ?? 0,
    }));
  }

  /** The store's database file and its WAL (absent once checkpointed). */
  private storeBytes(): number {
    const size = (path: string) => {
      try {
        return statSync(path).size;
      } catch {
        return 0;
      }
    };
    return size(this.config.store.path) + size(`${this.config.store.path}.wal`);
  }

  async tablesStatus(): Promise<object[]> {
    const infos = await this.storeInstance!.tableInfos();
    const out: object[] = [];
    for (const t of infos) {
      const p = this.pipelineFor(t.source)?.status();
      const counted = await this.engine!.query(`SELECT count(*) FROM ${qualified(t.source, t.table)}`, { timeoutMs: 10_000, maxRows: 1 });
      out.push({
        name: `${t.source}.${t.table}`,
        source: t.source,
        sourceTable: `${t.spec.sourceSchema}.${t.spec.sourceTable}`,
        rows: counted.values[0][0],
        position: t.position,
        lastCommitAt: t.lastCommitMs ? new Date(t.lastCommitMs).toISOString() : null,
        lagMs: p && p.appliedOffset < p.logEndOffset && t.lastCommitMs ? Date.now() - t.lastCommitMs : 0,
      });
    }
    return out;
  }

  /** Models with rows and lag: a model is as fresh as the sources it reads, directly or through refs. */
  async modelsStatus(): Promise<object[]> {
    const models = this.storeInstance!.models.status();
    const sourceLag = new Map(((await this.sourcesStatus()) as { name: string; lagMs: number }[]).map((s) => [s.name, s.lagMs]));
    const byName = new Map(models.map((m) => [`models.${m.name}`, m]));
    const lagOf = (deps: readonly string[], seen = new Set<string>()): number =>
      Math.max(0, ...deps.map((d) => {
        if (seen.has(d)) return 0;
        seen.add(d);
        const m = byName.get(d);
        return m ? lagOf(m.dependsOn, seen) : (sourceLag.get(d.split('.')[0]) ?? 0);
      }));
    const out: object[] = [];
    for (const m of models) {
      let rows: unknown = null;
      if (m.state === 'current') rows = (await this.engine!.query(`SELECT count(*) FROM ${qualified('models', m.name)}`, { timeoutMs: 10_000, maxRows: 1 })).values[0][0];
      // While a rebuild runs, the model answers from its old version.
      const state = this.storeInstance!.rebuild.running && m.state !== 'failed' ? 'building' : m.state;
      out.push({ ...m, state, name: `models.${m.name}`, rows, lagMs: lagOf(m.dependsOn) });
    }
    return out;
  }

  /**
   * Records of a source's log from `from` on, as Debezium envelopes. Table shapes start from the
   * store's current ones and follow the schema parts met on the way.
   */
  async changeFeed(source: string, from: number, limit: number): Promise<object> {
    const runtime = this.runtimes.find((r) => r.source.name === source);
    if (!runtime) throw new SluiceError('SLUICE_NOT_FOUND', `no source named "${source}"`);
    const { log } = runtime;
    const start = Math.max(from, log.startOffset);
    const schemas = await this.storedSchemas(source);
    const records = start < log.endOffset ? (await log.read(start, 4 * 1024 * 1024)).slice(0, limit) : [];
    return {
      records: records.map((r) => {
        const rec = decodeRecord(r.payload);
        return { offset: r.offset, kind: rec.header.kind, events: toEnvelopes(rec, schemas) };
      }),
      nextOffset: records.length ? records[records.length - 1].offset + 1 : start,
      endOffset: log.endOffset,
    };
  }

  async stop(): Promise<void> {
    await this.api?.close().catch((e) => this.logger.warn({ err: e }, 'closing the API failed'));
    await this.pg?.close();
    this.pg = null;
    for (const r of this.runtimes) {
      r.gate.release();
      await r.source.stop().catch((e) => this.logger.warn({ err: e }, 'stopping a source failed'));
      await r.pipeline.stop();
      await r.log.close().catch(() => undefined);
    }
    this.runtimes.length = 0;
    this.engine?.close();
    await this.storeInstance?.close();
    this.storeInstance = null;
  }
}
