import { randomUUID } from 'node:crypto';
import type { Consumer, Kafka } from 'kafkajs';
import type { Logger } from '../../logger.js';
import type { LogRecord } from '../change-log.js';

/** Fetched but unread bytes above which the reader stops fetching until the pipeline catches up. */
const MAX_BUFFERED_BYTES = 64 * 1024 * 1024;

/**
 * Random access by offset over the log topic's one partition, on a kafkajs consumer (kafkajs has
 * no plain fetch API): the consumer streams from a position into a buffer, and a read outside
 * what the buffer covers seeks. Only committed transactions are read (`readUncommitted: false`),
 * so a record half-written by a writer that died never reaches the store. The consumer's group
 * is private and commits nothing: where to read from is the store's checkpoint, never Kafka's.
 */
export class LogTopicReader {
  private buffer: LogRecord[] = [];
  private bufferedBytes = 0;
  /** The buffer holds every committed record in [coveredFrom, position). */
  private coveredFrom = 0;
  /** The offset the consumer will deliver next. */
  private position = 0;
  private highestSeen = -1;
  private paused = false;
  private waiters: (() => void)[] = [];

  private constructor(private readonly consumer: Consumer, private readonly topic: string, private readonly logger: Logger) {}

  static async open(kafka: Kafka, topic: string, from: number, logger: Logger): Promise<LogTopicReader> {
    const consumer = kafka.consumer({ groupId: `sluice-log-reader-${randomUUID()}`, readUncommitted: false, allowAutoTopicCreation: false });
    const reader = new LogTopicReader(consumer, topic, logger);
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages) {
          const offset = Number(m.offset);
          if (offset < reader.position || !m.value) continue;
          reader.buffer.push({ offset, payload: m.value });
          reader.bufferedBytes += m.value.length;
          reader.highestSeen = Math.max(reader.highestSeen, offset);
        }
        reader.position = Math.max(reader.position, Number(batch.lastOffset()) + 1);
        if (reader.bufferedBytes > MAX_BUFFERED_BYTES && !reader.paused) {
          reader.paused = true;
          consumer.pause([{ topic }]);
        }
        reader.wake();
      },
    });
    reader.seek(from);
    return reader;
  }

  /** The highest record offset delivered so far, -1 before any. */
  get lastSeenOffset(): number {
    return this.highestSeen;
  }

  /** Records from `from` on, at most about `maxBytes` (at least one); waits for the first. */
  async read(from: number, maxBytes: number, signal?: AbortSignal): Promise<LogRecord[]> {
    if (from < this.coveredFrom || from > this.position) this.seek(from);
    this.dropBefore(from);
    while (this.buffer.length === 0) {
      if (signal?.aborted) return [];
      await this.nextDelivery(signal);
      this.dropBefore(from);
    }
    const out: LogRecord[] = [];
    let bytes = 0;
    for (const r of this.buffer) {
      if (out.length > 0 && bytes + r.payload.length > maxBytes) break;
      out.push(r);
      bytes += r.payload.length;
    }
    return out;
  }

  /**
   * Every committed record in [from, to): the consumer is read until its position passes `to`,
   * commit markers included, so a range that ends in markers does not wait for more records.
   */
  async range(from: number, to: number, signal: AbortSignal): Promise<LogRecord[]> {
    this.seek(from);
    while (this.position < to && !signal.aborted) await this.nextDelivery(signal);
    return this.buffer.filter((r) => r.offset < to);
  }

  /** Resolves once a record at or past `offset` has been delivered, or the signal aborts. */
  async waitFor(offset: number, signal?: AbortSignal): Promise<void> {
    while (this.highestSeen < offset && !signal?.aborted) await this.nextDelivery(signal);
  }

  async close(): Promise<void> {
    this.wake();
    await this.consumer.disconnect().catch((e) => this.logger.warn({ err: e, topic: this.topic }, 'closing the log reader failed'));
  }

  private seek(offset: number): void {
    this.buffer = [];
    this.bufferedBytes = 0;
    this.coveredFrom = offset;
    this.position = offset;
    this.consumer.seek({ topic: this.topic, partition: 0, offset: String(offset) });
    this.resumeIfDrained();
  }

  private dropBefore(offset: number): void {
    let n = 0;
    while (n < this.buffer.length && this.buffer[n].offset < offset) this.bufferedBytes -= this.buffer[n++].payload.length;
    if (n > 0) this.buffer = this.buffer.slice(n);
    this.coveredFrom = Math.max(this.coveredFrom, offset);
    this.resumeIfDrained();
  }

  private resumeIfDrained(): void {
    if (this.paused && this.bufferedBytes < MAX_BUFFERED_BYTES / 2) {
      this.paused = false;
      this.consumer.resume([{ topic: this.topic }]);
    }
  }

  private nextDelivery(signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        signal?.removeEventListener('abort', done);
        resolve();
      };
      this.waiters.push(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }
}
