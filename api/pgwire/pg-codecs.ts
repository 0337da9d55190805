import {
  type DuckDBType,
  DuckDBTypeId,
  type DuckDBValue,
  type DuckDBBlobValue,
  type DuckDBDateValue,
  type DuckDBIntervalValue,
  type DuckDBListValue,
  type DuckDBTimeValue,
  type DuckDBTimestampTZValue,
  type DuckDBTimestampValue,
} from '@duckdb/node-api';
import type { BackendWriter } from './backend-writer.js';
import { TypeOid, duckDbTypeToPg } from '../../olap/pg-catalog/index.js';
import { float32Text } from '../formats/numeric-text.js';
import { numericBinary } from './numeric-binary.js';

/** How one Postgres type is described and written, for values of one DuckDB column type. */
export interface PgCodec {
  readonly oid: number;
  /** pg_type.typlen: bytes, or -1 for variable length. */
  readonly size: number;
  readonly modifier: number;
  /** The value in Postgres's text output form. */
  text(v: DuckDBValue): string;
  /** Writes the cell (length and bytes) in Postgres's binary form; absent where Sluice has none. */
  readonly binary?: (w: BackendWriter, v: DuckDBValue) => void;
}


const PG_EPOCH_DAYS = 10_957; // 1970-01-01 .. 2000-01-01
const PG_EPOCH_MICROS = 946_684_800_000_000n;
const INT64_MAX = 9_223_372_036_854_775_807n;
const INT64_MIN = -9_223_372_036_854_775_808n;

const str = (v: DuckDBValue): string => String(v);

function utf8Binary(text: (v: DuckDBValue) => string) {
  return (w: BackendWriter, v: DuckDBValue): void => {
    const s = text(v);
    w.cell(s);
  };
}

function fixed(oid: number, size: number, text: (v: DuckDBValue) => string, write: (w: BackendWriter, v: DuckDBValue) => void): PgCodec {
  return { oid, size, modifier: -1, text, binary: (w, v) => (w.cellHeader(size), write(w, v)) };
}

const BOOL = fixed(TypeOid.bool, 1, (v) => (v ? 't' : 'f'), (w, v) => w.byte(v ? 1 : 0));
const INT2 = fixed(TypeOid.int2, 2, str, (w, v) => w.int16(Number(v)));
const INT4 = fixed(TypeOid.int4, 4, str, (w, v) => w.int32(Number(v)));
const INT8 = fixed(TypeOid.int8, 8, str, (w, v) => w.int64(BigInt(v as number | bigint)));
const FLOAT4 = fixed(TypeOid.float4, 4, (v) => float4Text(v as number), (w, v) => w.float32(v as number));
const FLOAT8 = fixed(TypeOid.float8, 8, (v) => float8Text(v as number), (w, v) => w.float64(v as number));
const TEXT: PgCodec = { oid: TypeOid.text, size: -1, modifier: -1, text: str, binary: utf8Binary(str) };
const JSON_TEXT: PgCodec = { ...TEXT, oid: TypeOid.json };
const BYTEA: PgCodec = {
  oid: TypeOid.bytea, size: -1, modifier: -1,
  text: (v) => '\\x' + Buffer.from((v as DuckDBBlobValue).bytes).toString('hex'),
  binary: (w, v) => {
    const b = (v as DuckDBBlobValue).bytes;
    w.cellHeader(b.length);
    w.bytes(b);
  },
};
const DATE = fixed(TypeOid.date, 4, str, (w, v) => w.int32(pgDays((v as DuckDBDateValue).days)));
const TIME = fixed(TypeOid.time, 8, str, (w, v) => w.int64((v as DuckDBTimeValue).micros));
const TIMESTAMP = fixed(TypeOid.timestamp, 8, str, (w, v) => w.int64(pgMicros((v as DuckDBTimestampValue).micros)));
const TIMESTAMPTZ = fixed(TypeOid.timestamptz, 8, str, (w, v) => w.int64(pgMicros((v as DuckDBTimestampTZValue).micros)));
const INTERVAL = fixed(TypeOid.interval, 16, (v) => intervalText(v as DuckDBIntervalValue), (w, v) => {
  const i = v as DuckDBIntervalValue;
  w.int64(i.micros);
  w.int32(i.days);
  w.int32(i.months);
});
const UUID = fixed(TypeOid.uuid, 16, str, (w, v) => w.bytes(Buffer.from(String(v).replace(/-/g, ''), 'hex')));
const NUMERIC: PgCodec = { oid: TypeOid.numeric, size: -1, modifier: -1, text: str, binary: (w, v) => numericBinary(w, String(v)) };

const BY_OID: Readonly<Record<number, PgCodec>> = {
  [TypeOid.bool]: BOOL, [TypeOid.int2]: INT2, [TypeOid.int4]: INT4, [TypeOid.int8]: INT8, [TypeOid.float4]: FLOAT4, [TypeOid.float8]: FLOAT8,
  [TypeOid.text]: TEXT, [TypeOid.json]: JSON_TEXT, [TypeOid.bytea]: BYTEA, [TypeOid.date]: DATE, [TypeOid.time]: TIME,
  [TypeOid.timestamp]: TIMESTAMP, [TypeOid.timestamptz]: TIMESTAMPTZ, [TypeOid.interval]: INTERVAL, [TypeOid.uuid]: UUID, [TypeOid.numeric]: NUMERIC,
};

/**
 * The Postgres type a DuckDB result column is presented as (the catalog emulation's mapping, so
 * RowDescription and pg_attribute agree), and how its values are written.
 */
export function codecFor(type: DuckDBType | null): PgCodec {
  if (type === null) return TEXT;
  // JSON is VARCHAR with an alias; the alias is what makes it json to a client.
  const { oid, typmod } = duckDbTypeToPg(type.alias === 'JSON' ? 'JSON' : type.toString());
  if (type.typeId === DuckDBTypeId.LIST || type.typeId === DuckDBTypeId.ARRAY) return arrayCodec(codecFor(type.valueType), oid);
  const base = BY_OID[oid] ?? TEXT;
  const codec = typmod === -1 ? base : { ...base, modifier: typmod };
  // Second, millisecond and nanosecond timestamps hold other units than the micros written.
  const otherUnit = type.typeId === DuckDBTypeId.TIMESTAMP_S || type.typeId === DuckDBTypeId.TIMESTAMP_MS || type.typeId === DuckDBTypeId.TIMESTAMP_NS;
  return otherUnit ? { ...codec, binary: undefined } : codec;
}

/** Postgres array literal text: `{1,2,NULL}`, elements quoted where the grammar needs it. */
function arrayCodec(element: PgCodec, oid: number): PgCodec {
  const text = (v: DuckDBValue): string => {
    const items = (v as DuckDBListValue).items;
    return '{' + items.map((x) => (x === null ? 'NULL' : quoteArrayElement(element.text(x)))).join(',') + '}';
  };
  return { oid, size: -1, modifier: -1, text };
}

function quoteArrayElement(s: string): string {
  if (s !== '' && !/[{}",\\\s]/.test(s) && s.toUpperCase() !== 'NULL') return s;
  return '"' + s.replace(/[\\"]/g, '\\$&') + '"';
}

function float8Text(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return 'Infinity';
  if (v === -Infinity) return '-Infinity';
  return Object.is(v, -0) ? '-0' : String(v);
}

/** float4 as Postgres prints it: the shortest text that reads back as the same float32. */
function float4Text(v: number): string {
  return Number.isFinite(v) && v !== 0 ? float32Text(v) : float8Text(v);
}

function pgDays(days: number): number {
  // DuckDB's ±infinity dates sit at the int32 extremes, as Postgres's do.
  if (days >= 2_147_483_647 || days <= -2_147_483_647) return days;
  return days - PG_EPOCH_DAYS;
}

function pgMicros(micros: bigint): bigint {
  if (micros === INT64_MAX || micros === INT64_MIN + 1n || micros === INT64_MIN) return micros;
  return micros - PG_EPOCH_MICROS;
}

/** IntervalStyle 'postgres': `1 year 2 mons 3 days 04:05:06.5`, each field signed on its own. */
function intervalText(i: DuckDBIntervalValue): string {
  const parts: string[] = [];
  const years = Math.trunc(i.months / 12);
  const mons = i.months % 12;
  if (years) parts.push(`${years} year${Math.abs(years) === 1 ? '' : 's'}`);
  if (mons) parts.push(`${mons} mon${Math.abs(mons) === 1 ? '' : 's'}`);
  if (i.days) parts.push(`${i.days} day${Math.abs(i.days) === 1 ? '' : 's'}`);
  if (i.micros !== 0n || parts.length === 0) {
    const neg = i.micros < 0n;
    let us = neg ? -i.micros : i.micros;
    const h = us / 3_600_000_000n;
    us %= 3_600_000_000n;
    const m = us / 60_000_000n;
    us %= 60_000_000n;
    const s = us / 1_000_000n;
    const frac = us % 1_000_000n;
    const pad = (n: bigint): string => n.toString().padStart(2, '0');
    let t = `${neg ? '-' : ''}${pad(h)}:${pad(m)}:${pad(s)}`;
    if (frac) t += '.' + frac.toString().padStart(6, '0').replace(/0+$/, '');
    parts.push(t);
  }
  return parts.join(' ');
}
