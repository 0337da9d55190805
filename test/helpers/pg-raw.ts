import { type Socket, connect } from 'node:net';

/** A backend message as received: type letter and body. */
export interface RawMessage {
  readonly type: string;
  readonly body: Buffer;
}

function cstr(s: string): Buffer {
  return Buffer.concat([Buffer.from(s, 'utf8'), Buffer.from([0])]);
}

function frame(type: string, ...parts: Buffer[]): Buffer {
  const body = Buffer.concat(parts);
  const head = Buffer.alloc(5);
  head.write(type, 0, 'latin1');
  head.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([head, body]);
}

function int16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeInt16BE(n);
  return b;
}

function int32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
}

/**
 * A bare Postgres-protocol client for what drivers do not expose: Execute with a row limit,
 * hand-built Bind messages, raw bytes. Messages are framed by hand, from the protocol docs.
 */
export class RawPgClient {
  private buf = Buffer.alloc(0);
  private waiters: (() => void)[] = [];
  closed = false;

  private constructor(readonly socket: Socket) {
    socket.on('data', (d) => {
      this.buf = Buffer.concat([this.buf, d]);
      this.waiters.splice(0).forEach((w) => w());
    });
    socket.on('close', () => {
      this.closed = true;
      this.waiters.splice(0).forEach((w) => w());
    });
    socket.on('error', () => undefined);
  }

  static async connect(port: number): Promise<RawPgClient> {
    const socket = connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    return new RawPgClient(socket);
  }

  /** Connects and completes start-up; returns the messages up to the first ReadyForQuery. */
  static async startup(port: number, params: Record<string, string> = { user: 'raw', database: 'sluice' }): Promise<{ client: RawPgClient; messages: RawMessage[] }> {
    const c = await RawPgClient.connect(port);
    const body = Buffer.concat([int32(196608), ...Object.entries(params).flatMap(([k, v]) => [cstr(k), cstr(v)]), Buffer.from([0])]);
    c.socket.write(Buffer.concat([int32(body.length + 4), body]));
    return { client: c, messages: await c.readUntil('Z') };
  }

  send(b: Buffer): void {
    this.socket.write(b);
  }

  parse(name: string, sql: string, oids: number[] = []): Buffer {
    return frame('P', cstr(name), cstr(sql), int16(oids.length), ...oids.map(int32));
  }

  bind(portal: string, statement: string, params: (Buffer | null)[], paramFormats: number[] = [], resultFormats: number[] = []): Buffer {
    return frame(
      'B', cstr(portal), cstr(statement), int16(paramFormats.length), ...paramFormats.map(int16),
      int16(params.length), ...params.flatMap((p) => (p === null ? [int32(-1)] : [int32(p.length), p])),
      int16(resultFormats.length), ...resultFormats.map(int16),
    );
  }

  describe(kind: 'S' | 'P', name: string): Buffer {
    return frame('D', Buffer.from(kind), cstr(name));
  }

  execute(portal: string, maxRows = 0): Buffer {
    return frame('E', cstr(portal), int32(maxRows));
  }

  sync(): Buffer {
    return frame('S');
  }

  query(sql: string): Buffer {
    return frame('Q', cstr(sql));
  }

  /** Reads messages until one of type `until` (included), or the connection closes. */
  async readUntil(until: string, timeoutMs = 10_000): Promise<RawMessage[]> {
    const out: RawMessage[] = [];
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      while (this.buf.length >= 5 && this.buf.length >= 1 + this.buf.readInt32BE(1)) {
        const len = this.buf.readInt32BE(1);
        const m = { type: String.fromCharCode(this.buf[0]), body: this.buf.subarray(5, 1 + len) };
        this.buf = this.buf.subarray(1 + len);
        out.push(m);
        if (m.type === until) return out;
      }
      if (this.closed) return out;
      if (Date.now() > deadline) throw new Error(`no '${until}' message within ${timeoutMs} ms (got ${out.map((m) => m.type).join('')})`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 100);
      });
    }
  }

  close(): void {
    this.socket.destroy();
  }
}

/** The text cells of a DataRow message. */
export function dataRowText(m: RawMessage): (string | null)[] {
  const n = m.body.readInt16BE(0);
  const out: (string | null)[] = [];
  let p = 2;
  for (let i = 0; i < n; i++) {
    const len = m.body.readInt32BE(p);
    p += 4;
    if (len < 0) out.push(null);
    else {
      out.push(m.body.toString('utf8', p, p + len));
      p += len;
    }
  }
  return out;
}

/** The SQLSTATE and message of an ErrorResponse. */
export function errorFields(m: RawMessage): { code: string; message: string; severity: string } {
  const f: Record<string, string> = {};
  let p = 0;
  while (p < m.body.length && m.body[p] !== 0) {
    const k = String.fromCharCode(m.body[p]);
    const end = m.body.indexOf(0, p + 1);
    f[k] = m.body.toString('utf8', p + 1, end);
    p = end + 1;
  }
  return { code: f.C, message: f.M, severity: f.S };
}
