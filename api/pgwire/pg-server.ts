import { randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { type AddressInfo, type Server, type Socket, createServer } from 'node:net';
import { type SecureContext, createSecureContext } from 'node:tls';
import type { Logger } from 'pino';
import { SluiceError, messageOf } from '../../core/errors.js';
import type { QueryObserver } from '../../core/metrics.js';
import type { QuerySession } from '../../olap/query/query-session.js';
import { PgConnection } from './pg-connection.js';
import { ScramSha256 } from './scram-sha-256.js';
import type { PgDialect } from './pg-dialect.js';

export interface PgServerOptions {
  readonly host: string;
  readonly port: number;
  readonly openSession: () => Promise<QuerySession>;
  readonly dialect: PgDialect;
  readonly queryTimeoutMs: number;
  /** PEM files; without them an SSLRequest is answered 'N' and clients fall back to plain TCP. */
  readonly tls: { readonly certFile: string; readonly keyFile: string } | null;
  /** `api.auth.users`: user name → password; null lets any user in (local trust). */
  readonly users: Readonly<Record<string, string>> | null;
  readonly logger: Logger;
  readonly metrics?: QueryObserver;
}

/** The Postgres-protocol door: accepts connections and routes CancelRequests to their session. */
export class PgServer {
  private readonly server: Server;
  private readonly connections = new Map<number, { conn: PgConnection; secret: number }>();
  private readonly open = new Set<PgConnection>();
  private readonly logger: Logger;

  private readonly scram: ScramSha256 | null;

  private constructor(private readonly o: PgServerOptions, private readonly tls: SecureContext | null) {
    this.scram = o.users ? new ScramSha256(o.users) : null;
    this.logger = o.logger.child({ component: 'pgwire' });
    this.server = createServer((socket) => this.accept(socket));
  }

  static async start(o: PgServerOptions): Promise<PgServer> {
    let tls: SecureContext | null = null;
    if (o.tls) {
      try {
        tls = createSecureContext({ cert: readFileSync(o.tls.certFile), key: readFileSync(o.tls.keyFile) });
      } catch (e) {
        throw new SluiceError('SLUICE_PGWIRE_TLS', `api.tls: cannot load the certificate/key (${o.tls.certFile}, ${o.tls.keyFile}): ${messageOf(e)}`, { cause: e });
      }
    }
    const s = new PgServer(o, tls);
    await new Promise<void>((resolve, reject) => {
      s.server.once('error', (e) => reject(new SluiceError('SLUICE_API_LISTEN', `api.pgPort: cannot listen on ${o.host}:${o.port}: ${messageOf(e)}`, { cause: e })));
      s.server.listen(o.port, o.host, () => resolve());
    });
    s.logger.info({ host: o.host, port: s.port, tls: tls !== null }, 'postgres protocol listening');
    return s;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  private accept(socket: Socket): void {
    const conn = new PgConnection(socket, {
      openSession: this.o.openSession,
      dialect: this.o.dialect,
      queryTimeoutMs: this.o.queryTimeoutMs,
      metrics: this.o.metrics,
      tls: this.tls,
      scram: this.scram,
      logger: this.logger,
      register: (conn) => {
        let pid: number;
        do pid = randomInt(1, 2 ** 31 - 1);
        while (this.connections.has(pid));
        const secret = randomInt(0, 2 ** 31 - 1);
        this.connections.set(pid, { conn, secret });
        return { pid, secret };
      },
      unregister: (pid) => this.connections.delete(pid),
      // A wrong secret is ignored silently, as Postgres does: the requester learns nothing.
      cancel: (pid, secret) => {
        const c = this.connections.get(pid);
        if (c && c.secret === secret) c.conn.cancel();
      },
    });
    this.open.add(conn);
    socket.once('close', () => this.open.delete(conn));
  }

  async close(): Promise<void> {
    // Synchronously, so every DuckDB session is closed before the store is.
    for (const c of this.open) c.close();
    this.open.clear();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
