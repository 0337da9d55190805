/** One field of a RowDescription. */
export interface FieldDescription {
  readonly name: string;
  readonly tableOid: number;
  readonly columnNumber: number;
  readonly typeOid: number;
  readonly typeSize: number;
  readonly typeModifier: number;
  /** 0 text, 1 binary. */
  readonly format: number;
}

/** ErrorResponse/NoticeResponse fields by their protocol letters. */
export interface ErrorFields {
  readonly severity: 'ERROR' | 'FATAL' | 'WARNING' | 'NOTICE';
  readonly code: string;
  readonly message: string;
  readonly detail?: string;
  readonly hint?: string;
  /** 1-based character position in the query text. */
  readonly position?: number;
}

/**
 * Builds backend messages into one growing buffer that the connection writes out at natural
 * boundaries (a chunk of rows, ReadyForQuery): one socket write per batch, not per message.
 * Every message is begun with `begin` and closed with `end`, which patches in its length.
 */
export class BackendWriter {
  private buf = Buffer.allocUnsafe(64 * 1024);
  private pos = 0;
  private start = -1;

  get size(): number {
    return this.pos;
  }

  /** Hands out the bytes written so far and starts over. */
  take(): Buffer {
    const out = Buffer.from(this.buf.subarray(0, this.pos));
    this.pos = 0;
    if (this.buf.length > 1024 * 1024) this.buf = Buffer.allocUnsafe(64 * 1024);
    return out;
  }

  begin(type: string): void {
    this.ensure(5);
    this.buf[this.pos] = type.charCodeAt(0);
    this.start = this.pos + 1;
    this.pos += 5;
  }

  end(): void {
    this.buf.writeInt32BE(this.pos - this.start, this.start);
  }

  int16(v: number): void {
    this.ensure(2);
    this.buf.writeInt16BE(v, this.pos);
    this.pos += 2;
  }

  int32(v: number): void {
    this.ensure(4);
    this.buf.writeInt32BE(v, this.pos);
    this.pos += 4;
  }

  byte(v: number): void {
    this.ensure(1);
    this.buf[this.pos++] = v;
  }

  cstring(s: string): void {
    this.ensure(Buffer.byteLength(s) + 1);
    this.pos += this.buf.write(s, this.pos);
    this.buf[this.pos++] = 0;
  }

  /** A length-prefixed value (DataRow cell, Bind-style), or -1 for NULL. */
  cell(s: string | null): void {
    if (s === null) return this.int32(-1);
    // Reserve the most the UTF-8 form can take, write, then patch in the real length.
    this.ensure(4 + s.length * 3);
    const n = this.buf.write(s, this.pos + 4);
    this.buf.writeInt32BE(n, this.pos);
    this.pos += 4 + n;
  }

  /** A length-prefixed binary value: the caller writes exactly `n` bytes after this. */
  cellHeader(n: number): void {
    this.int32(n);
    this.ensure(n);
  }

  bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  int64(v: bigint): void {
    this.ensure(8);
    this.buf.writeBigInt64BE(v, this.pos);
    this.pos += 8;
  }

  float32(v: number): void {
    this.ensure(4);
    this.buf.writeFloatBE(v, this.pos);
    this.pos += 4;
  }

  float64(v: number): void {
    this.ensure(8);
    this.buf.writeDoubleBE(v, this.pos);
    this.pos += 8;
  }

  // --- whole messages -------------------------------------------------------------------

  authenticationOk(): void {
    this.begin('R');
    this.int32(0);
    this.end();
  }

  parameterStatus(name: string, value: string): void {
    this.begin('S');
    this.cstring(name);
    this.cstring(value);
    this.end();
  }

  backendKeyData(pid: number, secret: number): void {
    this.begin('K');
    this.int32(pid);
    this.int32(secret);
    this.end();
  }

  /** 'I' idle, 'T' in a transaction block, 'E' in a failed transaction block. */
  readyForQuery(status: 'I' | 'T' | 'E'): void {
    this.begin('Z');
    this.byte(status.charCodeAt(0));
    this.end();
  }

  rowDescription(fields: readonly FieldDescription[]): void {
    this.begin('T');
    this.int16(fields.length);
    for (const f of fields) {
      this.cstring(f.name);
      this.int32(f.tableOid);
      this.int16(f.columnNumber);
      this.int32(f.typeOid);
      this.int16(f.typeSize);
      this.int32(f.typeModifier);
      this.int16(f.format);
    }
    this.end();
  }

  parameterDescription(oids: readonly number[]): void {
    this.begin('t');
    this.int16(oids.length);
    for (const o of oids) this.int32(o);
    this.end();
  }

  commandComplete(tag: string): void {
    this.begin('C');
    this.cstring(tag);
    this.end();
  }

  error(e: ErrorFields, type: 'E' | 'N' = 'E'): void {
    this.begin(type);
    this.field('S', e.severity);
    this.field('V', e.severity);
    this.field('C', e.code);
    this.field('M', e.message);
    if (e.detail) this.field('D', e.detail);
    if (e.hint) this.field('H', e.hint);
    if (e.position) this.field('P', String(e.position));
    this.byte(0);
    this.end();
  }

  /** Messages with no body: ParseComplete '1', BindComplete '2', CloseComplete '3', NoData 'n', PortalSuspended 's', EmptyQueryResponse 'I'. */
  empty(type: '1' | '2' | '3' | 'n' | 's' | 'I'): void {
    this.begin(type);
    this.end();
  }

  private field(code: string, value: string): void {
    this.byte(code.charCodeAt(0));
    this.cstring(value);
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }
}
