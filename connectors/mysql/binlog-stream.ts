import ZongJi from '@vlasky/zongji';
import type { Logger } from 'pino';
import { schemaPartOf } from '../../core/captured-table.js';
import type { SourcePosition } from '../../core/change-record.js';
import type { CsvBatchWriter } from '../../core/csv-batch-writer.js';
import { SluiceError } from '../../core/errors.js';
import { Backoff, reportInterruption } from '../../core/reconnect.js';
import { DEFAULT_STALL_TIMEOUT_MS, StallWatchdog } from '../../core/stall-watchdog.js';
import type { ChangeLog } from '../../core/log/change-log.js';
import type { StreamCallbacks } from '../../core/source-tracker.js';
import { TransactionBuilder } from '../../core/transaction-builder.js';
import { connectMysql, connectionOptions, formatBinlogPosition, parseBinlogPosition, parseMysqlUrl } from './connection.js';
import { SnapshotFences } from '../../core/snapshot-fences.js';
import { type MysqlTable, describeMysqlTable } from './table-catalog.js';
import { writeMysqlValue } from './value-writer.js';

type Row = Record<string, unknown>;

interface BinlogEvent {
  getEventName(): string;
  timestamp: number;
  nextPosition: number;
  gtid?: string;
  tableId?: number;
  tableMap?: Record<number, { parentSchema: string; tableName: string; columnSchemas: { COLUMN_NAME: string; COLUMN_TYPE: string }[] }>;
  rows?: (Row | { before: Row; after: Row })[];
  query?: string;
}

export interface BinlogStreamOptions {
  readonly url: string;
  readonly serverId: number;
  readonly source: string;
  readonly defaultDb: string;
  readonly tables: readonly MysqlTable[];
  readonly fences: SnapshotFences;
  readonly log: ChangeLog;
  readonly logger: Logger;
  /** Above this many bytes waiting for the log, the binlog connection is paused (backpressure). */
  readonly maxPendingBytes?: number;
  /** A transaction past this many bytes of rows goes to the log in pieces (see PieceInfo). */
  readonly pieceBytes?: number;
  /** Silence on the binlog connection this long (while not paused by us) fails the session: the peer is gone. */
  readonly stallTimeoutMs?: number;
}

/** The binlog connection as zongji holds it: a mysql2 connection, created by `start()`. */
interface DumpConnection {
  query(sql: string, cb: (err: unknown) => void): void;
  stream?: { on(event: 'data', listener: () => void): void };
}


const DEFAULT_MAX_PENDING_BYTES = 16 * 1024 * 1024;

const DDL = /^\s*(alter|create|drop|rename|truncate)\s/i;

/**
 * The streaming half of the MySQL source: zongji decodes row events; transactions are
 * assembled between GTID/BEGIN and XID (or COMMIT) and appended to the log as one record each.
 * Events are processed strictly in order through a promise chain, so the rare step that must
 * wait (re-reading a table's shape after DDL) holds back everything behind it.
 */
export class BinlogStream {
  private zongji: ZongJi | null = null;
  private stopped = false;
  private chain: Promise<void> = Promise.resolve();
  private readonly tables = new Map<string, MysqlTable>();
  /** Table-map column signature seen with each table's current spec. */
  private readonly signatures = new Map<string, string>();
  private builder: TransactionBuilder;
  private gtid: string | undefined;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Position after the newest whole transaction in `pending`; pieces alone move nothing. */
  private pendingPosition: string | null = null;
  private paused = false;
  private appending: Promise<void> | null = null;
  private failSession: ((e: unknown) => void) | null = null;
  /** Where the next session starts: after the last transaction that reached the log. */
  private resume = '';
  /** Reset once a transaction reached the log. */
  private readonly backoff = new Backoff();

  constructor(private readonly o: BinlogStreamOptions) {
    for (const t of o.tables) this.tables.set(`${t.database}.${t.name}`, t);
    this.builder = new TransactionBuilder(o.source, o.pieceBytes);
  }

  async run(from: string, cb: StreamCallbacks): Promise<void> {
    this.resume = from;
    while (!this.stopped) {
      const failure = await this.session(this.resume, cb);
      if (this.stopped) break;
      reportInterruption(failure, 'SLUICE_MYSQL_STREAM', 'binlog connection lost', cb, this.o.logger, this.backoff);
      await this.backoff.wait();
    }
  }

  /** One binlog connection, from `from` until it fails or is stopped; resolves with the failure. */
  private session(from: string, cb: StreamCallbacks): Promise<unknown> {
    return new Promise((resolve) => {
      const { file, pos } = parseBinlogPosition(from);
      const zongji = new ZongJi(connectionOptions(parseMysqlUrl(this.o.url)));
      this.zongji = zongji;
      this.paused = false;
      this.builder.discard();
      this.chain = Promise.resolve();
      let done = false;
      const stallMs = this.o.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS;
      const watchdog = new StallWatchdog(stallMs, () => this.paused, () =>
        finish(new SluiceError('SLUICE_MYSQL_STREAM', `no message from MySQL for ${Math.round(stallMs / 1000)}s`)),
      );
      const finish = (failure: unknown): void => {
        if (done) return;
        done = true;
        watchdog.stop();
        zongji.stop();
        // Whatever is queued still reaches the log before the next session starts.
        this.chain
          .then(() => this.appending)
          .then(() => resolve(failure), (e) => resolve(e));
      };
      this.failSession = finish;
      zongji.on('ready', () => {
        cb.onState('streaming');
        this.o.logger.info({ from }, 'streaming');
      });
      zongji.on('error', (e: unknown) => finish(e));
      zongji.on('stopped', () => finish(null));
      zongji.on('binlog', (evt: BinlogEvent) => {
        const position = formatBinlogPosition((zongji as unknown as { options: { filename: string } }).options.filename, evt.nextPosition);
        this.chain = this.chain.then(() => this.handle(evt, position, cb)).catch((e) => finish(e));
      });
      const includeSchema: Record<string, string[]> = {};
      for (const t of this.tables.values()) (includeSchema[t.database] ??= []).push(t.name);
      zongji.start({
        serverId: this.o.serverId,
        filename: file,
        position: pos,
        includeEvents: ['tablemap', 'writerows', 'updaterows', 'deleterows', 'xid', 'query', 'mariadbgtid', 'gtid'],
        includeSchema,
      });
      const dump = (zongji as unknown as { connection?: DumpConnection | null }).connection;
      // Bytes, not events: zongji drops the events of tables not captured, and those prove the
      // peer alive as well as any.
      dump?.stream?.on('data', () => {
        watchdog.heard();
      });
      // Queued now, so it runs ahead of the dump command zongji sends after its own round trips:
      // the server then sends a heartbeat event whenever the binlog is quiet for half the timeout.
      dump?.query(`SET @master_heartbeat_period = ${Math.floor(stallMs / 2) * 1_000_000}`, (err) => {
        if (err) finish(err);
      });
    });
  }

  private async handle(evt: BinlogEvent, position: string, cb: StreamCallbacks): Promise<void> {
    switch (evt.getEventName()) {
      case 'mariadbgtid':
      case 'gtid':
        this.builder.discard();
        this.gtid = evt.gtid;
        return;
      case 'writerows':
      case 'updaterows':
      case 'deleterows':
        return this.rows(evt, position, cb);
      case 'xid':
        return this.commit(evt, position, cb);
      case 'query': {
        const q = evt.query ?? '';
        if (/^\s*begin/i.test(q)) return this.builder.discard();
        if (/^\s*commit/i.test(q)) return this.commit(evt, position, cb);
        if (DDL.test(q)) {
          // DDL commits on its own; the next row events get the new shape via their table map.
          this.signatures.clear();
          this.commit(evt, position, cb);
        }
        return;
      }
    }
  }

  /** From now on, drop `table`'s changes from transactions that committed at or before `position`. */
  fence(table: string, position: string): void {
    this.o.fences.set(table, position);
  }

  private commit(evt: BinlogEvent, position: string, cb: StreamCallbacks): void {
    this.o.fences.apply(position, this.builder);
    const pos: SourcePosition = { lsn: position, tsMs: evt.timestamp, ...(this.gtid ? { gtid: this.gtid } : {}) };
    const record = this.builder.finish(pos);
    this.gtid = undefined;
    if (!record) return;
    this.enqueue(record, position, cb);
  }

  /** `position` for a whole transaction (or its last piece), null for an earlier piece. */
  private enqueue(record: Buffer, position: string | null, cb: StreamCallbacks): void {
    this.pending.push(record);
    this.pendingBytes += record.length;
    if (position !== null) this.pendingPosition = position;
    if (this.pendingBytes > (this.o.maxPendingBytes ?? DEFAULT_MAX_PENDING_BYTES)) this.pause(true);
    // A failed append ends the session with that failure; the next one resumes from the log.
    this.appending ??= this.appendPending(cb).catch((e) => this.failSession?.(e));
  }

  /**
   * Stops reading the binlog connection while the log is behind, so the server holds the
   * changes back instead of this process buffering them.
   */
  private pause(on: boolean): void {
    if (on === this.paused) return;
    this.paused = on;
    const connection = (this.zongji as unknown as { connection?: { pause(): void; resume(): void } | null } | null)?.connection;
    if (on) connection?.pause();
    else connection?.resume();
  }

  /**
   * Appends whatever transactions are waiting in one write (and one fsync), while decoding goes
   * on. The event chain waits for it only when a session ends, so nothing decoded is lost.
   */
  private async appendPending(cb: StreamCallbacks): Promise<void> {
    try {
      while (this.pending.length > 0) {
        const batch = this.pending;
        const position = this.pendingPosition;
        this.pending = [];
        this.pendingBytes = 0;
        this.pendingPosition = null;
        this.pause(false);
        await this.o.log.append(batch);
        if (position !== null) {
          cb.onLogged(position);
          this.resume = position;
        }
        this.backoff.reset();
      }
    } finally {
      this.appending = null;
    }
  }

  /**
   * The table's spec for this row event. On first sight in a session, and whenever the binlog's
   * table map stops matching what the spec was read with (a column added, dropped or retyped),
   * the table is described again and its schema goes into the transaction ahead of its rows;
   * the store ignores a schema that did not change.
   */
  private async tableFor(evt: BinlogEvent): Promise<MysqlTable | null> {
    const map = evt.tableMap?.[evt.tableId!];
    if (!map) return null;
    const key = `${map.parentSchema}.${map.tableName}`;
    const current = this.tables.get(key);
    if (!current) return null;
    const signature = map.columnSchemas.map((c) => `${c.COLUMN_NAME}:${c.COLUMN_TYPE}`).join(',');
    if (this.signatures.get(key) === signature) return current;
    const conn = await connectMysql(this.o.url);
    try {
      const next = await describeMysqlTable(conn, key, this.o.defaultDb);
      this.builder.schema(schemaPartOf(next));
      if (JSON.stringify(next.columns) !== JSON.stringify(current.columns)) {
        this.o.logger.info({ table: key, columns: next.columns.map((c) => `${c.name} ${c.sourceType}`) }, 'table shape changed');
      }
      this.tables.set(key, next);
      this.signatures.set(key, signature);
      return next;
    } finally {
      await conn.end().catch(() => undefined);
    }
  }

  private writeRow(w: CsvBatchWriter, op: string, t: MysqlTable, row: Row): void {
    w.beginRow(op);
    for (let i = 0; i < t.columns.length; i++) writeMysqlValue(w, t, i, row[t.columns[i].name]);
    w.endRow();
  }

  private async rows(evt: BinlogEvent, position: string, cb: StreamCallbacks): Promise<void> {
    const t = await this.tableFor(evt);
    if (!t) return;
    const w = this.builder.rows(t.replicaName);
    const name = evt.getEventName();
    for (const r of evt.rows ?? []) {
      if (name === 'writerows') this.writeRow(w, 'c', t, r as Row);
      else if (name === 'deleterows') this.writeRow(w, 'd', t, r as Row);
      else {
        const { before, after } = r as { before: Row; after: Row };
        const keyChanged = t.identity === 'key' && t.keyColumns.some((k) => String(before[k]) !== String(after[k]));
        // Full row images: the before image is always there, as Debezium's `before`.
        this.writeRow(w, keyChanged ? 'd' : 'b', t, before);
        this.writeRow(w, keyChanged ? 'c' : 'u', t, after);
      }
    }
    if (!this.builder.full) return;
    // A transaction's events lie together in the binlog, so this event is on the same side of a
    // fence as its commit: the fence can be applied now, before the rows leave the builder.
    this.o.fences.apply(position, this.builder);
    const piece = this.builder.cut();
    if (piece) this.enqueue(piece, null, cb);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.zongji?.stop();
    await this.chain.catch(() => undefined);
    await this.appending?.catch(() => undefined);
  }
}
