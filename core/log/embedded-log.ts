import { mkdir, open, readdir, type FileHandle } from 'node:fs/promises';
import { diskFullError, isNoSpace } from '../disk-space.js';
import { SluiceError, messageOf } from '../errors.js';
import type { ChangeLog, FsyncPolicy, LogRecord } from './change-log.js';
import { Segment } from './segment.js';

const DEFAULT_SEGMENT_BYTES = 64 * 1024 * 1024;
const DEFAULT_FSYNC_INTERVAL_MS = 200;
const DEFAULT_READ_BYTES = 4 * 1024 * 1024;

export interface EmbeddedLogOptions {
  readonly dir: string;
  /** A segment rolls once the next append would take it past this size. */
  readonly segmentBytes?: number;
  readonly fsync?: FsyncPolicy;
  readonly fsyncIntervalMs?: number;
  /** null/undefined keeps everything. */
  readonly retentionBytes?: number | null;
  readonly retentionMs?: number | null;
  /** pino-compatible; used for recoverable oddities such as a torn tail found on open. */
  readonly logger?: { warn(obj: object, msg: string): void; info?(obj: object, msg: string): void };
}

interface Waiter {
  readonly offset: number;
  settle(error?: Error): void;
}

function closedError(): SluiceError {
  return new SluiceError('SLUICE_LOG_CLOSED', 'log is closed');
}

function invalid(message: string): SluiceError {
  return new SluiceError('SLUICE_CONFIG_INVALID', `embedded log: ${message}`);
}

function checkOptions(o: EmbeddedLogOptions): void {
  if (typeof o.dir !== 'string' || o.dir === '') throw invalid('dir must be a non-empty path');
  if (o.segmentBytes !== undefined && !(Number.isSafeInteger(o.segmentBytes) && o.segmentBytes > 0)) throw invalid('segmentBytes must be a positive integer');
  if (o.fsync !== undefined && !['always', 'interval', 'never'].includes(o.fsync)) throw invalid(`unknown fsync policy ${String(o.fsync)}`);
  if (o.fsyncIntervalMs !== undefined && !(Number.isFinite(o.fsyncIntervalMs) && o.fsyncIntervalMs > 0)) throw invalid('fsyncIntervalMs must be positive');
  if (o.retentionBytes != null && !(Number.isFinite(o.retentionBytes) && o.retentionBytes >= 0)) throw invalid('retentionBytes must be >= 0 or null');
  if (o.retentionMs != null && !(Number.isFinite(o.retentionMs) && o.retentionMs >= 0)) throw invalid('retentionMs must be >= 0 or null');
}

/** Makes creating or deleting a segment file durable, not just its contents. */
async function syncDir(dir: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch {
    // Some filesystems (and platforms) refuse fsync on a directory; the data files are still synced.
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

/**
 * The ChangeLog kept in segment files on local disk. Writers are serialised through one promise
 * chain so offsets are handed out in file order; readers go straight to the segments.
 */
export class EmbeddedLog implements ChangeLog {
  readonly #dir: string;
  readonly #segmentBytes: number;
  readonly #policy: FsyncPolicy;
  readonly #retentionBytes: number | null;
  readonly #retentionMs: number | null;
  readonly #logger: EmbeddedLogOptions['logger'];
  readonly #segments: Segment[];
  // Only advanced once records are durable under the policy, so readers never see records a
  // crash could take back and later hand out again under the same offsets.
  #end: number;
  #queue: Promise<unknown> = Promise.resolve();
  readonly #waiters = new Set<Waiter>();
  #timer: NodeJS.Timeout | null = null;
  #dirty = false;
  #intervalSync: Promise<void> | null = null;
  // After a failed write or fsync the file contents are unknown (fsync errors are not sticky),
  // so nothing is appended until the tail is cut back to the last record readers were given.
  #failed: SluiceError | null = null;
  // False once an interval fsync failed: records readers already have may not be on disk, and
  // cutting the file back cannot make that true again; only a reopen (a rescan) can.
  #repairable = true;
  #closing: Promise<void> | null = null;

  private constructor(options: EmbeddedLogOptions, segments: Segment[]) {
    this.#dir = options.dir;
    this.#segmentBytes = options.segmentBytes ?? DEFAULT_SEGMENT_BYTES;
    this.#policy = options.fsync ?? 'always';
    this.#retentionBytes = options.retentionBytes ?? null;
    this.#retentionMs = options.retentionMs ?? null;
    this.#logger = options.logger;
    this.#segments = segments;
    this.#end = this.#active.endOffset;
    if (this.#policy === 'interval') {
      this.#timer = setInterval(() => this.#syncTick(), options.fsyncIntervalMs ?? DEFAULT_FSYNC_INTERVAL_MS);
      this.#timer.unref();
    }
  }

  static async open(options: EmbeddedLogOptions): Promise<EmbeddedLog> {
    checkOptions(options);
    const { dir, logger } = options;
    let bases: number[];
    try {
      await mkdir(dir, { recursive: true });
      bases = (await readdir(dir)).map(Segment.parseFileName).filter((b): b is number => b !== null);
    } catch (e) {
      if (isNoSpace(e)) throw diskFullError(dir, 'opening the log', e);
      throw new SluiceError('SLUICE_LOG_IO', `cannot open log directory ${dir}: ${messageOf(e)}`, { cause: e });
    }
    bases.sort((a, b) => a - b);
    const segments: Segment[] = [];
    try {
      for (let i = 0; i < bases.length; i++) {
        const seg = await Segment.open(dir, bases[i], {
          repairTail: i === bases.length - 1,
          onTornTail: (info) => logger?.warn({ ...info }, 'log segment has a torn tail (crash during append); truncated it'),
        });
        segments.push(seg);
        const prev = segments[i - 1];
        if (prev && prev.endOffset !== seg.baseOffset) {
          throw new SluiceError('SLUICE_LOG_CORRUPT', `log segment ${seg.path} starts at offset ${seg.baseOffset} but ${prev.path} ends at ${prev.endOffset}`);
        }
      }
      if (segments.length === 0) {
        segments.push(await Segment.create(dir, 0));
        await syncDir(dir);
      }
    } catch (e) {
      await Promise.all(segments.map((s) => s.close()));
      if (isNoSpace(e)) throw diskFullError(dir, 'opening the log', e);
      throw e;
    }
    return new EmbeddedLog(options, segments);
  }

  get startOffset(): number {
    return this.#segments[0].baseOffset;
  }

  get endOffset(): number {
    return this.#end;
  }

  /** Why the last append failed (SLUICE_DISK_FULL when the disk is full); null once one succeeds. */
  get writeError(): SluiceError | null {
    return this.#failed;
  }

  get #active(): Segment {
    return this.#segments[this.#segments.length - 1];
  }

  append(payloads: readonly Buffer[]): Promise<number> {
    if (this.#closing) return Promise.reject(closedError());
    let frame: Buffer;
    try {
      // Encoded now, not when the queue gets to it, so callers may reuse their buffers at once.
      frame = Segment.encode(payloads);
    } catch (e) {
      return Promise.reject(e);
    }
    return this.#enqueue(() => this.#write(frame, payloads.length));
  }

  async read(fromOffset: number, maxBytes: number = DEFAULT_READ_BYTES): Promise<LogRecord[]> {
    if (this.#closing) throw closedError();
    const end = this.#end;
    if (!Number.isSafeInteger(fromOffset) || fromOffset < this.startOffset || fromOffset > end) {
      throw new SluiceError('SLUICE_LOG_OFFSET_OUT_OF_RANGE', `offset ${fromOffset} is outside the log [${this.startOffset}, ${end}]`);
    }
    const records: LogRecord[] = [];
    let bytes = 0;
    let offset = fromOffset;
    while (offset < end && (records.length === 0 || bytes < maxBytes)) {
      // Retention may have dropped the next segment while we awaited the previous one.
      if (offset < this.startOffset) break;
      const seg = this.#segmentFor(offset);
      const payloads = await seg.read(offset - seg.baseOffset, end - offset, maxBytes - bytes, records.length === 0);
      if (payloads.length === 0) break;
      for (const payload of payloads) {
        records.push({ offset: offset++, payload });
        bytes += payload.length;
      }
    }
    return records;
  }

  /**
   * Resolves once `offset` < endOffset. An abort resolves (not rejects) so a consumer loop can
   * simply re-check its own stop flag; closing the log rejects with SLUICE_LOG_CLOSED.
   */
  waitFor(offset: number, signal?: AbortSignal): Promise<void> {
    if (this.#closing) return Promise.reject(closedError());
    if (offset < this.#end || signal?.aborted) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => waiter.settle();
      const waiter: Waiter = {
        offset,
        settle: (error) => {
          this.#waiters.delete(waiter);
          signal?.removeEventListener('abort', onAbort);
          if (error) reject(error);
          else resolve();
        },
      };
      this.#waiters.add(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  enforceRetention(keepFrom = Number.MAX_SAFE_INTEGER): Promise<number> {
    if (this.#closing) return Promise.reject(closedError());
    // Queued behind appends so the active segment cannot change underneath.
    return this.#enqueue(() => this.#retain(keepFrom));
  }

  sizeBytes(): number {
    if (this.#closing) throw closedError();
    let total = 0;
    for (const seg of this.#segments) total += seg.sizeBytes;
    return total;
  }

  /** Waits for queued appends, fsyncs whatever the policy, closes files; idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  async #shutdown(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    await this.#queue;
    for (const waiter of this.#waiters) waiter.settle(closedError());
    await this.#intervalSync;
    try {
      if (!this.#failed) await this.#active.sync();
    } finally {
      await Promise.all(this.#segments.map((s) => s.close()));
    }
  }

  #enqueue<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(task);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #write(frame: Buffer, count: number): Promise<number> {
    if (this.#failed) await this.#repair();
    const first = this.#end;
    if (count === 0) return first;
    try {
      let seg = this.#active;
      if (seg.sizeBytes > 0 && seg.sizeBytes + frame.length > this.#segmentBytes) seg = await this.#roll();
      await seg.append(frame);
      this.#dirty = true;
      if (this.#policy === 'always') await seg.sync();
    } catch (e) {
      this.#failed = this.#failure(e, 'appending to the log');
      throw this.#failed;
    }
    this.#end = first + count;
    for (const waiter of this.#waiters) if (waiter.offset < this.#end) waiter.settle();
    return first;
  }

  /**
   * Runs before the first append after a failed one: cuts the active segment back to the last
   * record readers were given, so no byte of the failed append (a partial record after ENOSPC,
   * or whole records whose fsync failed) can be read back or end up under new records.
   */
  async #repair(): Promise<void> {
    if (!this.#repairable) throw this.#failed!;
    const seg = this.#active;
    try {
      await seg.truncateTo(this.#end - seg.baseOffset);
    } catch (e) {
      this.#failed = this.#failure(e, 'cutting back a failed append');
      throw this.#failed;
    }
    this.#logger?.info?.({ dir: this.#dir, cause: this.#failed?.message }, 'log accepts appends again after a failed write');
    this.#failed = null;
  }

  #failure(e: unknown, what: string): SluiceError {
    if (isNoSpace(e)) return diskFullError(this.#active.path, what, e);
    return new SluiceError('SLUICE_LOG_IO', `${what} failed: ${messageOf(e)}`, { cause: e });
  }

  async #roll(): Promise<Segment> {
    const old = this.#active;
    // The interval timer only syncs the active segment, so the outgoing one is synced here.
    if (this.#policy !== 'never') await old.sync();
    const seg = await Segment.create(this.#dir, old.endOffset);
    this.#segments.push(seg);
    if (this.#policy !== 'never') await syncDir(this.#dir);
    return seg;
  }

  #syncTick(): void {
    if (!this.#dirty || this.#intervalSync || this.#failed) return;
    this.#dirty = false;
    this.#intervalSync = this.#active
      .sync()
      .catch((e: unknown) => {
        this.#failed = new SluiceError('SLUICE_LOG_IO', `log fsync failed, reopen the log to recover: ${messageOf(e)}`, { cause: e });
        this.#repairable = false;
        this.#logger?.warn({ err: e, dir: this.#dir }, 'interval fsync of log segment failed; log no longer accepts appends');
      })
      .finally(() => {
        this.#intervalSync = null;
      });
  }

  async #retain(keepFrom: number): Promise<number> {
    if (this.#retentionBytes === null && this.#retentionMs === null) return 0;
    // An interval fsync may still be running on the segment we are about to delete.
    await this.#intervalSync;
    const now = Date.now();
    let total = 0;
    for (const seg of this.#segments) total += seg.sizeBytes;
    let dropped = 0;
    while (this.#segments.length > 1) {
      const seg = this.#segments[0];
      // A consumer still needs records of this segment: retention waits for it.
      if (seg.baseOffset + seg.count > keepFrom) break;
      const oversize = this.#retentionBytes !== null && total > this.#retentionBytes;
      const expired = !oversize && this.#retentionMs !== null && now - (await seg.mtimeMs()) > this.#retentionMs;
      if (!oversize && !expired) break;
      // Out of the list before the unlink so startOffset moves first and new reads stay away.
      this.#segments.shift();
      total -= seg.sizeBytes;
      dropped += seg.count;
      await seg.remove();
    }
    if (dropped > 0 && this.#policy !== 'never') await syncDir(this.#dir);
    return dropped;
  }

  /** The segment holding `offset`; the caller has checked startOffset <= offset < endOffset. */
  #segmentFor(offset: number): Segment {
    let lo = 0;
    let hi = this.#segments.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (this.#segments[mid].baseOffset <= offset) lo = mid;
      else hi = mid - 1;
    }
    return this.#segments[lo];
  }
}
