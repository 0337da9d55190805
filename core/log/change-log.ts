import type { SluiceError } from '../errors.js';

/**
 * The durable, replayable log every change passes through. Offsets are dense record numbers
 * (like Kafka's), starting at 0 for a fresh log. The embedded implementation keeps segment
 * files on local disk; a Kafka implementation fills the same interface.
 */
export interface LogRecord {
  readonly offset: number;
  readonly payload: Buffer;
}

export type FsyncPolicy = 'always' | 'interval' | 'never';

export interface ChangeLog {
  /**
   * Why the last append failed, until an append succeeds again; null while appends work. Lets a
   * status page show a full disk for as long as it lasts, not only while a writer is retrying.
   */
  readonly writeError?: SluiceError | null;

  /** Offset of the oldest record still retained. */
  readonly startOffset: number;
  /** Offset the next appended record will get (one past the last record). */
  readonly endOffset: number;

  /**
   * Appends records in order and resolves with the offset of the first one once they are
   * durable under the fsync policy ('always': fsynced before resolving).
   */
  append(payloads: readonly Buffer[]): Promise<number>;

  /** Records from `fromOffset` on, at most about `maxBytes` of payload (at least one record). */
  read(fromOffset: number, maxBytes?: number): Promise<LogRecord[]>;

  /** Resolves once a record at `offset` exists, or when the signal aborts. */
  waitFor(offset: number, signal?: AbortSignal): Promise<void>;

  /**
   * Drops whole segments that fall outside the retention settings, never one holding an offset
   * at or after `keepFrom` (what a consumer has yet to read); returns records dropped.
   */
  enforceRetention(keepFrom?: number): Promise<number>;

  /** Bytes on disk, for metrics. */
  sizeBytes(): number;

  close(): Promise<void>;
}
