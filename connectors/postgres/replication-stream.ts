import { LogicalReplicationService } from 'pg-logical-replication';
import type { Logger } from 'pino';
import { SluiceError } from '../../core/errors.js';
import { Backoff, reportInterruption } from '../../core/reconnect.js';
import { DEFAULT_STALL_TIMEOUT_MS, StallWatchdog } from '../../core/stall-watchdog.js';
import type { ChangeLog } from '../../core/log/change-log.js';
import type { StreamCallbacks } from '../../core/source-tracker.js';
import { TransactionBuilder } from '../../core/transaction-builder.js';
import { ident } from '../../core/sql.js';
import type pg from 'pg';
import type { SchemaPart } from '../../core/change-record.js';
import { AttributeBook } from './attribute-book.js';
import type { SnapshotFences } from '../../core/snapshot-fences.js';
import { clientConfig, connect, lsnToBigInt } from './connection.js';
import { type AttributeRow, readAttributes } from './table-catalog.js';
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
  /** Tables copied on their own while the stream resumed from further back. */
  readonly fences: SnapshotFences;
  /** The store's shapes of this source's replicas: column names they had before a rename. */
  readonly stored?: ReadonlyMap<string, SchemaPart>;
  /** After the connection failed: throws SLUICE_PG_SLOT_LOST when the slot is gone for good. */
  readonly checkSlot: () => Promise<void>;
  /** Above this many bytes waiting for the log, the socket is paused (backpressure). */
  readonly maxPendingBytes?: number;
  /** A transaction past this many bytes of rows goes to the log in pieces (see PieceInfo). */
  readonly pieceBytes?: number;
  /** Silence on the connection this long (while not paused by us) fails the session: the peer is gone. */
  readonly stallTimeoutMs?: number;
}


/** Decoded transactions waiting for the log past which the socket is paused; small, since each is held several times on its way. */
const DEFAULT_MAX_PENDING_BYTES = 16 * 1024 * 1024;

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
  /** Commit LSN of the last transaction the log took. */
  private appendedLsn: string | null = null;
  private readonly book: AttributeBook;
  private catalog: pg.Client | null = null;
  /** Reset only once a transaction reached the log: a connection that fails right after it opens still backs off. */
  private readonly backoff = new Backoff();

  constructor(private readonly o: ReplicationStreamOptions) {
    // Older names first (the store's shapes), then what the catalog said at start-up.
    const stored = [...(o.stored?.values() ?? [])].map((p) => ({ schema: p.sourceSchema, name: p.sourceTable, columns: p.columns }));
    this.book = AttributeBook.of([...stored, ...o.tables]);
  }

  /** On a connection of its own, kept open: schema changes come in bursts. */
  private async readAttributes(oid: number): Promise<AttributeRow[]> {
    try {
      this.catalog ??= await connect(this.o.url);
      return await readAttributes(this.catalog, oid);
    } catch (e) {
      const c = this.catalog;
      this.catalog = null;
      await c?.end().catch(() => undefined);
      throw e;
    }
  }

  /** Streams from the slot until stopped, reconnecting with backoff when the connection drops. */
  async run(lastLogged: string, cb: StreamCallbacks): Promise<void> {
    let logged = lsnToBigInt(lastLogged);
    while (!this.stopped) {
      const builder = new TransactionBuilder(this.o.source, this.o.pieceBytes);
      // From the transaction's Begin: its commit LSN and time, known before its rows.
      let begin = { lsn: 0n, tsMs: 0 };
      const decoder = new PgoutputDecoder(new Map(this.o.tables.map((t) => [`${t.schema}.${t.name}`, t])), this.o.types, builder, this.book, this.o.fences);
      const stallMs = this.o.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS;
      const config = clientConfig(this.o.url, 'sluice-replication');
      const service = new LogicalReplicationService(
        // wal_sender_timeout: the walsender then sends a keepalive after half of it without a reply
        // from us, so a healthy idle connection is never silent for the whole timeout.
        // connectionTimeoutMillis: a connect into a stalled peer would otherwise wait forever.
        { ...config, options: `${config.options ?? ''} -c wal_sender_timeout=${stallMs}ms`.trim(), connectionTimeoutMillis: stallMs },
        { acknowledge: { auto: false, timeoutSeconds: 0 }, flowControl: { enabled: false } },
      );
      this.service = service;
      let failure: unknown = null;
      const fail = (e: unknown): void => {
        failure ??= e;
        void service.stop();
      };
      // While the catalog is read for a Relation message, later messages wait here, in order.
      let reading: Promise<void> | null = null;
      const waiting: Buffer[] = [];
      const dispatch = (msg: Buffer): void => {
        if (failure) return;
        // Copied: the protocol parser reuses its buffer for the next socket data, under a slice held on to.
        if (reading) return void waiting.push(Buffer.from(msg));
        let read: { oid: number; table: string } | null;
        try {
          read = decoder.catalogReadFor(msg);
        } catch (e) {
          return fail(e);
        }
        if (!read) return decode(msg);
        const { oid, table } = read;
        // Decoded after the read: copied for the same reason as the waiting messages.
        const relation = Buffer.from(msg);
        reading = this.readAttributes(oid)
          .then((rows) => this.book.learn(table, rows), fail)
          .then(() => {
            reading = null;
            decode(relation);
            for (const m of waiting.splice(0)) dispatch(m);
          });
      };
      const decode = (msg: Buffer): void => {
        if (failure) return;
        try {
          if (msg[0] === 0x42 /* Begin */) begin = { lsn: msg.readBigUInt64BE(1), tsMs: Number(msg.readBigInt64BE(9) / 1000n) + PG_EPOCH_MS };
          const txn = decoder.decode(msg);
          // A transaction already in the log (sent again after a restart) is not cut: it is dropped whole at its commit.
          if (!txn && builder.full && begin.lsn >= logged) {
            this.o.fences.apply(lastLoggedString(begin.lsn), builder);
            const piece = builder.cut(begin.tsMs);
            if (piece) this.enqueue(piece, null, cb);
          }
          if (!txn?.record) return;
          const lsn = lsnToBigInt(txn.position.lsn);
          // Resent after a restart: it is in the log already.
          if (lsn <= logged) return;
          logged = lsn;
          this.enqueue(txn.record, txn.position.lsn, cb);
        } catch (e) {
          fail(e);
        }
      };
      const watchdog = new StallWatchdog(stallMs, () => this.paused, () =>
        fail(new SluiceError('SLUICE_PG_STREAM', `no message from Postgres for ${Math.round(stallMs / 1000)}s`)),
      );
      service.on('data', (_lsn: string, msg: Buffer) => {
        watchdog.heard();
        dispatch(msg);
      });
      service.on('heartbeat', (walEnd: string, _ts: number, shouldRespond: boolean) => {
        watchdog.heard();
        // Slot hygiene: while our tables are idle, other tables' writes still go through the slot.
        // When every transaction received is in the store (acked up to the last one logged),
        // nothing is half-received and nothing waits for the log, the server's position is safe
        // to confirm: every later change of ours commits after it. Otherwise the slot would
        // hold WAL back for as long as our tables stay quiet.
        const idle = this.acked !== null && lsnToBigInt(this.acked) >= logged && !decoder.inTransaction && this.pending.length === 0 && !this.appending;
        if (idle && lsnToBigInt(walEnd) > lsnToBigInt(this.acked!)) {
          confirm(service, walEnd);
          return;
        }
        // Postgres drops a standby that does not answer; answer with what is committed, never more.
        // With nothing committed yet, an answer that confirms nothing: unanswered, the server
        // would drop us after wal_sender_timeout, which is now as short as the stall timeout.
        if (shouldRespond) {
          if (this.acked) confirm(service, this.acked);
          else answerWithoutConfirming(service);
        }
      });
      service.on('start', () => {
        cb.onState('streaming');
        if (this.acked) confirm(service, this.acked);
        this.o.logger.info({ from: lastLoggedString(logged) }, 'streaming');
      });
      service.on('error', (e: unknown) => {
        failure ??= e;
      });
      try {
        await service.subscribe(new RawPgoutputPlugin({ publication: this.o.publication }) as never, this.o.slot, lastLoggedString(logged));
      } catch (e) {
        failure ??= e;
      } finally {
        watchdog.stop();
      }
      await service.stop().catch(() => undefined);
      if (this.stopped) break;
      // A refused append (a full disk, say) is why the connection was stopped, so it is the error
      // reported; a retriable one is retried like a lost connection.
      const refused = await this.drain().then(() => null, (e: unknown) => e);
      // A slot the server invalidated or dropped cannot be streamed from again: no retrying.
      await this.o.checkSlot();
      reportInterruption(refused ?? failure, 'SLUICE_PG_STREAM', 'replication connection lost', cb, this.o.logger, this.backoff);
      // Anything decoded but not yet in the log is re-sent by the server after reconnecting.
      logged = lsnToBigInt(this.appendedLsn ?? lastLogged);
      await this.backoff.wait();
    }
    await this.drain();
  }

  /** `lsn` for a whole transaction (or its last piece), null for an earlier piece. */
  private enqueue(record: Buffer, lsn: string | null, cb: StreamCallbacks): void {
    // Once an append was refused, no later transaction may reach the log ahead of the refused
    // ones; the server sends them all again after the reconnect.
    if (this.appendError) return;
    this.pending.push(record);
    this.pendingBytes += record.length;
    if (lsn !== null) this.pendingLsn = lsn;
    if (this.pendingBytes > (this.o.maxPendingBytes ?? DEFAULT_MAX_PENDING_BYTES)) this.pause(true);
    if (!this.appending) this.appending = this.appendLoop(cb);
  }

  private async appendLoop(cb: StreamCallbacks): Promise<void> {
    try {
      while (this.pending.length > 0) {
        const batch = this.pending;
        const lsn = this.pendingLsn;
        this.pending = [];
        this.pendingBytes = 0;
        this.pendingLsn = null;
        this.pause(false);
        await this.o.log.append(batch);
        this.backoff.reset();
        if (lsn === null) continue;
        this.appendedLsn = lsn;
        cb.onLogged(lsn);
      }
    } catch (e) {
      this.appendError = e;
      this.pending = [];
      this.pendingBytes = 0;
      this.pause(false);
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

  /** From now on, drop `table`'s changes from transactions that committed at or before `lsn`. */
  fence(table: string, lsn: string): void {
    this.o.fences.set(table, lsn);
  }

  acknowledge(lsn: string): void {
    this.acked = lsn;
    if (this.service) confirm(this.service, lsn);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.service?.stop().catch(() => undefined);
    await this.catalog?.end().catch(() => undefined);
    await this.drain().catch(() => undefined);
  }
}

const PG_EPOCH_MS = 946_684_800_000;

/**
 * Confirms exactly `lsn` as written and flushed. The library sends the LSN it is given plus one
 * (its "last byte + 1"), but the positions confirmed here are already ends: a transaction's end
 * LSN, the server's sent position. One more would be wrong twice over: the slot would skip a
 * transaction whose commit record starts exactly there, and a fast shutdown, which waits for
 * the client to confirm precisely what was sent, would wait forever.
 */
function confirm(service: LogicalReplicationService, lsn: string): void {
  const n = lsnToBigInt(lsn);
  if (n > 0n) void service.acknowledge(lastLoggedString(n - 1n));
}

/**
 * A standby status update with every position invalid (0/0): the server takes it as a sign of
 * life and moves nothing. The library cannot send it: it adds one to any position it is given.
 */
function answerWithoutConfirming(service: LogicalReplicationService): void {
  const update = Buffer.alloc(34);
  update.write('r', 0);
  const sinceY2kUs = BigInt(Date.now() - PG_EPOCH_MS) * 1000n;
  update.writeBigInt64BE(sinceY2kUs, 25);
  (service as unknown as { _connection?: { sendCopyFromChunk(b: Buffer): void } | null })._connection?.sendCopyFromChunk(update);
}

function lastLoggedString(lsn: bigint): string {
  return `${(lsn >> 32n).toString(16).toUpperCase()}/${(lsn & 0xffffffffn).toString(16).toUpperCase()}`;
}
