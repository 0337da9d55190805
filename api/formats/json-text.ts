import { type DuckDBDataChunk, type DuckDBType, DuckDBTypeId, JsonDuckDBValueConverter } from '@duckdb/node-api';
import { byteTable, hasFlaggedByte } from './byte-scan.js';
import { columnText, varcharColumn } from './column-text.js';
import { int128Big, int64Big, int64Number, uint128Big, uint64Big, uint64Number } from './numeric-text.js';
import { RawVector } from './raw-vector.js';

/** What JSON.stringify escapes in a string: control characters, the quote and the backslash. */
const ESCAPED_BYTES = byteTable((b) => b < 0x20 || b === 0x22 || b === 0x5c);

/** Types whose DuckDB text needs no JSON escaping: digits, signs, dots, colons, spaces, "(BC)". */
const QUOTED_TEXT = new Set<DuckDBTypeId>([DuckDBTypeId.DECIMAL, DuckDBTypeId.DATE, DuckDBTypeId.TIME, DuckDBTypeId.TIMESTAMP, DuckDBTypeId.TIMESTAMP_TZ]);

/**
 * Each value of a result column as JSON text ('null' for NULL), ready to be joined into rows.
 * The conventions are those of the node API's JsonDuckDBValueConverter (the format's original
 * definition), plus one: integers of 64 bits and more are numbers when a double holds them
 * exactly, else strings. DECIMAL and temporal values are DuckDB's text; LIST, STRUCT, MAP,
 * INTERVAL and the like are JSON arrays and objects.
 */
export function jsonCells(chunk: DuckDBDataChunk, column: number, type: DuckDBType): string[] {
  const raw = RawVector.of(chunk, column);
  switch (type.typeId) {
    // Booleans and integers up to 32 bits: their text is already their JSON.
    case DuckDBTypeId.BOOLEAN:
    case DuckDBTypeId.TINYINT:
    case DuckDBTypeId.SMALLINT:
    case DuckDBTypeId.INTEGER:
    case DuckDBTypeId.UTINYINT:
    case DuckDBTypeId.USMALLINT:
    case DuckDBTypeId.UINTEGER:
      return columnText(chunk, column, type).map((s) => s ?? 'null');
    case DuckDBTypeId.FLOAT:
      return floats(raw, raw.float32());
    case DuckDBTypeId.DOUBLE:
      return floats(raw, raw.float64());
    case DuckDBTypeId.BIGINT: {
      const w = raw.uint32(8);
      return map(raw, (r) => {
        const n = int64Number(w, r * 2);
        return n !== null ? String(n) : `"${int64Big(w, r * 2)}"`;
      });
    }
    case DuckDBTypeId.UBIGINT: {
      const w = raw.uint32(8);
      return map(raw, (r) => {
        const n = uint64Number(w, r * 2);
        return n !== null ? String(n) : `"${uint64Big(w, r * 2)}"`;
      });
    }
    case DuckDBTypeId.HUGEINT: {
      const w = raw.uint32(16);
      return map(raw, (r) => exactOrString(int128Big(w, r * 4)));
    }
    case DuckDBTypeId.UHUGEINT: {
      const w = raw.uint32(16);
      return map(raw, (r) => exactOrString(uint128Big(w, r * 4)));
    }
    case DuckDBTypeId.VARCHAR: {
      // Most text has nothing to escape: one scan of the chunk's bytes spares a stringify per value.
      const { cells, bytes } = varcharColumn(raw);
      const quote = hasFlaggedByte(bytes, ESCAPED_BYTES) ? JSON.stringify : (s: string) => `"${s}"`;
      return cells.map((s) => (s === null ? 'null' : quote(s)));
    }
    case DuckDBTypeId.ENUM:
      return columnText(chunk, column, type).map((s) => (s === null ? 'null' : JSON.stringify(s)));
    default: {
      if (QUOTED_TEXT.has(type.typeId)) return columnText(chunk, column, type).map((s) => (s === null ? 'null' : `"${s}"`));
      const vector = chunk.getColumnVector(column);
      return map(raw, (r) => JSON.stringify(JsonDuckDBValueConverter(vector.getItem(r), type, JsonDuckDBValueConverter)));
    }
  }
}

function map(raw: RawVector, text: (row: number) => string): string[] {
  const out = new Array<string>(raw.rows);
  if (raw.validity === null) {
    for (let r = 0; r < raw.rows; r++) out[r] = text(r);
  } else {
    for (let r = 0; r < raw.rows; r++) out[r] = raw.isValid(r) ? text(r) : 'null';
  }
  return out;
}

/** JSON has no NaN or infinities: those travel as the strings "NaN", "Infinity", "-Infinity". */
function floats(raw: RawVector, values: ArrayLike<number>): string[] {
  return map(raw, (r) => {
    const v = values[r];
    return Number.isFinite(v) ? String(v) : `"${v}"`;
  });
}

function exactOrString(v: bigint): string {
  const n = Number(v);
  return Number.isSafeInteger(n) ? String(n) : `"${v}"`;
}
