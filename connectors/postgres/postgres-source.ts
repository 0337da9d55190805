import type { Logger } from 'pino';
import type pg from 'pg';
import type { SchemaPart, SourcePosition } from '../../core/change-record.js';
import { resumePosition } from '../../core/resume-position.js';
import type { PostgresSourceConfig } from '../../core/config.js';
import { SluiceError } from '../../core/errors.js';
import type { ChangeLog } from '../../core/log/change-log.js';
import type { ChangeSource, SourceStatus } from '../../core/source.js';
import { SourceTracker } from '../../core/source-tracker.js';
import { ident, literal } from '../../core/sql.js';
import { compareLsn, connect, lsnToBigInt, redactUrl } from './connection.js';
import { SnapshotFences } from '../../core/snapshot-fences.js';
import { ReplicationStream } from './replication-stream.js';
import { takeSnapshot } from './snapshot.js';
import type { CapturedTable } from '../../core/captured-table.js';
import { describeTable } from './table-catalog.js';
import { TypeCatalog } from './type-catalog.js';

/**
 * Captures one Postgres database: checks it can (wal_level, tables, replica identity),
 * owns its publication and slot, snapshots once, then streams. Everything it captures goes to
 * its log; it acknowledges to Postgres only positions the pipeline reports as committed.
 */
export class PostgresSource implements ChangeSource {
  readonly name: string;
  private readonly tracker: SourceTracker;
  private stream: ReplicationStream | null = null;
  private task: Promise<void> | null = null;
  private stopping = false;
  private readonly abort = new AbortController();
  private readonly slot: string;
  private readonly publication: string;

  constructor(
    private readonly config: PostgresSourceConfig,
    private readonly log: ChangeLog,
    private readonly logger: Logger,
  ) {
    this.name = config.name;
    this.tracker = new SourceTracker(config.name, 'postgres', logger);
    this.slot = config.slot ?? `sluice_${config.name}`;
    this.publication = config.publication ?? `sluice_${config.name}`;
  }

  /**
   * Validates everything that can be wrong with the source before anything runs, so that
   * `sluice run` fails at start-up with the reason; then snapshots/streams in the background.
   */
  async start(stored: ReadonlyMap<string, SchemaPart>): Promise<void> {
    const client = await connect(this.config.url);
    let tables: CapturedTable[];
    let needSnapshot: boolean;
    let added: CapturedTable[];
    try {
      await this.checkServer(client);
      const types = await TypeCatalog.load(client);
      tables = [];
      for (const spec of this.config.tables) tables.push(await describeTable(client, spec, types));
      await this.ensurePublication(client, tables);
      needSnapshot = await this.decideSnapshot(client);
      // Tables listed since the last run: copied on their own, the others keep streaming.
      added = needSnapshot ? [] : tables.filter((t) => !stored.has(t.replicaName));
      this.stream = new ReplicationStream({
        url: this.config.url,
        slot: this.slot,
        publication: this.publication,
        source: this.name,
        tables,
        types,
        stored,
        checkSlot: () => this.checkSlot(),
        fences: needSnapshot ? new SnapshotFences(compareLsn) : await SnapshotFences.pending(this.log, compareLsn),
        log: this.log,
        logger: this.logger,
        stallTimeoutMs: this.config.stallTimeoutMs,
      });
      // The pipeline may have reported what the store holds before the stream existed.
      if (this.tracker.acknowledged) this.stream.acknowledge(this.tracker.acknowledged);
    } finally {
      await client.end().catch(() => undefined);
    }
    this.task = this.run(tables, needSnapshot, added);
  }

  private async checkServer(client: pg.Client): Promise<void> {
    const { rows } = await client.query<{ wal_level: string }>('SHOW wal_level');
    if (rows[0].wal_level !== 'logical') {
      throw new SluiceError(
        'SLUICE_PG_NOT_LOGICAL',
        `Postgres at ${redactUrl(this.config.url)} has wal_level=${rows[0].wal_level}; logical replication needs ` +
          `wal_level=logical (ALTER SYSTEM SET wal_level = logical, then restart Postgres)`,
      );
    }
  }

  private async ensurePublication(client: pg.Client, tables: readonly CapturedTable[]): Promise<void> {
    const qualifiedNames = tables.map((t) => `${ident(t.schema)}.${ident(t.name)}`);
    const existing = await client.query(`SELECT 1 FROM pg_publication WHERE pubname = $1`, [this.publication]);
    if (existing.rowCount === 0) {
      await client.query(`CREATE PUBLICATION ${ident(this.publication)} FOR TABLE ${qualifiedNames.join(', ')}`);
      this.logger.info({ publication: this.publication }, 'publication created');
      return;
    }
    const members = await client.query<{ name: string }>(
      `SELECT schemaname || '.' || tablename AS name FROM pg_publication_tables WHERE pubname = $1`,
      [this.publication],
    );
    const have = new Set(members.rows.map((r) => r.name));
    const missing = tables.filter((t) => !have.has(`${t.schema}.${t.name}`));
    if (missing.length > 0) {
      await client.query(
        `ALTER PUBLICATION ${ident(this.publication)} ADD TABLE ${missing.map((t) => `${ident(t.schema)}.${ident(t.name)}`).join(', ')}`,
      );
      this.logger.info({ tables: missing.map((t) => `${t.schema}.${t.name}`) }, 'tables added to publication');
    }
  }

  private async decideSnapshot(client: pg.Client): Promise<boolean> {
    const resume = await resumePosition(this.log);
    const slot = await client.query<{ active_pid: number | null; wal_status: string | null }>(
      `SELECT active_pid, wal_status FROM pg_replication_slots WHERE slot_name = $1`,
      [this.slot],
    );
    const info = slot.rows[0];
    if (info?.active_pid) {
      // Ours from a previous run that died; the server has not noticed yet.
      await client.query('SELECT pg_terminate_backend($1)', [info.active_pid]);
      await waitForSlotInactive(client, this.slot);
    }
    if (!resume) {
      if (info) await client.query('SELECT pg_drop_replication_slot($1)', [this.slot]);
      return true;
    }
    this.tracker.lastLogged = resume;
    const lost = this.slotLost(info);
    if (!lost) return false;
    if (this.config.onSlotLost !== 'resnapshot') throw lost;
    this.logger.warn({ err: lost.message }, 'taking a new snapshot');
    if (info) await client.query(`SELECT pg_drop_replication_slot(${literal(this.slot)})`);
    return true;
  }

  /** Why the slot cannot stream any more (the server dropped or invalidated it), or null. */
  private slotLost(info: { wal_status: string | null } | undefined): SluiceError | null {
    if (info && info.wal_status !== 'lost') return null;
    const why = !info ? `replication slot ${this.slot} is missing` : `replication slot ${this.slot} was invalidated by the server (wal_status=lost)`;
    return new SluiceError(
      'SLUICE_PG_SLOT_LOST',
      `${why}: changes since ${this.tracker.lastLogged} can no longer be streamed. ` +
        `Set sources[].onSlotLost: "resnapshot" to take a new snapshot automatically`,
    );
  }

  /**
   * Called by the stream after its connection failed: a lost slot is final, anything else
   * (the server restarting, the network) is retried. Without an answer from the server, retry.
   */
  private async checkSlot(): Promise<void> {
    let info: { wal_status: string | null } | undefined;
    try {
      // Bounded: after a stall the path to the server may still be dead, and the reconnect loop
      // must get its turn.
      const client = await connect(this.config.url, { connectionTimeoutMillis: this.config.stallTimeoutMs, query_timeout: this.config.stallTimeoutMs });
      try {
        info = (await client.query<{ wal_status: string | null }>(`SELECT wal_status FROM pg_replication_slots WHERE slot_name = $1`, [this.slot])).rows[0];
      } finally {
        await client.end().catch(() => undefined);
      }
    } catch {
      return;
    }
    const lost = this.slotLost(info);
    if (lost) throw lost;
  }

  private async dropSlot(): Promise<void> {
    const client = await connect(this.config.url);
    try {
      await client.query(`SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1`, [this.slot]);
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  private async run(tables: readonly CapturedTable[], needSnapshot: boolean, added: readonly CapturedTable[]): Promise<void> {
    try {
      if (needSnapshot || added.length > 0) {
        const copy = added.length > 0 ? added : tables;
        if (added.length > 0) this.logger.info({ tables: added.map((t) => t.replicaName) }, 'snapshotting tables added to the source');
        // Added tables: a temporary slot for the copy only, dropped with its connection.
        const at = await this.snapshot(copy, added.length > 0 ? `${this.slot}_add` : this.slot, added.length > 0 ? this.tracker.lastLogged! : undefined);
        if (added.length > 0) for (const t of added) this.stream!.fence(t.replicaName, at);
        else this.tracker.lastLogged = at;
      }
      for (;;) {
        if (this.stopping) return;
        try {
          await this.stream!.run(this.tracker.lastLogged!, this.tracker);
          return;
        } catch (e) {
          if (!(e instanceof SluiceError && e.code === 'SLUICE_PG_SLOT_LOST') || this.config.onSlotLost !== 'resnapshot') throw e;
          // Opted in: the replica is copied again from a new slot, and streaming goes on from there.
          this.logger.warn({ err: e.message }, 'taking a new snapshot');
          this.tracker.onError(e);
          await this.dropSlot();
          this.tracker.lastLogged = await this.snapshot(tables, this.slot);
        }
      }
    } catch (e) {
      if (!this.stopping) this.tracker.fail(e, 'SLUICE_PG_STREAM');
    }
  }

  private snapshot(tables: readonly CapturedTable[], slot: string, resumeFrom?: string): Promise<string> {
    return takeSnapshot({
      url: this.config.url,
      source: this.name,
      slot,
      tables,
      log: this.log,
      logger: this.logger,
      progress: this.tracker.startSnapshot(tables.length),
      signal: this.abort.signal,
      ...(resumeFrom ? { resumeFrom } : {}),
    });
  }

  committed(position: SourcePosition): void {
    const acked = this.tracker.acknowledged;
    if (acked && lsnToBigInt(position.lsn) <= lsnToBigInt(acked)) return;
    this.tracker.acknowledged = position.lsn;
    this.stream?.acknowledge(position.lsn);
  }

  status(): SourceStatus {
    return this.tracker.status();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.abort.abort();
    await this.stream?.stop();
    await this.task;
    this.tracker.state = 'stopped';
  }
}

async function waitForSlotInactive(client: pg.Client, slot: string): Promise<void> {
  for (let i = 0; i < 50; i++) {
    const r = await client.query(`SELECT active_pid FROM pg_replication_slots WHERE slot_name = $1`, [slot]);
    if (!r.rows[0]?.active_pid) return;
    await new Promise((res) => setTimeout(res, 100));
  }
}
