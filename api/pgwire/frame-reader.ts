import { SluiceError } from '../../core/errors.js';

/** The largest frontend message accepted: a query text of 16 MB is already absurd. */
export const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

export interface Frame {
  /** The message type byte as a character; '' for the untyped startup-phase messages. */
  readonly type: string;
  readonly body: Buffer;
}

/**
 * Cuts the frontend byte stream into messages. Startup-phase messages (StartupMessage,
 * SSLRequest, CancelRequest) have no type byte, the rest do; the connection says which phase
 * it is in. A length that is impossible is a protocol error, reported before any allocation.
 */
export class FrameReader {
  private pending: Buffer = Buffer.alloc(0);
  startupPhase = true;

  push(data: Buffer): void {
    this.pending = this.pending.length === 0 ? data : Buffer.concat([this.pending, data]);
  }

  /** The next complete message, or null until more bytes arrive. */
  next(): Frame | null {
    const header = this.startupPhase ? 4 : 5;
    if (this.pending.length < header) return null;
    const length = this.pending.readInt32BE(header - 4);
    if (length < 4 || length > MAX_MESSAGE_BYTES) {
      throw new SluiceError('SLUICE_PGWIRE_PROTOCOL', `invalid message length ${length}`);
    }
    const total = header - 4 + length;
    if (this.pending.length < total) return null;
    const type = this.startupPhase ? '' : String.fromCharCode(this.pending[0]);
    const body = this.pending.subarray(header, total);
    this.pending = this.pending.subarray(total);
    return { type, body };
  }

  /** Bytes received but not yet framed: after an SSLRequest they would be a MITM injection. */
  get buffered(): number {
    return this.pending.length;
  }
}

/** Sequential reads over one message body, failing cleanly on a truncated message. */
export class BodyReader {
  private pos = 0;

  constructor(private readonly body: Buffer) {}

  int16(): number {
    this.need(2);
    const v = this.body.readInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  int32(): number {
    this.need(4);
    const v = this.body.readInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  byte(): string {
    this.need(1);
    return String.fromCharCode(this.body[this.pos++]);
  }

  /** A NUL-terminated string. */
  cstring(): string {
    const end = this.body.indexOf(0, this.pos);
    if (end < 0) throw new SluiceError('SLUICE_PGWIRE_PROTOCOL', 'unterminated string in message');
    const s = this.body.toString('utf8', this.pos, end);
    this.pos = end + 1;
    return s;
  }

  bytes(n: number): Buffer {
    this.need(n);
    const b = this.body.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }

  get remaining(): number {
    return this.body.length - this.pos;
  }

  private need(n: number): void {
    if (n < 0 || this.pos + n > this.body.length) throw new SluiceError('SLUICE_PGWIRE_PROTOCOL', 'message is shorter than its contents');
  }
}
