import type { Socket } from 'node:net';
import { type SecureContext, TLSSocket } from 'node:tls';
import type { Logger } from 'pino';
import { SluiceError, isSluiceError, messageOf } from '../../core/errors.js';
import type { QueryObserver } from '../../core/metrics.js';
import type { QuerySession } from '../../olap/query/query-session.js';
import { BackendWriter } from './backend-writer.js';
import { type Frame, BodyReader, FrameReader } from './frame-reader.js';
import type { PgDialect, PgSessionInfo } from './pg-dialect.js';
import { QueryRunner } from './query-runner.js';
import type { ScramExchange, ScramSha256 } from './scram-sha-256.js';
import { SessionSettings } from './session-settings.js';

const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;
const CANCEL_REQUEST = 80877102;
const PROTOCOL_3 = 196608;

export interface PgConnectionOptions {
  readonly openSession: () => Promise<QuerySession>;
  readonly dialect: PgDialect;
  readonly queryTimeoutMs: number;
  readonly metrics?: QueryObserver;
  readonly tls: SecureContext | null;
  /** With `api.auth`: every login proves its password with SCRAM-SHA-256. */
  readonly scram: ScramSha256 | null;
  readonly logger: Logger;
  /** Registers the connection for CancelRequests; returns its process id and secret. */
  readonly register: (c: PgConnection) => { pid: number; secret: number };
  readonly unregister: (pid: number) => void;
  readonly cancel: (pid: number, secret: number) => void;
}

/**
 * One client of the Postgres door, from start-up to Terminate. Messages are handled strictly in
 * order: the next is not read until the previous one's reply is written (and, for rows, until
 * the socket has drained), so a slow client slows its own query, never the process's memory.
 */
export class PgConnection {
  private socket: Socket;
  private readonly reader = new FrameReader();
  private readonly w = new BackendWriter();
  private runner: QueryRunner | null = null;
  private pid = 0;
  private login: { exchange: ScramExchange; params: Record<string, string>; user: string; database: string; stage: 'first' | 'final' } | null = null;
  private busy = false;
  private closed = false;

  constructor(socket: Socket, private readonly o: PgConnectionOptions) {
    this.socket = socket;
    this.listen(socket);
  }

  /** Cancels the query running now, if any (CancelRequest from another connection). */
  cancel(): void {
    this.runner?.cancel();
  }

  private listen(socket: Socket): void {
    socket.setNoDelay(true);
    socket.on('data', (d: Buffer) => {
      this.reader.push(d);
      void this.pump();
    });
    socket.on('error', () => this.close());
    socket.on('close', () => this.close());
  }

  private async pump(): Promise<void> {
    if (this.busy || this.closed) return;
    this.busy = true;
    this.socket.pause();
    try {
      for (let frame = this.reader.next(); frame && !this.closed; frame = this.reader.next()) {
        await this.handle(frame);
      }
    } catch (e) {
      this.fatal(e);
    } finally {
      this.busy = false;
      if (!this.closed) this.socket.resume();
    }
  }

  private async handle(frame: Frame): Promise<void> {
    if (this.reader.startupPhase) {
      await this.startup(frame.body);
      return this.flush();
    }
    if (this.login) {
      await this.authenticate(frame);
      return this.flush();
    }
    const runner = this.runner!;
    switch (frame.type) {
      case 'Q': await runner.simpleQuery(new BodyReader(frame.body).cstring()); break;
      case 'P': await runner.parse(new BodyReader(frame.body)); break;
      case 'B': await runner.bind(new BodyReader(frame.body)); break;
      case 'D': await runner.describe(new BodyReader(frame.body)); break;
      case 'E': await runner.execute(new BodyReader(frame.body)); break;
      case 'C': runner.closeObject(new BodyReader(frame.body)); break;
      case 'S': runner.sync(); break;
      case 'H': break;
      case 'X': this.close(); return;
      default:
        runner.failExtended(new SluiceError('SLUICE_PGWIRE_UNSUPPORTED', `message type '${frame.type}' is not supported (COPY and function calls are not available)`));
        if (frame.type === 'd' || frame.type === 'c' || frame.type === 'f' || frame.type === 'F') runner.sync();
    }
    await this.flush();
  }

  private async startup(body: Buffer): Promise<void> {
    const r = new BodyReader(body);
    const code = r.int32();
    if (code === SSL_REQUEST) return this.startTls();
    if (code === GSSENC_REQUEST) return this.rawReply('N');
    if (code === CANCEL_REQUEST) {
      this.o.cancel(r.int32(), r.int32());
      return this.close();
    }
    if (code !== PROTOCOL_3) {
      throw new SluiceError('SLUICE_PGWIRE_UNSUPPORTED', `protocol version ${code >> 16}.${code & 0xffff} is not supported; Sluice speaks 3.0`);
    }
    const params: Record<string, string> = {};
    while (r.remaining > 1) {
      const k = r.cstring();
      params[k] = r.cstring();
    }
    const user = params.user;
    if (!user) throw new SluiceError('SLUICE_PGWIRE_PROTOCOL', 'no user name was given in the start-up message');
    const database = params.database ?? user;
    if (database !== 'sluice') {
      this.w.error({ severity: 'FATAL', code: '3D000', message: `database "${database}" does not exist; connect to database "sluice"` });
      await this.flush();
      return this.close();
    }
    this.reader.startupPhase = false;
    if (this.o.scram) {
      // SCRAM-SHA-256 is the only mechanism offered: the list ends with an empty name.
      this.w.begin('R');
      this.w.int32(10);
      this.w.cstring('SCRAM-SHA-256');
      this.w.byte(0);
      this.w.end();
      this.login = { exchange: this.o.scram.begin(user), params, user, database, stage: 'first' };
      return;
    }
    await this.beginSession(params, user, database);
  }

  /** SASLInitialResponse and SASLResponse ('p') of a SCRAM login; anything else ends it. */
  private async authenticate(frame: Frame): Promise<void> {
    const login = this.login!;
    if (frame.type !== 'p') throw new SluiceError('SLUICE_PGWIRE_PROTOCOL', `expected a password message during login, got '${frame.type}'`);
    const r = new BodyReader(frame.body);
    if (login.stage === 'first') {
      const mechanism = r.cstring();
      if (mechanism !== 'SCRAM-SHA-256') throw new SluiceError('SLUICE_PGWIRE_PROTOCOL', `SASL mechanism ${mechanism} is not offered; use SCRAM-SHA-256`);
      const len = r.int32();
      const serverFirst = login.exchange.first(r.bytes(len).toString('utf8'));
      this.w.begin('R');
      this.w.int32(11);
      this.w.bytes(Buffer.from(serverFirst));
      this.w.end();
      login.stage = 'final';
      return;
    }
    const serverFinal = login.exchange.final(frame.body.toString('utf8'));
    if (serverFinal === null) {
      // The same answer for an unknown user and a wrong password, and no password in the log.
      this.o.logger.info({ user: login.user }, 'postgres login failed');
      this.w.error({ severity: 'FATAL', code: '28P01', message: `password authentication failed for user "${login.user}"` });
      await this.flush();
      return this.close();
    }
    this.w.begin('R');
    this.w.int32(12);
    this.w.bytes(Buffer.from(serverFinal));
    this.w.end();
    this.login = null;
    await this.beginSession(login.params, login.user, login.database);
  }

  private async beginSession(params: Record<string, string>, user: string, database: string): Promise<void> {
    const session = await this.o.openSession();
    const settings = new SessionSettings(params, user, { search_path: await this.o.dialect.defaultSearchPath(session.conn) });
    const key = this.o.register(this);
    this.pid = key.pid;
    const info: PgSessionInfo = { user, database, setting: (n) => settings.find(n), backendPid: key.pid };
    this.runner = new QueryRunner(session, this.w, settings, info, this.o.dialect, this.o.queryTimeoutMs, () => this.flush(), this.o.logger, this.o.metrics);
    await this.runner.applySearchPath();
    this.w.authenticationOk();
    for (const [k, v] of settings.reported()) this.w.parameterStatus(k, v);
    this.w.backendKeyData(key.pid, key.secret);
    this.w.readyForQuery('I');
    this.o.logger.debug({ user, application: params.application_name, pid: key.pid }, 'postgres client connected');
  }

  private async startTls(): Promise<void> {
    if (!this.o.tls) return this.rawReply('N');
    // Bytes sent before the handshake would be trusted as if encrypted: refuse them.
    if (this.reader.buffered > 0) throw new SluiceError('SLUICE_PGWIRE_PROTOCOL', 'data received after SSLRequest before the TLS handshake');
    await this.rawReply('S');
    const raw = this.socket;
    raw.removeAllListeners('data');
    raw.removeAllListeners('error');
    raw.removeAllListeners('close');
    const secure = new TLSSocket(raw, { isServer: true, secureContext: this.o.tls });
    this.socket = secure;
    this.listen(secure);
    raw.resume();
  }

  private async rawReply(byte: 'S' | 'N'): Promise<void> {
    await this.write(Buffer.from(byte));
  }

  /** Writes what the writer holds; waits for the socket to drain when the client reads slowly. */
  private async flush(): Promise<void> {
    if (this.w.size === 0 || this.closed) return;
    await this.write(this.w.take());
  }

  private write(b: Buffer): Promise<void> {
    return new Promise((resolve) => {
      if (this.socket.write(b)) return resolve();
      const done = (): void => {
        this.socket.off('drain', done);
        this.socket.off('close', done);
        resolve();
      };
      this.socket.on('drain', done);
      this.socket.on('close', done);
    });
  }

  /** A protocol-level failure: tell the client why (FATAL), then hang up. */
  private fatal(e: unknown): void {
    if (this.closed) return;
    const err = isSluiceError(e) ? e : new SluiceError('SLUICE_INTERNAL', messageOf(e), { cause: e });
    if (isSluiceError(e)) this.o.logger.info({ code: err.code, reason: err.message }, 'postgres client disconnected: protocol error');
    else this.o.logger.error({ err: e }, 'postgres connection failed');
    this.w.error({ severity: 'FATAL', code: err.sqlState, message: err.message });
    this.socket.end(this.w.take());
    this.close();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.pid) this.o.unregister(this.pid);
    this.runner?.close();
    this.socket.destroySoon?.();
    if (!this.socket.destroyed) this.socket.end();
  }
}
