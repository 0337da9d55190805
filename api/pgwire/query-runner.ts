import type { Logger } from 'pino';
import { SluiceError, isSluiceError, messageOf } from '../../core/errors.js';
import type { QueryObserver } from '../../core/metrics.js';
import type { QuerySession } from '../../olap/query/query-session.js';
import type { QueryStream } from '../../olap/query/query-stream.js';
import type { BackendWriter } from './backend-writer.js';
import { chunkColumns, fieldDescriptions, resultFormats, writeDataRows } from './data-rows.js';
import type { Portal, Statement } from './extended-query.js';
import type { BodyReader } from './frame-reader.js';
import { TypeOid } from '../../olap/pg-catalog/index.js';
import { type PgCodec, codecFor } from './pg-codecs.js';
import type { PgDialect, PgSessionInfo } from './pg-dialect.js';
import { decodeParam } from './param-decoder.js';
import { type SessionCommand, parseSessionCommand } from './session-command.js';
import type { SessionSettings } from './session-settings.js';

const TEXT_CODEC = codecFor(null);

/**
 * Runs the statements of one Postgres session: the simple protocol (Query) and the extended
 * one (Parse/Bind/Describe/Execute/Close/Sync), with Postgres's rules for what an error does:
 * in the extended protocol everything up to the next Sync is skipped, and inside BEGIN the
 * block is failed until ROLLBACK.
 */
export class QueryRunner {
  private readonly statements = new Map<string, Statement>();
  private readonly portals = new Map<string, Portal>();
  private txn: 'I' | 'T' | 'E' = 'I';
  private skipToSync = false;
  private abort = new AbortController();
  /** When each portal's query started executing, for the query-time histogram. */
  private readonly startedAt = new WeakMap<Portal, number>();

  constructor(
    private readonly session: QuerySession,
    private readonly w: BackendWriter,
    private readonly settings: SessionSettings,
    private readonly info: PgSessionInfo,
    private readonly dialect: PgDialect,
    private readonly queryTimeoutMs: number,
    private readonly flush: () => Promise<void>,
    private readonly logger: Logger,
    private readonly metrics?: QueryObserver,
  ) {}

  cancel(): void {
    this.abort.abort();
  }

  // --- simple query ---------------------------------------------------------------------

  async simpleQuery(sql: string): Promise<void> {
    this.closePortal('');
    const statements = sql.trim() === '' ? [] : this.dialect.split(sql);
    if (statements.length === 0) this.w.empty('I');
    for (const stmt of statements) {
      try {
        await this.runSimple(stmt);
      } catch (e) {
        this.reportError(e);
        break;
      }
    }
    this.w.readyForQuery(this.txn);
  }

  private async runSimple(sql: string): Promise<void> {
    const command = parseSessionCommand(sql);
    this.checkTransaction(command);
    if (command) return this.runCommand(command, true);
    // Timed from before planning, so bad SQL counts as an error too.
    const started = performance.now();
    let ok = false;
    try {
      const prepared = await this.prepareQuery(sql);
      try {
        const stream = await prepared.execute([], this.limits());
        const codecs = stream.columns.map((c) => codecFor(c.type));
        const binary = codecs.map(() => false);
        this.w.rowDescription(fieldDescriptions(stream.columns.map((c) => c.name), codecs, binary));
        const rows = await this.pumpRows(stream, codecs, binary, { chunk: null, cols: [], offset: 0 }, 0);
        this.w.commandComplete(`SELECT ${rows.sent}`);
        ok = true;
      } finally {
        prepared.close();
      }
    } finally {
      this.metrics?.observeQuery('pgwire', (performance.now() - started) / 1000, ok);
    }
  }

  // --- extended query -------------------------------------------------------------------

  async parse(r: BodyReader): Promise<void> {
    if (this.skipToSync) return;
    try {
      const name = r.cstring();
      const sql = r.cstring();
      const declared = Array.from({ length: r.int16() }, () => r.int32());
      if (name !== '' && this.statements.has(name)) throw new SluiceError('SLUICE_PGWIRE_STATEMENT', `prepared statement "${name}" already exists`);
      const command = parseSessionCommand(sql);
      let statement: Statement;
      if (command || sql.trim() === '') {
        statement = { name, query: null, command, paramOids: declared, described: null };
      } else {
        const query = await this.prepareQuery(sql);
        const paramOids = query.parameterTypes.map((t, i) => (declared[i] ? declared[i] : t ? codecFor(t).oid : TypeOid.text));
        statement = { name, query, command: null, paramOids, described: null };
      }
      this.closeStatement(name);
      this.statements.set(name, statement);
      this.w.empty('1');
    } catch (e) {
      this.failExtended(e);
    }
  }

  async bind(r: BodyReader): Promise<void> {
    if (this.skipToSync) return;
    try {
      const portalName = r.cstring();
      const statement = this.statement(r.cstring());
      const paramFormats = Array.from({ length: r.int16() }, () => r.int16());
      const count = r.int16();
      if (count !== statement.paramOids.length) {
        throw new SluiceError('SLUICE_PGWIRE_PROTOCOL', `bind message supplies ${count} parameters, but the prepared statement requires ${statement.paramOids.length}`);
      }
      const params = Array.from({ length: count }, (_, i) => {
        const len = r.int32();
        const bytes = len < 0 ? null : r.bytes(len);
        const format = paramFormats.length === 0 ? 0 : paramFormats.length === 1 ? paramFormats[0] : paramFormats[i];
        return decodeParam(bytes, format ?? 0, statement.paramOids[i], i);
      });
      const formatCodes = Array.from({ length: r.int16() }, () => r.int16());
      if (portalName !== '' && this.portals.has(portalName)) throw new SluiceError('SLUICE_PGWIRE_PORTAL', `portal "${portalName}" already exists`);
      this.closePortal(portalName);
      this.portals.set(portalName, {
        name: portalName, statement, params, formatCodes, stream: null, codecs: null, binary: null, names: [],
        chunk: null, cols: [], offset: 0, rows: 0, done: false,
      });
      this.w.empty('2');
    } catch (e) {
      this.failExtended(e);
    }
  }

  async describe(r: BodyReader): Promise<void> {
    if (this.skipToSync) return;
    try {
      const kind = r.byte();
      const name = r.cstring();
      if (kind === 'S') {
        const st = this.statement(name);
        this.w.parameterDescription(st.paramOids);
        if (st.query) {
          st.described = st.query.columns.map((c) => codecFor(c.type));
          this.w.rowDescription(fieldDescriptions(st.query.columns.map((c) => c.name), st.described, st.described.map(() => false)));
        } else this.describeCommand(st.command);
      } else if (kind === 'P') {
        const portal = this.portal(name);
        if (portal.statement.query) {
          await this.start(portal);
          this.w.rowDescription(fieldDescriptions(portal.names, portal.codecs!, portal.binary!));
        } else this.describeCommand(portal.statement.command);
      } else throw new SluiceError('SLUICE_PGWIRE_PROTOCOL', `describe of '${kind}': expected 'S' or 'P'`);
    } catch (e) {
      this.failExtended(e);
    }
  }

  async execute(r: BodyReader): Promise<void> {
    if (this.skipToSync) return;
    try {
      const portal = this.portal(r.cstring());
      const maxRows = r.int32();
      const st = portal.statement;
      if (!st.query) {
        if (!st.command) return this.w.empty('I');
        if (!portal.done) this.checkTransaction(st.command);
        portal.done = true;
        await this.runCommand(st.command, false);
        return;
      }
      this.checkTransaction(null);
      try {
        await this.start(portal);
        const { sent, more } = await this.pumpRows(portal.stream!, portal.codecs!, portal.binary!, portal, maxRows);
        portal.rows += sent;
        if (more) this.w.empty('s');
        else {
          this.w.commandComplete(`SELECT ${portal.rows}`);
          this.observeQuery(portal, true);
        }
      } catch (e) {
        this.observeQuery(portal, false);
        throw e;
      }
    } catch (e) {
      this.failExtended(e);
    }
  }

  closeObject(r: BodyReader): void {
    if (this.skipToSync) return;
    try {
      const kind = r.byte();
      const name = r.cstring();
      if (kind === 'S') this.closeStatement(name);
      else if (kind === 'P') this.closePortal(name);
      else throw new SluiceError('SLUICE_PGWIRE_PROTOCOL', `close of '${kind}': expected 'S' or 'P'`);
      this.w.empty('3');
    } catch (e) {
      this.failExtended(e);
    }
  }

  sync(): void {
    this.skipToSync = false;
    // Outside a transaction block, Sync ends the implicit transaction and with it every portal.
    if (this.txn === 'I') for (const name of [...this.portals.keys()]) this.closePortal(name);
    this.w.readyForQuery(this.txn);
  }

  /** Reports an error and skips the rest of the extended-protocol batch, as Postgres does. */
  failExtended(e: unknown): void {
    this.reportError(e);
    this.skipToSync = true;
  }

  close(): void {
    for (const name of [...this.portals.keys()]) this.closePortal(name);
    for (const st of this.statements.values()) st.query?.close();
    this.statements.clear();
    this.session.close();
  }

  // --- shared ---------------------------------------------------------------------------

  private async prepareQuery(sql: string) {
    const t = this.dialect.translate(sql, this.info);
    if (t.readsCatalog) await this.dialect.refreshCatalog(this.session.conn);
    return this.session.prepare(t.sql);
  }

  /**
   * An extended-protocol query is timed from its portal's first execution (Describe or Execute)
   * to its last row, across Executes that fetch it in pieces; Parse errors are not counted.
   */
  private observeQuery(portal: Portal, ok: boolean): void {
    const started = this.startedAt.get(portal);
    if (started === undefined || !this.metrics) return;
    this.startedAt.delete(portal);
    this.metrics.observeQuery('pgwire', (performance.now() - started) / 1000, ok);
  }

  /** DuckDB's name lookup follows the session's search_path; called at start and after SET. */
  async applySearchPath(): Promise<void> {
    await this.dialect.applySearchPath(this.session.conn, this.info);
  }

  private async start(portal: Portal): Promise<void> {
    if (portal.stream) return;
    this.startedAt.set(portal, performance.now());
    const st = portal.statement;
    const stream = await st.query!.execute(portal.params, this.limits());
    portal.stream = stream;
    portal.names = stream.columns.map((c) => c.name);
    portal.codecs = st.described ?? stream.columns.map((c) => codecFor(c.type));
    portal.binary = resultFormats(portal.formatCodes, portal.codecs, portal.names);
  }

  /**
   * Writes rows from the stream until it ends or `maxRows` (0: no limit) were sent, flushing
   * after each chunk so the socket's backpressure reaches DuckDB.
   */
  private async pumpRows(
    stream: QueryStream,
    codecs: readonly PgCodec[],
    binary: readonly boolean[],
    pos: Pick<Portal, 'chunk' | 'cols' | 'offset'>,
    maxRows: number,
  ): Promise<{ sent: number; more: boolean }> {
    let sent = 0;
    for (;;) {
      if (!pos.chunk || pos.offset >= pos.chunk.rowCount) {
        pos.chunk = await stream.next();
        pos.offset = 0;
        if (!pos.chunk) return { sent, more: false };
        pos.cols = chunkColumns(pos.chunk);
      }
      const end = maxRows > 0 ? Math.min(pos.chunk.rowCount, pos.offset + maxRows - sent) : pos.chunk.rowCount;
      writeDataRows(this.w, pos.cols, codecs, binary, pos.offset, end);
      sent += end - pos.offset;
      pos.offset = end;
      await this.flush();
      if (maxRows > 0 && sent >= maxRows) return { sent, more: true };
    }
  }

  private async runCommand(c: SessionCommand, simple: boolean): Promise<void> {
    this.writeCommand(c, simple);
    if ((c.kind === 'set' || c.kind === 'reset') && (c.name === null || this.settings.canonical(c.name) === 'search_path')) await this.applySearchPath();
    if (c.kind === 'discard') await this.applySearchPath();
  }

  private writeCommand(c: SessionCommand, simple: boolean): void {
    switch (c.kind) {
      case 'show': {
        if (c.name === null) {
          if (simple) this.w.rowDescription(fieldDescriptions(['name', 'setting', 'description'], [TEXT_CODEC, TEXT_CODEC, TEXT_CODEC], [false, false, false]));
          const all = this.settings.all();
          for (const row of all) writeDataRows(this.w, row.map((v) => [v]), [TEXT_CODEC, TEXT_CODEC, TEXT_CODEC], [false, false, false], 0, 1);
          return this.w.commandComplete('SHOW');
        }
        const value = this.settings.get(c.name);
        if (simple) this.w.rowDescription(fieldDescriptions([c.name.toLowerCase()], [TEXT_CODEC], [false]));
        writeDataRows(this.w, [[value]], [TEXT_CODEC], [false], 0, 1);
        return this.w.commandComplete('SHOW');
      }
      case 'set':
        if (c.value === null) this.settings.reset(c.name);
        else this.settings.set(c.name, c.value);
        for (const [k, v] of this.settings.takeChanged()) this.w.parameterStatus(k, v);
        return this.w.commandComplete('SET');
      case 'reset':
        if (c.name === null) this.settings.resetAll();
        else this.settings.reset(c.name);
        for (const [k, v] of this.settings.takeChanged()) this.w.parameterStatus(k, v);
        return this.w.commandComplete('RESET');
      case 'begin':
        if (this.txn === 'I') this.txn = 'T';
        return this.w.commandComplete('BEGIN');
      case 'commit':
        // COMMIT of a failed block is a rollback, and Postgres says so in the tag.
        this.w.commandComplete(this.txn === 'E' ? 'ROLLBACK' : 'COMMIT');
        this.txn = 'I';
        return;
      case 'rollback':
        this.txn = 'I';
        return this.w.commandComplete('ROLLBACK');
      case 'discard':
        for (const name of [...this.portals.keys()]) this.closePortal(name);
        for (const name of [...this.statements.keys()]) this.closeStatement(name);
        this.settings.resetAll();
        this.settings.takeChanged();
        this.txn = 'I';
        return this.w.commandComplete('DISCARD ALL');
      case 'deallocate':
        if (c.name === null) for (const name of [...this.statements.keys()]) this.closeStatement(name);
        else if (this.statements.has(c.name)) this.closeStatement(c.name);
        else throw new SluiceError('SLUICE_PGWIRE_STATEMENT', `prepared statement "${c.name}" does not exist`);
        return this.w.commandComplete(c.tag);
      case 'noop':
        return this.w.commandComplete(c.tag);
    }
  }

  private describeCommand(c: SessionCommand | null): void {
    if (c?.kind === 'show') {
      const names = c.name === null ? ['name', 'setting', 'description'] : [c.name.toLowerCase()];
      this.w.rowDescription(fieldDescriptions(names, names.map(() => TEXT_CODEC), names.map(() => false)));
    } else this.w.empty('n');
  }

  /** In a failed transaction block only ROLLBACK (or COMMIT, which rolls back) is accepted. */
  private checkTransaction(c: SessionCommand | null): void {
    if (this.txn !== 'E' || c?.kind === 'rollback' || c?.kind === 'commit') return;
    throw new SluiceError('SLUICE_PGWIRE_TXN_ABORTED', 'current transaction is aborted, commands ignored until end of transaction block');
  }

  private limits() {
    if (this.abort.signal.aborted) this.abort = new AbortController();
    const session = this.settings.statementTimeoutMs;
    return {
      timeoutMs: session > 0 ? Math.min(session, this.queryTimeoutMs) : this.queryTimeoutMs,
      maxRows: Number.MAX_SAFE_INTEGER,
      signal: this.abort.signal,
    };
  }

  private reportError(e: unknown): void {
    if (this.txn === 'T') this.txn = 'E';
    if (isSluiceError(e)) {
      this.w.error({ severity: 'ERROR', code: e.sqlState, message: e.message });
      return;
    }
    this.logger.error({ err: e }, 'postgres query failed');
    this.w.error({ severity: 'ERROR', code: 'XX000', message: `internal error: ${messageOf(e)}` });
  }

  private statement(name: string): Statement {
    const st = this.statements.get(name);
    if (!st) throw new SluiceError('SLUICE_PGWIRE_STATEMENT', `prepared statement "${name}" does not exist`);
    return st;
  }

  private portal(name: string): Portal {
    const p = this.portals.get(name);
    if (!p) throw new SluiceError('SLUICE_PGWIRE_PORTAL', `portal "${name}" does not exist`);
    return p;
  }

  private closePortal(name: string): void {
    this.portals.get(name)?.stream?.close();
    this.portals.delete(name);
  }

  private closeStatement(name: string): void {
    const st = this.statements.get(name);
    if (!st) return;
    for (const [pname, p] of this.portals) if (p.statement === st) this.closePortal(pname);
    st.query?.close();
    this.statements.delete(name);
  }
}
