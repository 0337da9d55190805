import { LogicalReplicationService } from 'pg-logical-replication';
import type { Logger } from 'pino';
import { Backoff, reportInterruption } from '../../core/reconnect.js';
import type { ChangeLog } from '../../core/log/change-log.js';
import type { StreamCallbacks } from '../../core/source-tracker.js';
import { TransactionBuilder } from '../../core/transaction-builder.js';
import { ident } from '../../core/sql.js';
import { clientConfig, lsnToBigInt } from './connection.js';
import { PgoutputDecoder } from './pgoutput-decoder.js';
import type { CapturedTable } from '../../core/captured-table.js';
import type { TypeCatalog } from './type-catalog.js';

export interface ReplicationStreamOptions {
  readonly url: string;
  readonly slot: string;
  readonly publication: string;
  readonly source: string;
  readonly tables: readonly CapturedTable[];
  readonly types: TypeCatalog;
  readonly log: ChangeLog;
  readonly logger: Logger;
  /** Above this many bytes waiting for the log, the socket is paused (backpressure). */
  readonly maxPendingBytes?: number;
}


/**
 * pgoutput handed to pg-logical-replication as a plugin that does not parse: the raw message
 * goes to our decoder, which writes values straight into log records.
 */
class RawPgoutputPlugin {
  readonly name = 'pgoutput';
  constructor(readonly options: { publication: string }) {}
  parse(buffer: Buffer): Buffer {
    return buffer;
  }
  start(client: { query(sql: string): Promise<unknown> }, slot: string, lsn: string): Promise<unknown> {
    return client.query(
      `START_REPLICATION SLOT ${ident(slot)} LOGICAL ${lsn} (proto_version '1', publication_names '${this.options.publication}')`,
    );
  }
}

/**
 * The streaming half of the Postgres source. The library's own acknowledgement is switched off
 * (auto-ack and its periodic timer would confirm LSNs the store has not committed): the only
 * acknowledgements sent are `acknowledge()` calls, which the pipeline makes after its commit.
 *
 * Decoded transactions queue for the log; every append takes all that queued, so a burst of
 * small transactions costs one write and one fsync.
 */
export class ReplicationStream {
  private service: LogicalReplicationService | null = null;
  private stopped = false;
  private acked: string | null = null;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private pendingLsn: string | null = null;
  private appending: Promise<void> | null = null;
  private paused = false;
  private appendError: unknown = null;
  /** Reset only once a transaction reached the log: a connection that fails right after it opens still backs off. */
  private readonly backoff = new Backoff();

  constructor(private readonly o: ReplicationStreamOptions) {}

  /** Streams from the slot until stopped, reconnecting with backoff when the connection drops. */
  async run(lastLogged: string, cb: StreamCallbacks): Promise<void> {
    let logged = lsnToBigInt(lastLogged);
    while (!this.stopped) {
      const builder = new TransactionBuilder(this.o.source);
      const decoder = new PgoutputDecoder(new Map(this.o.tables.map((t) => [`${t.schema}.${t.name}`, t])), this.o.types, builder);
      const service = new LogicalReplicationService(
        { ...clientConfig(this.o.url, 'sluice-replication') },
        { acknowledge: { auto: false, timeoutSeconds: 0 }, flowControl: { enabled: false } },
      );
      this.service = service;
      let failure: unknown = null;
      service.on('data', (_lsn: string, msg: Buffer) => {
        if (failure) return;
        try {
          const txn = decoder.decode(msg);
          if (!txn?.record) return;
          const lsn = lsnToBigInt(txn.position.lsn);
          // Resent after a restart: it is in the log already.
          if (lsn <= logged) return;
          logged = lsn;
          this.enqueue(txn.record, txn.position.lsn, cb);
        } catch (e) {
          failure = e;
          void service.stop();
        }
      });
      service.on('heartbeat', (walEnd: string, _ts: number, shouldRespond: boolean) => {
        // Slot hygiene: while our tables are idle, other tables' writes still go through the slot.
        // When every transaction received is in the store (acked up to the last one logged),
        // nothing is half-received and nothing waits for the log, the server's position is safe
        // to confirm: every later change of ours commits after it. Otherwise the slot would
        // hold WAL back for as long as our tables stay quiet.
        const idle = this.acked !== null && lsnToBigInt(this.acked) >= logged && !decoder.inTransaction && this.pending.length === 0 && !this.appending;
        if (idle && lsnToBigInt(walEnd) > lsnToBigInt(this.acked!)) {
          void service.acknowledge(walEnd);
          return;
        }
        // Postgres drops a standby that does not answer; answer with what is committed, never more.
        if (shouldRespond && this.acked) void service.acknowledge(this.acked);
      });
      service.on('start', () => {
        cb.onState('streaming');
        if (this.acked) void service.acknowledge(this.acked);
        this.o.logger.info({ from: lastLoggedString(logged) }, 'streaming');
      });
      service.on('error', (e: unknown) => {
        failure ??= e;
      });
      try {
        await service.subscribe(new RawPgoutputPlugin({ publication: this.o.publication }) as never, this.o.slot, lastLoggedString(logged));
      } catch (e) {
        failure ??= e;
      }
      await service.stop().catch(() => undefined);
      if (this.stopped) break;
      reportInterruption(failure, 'SLUICE_PG_STREAM', 'replication connection lost', cb, this.o.logger, this.backoff);
      // Anything decoded but not yet in the log is re-sent by the server after reconnecting.
      await this.drain();
      logged = this.pendingLsn ? lsnToBigInt(this.pendingLsn) : logged;
      await this.backoff.wait();
    }
    await this.drain();
  }

  private enqueue(record: Buffer, lsn: string, cb: StreamCallbacks): void {
    this.pending.push(record);
    this.pendingBytes += record.length;
    this.pendingLsn = lsn;
    if (this.pendingBytes > (this.o.maxPendingBytes ?? 64 * 1024 * 1024)) this.pause(true);
    if (!this.appending) this.appending = this.appendLoop(cb);
  }

  private async appendLoop(cb: StreamCallbacks): Promise<void> {
    try {
      while (this.pending.length > 0) {
        const batch = this.pending;
        const lsn = this.pendingLsn!;
        this.pending = [];
        this.pendingBytes = 0;
        this.pause(false);
        await this.o.log.append(batch);
        this.backoff.reset();
        cb.onLogged(lsn);
      }
    } catch (e) {
      this.appendError = e;
      this.o.logger.error({ err: e }, 'appending to the log failed');
      void this.service?.stop();
    } finally {
      this.appending = null;
    }
  }

  private async drain(): Promise<void> {
    while (this.appending) await this.appending;
    if (this.appendError) {
      const e = this.appendError;
      this.appendError = null;
      throw e;
    }
  }

  /** Stops reading the socket, so Postgres holds changes back instead of us buffering them. */
  private pause(on: boolean): void {
    if (on === this.paused) return;
    this.paused = on;
    // The library has no pause of its own; its connection's socket is the flow-control point.
    const stream = (this.service as unknown as { _connection?: { stream?: { pause(): void; resume(): void } } })?._connection?.stream;
    if (on) stream?.pause();
    else stream?.resume();
  }

  acknowledge(lsn: string): void {
    this.acked = lsn;
    void this.service?.acknowledge(lsn);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.service?.stop().catch(() => undefined);
    await this.drain().catch(() => undefined);
  }
}

function lastLoggedString(lsn: bigint): string {
  return `${(lsn >> 32n).toString(16).toUpperCase()}/${(lsn & 0xffffffffn).toString(16).toUpperCase()}`;
}
