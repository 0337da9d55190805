import type { DuckDBDataChunk } from '@duckdb/node-api';
import * as arrow from 'apache-arrow';
import type { ResultColumn } from '../../olap/query/query-stream.js';
import { type ArrowColumn, arrowColumnFor } from './arrow-columns.js';
import type { ResultEncoder } from './result-encoder.js';

/**
 * Collects what apache-arrow's stream writer emits, synchronously: the writer frames messages
 * (schema, record batches, end-of-stream) into its sink, and this sink hands them over per call.
 */
class CollectingSink extends arrow.AsyncByteQueue {
  private parts: Uint8Array[] = [];

  override write(value: Uint8Array): void {
    this.parts.push(value);
  }

  /** Everything written since the last take, in one buffer (copied out of DuckDB's memory). */
  take(): Uint8Array {
    const out = Buffer.concat(this.parts);
    this.parts = [];
    return out;
  }
}

/**
 * Arrow IPC stream format: the schema message, one record batch per DuckDB chunk, the
 * end-of-stream marker. Column data is built from the chunk's raw vectors (see arrow-columns).
 */
export class ArrowEncoder implements ResultEncoder {
  readonly contentType = 'application/vnd.apache.arrow.stream';
  readonly usesTrailers = true;
  private readonly sink = new CollectingSink();
  private readonly writer = new arrow.RecordBatchStreamWriter();
  private columns: ArrowColumn[] = [];
  private schema: arrow.Schema | null = null;
  private struct: arrow.Struct | null = null;

  head(columns: readonly ResultColumn[]): Uint8Array {
    this.columns = columns.map((c) => arrowColumnFor(c.type));
    // The DuckDB type rides along in field metadata: it names what a text-encoded column held.
    const fields = columns.map((c, i) => new arrow.Field(c.name, this.columns[i].type, true, new Map([['duckdb.type', c.type.toString()]])));
    this.schema = new arrow.Schema(fields);
    this.struct = new arrow.Struct(fields);
    this.writer.reset(this.sink, this.schema);
    return this.sink.take();
  }

  chunk(chunk: DuckDBDataChunk): Uint8Array {
    const rows = chunk.rowCount;
    const children = this.columns.map((col, i) => col.build(chunk, i));
    const struct = arrow.makeData({ type: this.struct!, length: rows, nullCount: 0, children });
    this.writer.write(new arrow.RecordBatch(this.schema!, struct));
    return this.sink.take();
  }

  tail(): Uint8Array {
    this.writer.finish();
    return this.sink.take();
  }

  failure(): null {
    return null;
  }
}
