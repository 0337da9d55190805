import type mysql from 'mysql2/promise';
import type { Logger } from 'pino';
import type { SchemaPart, SourcePosition } from '../../core/change-record.js';
import { SnapshotFences } from '../../core/snapshot-fences.js';
import { resumePosition } from '../../core/resume-position.js';
import type { MysqlSourceConfig } from '../../core/config.js';
import { SluiceError } from '../../core/errors.js';
import type { ChangeLog } from '../../core/log/change-log.js';
import type { ChangeSource, SourceStatus } from '../../core/source.js';
import { SourceTracker } from '../../core/source-tracker.js';
import { BinlogStream } from './binlog-stream.js';
import { compareBinlogPositions, connectMysql, parseBinlogPosition, parseMysqlUrl, redactMysqlUrl } from './connection.js';
import { takeMysqlSnapshot } from './mysql-snapshot.js';
import { type MysqlTable, describeMysqlTable } from './table-catalog.js';

const REQUIRED: Record<string, { want: string; setting: string }> = {
  log_bin: { want: '1', setting: 'log_bin (e.g. log_bin=mysql-bin)' },
  binlog_format: { want: 'ROW', setting: 'binlog_format=ROW' },
  binlog_row_image: { want: 'FULL', setting: 'binlog_row_image=FULL' },
};

/** A stable replica server id per source name, away from the small ids servers usually take. */
function defaultServerId(name: string): number {
  let h = 0;
  for (const ch of name) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  return 100_000 + (h % 1_000_000_000);
}

/**
 * Captures one MySQL/MariaDB database from its row binlog. There is no slot to acknowledge: the
 * log remembers the binlog position after the last transaction it holds, and a restart resumes
 * there, so the store (which replays the log from its own checkpoint) never misses or doubles a
 * transaction. The server keeps binlogs only for a while (expire_logs_days / binlog_expire_logs_seconds):
 * a position whose file is gone is reported, and `onBinlogPurged: resnapshot` starts over.
 */
export class MysqlSource implements ChangeSource {
  readonly name: string;
  private readonly tracker: SourceTracker;
  private stream: BinlogStream | null = null;
  private task: Promise<void> | null = null;
  private stopping = false;
  private readonly abort = new AbortController();

  constructor(
    private readonly config: MysqlSourceConfig,
    private readonly log: ChangeLog,
    private readonly logger: Logger,
  ) {
    this.name = config.name;
    this.tracker = new SourceTracker(config.name, 'mysql', logger);
  }

  async start(stored: ReadonlyMap<string, SchemaPart>): Promise<void> {
    const conn = await connectMysql(this.config.url);
    const db = parseMysqlUrl(this.config.url).database;
    let tables: MysqlTable[];
    let needSnapshot: boolean;
    try {
      await this.checkServer(conn);
      tables = [];
      for (const spec of this.config.tables) tables.push(await describeMysqlTable(conn, spec, db));
      needSnapshot = await this.decideSnapshot(conn);
    } finally {
      await conn.end().catch(() => undefined);
    }
    // Tables listed since the last run: copied on their own, the others keep streaming.
    const added = needSnapshot ? [] : tables.filter((t) => !stored.has(t.replicaName));
    const fences = needSnapshot ? new SnapshotFences(compareBinlogPositions) : await SnapshotFences.pending(this.log, compareBinlogPositions);
    this.stream = new BinlogStream({
      url: this.config.url,
      serverId: this.config.serverId ?? defaultServerId(this.name),
      source: this.name,
      defaultDb: db,
      tables,
      fences,
      log: this.log,
      logger: this.logger,
      stallTimeoutMs: this.config.stallTimeoutMs,
    });
    this.task = this.run(tables, needSnapshot, added);
  }

  private async checkServer(conn: mysql.Connection): Promise<void> {
    const [[vars]] = await conn.query<mysql.RowDataPacket[]>(
      'SELECT @@log_bin AS log_bin, @@binlog_format AS binlog_format, @@binlog_row_image AS binlog_row_image',
    );
    const wrong = Object.entries(REQUIRED).filter(([k, r]) => String(vars[k]).toUpperCase() !== r.want);
    if (wrong.length > 0) {
      throw new SluiceError(
        'SLUICE_MYSQL_BINLOG_CONFIG',
        `MySQL at ${redactMysqlUrl(this.config.url)} cannot be captured: ` +
          wrong.map(([k, r]) => `${k} is ${vars[k]}, needs ${r.want}`).join('; ') +
          `. Set ${wrong.map(([, r]) => r.setting).join(', ')} in the server's configuration ([mysqld] section) and restart it` +
          ` (binlog_format and binlog_row_image can also be SET GLOBAL)`,
      );
    }
  }

  /** Where the log left off: a snapshot to (re)take, or a binlog position to resume from. */
  private async decideSnapshot(conn: mysql.Connection): Promise<boolean> {
    const position = await resumePosition(this.log);
    if (!position) return true;
    this.tracker.lastLogged = position;
    const [logs] = await conn.query<mysql.RowDataPacket[]>('SHOW BINARY LOGS');
    const file = parseBinlogPosition(position).file;
    if (logs.some((l) => l.Log_name === file)) return false;
    const why = `binlog ${file}, where this source stopped, has been purged from the server (oldest kept: ${logs[0]?.Log_name ?? 'none'})`;
    if (this.config.onBinlogPurged !== 'resnapshot') {
      throw new SluiceError('SLUICE_MYSQL_BINLOG_PURGED', `${why}. Set sources[].onBinlogPurged: "resnapshot" to take a new snapshot`);
    }
    this.logger.warn({}, `${why}; taking a new snapshot`);
    return true;
  }

  private async run(tables: readonly MysqlTable[], needSnapshot: boolean, added: readonly MysqlTable[]): Promise<void> {
    try {
      if (needSnapshot || added.length > 0) {
        const copy = added.length > 0 ? added : tables;
        if (added.length > 0) this.logger.info({ tables: added.map((t) => t.replicaName) }, 'snapshotting tables added to the source');
        const at = await takeMysqlSnapshot({
          url: this.config.url,
          defaultDb: parseMysqlUrl(this.config.url).database,
          source: this.name,
          tables: copy,
          log: this.log,
          logger: this.logger,
          progress: this.tracker.startSnapshot(copy.length),
          signal: this.abort.signal,
          // Added tables: the others resume where they were, the copies are fenced.
          ...(added.length > 0 ? { resumeFrom: this.tracker.lastLogged! } : {}),
        });
        if (added.length > 0) for (const t of added) this.stream!.fence(t.replicaName, at);
        else this.tracker.lastLogged = at;
      }
      if (this.stopping) return;
      await this.stream!.run(this.tracker.lastLogged!, this.tracker);
    } catch (e) {
      if (!this.stopping) this.tracker.fail(e, 'SLUICE_MYSQL_STREAM');
    }
  }

  /** Nothing to acknowledge upstream: the binlog has no consumer position. Kept for status. */
  committed(position: SourcePosition): void {
    this.tracker.acknowledged = position.lsn;
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
