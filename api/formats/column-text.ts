import { isAscii } from 'node:buffer';
import { type DuckDBDataChunk, type DuckDBEnumType, type DuckDBDecimalType, type DuckDBType, DuckDBTypeId } from '@duckdb/node-api';
import { DecimalReader } from './decimal-reader.js';
import { float32Text, int128Text, int64Text, uint128Big, uint64Text } from './numeric-text.js';
import { RawVector, StringSlots, view } from './raw-vector.js';
import { dateText, timeText, timestampText, timestampTzText } from './temporal-text.js';

export type TextCells = (string | null)[];

/**
 * Each value of a result column as DuckDB's text (what `CAST(x AS VARCHAR)` gives), null for
 * NULL. Scalar types are read from the raw vector a column at a time; the rest go through the
 * node API's values (one object per row), which is fine for the nested types that need it.
 */
export function columnText(chunk: DuckDBDataChunk, column: number, type: DuckDBType): TextCells {
  const raw = RawVector.of(chunk, column);
  switch (type.typeId) {
    case DuckDBTypeId.BOOLEAN: {
      const b = raw.bytes(1);
      return map(raw, (r) => (b[r] !== 0 ? 'true' : 'false'));
    }
    case DuckDBTypeId.TINYINT:
      return numbers(raw, view(Int8Array, raw.bytes(1), raw.rows));
    case DuckDBTypeId.SMALLINT:
      return numbers(raw, view(Int16Array, raw.bytes(2), raw.rows));
    case DuckDBTypeId.INTEGER:
      return numbers(raw, raw.int32());
    case DuckDBTypeId.UTINYINT:
      return numbers(raw, raw.bytes(1));
    case DuckDBTypeId.USMALLINT:
      return numbers(raw, view(Uint16Array, raw.bytes(2), raw.rows));
    case DuckDBTypeId.UINTEGER:
      return numbers(raw, raw.uint32(4));
    case DuckDBTypeId.BIGINT: {
      const w = raw.uint32(8);
      return map(raw, (r) => int64Text(w, r * 2));
    }
    case DuckDBTypeId.UBIGINT: {
      const w = raw.uint32(8);
      return map(raw, (r) => uint64Text(w, r * 2));
    }
    case DuckDBTypeId.HUGEINT: {
      const w = raw.uint32(16);
      return map(raw, (r) => int128Text(w, r * 4));
    }
    case DuckDBTypeId.UHUGEINT: {
      const w = raw.uint32(16);
      return map(raw, (r) => String(uint128Big(w, r * 4)));
    }
    case DuckDBTypeId.FLOAT: {
      const f = raw.float32();
      return map(raw, (r) => float32Text(f[r]));
    }
    case DuckDBTypeId.DOUBLE:
      return numbers(raw, raw.float64());
    case DuckDBTypeId.DECIMAL: {
      const t = type as DuckDBDecimalType;
      const d = new DecimalReader(raw, t.width, t.scale);
      return map(raw, (r) => d.text(r));
    }
    case DuckDBTypeId.VARCHAR:
      return varcharColumn(raw).cells;
    case DuckDBTypeId.DATE: {
      const d = raw.int32();
      return map(raw, (r) => dateText(d[r]));
    }
    case DuckDBTypeId.TIME: {
      const w = raw.uint32(8);
      return map(raw, (r) => timeText(w[r * 2 + 1] * 4294967296 + w[r * 2]));
    }
    case DuckDBTypeId.TIMESTAMP: {
      const w = raw.uint32(8);
      return map(raw, (r) => timestampText(w, r * 2));
    }
    case DuckDBTypeId.TIMESTAMP_TZ: {
      const w = raw.uint32(8);
      return map(raw, (r) => timestampTzText(w, r * 2));
    }
    case DuckDBTypeId.ENUM:
      return enumText(raw, type as DuckDBEnumType);
    default: {
      // Nested and rare types: DuckDB's own text form via the node API's value objects.
      const vector = chunk.getColumnVector(column);
      return map(raw, (r) => String(vector.getItem(r)));
    }
  }
}

function map(raw: RawVector, text: (row: number) => string): TextCells {
  const out: TextCells = new Array(raw.rows);
  if (raw.validity === null) {
    for (let r = 0; r < raw.rows; r++) out[r] = text(r);
  } else {
    for (let r = 0; r < raw.rows; r++) out[r] = raw.isValid(r) ? text(r) : null;
  }
  return out;
}

function numbers(raw: RawVector, values: ArrayLike<number>): TextCells {
  return map(raw, (r) => String(values[r]));
}

/**
 * VARCHAR: the chunk's strings gathered into one buffer (returned too, so callers can scan it
 * once for characters that need quoting); an all-ASCII chunk decodes once and slices.
 */
export function varcharColumn(raw: RawVector): { cells: TextCells; bytes: Uint8Array } {
  const { offsets, data } = new StringSlots(raw).gather();
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (isAscii(buf)) {
    const all = buf.toString('latin1');
    return { cells: map(raw, (r) => all.substring(offsets[r], offsets[r + 1])), bytes: data };
  }
  return { cells: map(raw, (r) => buf.toString('utf8', offsets[r], offsets[r + 1])), bytes: data };
}

function enumText(raw: RawVector, type: DuckDBEnumType): TextCells {
  const labels = type.values;
  const index =
    type.internalTypeId === DuckDBTypeId.UTINYINT
      ? raw.bytes(1)
      : type.internalTypeId === DuckDBTypeId.USMALLINT
        ? view(Uint16Array, raw.bytes(2), raw.rows)
        : raw.uint32(4);
  return map(raw, (r) => labels[index[r]]);
}
