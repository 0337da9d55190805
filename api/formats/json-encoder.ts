import type { DuckDBDataChunk, DuckDBType } from '@duckdb/node-api';
import type { SluiceError } from '../../core/errors.js';
import type { ResultColumn } from '../../olap/query/query-stream.js';
import { jsonCells } from './json-text.js';
import type { ResultEncoder, ResultSummary } from './result-encoder.js';

/**
 * `{"columns":[...],"rows":[[...],...],"rowCount":n}`, written as it streams: the row count and
 * `truncated` come last because they are only known at the end. Each column of a chunk is
 * turned into JSON text at once (see json-text), then the rows are joined from those texts.
 */
export class JsonEncoder implements ResultEncoder {
  readonly contentType = 'application/json; charset=utf-8';
  readonly usesTrailers = false;
  private types: DuckDBType[] = [];
  private first = true;

  head(columns: readonly ResultColumn[]): string {
    this.types = columns.map((c) => c.type);
    return `{"columns":${JSON.stringify(columns.map((c) => ({ name: c.name, type: c.type.toString() })))},"rows":[`;
  }

  chunk(chunk: DuckDBDataChunk): string {
    const rows = chunk.rowCount;
    const width = this.types.length;
    const cells = this.types.map((type, i) => jsonCells(chunk, i, type));
    let out = '';
    for (let r = 0; r < rows; r++) {
      let row = this.first ? '[' : ',[';
      this.first = false;
      row += cells[0][r];
      for (let c = 1; c < width; c++) row += `,${cells[c][r]}`;
      out += `${row}]`;
    }
    return out;
  }

  tail(summary: ResultSummary): string {
    return `],"rowCount":${summary.rowCount}${summary.truncated ? ',"truncated":true' : ''}}`;
  }

  /** The document stays valid JSON: the rows so far, then an `error` member in place of success. */
  failure(error: SluiceError, summary: ResultSummary): string {
    return `],"rowCount":${summary.rowCount},"error":${JSON.stringify({ code: error.code, message: error.message })}}`;
  }
}
