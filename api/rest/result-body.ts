import { Readable } from 'node:stream';
import type { FastifyBaseLogger } from 'fastify';
import { SluiceError, isSluiceError, messageOf } from '../../core/errors.js';
import type { QueryStream } from '../../olap/query/query-stream.js';
import type { ResultEncoder } from '../formats/result-encoder.js';

/**
 * The rest of a query result as a response body, pulled chunk by chunk: Node asks for more
 * (`_read`) only when what was pushed before has drained into the socket, so DuckDB computes
 * the next chunk only as fast as the client reads, and no more than about one encoded chunk
 * waits in memory. Destroying the body (client gone) cancels the query.
 */
export class ResultBody extends Readable {
  private fetching = false;
  private done = false;

  constructor(
    private readonly stream: QueryStream,
    private readonly encoder: ResultEncoder,
    ready: readonly (string | Uint8Array)[],
    private readonly cancel: () => void,
    private readonly log: FastifyBaseLogger,
  ) {
    super({ highWaterMark: 64 * 1024 });
    for (const part of ready) if (part.length > 0) this.push(part);
  }

  override _read(): void {
    if (this.fetching || this.done) return;
    this.fetching = true;
    void this.pump();
  }

  /** Fetches until there is something to push: a zero-byte push would stall the stream. */
  private async pump(): Promise<void> {
    try {
      for (;;) {
        const chunk = await this.stream.next();
        if (this.destroyed) return;
        if (chunk === null) {
          this.done = true;
          this.fetching = false;
          const tail = this.encoder.tail({ rowCount: this.stream.rowCount, truncated: this.stream.truncated });
          if (tail.length > 0) this.push(tail);
          this.push(null);
          return;
        }
        const bytes = this.encoder.chunk(chunk);
        if (bytes.length > 0) {
          this.fetching = false;
          this.push(bytes);
          return;
        }
      }
    } catch (e) {
      this.fetching = false;
      this.done = true;
      this.stream.close();
      if (this.destroyed) return;
      this.failMidway(e);
    }
  }

  /**
   * The status line went out long ago: a format that can carry the error (JSON) ends with it,
   * the others are cut short so the client sees an incomplete transfer, not a complete file.
   */
  private failMidway(e: unknown): void {
    const error = isSluiceError(e) ? e : new SluiceError('SLUICE_INTERNAL', 'internal error', { cause: e });
    if (error.status >= 500) this.log.error({ err: e }, 'query failed while streaming its result');
    else this.log.warn({ code: error.code, reason: messageOf(e) }, 'query failed while streaming its result');
    const closing = this.encoder.failure(error, { rowCount: this.stream.rowCount, truncated: false });
    if (closing === null) {
      this.destroy(error);
      return;
    }
    this.push(closing);
    this.push(null);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (!this.done) {
      // A fetch in flight ends (cancelled) and frees the connection itself; otherwise close now.
      this.cancel();
      if (!this.fetching) this.stream.close();
    }
    callback(error);
  }
}
