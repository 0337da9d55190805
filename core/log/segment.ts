import { open, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { SluiceError, messageOf } from '../errors.js';

/** [u32 BE payload length][u32 BE crc32 of payload] before every payload. */
export const HEADER_BYTES = 8;
const MAX_PAYLOAD = 0xffffffff;
const SCAN_CHUNK = 1 << 20;
const NAME_PATTERN = /^(\d{20})\.log$/;

export interface TornTailInfo {
  readonly file: string;
  readonly position: number;
  readonly droppedBytes: number;
  readonly reason: string;
}

export interface SegmentOpenOptions {
  /** Only the newest segment may have a torn tail; anywhere else it is corruption. */
  readonly repairTail: boolean;
  readonly onTornTail?: (info: TornTailInfo) => void;
}

function ioError(what: string, file: string, e: unknown): SluiceError {
  return new SluiceError('SLUICE_LOG_IO', `${what} ${file}: ${messageOf(e)}`, { cause: e });
}

/**
 * One append-only file of framed records, named by the offset of its first record. Keeps the
 * file position of every record in a typed array so a read is one positional read, without
 * an object per record on the heap.
 */
export class Segment {
  readonly baseOffset: number;
  readonly path: string;
  #handle: FileHandle;
  #positions: Float64Array;
  #count: number;
  #size: number;
  // Reads in flight keep the handle open so retention or close cannot pull it out from under them.
  #pendingReads = 0;
  #closeRequested = false;
  #closed: Promise<void> | null = null;
  #releaseClosed: (() => void) | null = null;

  private constructor(baseOffset: number, path: string, handle: FileHandle, positions: Float64Array, count: number, size: number) {
    this.baseOffset = baseOffset;
    this.path = path;
    this.#handle = handle;
    this.#positions = positions;
    this.#count = count;
    this.#size = size;
  }

  static fileName(baseOffset: number): string {
    return `${String(baseOffset).padStart(20, '0')}.log`;
  }

  /** Base offset encoded in a segment file name, or null for files that are not segments. */
  static parseFileName(name: string): number | null {
    const m = NAME_PATTERN.exec(name);
    if (!m) return null;
    const base = Number(m[1]);
    return Number.isSafeInteger(base) ? base : null;
  }

  /** Frames payloads into one buffer so an append is a single write. */
  static encode(payloads: readonly Buffer[]): Buffer {
    let total = 0;
    for (const p of payloads) {
      // An all-zero header is a valid frame for an empty payload (crc32 of nothing is 0), so
      // a zero-filled tail after a power loss would parse as records; empty payloads are banned.
      if (p.length === 0) throw new SluiceError('SLUICE_LOG_RECORD_INVALID', 'log payloads must not be empty');
      if (p.length > MAX_PAYLOAD) throw new SluiceError('SLUICE_LOG_RECORD_INVALID', `log payload of ${p.length} bytes exceeds the u32 frame limit`);
      total += HEADER_BYTES + p.length;
    }
    const frame = Buffer.allocUnsafe(total);
    let pos = 0;
    for (const p of payloads) {
      frame.writeUInt32BE(p.length, pos);
      frame.writeUInt32BE(crc32(p), pos + 4);
      p.copy(frame, pos + HEADER_BYTES);
      pos += HEADER_BYTES + p.length;
    }
    return frame;
  }

  static async create(dir: string, baseOffset: number): Promise<Segment> {
    const path = join(dir, Segment.fileName(baseOffset));
    let handle: FileHandle;
    try {
      // 'wx' because an existing file with this name would hold records we must not clobber.
      handle = await open(path, 'wx+');
    } catch (e) {
      throw ioError('cannot create log segment', path, e);
    }
    return new Segment(baseOffset, path, handle, new Float64Array(1024), 0, 0);
  }

  static async open(dir: string, baseOffset: number, options: SegmentOpenOptions): Promise<Segment> {
    const path = join(dir, Segment.fileName(baseOffset));
    let handle: FileHandle;
    try {
      handle = await open(path, options.repairTail ? 'r+' : 'r');
    } catch (e) {
      throw ioError('cannot open log segment', path, e);
    }
    try {
      const size = (await handle.stat()).size;
      const seg = new Segment(baseOffset, path, handle, new Float64Array(1024), 0, size);
      const torn = await seg.#scan();
      if (torn) {
        const detail = `${torn.reason} at byte ${torn.position} of ${path}`;
        if (!options.repairTail) throw new SluiceError('SLUICE_LOG_CORRUPT', `log segment corrupt: ${detail}`);
        options.onTornTail?.({ file: path, position: torn.position, droppedBytes: size - torn.position, reason: torn.reason });
        await handle.truncate(torn.position);
        // Made durable now so a second crash cannot bring the torn bytes back under new records.
        await handle.datasync();
        seg.#size = torn.position;
      }
      return seg;
    } catch (e) {
      await handle.close().catch(() => undefined);
      if (e instanceof SluiceError) throw e;
      throw ioError('cannot scan log segment', path, e);
    }
  }

  get count(): number {
    return this.#count;
  }

  get endOffset(): number {
    return this.baseOffset + this.#count;
  }

  get sizeBytes(): number {
    return this.#size;
  }

  async mtimeMs(): Promise<number> {
    try {
      return (await this.#handle.stat()).mtimeMs;
    } catch (e) {
      throw ioError('cannot stat log segment', this.path, e);
    }
  }

  /** Writes an already encoded frame (see encode) at the end of the file. */
  async append(frame: Buffer): Promise<void> {
    const start = this.#size;
    try {
      let done = 0;
      while (done < frame.length) {
        const { bytesWritten } = await this.#handle.write(frame, done, frame.length - done, start + done);
        done += bytesWritten;
      }
    } catch (e) {
      // A partial write left bytes that could later parse as records; cut them off so the file
      // ends where the index does. If even that fails the caller must stop appending.
      try {
        await this.#handle.truncate(start);
      } catch (e2) {
        // The cause stays the write's error (say ENOSPC): that is what the caller has to report.
        throw new SluiceError('SLUICE_LOG_IO', `append to ${this.path} failed (${messageOf(e)}) and could not be undone: ${messageOf(e2)}`, { cause: e });
      }
      throw ioError('cannot append to log segment', this.path, e);
    }
    for (let pos = 0; pos < frame.length; pos += HEADER_BYTES + frame.readUInt32BE(pos)) this.#push(start + pos);
    this.#size = start + frame.length;
  }

  /**
   * Cuts the file back to the end of record `index - 1` (relative to baseOffset) and makes that
   * durable: whatever a failed append or fsync may have left after it is gone, even if the file
   * held more than the index knew.
   */
  async truncateTo(index: number): Promise<void> {
    if (!(index >= 0 && index <= this.#count)) throw new SluiceError('SLUICE_INTERNAL', `cannot cut ${this.path} back to record ${index} of ${this.#count}`);
    const size = index < this.#count ? this.#positions[index] : this.#size;
    try {
      await this.#handle.truncate(size);
      await this.#handle.datasync();
    } catch (e) {
      throw ioError('cannot cut back log segment', this.path, e);
    }
    this.#count = index;
    this.#size = size;
  }

  async sync(): Promise<void> {
    try {
      await this.#handle.datasync();
    } catch (e) {
      throw ioError('cannot fsync log segment', this.path, e);
    }
  }

  /**
   * Payloads of records index, index+1, ... (indexes relative to baseOffset): at most maxCount,
   * stopping before the payload total would pass maxBytes, except that with atLeastOne the
   * first record comes back whatever its size (so one huge record cannot stall a reader).
   * Must be entered synchronously after the caller chose this segment (see #pendingReads).
   */
  async read(index: number, maxCount: number, maxBytes: number, atLeastOne: boolean): Promise<Buffer[]> {
    if (this.#closeRequested) throw new SluiceError('SLUICE_LOG_CLOSED', `log segment ${this.path} is closed`);
    const last = Math.min(this.#count, index + maxCount);
    if (index >= last) return [];
    let end = index + 1;
    let bytes = this.#recordEnd(index) - this.#positions[index] - HEADER_BYTES;
    if (!atLeastOne && bytes > maxBytes) return [];
    while (end < last) {
      const len = this.#recordEnd(end) - this.#positions[end] - HEADER_BYTES;
      if (bytes + len > maxBytes) break;
      bytes += len;
      end++;
    }
    const from = this.#positions[index];
    const to = this.#recordEnd(end - 1);
    this.#pendingReads++;
    let buf: Buffer;
    try {
      buf = await this.#readExactly(from, to - from);
    } finally {
      this.#pendingReads--;
      if (this.#closeRequested && this.#pendingReads === 0) void this.#closeHandle();
    }
    const out = new Array<Buffer>(end - index);
    for (let i = index; i < end; i++) {
      const at = this.#positions[i] - from;
      const len = this.#recordEnd(i) - this.#positions[i] - HEADER_BYTES;
      const payload = buf.subarray(at + HEADER_BYTES, at + HEADER_BYTES + len);
      // Re-checked on read because the bytes may have rotted on disk since the open-time scan.
      if (buf.readUInt32BE(at) !== len || buf.readUInt32BE(at + 4) !== crc32(payload)) {
        throw new SluiceError('SLUICE_LOG_CORRUPT', `log segment corrupt: record at byte ${this.#positions[i]} of ${this.path} fails its check on read`);
      }
      out[i - index] = payload;
    }
    return out;
  }

  /** Closes the handle once reads in flight finish. */
  close(): Promise<void> {
    if (!this.#closed) {
      this.#closeRequested = true;
      this.#closed = new Promise((resolve) => (this.#releaseClosed = resolve));
      if (this.#pendingReads === 0) void this.#closeHandle();
    }
    return this.#closed;
  }

  /** Unlinks the file; on POSIX, reads in flight keep working on the open handle. */
  async remove(): Promise<void> {
    try {
      await unlink(this.path);
    } catch (e) {
      throw ioError('cannot delete log segment', this.path, e);
    } finally {
      await this.close();
    }
  }

  async #closeHandle(): Promise<void> {
    // Closing can only fail on a bad descriptor; there is nothing left to save at that point.
    await this.#handle.close().catch(() => undefined);
    this.#releaseClosed?.();
  }

  #recordEnd(i: number): number {
    return i + 1 < this.#count ? this.#positions[i + 1] : this.#size;
  }

  #push(position: number): void {
    if (this.#count === this.#positions.length) {
      const grown = new Float64Array(this.#positions.length * 2);
      grown.set(this.#positions);
      this.#positions = grown;
    }
    this.#positions[this.#count++] = position;
  }

  async #readExactly(position: number, length: number, into?: Buffer): Promise<Buffer> {
    // allocUnsafeSlow: payloads are handed out as views, and a pooled buffer would expose
    // unrelated memory through payload.buffer.
    const buf = into ?? Buffer.allocUnsafeSlow(length);
    let done = 0;
    while (done < length) {
      const { bytesRead } = await this.#handle.read(buf, done, length - done, position + done);
      if (bytesRead === 0) throw new SluiceError('SLUICE_LOG_CORRUPT', `log segment ${this.path} ends before byte ${position + length}`);
      done += bytesRead;
    }
    return buf;
  }

  /** Indexes every intact record; returns where and why the first bad one starts, if any. */
  async #scan(): Promise<{ position: number; reason: string } | null> {
    const size = this.#size;
    let buf = Buffer.allocUnsafeSlow(Math.min(SCAN_CHUNK, Math.max(size, HEADER_BYTES)));
    let bufStart = 0;
    let bufLen = 0;
    // Reads big chunks and parses records out of them; refills only when a record crosses the edge.
    const ensure = async (start: number, end: number): Promise<void> => {
      if (start >= bufStart && end <= bufStart + bufLen) return;
      if (buf.length < end - start) buf = Buffer.allocUnsafeSlow(end - start);
      bufStart = start;
      bufLen = Math.min(buf.length, size - start);
      await this.#readExactly(start, bufLen, buf);
    };
    let pos = 0;
    while (pos < size) {
      if (size - pos < HEADER_BYTES) return { position: pos, reason: 'short header' };
      await ensure(pos, pos + HEADER_BYTES);
      const len = buf.readUInt32BE(pos - bufStart);
      const crc = buf.readUInt32BE(pos - bufStart + 4);
      if (len === 0) return { position: pos, reason: 'zero-length record' };
      if (size - pos - HEADER_BYTES < len) return { position: pos, reason: 'short payload' };
      await ensure(pos, pos + HEADER_BYTES + len);
      const at = pos - bufStart + HEADER_BYTES;
      if (crc32(buf.subarray(at, at + len)) !== crc) return { position: pos, reason: 'crc mismatch' };
      this.#push(pos);
      pos += HEADER_BYTES + len;
    }
    return null;
  }
}
