import { type DuckDBDataChunk, type DuckDBType, DuckDBTypeId } from '@duckdb/node-api';
import type { ResultColumn } from '../../olap/query/query-stream.js';
import { byteTable, hasFlaggedByte } from './byte-scan.js';
import { type TextCells, columnText, varcharColumn } from './column-text.js';
import { RawVector } from './raw-vector.js';
import type { ResultEncoder } from './result-encoder.js';

/** Types whose text never holds a comma, quote or line break: their fields are never quoted. */
const PLAIN = new Set<DuckDBTypeId>([
  DuckDBTypeId.BOOLEAN, DuckDBTypeId.TINYINT, DuckDBTypeId.SMALLINT, DuckDBTypeId.INTEGER, DuckDBTypeId.BIGINT,
  DuckDBTypeId.UTINYINT, DuckDBTypeId.USMALLINT, DuckDBTypeId.UINTEGER, DuckDBTypeId.UBIGINT, DuckDBTypeId.HUGEINT,
  DuckDBTypeId.UHUGEINT, DuckDBTypeId.FLOAT, DuckDBTypeId.DOUBLE, DuckDBTypeId.DECIMAL, DuckDBTypeId.DATE,
  DuckDBTypeId.TIME, DuckDBTypeId.TIMESTAMP, DuckDBTypeId.TIMESTAMP_TZ, DuckDBTypeId.UUID,
]);

const SPECIAL = /[",\r\n]/;
const SPECIAL_BYTES = byteTable((b) => b === 0x22 || b === 0x2c || b === 0x0a || b === 0x0d);
const QUOTE = /"/g;

/**
 * RFC 4180 CSV: a header line of column names, then one line per row, lines ending in `\n`.
 * A field is quoted when it holds a comma, a double quote (doubled inside) or a line break.
 * NULL is an empty field and the empty string is `""`, so the two stay apart.
 */
export class CsvEncoder implements ResultEncoder {
  readonly contentType = 'text/csv; charset=utf-8; header=present';
  readonly usesTrailers = true;
  private types: DuckDBType[] = [];
  private plain: boolean[] = [];

  head(columns: readonly ResultColumn[]): string {
    this.types = columns.map((c) => c.type);
    this.plain = this.types.map((t) => PLAIN.has(t.typeId));
    return `${columns.map((c) => field(c.name)).join(',')}\n`;
  }

  chunk(chunk: DuckDBDataChunk): string {
    const rows = chunk.rowCount;
    const width = this.types.length;
    const cells: TextCells[] = new Array(width);
    for (let c = 0; c < width; c++) cells[c] = this.cells(chunk, c);
    let out = '';
    for (let r = 0; r < rows; r++) {
      let line = cells[0][r] ?? '';
      for (let c = 1; c < width; c++) line += `,${cells[c][r] ?? ''}`;
      out += `${line}\n`;
    }
    return out;
  }

  private cells(chunk: DuckDBDataChunk, c: number): TextCells {
    if (this.plain[c]) return columnText(chunk, c, this.types[c]);
    if (this.types[c].typeId !== DuckDBTypeId.VARCHAR) return quoteAll(columnText(chunk, c, this.types[c]));
    // Most text columns have nothing to quote: one scan of the chunk's bytes says so.
    const { cells, bytes } = varcharColumn(RawVector.of(chunk, c));
    if (hasFlaggedByte(bytes, SPECIAL_BYTES)) return quoteAll(cells);
    for (let r = 0; r < cells.length; r++) if (cells[r] === '') cells[r] = '""';
    return cells;
  }

  tail(): string {
    return '';
  }

  failure(): null {
    return null;
  }
}

function quoteAll(cells: TextCells): TextCells {
  for (let r = 0; r < cells.length; r++) {
    const v = cells[r];
    if (v !== null) cells[r] = field(v);
  }
  return cells;
}

function field(v: string): string {
  if (v === '') return '""';
  return SPECIAL.test(v) ? `"${v.replace(QUOTE, '""')}"` : v;
}
