/**
 * Packs change events into a CSV byte buffer without creating an object per row or per value:
 * source bytes are copied straight in, with quotes doubled. Every non-null value is quoted, so
 * an unquoted empty field means NULL and `""` means the empty string (DuckDB reads it that way
 * with `allow_quoted_nulls=false`).
 */
const QUOTE = 0x22;
const COMMA = 0x2c;
const NEWLINE = 0x0a;

export class CsvBatchWriter {
  private buf: Buffer;
  private len = 0;
  private fieldsInRow = 0;
  rows = 0;

  constructor(initialBytes = 64 * 1024) {
    this.buf = Buffer.allocUnsafe(initialBytes);
  }

  get byteLength(): number {
    return this.len;
  }

  private ensure(extra: number): void {
    if (this.len + extra <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + extra) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }

  private separator(): void {
    if (this.fieldsInRow++ > 0) this.buf[this.len++] = COMMA;
  }

  /** Starts a row; the op letter is its first field. */
  beginRow(op: string): void {
    this.ensure(2);
    this.fieldsInRow = 1;
    this.buf[this.len++] = op.charCodeAt(0);
  }

  nullField(): void {
    this.ensure(1);
    this.separator();
  }

  /** A value given as bytes (`src[start, end)`), e.g. straight out of a pgoutput message. */
  bytesField(src: Buffer, start: number, end: number): void {
    this.ensure(3 + 2 * (end - start));
    this.separator();
    const buf = this.buf;
    buf[this.len++] = QUOTE;
    let from = start;
    for (let q = src.indexOf(QUOTE, from); q !== -1 && q < end; q = src.indexOf(QUOTE, from)) {
      this.len += src.copy(buf, this.len, from, q + 1);
      buf[this.len++] = QUOTE;
      from = q + 1;
    }
    this.len += src.copy(buf, this.len, from, end);
    buf[this.len++] = QUOTE;
  }

  /** A value given as a string: encoded straight into the batch, no Buffer per value. */
  textField(value: string): void {
    const quoted = value.includes('"') ? value.replace(/"/g, '""') : value;
    this.ensure(3 + 3 * quoted.length);
    this.separator();
    this.buf[this.len++] = QUOTE;
    this.len += this.buf.write(quoted, this.len, 'utf8');
    this.buf[this.len++] = QUOTE;
  }

  endRow(): void {
    this.ensure(1);
    this.buf[this.len++] = NEWLINE;
    this.rows++;
  }

  /** Copies out what was written and starts over. */
  take(): Buffer {
    const out = Buffer.from(this.buf.subarray(0, this.len));
    this.reset();
    return out;
  }

  reset(): void {
    this.len = 0;
    this.rows = 0;
    this.fieldsInRow = 0;
  }
}
