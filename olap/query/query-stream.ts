import type { DuckDBConnection, DuckDBDataChunk, DuckDBPreparedStatement, DuckDBResult, DuckDBType } from '@duckdb/node-api';
import { SluiceError } from '../../core/errors.js';
import { duckDbQueryError } from './duckdb-error.js';

export interface ResultColumn {
  readonly name: string;
  readonly type: DuckDBType;
}

export interface QueryLimits {
  readonly timeoutMs: number;
  /** Rows past this are not read: the stream ends and `truncated` turns true. */
  readonly maxRows: number;
  /** Aborting cancels the query (a client that went away, a CancelRequest). */
  readonly signal?: AbortSignal;
  /** Named in the error when DuckDB runs out of memory. */
  readonly memoryLimitHint?: string;
}

/**
 * The result of one query, handed out chunk by chunk (2048 rows) as the consumer asks, so Sluice
 * itself holds one chunk per query however slow the client. DuckDB computes the whole result
 * before the first chunk: a streaming DuckDB result that fails part-way ends like a complete one
 * (the node bindings do not expose the error), and a short answer that looks whole is worse
 * than a late one. The timeout covers the whole life of the stream, reading included; the
 * connection is handed back (`release`) exactly once, when the stream ends, fails or is closed.
 */
export class QueryStream implements AsyncIterable<DuckDBDataChunk> {
  private rows = 0;
  private finished = false;
  private stopReason: 'timeout' | 'cancelled' | null = null;
  private truncatedFlag = false;
  private readonly timer: NodeJS.Timeout;
  private readonly onAbort = (): void => this.stop('cancelled');
  private resolveEnded!: () => void;
  /** Settles once the stream has ended: read to the end, failed or closed. */
  readonly ended = new Promise<void>((resolve) => (this.resolveEnded = resolve));

  private constructor(
    private readonly conn: DuckDBConnection,
    private readonly limits: QueryLimits,
    private readonly release: () => void,
  ) {
    this.timer = setTimeout(() => this.stop('timeout'), limits.timeoutMs);
    limits.signal?.addEventListener('abort', this.onAbort, { once: true });
  }

  private result: DuckDBResult | null = null;
  columns: readonly ResultColumn[] = [];

  /** Runs `prepared` (already bound) on `conn`; the query is under the limits from here on. */
  static async start(conn: DuckDBConnection, prepared: DuckDBPreparedStatement, limits: QueryLimits, release: () => void): Promise<QueryStream> {
    const stream = new QueryStream(conn, limits, release);
    if (limits.signal?.aborted) stream.stop('cancelled');
    try {
      stream.throwIfStopped();
      stream.result = await prepared.run();
      stream.columns = stream.result.columnNames().map((name, i) => ({ name, type: stream.result!.columnType(i) }));
      return stream;
    } catch (e) {
      throw stream.fail(e);
    }
  }

  get rowCount(): number {
    return this.rows;
  }

  /** True once the stream stopped at `maxRows` with more rows left. */
  get truncated(): boolean {
    return this.truncatedFlag;
  }

  /** The next chunk, or null at the end. A chunk is valid until the next call. */
  async next(): Promise<DuckDBDataChunk | null> {
    if (this.finished) return null;
    try {
      this.throwIfStopped();
      const chunk = await this.result!.fetchChunk();
      this.throwIfStopped();
      if (!chunk || chunk.rowCount === 0) {
        this.finish();
        return null;
      }
      const room = this.limits.maxRows - this.rows;
      if (chunk.rowCount > room) {
        this.truncatedFlag = true;
        chunk.rowCount = room;
        this.finish();
        if (room === 0) return null;
      }
      this.rows += chunk.rowCount;
      return chunk;
    } catch (e) {
      throw this.fail(e);
    }
  }

  async *[Symbol.asyncIterator](): AsyncIterator<DuckDBDataChunk> {
    try {
      for (let c = await this.next(); c; c = await this.next()) yield c;
    } finally {
      this.close();
    }
  }

  /** Ends the stream early (client gone, portal closed); the connection is free again. */
  close(): void {
    if (this.finished) return;
    // Before the result exists DuckDB is still computing it: stop that. After, it is only memory.
    if (!this.result) this.conn.interrupt();
    this.finish();
  }

  private stop(reason: 'timeout' | 'cancelled'): void {
    if (this.finished || this.stopReason) return;
    this.stopReason = reason;
    this.conn.interrupt();
  }

  private throwIfStopped(): void {
    if (this.stopReason === 'timeout') {
      throw new SluiceError('SLUICE_QUERY_TIMEOUT', `query exceeded the ${this.limits.timeoutMs} ms timeout and was cancelled`);
    }
    if (this.stopReason === 'cancelled') throw new SluiceError('SLUICE_QUERY_CANCELLED', 'query was cancelled');
  }

  private fail(e: unknown): SluiceError {
    this.finish();
    if (this.stopReason) {
      try {
        this.throwIfStopped();
      } catch (stopped) {
        return stopped as SluiceError;
      }
    }
    return duckDbQueryError(e, this.limits.memoryLimitHint ?? 'store.memoryLimit');
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    clearTimeout(this.timer);
    this.limits.signal?.removeEventListener('abort', this.onAbort);
    this.release();
    this.resolveEnded();
  }
}
