import { type DuckDBDataChunk, type DuckDBDecimalType, type DuckDBEnumType, type DuckDBType, DuckDBTypeId } from '@duckdb/node-api';
import * as arrow from 'apache-arrow';
import { columnText } from './column-text.js';
import { decimalStorageBytes } from './numeric-text.js';
import { RawVector, StringSlots, view } from './raw-vector.js';

/** Builds the Arrow data of one column from one DuckDB chunk. */
export interface ArrowColumn {
  readonly type: arrow.DataType;
  build(chunk: DuckDBDataChunk, column: number): arrow.Data;
}

const utf8 = new arrow.Utf8();

/**
 * The Arrow type each DuckDB type travels as. Fixed-width values are DuckDB's own bytes (same
 * little-endian layout, and DuckDB's validity mask has Arrow's bit order), so a column costs a
 * copy, not a value per row. Types without a lossless Arrow twin here go as DuckDB's text.
 */
export function arrowColumnFor(type: DuckDBType): ArrowColumn {
  switch (type.typeId) {
    case DuckDBTypeId.BOOLEAN:
      return { type: new arrow.Bool(), build: (chunk, c) => bools(RawVector.of(chunk, c)) };
    case DuckDBTypeId.TINYINT:
      return fixed(new arrow.Int8(), Int8Array, 1);
    case DuckDBTypeId.SMALLINT:
      return fixed(new arrow.Int16(), Int16Array, 2);
    case DuckDBTypeId.INTEGER:
      return fixed(new arrow.Int32(), Int32Array, 4);
    case DuckDBTypeId.BIGINT:
      return fixed(new arrow.Int64(), BigInt64Array, 8);
    case DuckDBTypeId.UTINYINT:
      return fixed(new arrow.Uint8(), Uint8Array, 1);
    case DuckDBTypeId.USMALLINT:
      return fixed(new arrow.Uint16(), Uint16Array, 2);
    case DuckDBTypeId.UINTEGER:
      return fixed(new arrow.Uint32(), Uint32Array, 4);
    case DuckDBTypeId.UBIGINT:
      return fixed(new arrow.Uint64(), BigUint64Array, 8);
    case DuckDBTypeId.FLOAT:
      return fixed(new arrow.Float32(), Float32Array, 4);
    case DuckDBTypeId.DOUBLE:
      return fixed(new arrow.Float64(), Float64Array, 8);
    case DuckDBTypeId.DATE:
      return fixed(new arrow.DateDay(), Int32Array, 4);
    case DuckDBTypeId.TIME:
      return fixed(new arrow.TimeMicrosecond(), BigInt64Array, 8);
    case DuckDBTypeId.TIME_NS:
      return fixed(new arrow.TimeNanosecond(), BigInt64Array, 8);
    case DuckDBTypeId.TIMESTAMP:
      return fixed(new arrow.TimestampMicrosecond(), BigInt64Array, 8);
    case DuckDBTypeId.TIMESTAMP_TZ:
      // DuckDB stores TIMESTAMPTZ as UTC microseconds; the zone is only applied when printing.
      return fixed(new arrow.TimestampMicrosecond('UTC'), BigInt64Array, 8);
    case DuckDBTypeId.TIMESTAMP_S:
      return fixed(new arrow.TimestampSecond(), BigInt64Array, 8);
    case DuckDBTypeId.TIMESTAMP_MS:
      return fixed(new arrow.TimestampMillisecond(), BigInt64Array, 8);
    case DuckDBTypeId.TIMESTAMP_NS:
      return fixed(new arrow.TimestampNanosecond(), BigInt64Array, 8);
    case DuckDBTypeId.DECIMAL: {
      const t = type as DuckDBDecimalType;
      const arrowType = new arrow.Decimal(t.scale, t.width, 128);
      const width = decimalStorageBytes(t.width);
      return { type: arrowType, build: (chunk, c) => int128(arrowType, RawVector.of(chunk, c), width) };
    }
    case DuckDBTypeId.HUGEINT: {
      const arrowType = new arrow.Decimal(0, 38, 128);
      return { type: arrowType, build: (chunk, c) => int128(arrowType, RawVector.of(chunk, c), 16) };
    }
    case DuckDBTypeId.UHUGEINT: {
      // Up to 2^128-1: a signed 128-bit decimal cannot hold the top half, so 256 bits, zero-extended.
      const arrowType = new arrow.Decimal(0, 39, 256);
      return { type: arrowType, build: (chunk, c) => uint256(arrowType, RawVector.of(chunk, c)) };
    }
    case DuckDBTypeId.INTERVAL:
      return { type: new arrow.IntervalMonthDayNano(), build: (chunk, c) => intervals(RawVector.of(chunk, c)) };
    case DuckDBTypeId.VARCHAR:
      return { type: utf8, build: (chunk, c) => binary(utf8, RawVector.of(chunk, c)) };
    case DuckDBTypeId.BLOB: {
      const t = new arrow.Binary();
      return { type: t, build: (chunk, c) => binary(t, RawVector.of(chunk, c)) };
    }
    case DuckDBTypeId.ENUM: {
      const encoder = new TextEncoder();
      const t = type as DuckDBEnumType;
      const labels = t.values.map((v) => encoder.encode(v));
      return { type: utf8, build: (chunk, c) => enumLabels(RawVector.of(chunk, c), t.internalTypeId, labels) };
    }
    default:
      // UUID, LIST, STRUCT, MAP, ARRAY, UNION, TIMETZ, BIT, BIGNUM, ...: DuckDB's text.
      return { type: utf8, build: (chunk, c) => texts(columnText(chunk, c, type)) };
  }
}

type FixedCtor = { new (buffer: ArrayBufferLike, byteOffset: number, length: number): ArrayBufferView; BYTES_PER_ELEMENT: number };

function fixed(type: arrow.DataType, Ctor: FixedCtor, width: number): ArrowColumn {
  return {
    type,
    build: (chunk, c) => {
      const raw = RawVector.of(chunk, c);
      return arrow.makeData({ type, length: raw.rows, nullBitmap: bitmap(raw), data: view(Ctor, raw.bytes(width), raw.rows) } as never);
    },
  };
}

/** DuckDB's validity words are Arrow's validity bitmap: same bits, same order. */
function bitmap(raw: RawVector): Uint8Array | undefined {
  return raw.validity === null ? undefined : raw.validity.subarray(0, Math.ceil(raw.rows / 8));
}

/** DuckDB keeps a byte per BOOLEAN; Arrow packs them into bits. */
function bools(raw: RawVector): arrow.Data {
  const bytes = raw.bytes(1);
  const bits = new Uint8Array(Math.ceil(raw.rows / 8));
  for (let r = 0; r < raw.rows; r++) if (bytes[r] !== 0) bits[r >> 3] |= 1 << (r & 7);
  return arrow.makeData({ type: new arrow.Bool(), length: raw.rows, nullBitmap: bitmap(raw), data: bits });
}

/** A 16-, 32-, 64- or 128-bit signed integer column widened to Arrow's 128-bit decimal words. */
function int128(type: arrow.Decimal, raw: RawVector, width: 2 | 4 | 8 | 16): arrow.Data {
  const rows = raw.rows;
  const bytes = raw.bytes(width);
  let out: Uint32Array;
  if (width === 16) {
    // Already Arrow's layout; the IPC framing copies it out of DuckDB's memory.
    out = view(Uint32Array, bytes, rows * 4);
  } else {
    out = new Uint32Array(rows * 4);
    const words = new Int32Array(out.buffer);
    if (width === 8) {
      const src = view(Int32Array, bytes, rows * 2);
      for (let r = 0; r < rows; r++) {
        const hi = src[r * 2 + 1];
        const sign = hi < 0 ? -1 : 0;
        words[r * 4] = src[r * 2];
        words[r * 4 + 1] = hi;
        words[r * 4 + 2] = sign;
        words[r * 4 + 3] = sign;
      }
    } else {
      const src = width === 4 ? view(Int32Array, bytes, rows) : view(Int16Array, bytes, rows);
      for (let r = 0; r < rows; r++) {
        const v = src[r];
        const sign = v < 0 ? -1 : 0;
        words[r * 4] = v;
        words[r * 4 + 1] = sign;
        words[r * 4 + 2] = sign;
        words[r * 4 + 3] = sign;
      }
    }
  }
  return arrow.makeData({ type, length: rows, nullBitmap: bitmap(raw), data: out });
}

function uint256(type: arrow.Decimal, raw: RawVector): arrow.Data {
  const src = raw.uint32(16);
  const out = new Uint32Array(raw.rows * 8);
  for (let r = 0; r < raw.rows; r++) out.set(src.subarray(r * 4, r * 4 + 4), r * 8);
  return arrow.makeData({ type, length: raw.rows, nullBitmap: bitmap(raw), data: out });
}

/** DuckDB's interval is {int32 months, int32 days, int64 micros}; Arrow's counts nanoseconds. */
function intervals(raw: RawVector): arrow.Data {
  const out = raw.bytes(16).slice();
  const nanos = new BigInt64Array(out.buffer);
  for (let r = 0; r < raw.rows; r++) nanos[r * 2 + 1] *= 1000n;
  return arrow.makeData({ type: new arrow.IntervalMonthDayNano(), length: raw.rows, nullBitmap: bitmap(raw), data: new Int32Array(out.buffer) });
}

function binary(type: arrow.Utf8 | arrow.Binary, raw: RawVector): arrow.Data {
  const { offsets, data } = new StringSlots(raw).gather();
  return arrow.makeData({ type, length: raw.rows, nullBitmap: bitmap(raw), valueOffsets: offsets, data } as never);
}

/** ENUM values are indexes into the type's labels (8, 16 or 32 bits wide). */
function enumLabels(raw: RawVector, indexType: DuckDBTypeId, labels: readonly Uint8Array[]): arrow.Data {
  const index =
    indexType === DuckDBTypeId.UTINYINT
      ? raw.bytes(1)
      : indexType === DuckDBTypeId.USMALLINT
        ? view(Uint16Array, raw.bytes(2), raw.rows)
        : raw.uint32(4);
  const offsets = new Int32Array(raw.rows + 1);
  let total = 0;
  for (let r = 0; r < raw.rows; r++) {
    if (raw.isValid(r)) total += labels[index[r]].length;
    offsets[r + 1] = total;
  }
  const data = new Uint8Array(total);
  for (let r = 0; r < raw.rows; r++) if (offsets[r + 1] > offsets[r]) data.set(labels[index[r]], offsets[r]);
  return arrow.makeData({ type: utf8, length: raw.rows, nullBitmap: bitmap(raw), valueOffsets: offsets, data });
}

function texts(cells: readonly (string | null)[]): arrow.Data {
  const encoder = new TextEncoder();
  const parts = cells.map((c) => (c === null ? null : encoder.encode(c)));
  const offsets = new Int32Array(cells.length + 1);
  const validity = new Uint8Array(Math.ceil(cells.length / 8));
  let total = 0;
  let nulls = 0;
  parts.forEach((p, r) => {
    if (p === null) nulls++;
    else {
      validity[r >> 3] |= 1 << (r & 7);
      total += p.length;
    }
    offsets[r + 1] = total;
  });
  const data = new Uint8Array(total);
  parts.forEach((p, r) => p && data.set(p, offsets[r]));
  return arrow.makeData({ type: utf8, length: cells.length, nullCount: nulls, nullBitmap: nulls ? validity : undefined, valueOffsets: offsets, data });
}
