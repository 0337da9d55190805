import { type AddressInfo, type Server, type Socket, createServer, connect } from 'node:net';

/**
 * A TCP forwarder between Sluice and a database server, so a test can cut the connection at a
 * chosen moment (both sockets destroyed at once, as a network failure or a killed middlebox would)
 * or stall it (both sockets left open, nothing passed on, as a dead NAT entry or a frozen server
 * would) without touching the server itself.
 */
export class TcpProxy {
  /** Bytes forwarded server -> client, over every connection so far. */
  bytesDown = 0;
  /** Connections accepted so far; grows when the client reconnects after a cut. */
  accepted = 0;
  cuts = 0;
  private readonly pairs = new Set<{ client: Socket; server: Socket }>();
  private trigger: { atBytes: number; resolve: () => void } | null = null;
  /** While set, no socket is read, so nothing is forwarded, not even a close, and nothing is lost. */
  private stalled = false;

  private constructor(private readonly server: Server, readonly port: number) {}

  static async start(targetHost: string, targetPort: number): Promise<TcpProxy> {
    let proxy: TcpProxy | null = null;
    const server = createServer((client) => proxy!.accept(client, targetHost, targetPort));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    proxy = new TcpProxy(server, (server.address() as AddressInfo).port);
    return proxy;
  }

  /** `url` with its host and port replaced by the proxy's. */
  url(url: string): string {
    const u = new URL(url);
    u.hostname = '127.0.0.1';
    u.port = String(this.port);
    return u.toString();
  }

  private accept(client: Socket, host: string, port: number): void {
    this.accepted++;
    const server = connect({ host, port });
    const pair = { client, server };
    this.pairs.add(pair);
    const drop = (): void => {
      this.pairs.delete(pair);
      client.destroy();
      server.destroy();
    };
    client.on('error', drop);
    server.on('error', drop);
    // A side that closes on its own (a server shutting down) ends the other gracefully, so its
    // last bytes (the server's goodbye error) still arrive, as they would without the proxy.
    client.on('end', () => server.end());
    server.on('end', () => client.end());
    client.on('close', () => (this.pairs.delete(pair), server.end()));
    server.on('close', () => (this.pairs.delete(pair), client.end()));
    // Connections accepted while stalled stall as well: a reconnect gets no further.
    if (this.stalled) (client.pause(), server.pause());
    client.on('data', (d) => {
      if (!server.write(d)) client.pause();
    });
    server.on('drain', () => this.stalled || client.resume());
    server.on('data', (d) => {
      this.bytesDown += d.length;
      if (this.trigger && this.bytesDown >= this.trigger.atBytes) {
        const t = this.trigger;
        this.trigger = null;
        // The bytes up to the threshold are passed on first: the cut falls inside a message.
        client.write(d.subarray(0, d.length - (this.bytesDown - t.atBytes)));
        this.cut();
        t.resolve();
        return;
      }
      if (!client.write(d)) server.pause();
    });
    client.on('drain', () => this.stalled || server.resume());
  }

  /** Stops forwarding in both directions, every connection kept open, new ones included. */
  stall(): void {
    this.stalled = true;
    for (const p of this.pairs) (p.client.pause(), p.server.pause());
  }

  /** Forwards again: what waited in the sockets passes on (a close included), new connections pass. */
  unstall(): void {
    this.stalled = false;
    for (const p of this.pairs) (p.client.resume(), p.server.resume());
  }

  /** Destroys every open connection, both sides; returns how many there were. */
  cut(): number {
    const n = this.pairs.size;
    for (const p of [...this.pairs]) {
      p.client.destroy();
      p.server.destroy();
    }
    this.pairs.clear();
    this.cuts++;
    return n;
  }

  /** Cuts every connection once `bytes` more bytes have come from the server; resolves then. */
  cutAfter(bytes: number): Promise<void> {
    return new Promise((resolve) => {
      this.trigger = { atBytes: this.bytesDown + bytes, resolve };
    });
  }

  async close(): Promise<void> {
    this.trigger = null;
    this.stalled = false;
    for (const p of [...this.pairs]) {
      p.client.destroy();
      p.server.destroy();
    }
    this.pairs.clear();
    await new Promise((r) => this.server.close(r));
  }
}
