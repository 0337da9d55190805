import type { DuckDBDataChunk } from '@duckdb/node-api';
import type { SluiceError } from '../../core/errors.js';
import type { ResultColumn } from '../../olap/query/query-stream.js';

export interface ResultSummary {
  readonly rowCount: number;
  readonly truncated: boolean;
}

/**
 * Turns one query result into the bytes of a response format, a chunk at a time: the HTTP
 * layer writes `head`, then `chunk` for each DuckDB chunk as it arrives, then `tail`. Nothing
 * here holds more than the chunk at hand.
 */
export interface ResultEncoder {
  readonly contentType: string;
  /**
   * Whether the format reports truncation and the row count in HTTP trailers: true for formats
   * whose bytes have no place for them once written (CSV, Arrow).
   */
  readonly usesTrailers: boolean;
  head(columns: readonly ResultColumn[]): string | Uint8Array;
  chunk(chunk: DuckDBDataChunk): string | Uint8Array;
  tail(summary: ResultSummary): string | Uint8Array;
  /**
   * What closes the body when the query fails after bytes went out; null when the format has no
   * way to say so, and the transfer is cut short instead.
   */
  failure(error: SluiceError, summary: ResultSummary): string | null;
}
