import type { ColumnSpec, ValueConversion } from '../../core/change-record.js';
import type { ConnectSchema } from './connect-schema.js';
import { type JsonValue, stringifyJson } from './json-text.js';
import { dateText, durationText, infinityOf, isoDurationText, timeOfDayText, timestampText, toMicros } from './temporal-text.js';
import {
  ValueError,
  booleanText,
  bytesText,
  bytesValue,
  decimalValueText,
  floatText,
  integerText,
  integerValue,
  jsonDocumentText,
  stringText,
  variableScaleDecimalText,
} from './value-text.js';

/** How one column's values become text: its spec (but for `key`) and its writer. */
export interface ColumnPlan {
  /** The column's spec; `key` is set once the table's key is known (see table-shapes.ts). */
  readonly spec: Omit<ColumnSpec, 'key'> & { readonly key?: boolean };
  /** A non-null JSON value as the canonical text the store parses; throws ValueError. */
  readonly write: (v: JsonValue) => string;
  /** Inside a list: the element as a JSON literal (bare numbers and booleans, else a string). */
  readonly element?: (v: JsonValue) => string;
}

/**
 * Postgres `numeric` without a declared precision: the native connector's choice, which holds
 * 28 integer and 10 fractional digits exactly (connectors do not import each other, hence the copy).
 */
const UNCONSTRAINED_NUMERIC = 'DECIMAL(38,10)';

function plan(sourceType: string, storeType: string, conversion: ValueConversion, write: (v: JsonValue) => string): ColumnPlan {
  return { spec: { name: '', sourceType, storeType, conversion }, write };
}

const quoted = (write: (v: JsonValue) => string) => (v: JsonValue) => JSON.stringify(write(v));

function integerOf(v: JsonValue): bigint {
  return integerValue(v, 64);
}

function timeOfDay(unit: 'ms' | 'us' | 'ns') {
  return (v: JsonValue): string => {
    const us = toMicros(integerOf(v), unit);
    if (us < 0n || us > 86_400_000_000n) throw new ValueError(`${us} µs is not a time of day`);
    return timeOfDayText(us);
  };
}

function timestamp(unit: 'ms' | 'us' | 'ns') {
  return (v: JsonValue): string => {
    const raw = integerOf(v);
    return infinityOf(raw) ?? timestampText(toMicros(raw, unit));
  };
}

function duration(unit: 'ms' | 'us' | 'ns') {
  return (v: JsonValue): string => durationText(toMicros(integerOf(v), unit));
}

const ISO_OFFSET_TIME = /^\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[-+]\d{2}(:?\d{2}){0,2})$/;
const ISO_OFFSET_DATE_TIME = /^[-+]?\d{4,}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[-+]\d{2}(:?\d{2}){0,2})$/;

/** ISO offset date-time (Java's ISO_OFFSET_DATE_TIME); DuckDB reads it but for a '+' before 5-digit years. */
function zonedTimestamp(v: JsonValue): string {
  const s = stringText(v);
  if (s === 'infinity' || s === '-infinity') return s;
  if (!ISO_OFFSET_DATE_TIME.test(s)) throw new ValueError(`expected an ISO timestamp with offset, got ${JSON.stringify(s)}`);
  return s.startsWith('+') ? s.slice(1) : s;
}

/** DuckDB's TIMETZ wants `+00` where Java writes `Z`. */
function zonedTime(v: JsonValue): string {
  const s = stringText(v);
  if (!ISO_OFFSET_TIME.test(s)) throw new ValueError(`expected an ISO time with offset, got ${JSON.stringify(s)}`);
  return s.endsWith('Z') ? `${s.slice(0, -1)}+00` : s;
}

const ISO_UTC = {
  date: /^[-+]?\d{4,}-\d{2}-\d{2}Z?$/,
  time: /^\d{2}:\d{2}(:\d{2}(\.\d+)?)?Z?$/,
  timestamp: /^[-+]?\d{4,}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?Z?$/,
};

/** isostring mode (`2017-09-15Z`, `04:05:11.789Z`, `2019-07-09T02:28:57.123456Z`): UTC, kept as wall-clock values. */
function isoUtc(kind: keyof typeof ISO_UTC) {
  return (v: JsonValue): string => {
    const s = stringText(v);
    if (!ISO_UTC[kind].test(s)) throw new ValueError(`expected an ISO ${kind} in UTC, got ${JSON.stringify(s)}`);
    return (s.endsWith('Z') ? s.slice(0, -1) : s).replace('T', ' ').replace(/^\+/, '');
  };
}

/** The forms DuckDB's UUID cast reads: 32 hex digits, dashes and braces optional. */
function uuidText(v: JsonValue): string {
  const s = stringText(v);
  if (!/^\{?[0-9a-fA-F]{8}-?([0-9a-fA-F]{4}-?){3}[0-9a-fA-F]{12}\}?$/.test(s)) throw new ValueError(`expected a UUID, got ${JSON.stringify(s)}`);
  return s;
}

function isoInterval(v: JsonValue): string {
  const s = stringText(v);
  const text = isoDurationText(s);
  if (text === null) throw new ValueError(`expected an ISO 8601 duration, got ${JSON.stringify(s)}`);
  return text;
}

/** io.debezium.data.Bits: java.util.BitSet bytes, little-endian (bit i of the value is bit i%8 of byte i/8). */
function bitsValue(v: JsonValue): bigint {
  const b = bytesValue(v);
  let n = 0n;
  for (let i = b.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(b[i]);
  return n;
}

/**
 * A decimal's text, checked against the DECIMAL(p,s) it goes into: more integer digits than
 * p - s would fail the store's cast, far from the message; fractional digits beyond s are
 * rounded by the store, as the native connectors' unconstrained numerics are.
 */
function checkedDecimal(text: string, precision: number, scale: number): string {
  const m = /^-?(\d+)(?:\.\d*)?$/.exec(text);
  const digits = m ? m[1].replace(/^0+/, '').length : 0;
  if (digits > precision - scale) throw new ValueError(`${text} does not fit DECIMAL(${precision},${scale})`);
  return text;
}

function decimalStoreType(precision: number | null, scale: number): string | null {
  if (scale < 0 || scale > 38) return null;
  if (precision === null) return `DECIMAL(38,${scale})`;
  return precision <= 38 && precision >= scale ? `DECIMAL(${Math.max(precision, 1)},${scale})` : null;
}

function intParam(s: ConnectSchema, name: string): number | null {
  const v = s.parameters[name];
  return v !== undefined && /^-?\d+$/.test(v) ? Number(v) : null;
}

function sourceTypeOf(s: ConnectSchema): string {
  if (s.name) return s.name;
  if (s.type === 'array' && s.items) return `array<${sourceTypeOf(s.items)}>`;
  if (s.type === 'map' && s.keys && s.values) return `map<${sourceTypeOf(s.keys)},${sourceTypeOf(s.values)}>`;
  return s.type;
}

/** The JSON converter's own rendering, kept as a JSON document: structs, maps, geometries... */
function asJson(s: ConnectSchema): ColumnPlan {
  return plan(sourceTypeOf(s), 'JSON', 'cast', (v) => stringifyJson(v));
}

/** Connector-specific readings of the same semantic type, following what the native connectors do. */
function isMysql(connector: string): boolean {
  return connector === 'mysql' || connector === 'mariadb';
}

function logical(s: ConnectSchema, connector: string): ColumnPlan | null {
  const st = sourceTypeOf(s);
  switch (s.name) {
    case 'org.apache.kafka.connect.data.Decimal': {
      const scale = intParam(s, 'scale') ?? 0;
      const precision = intParam(s, 'connect.decimal.precision');
      const store = decimalStoreType(precision, scale);
      if (!store) return plan(st, 'VARCHAR', 'text', (v) => decimalValueText(v, scale));
      return plan(st, store, 'cast', (v) => checkedDecimal(decimalValueText(v, scale), precision ?? 38, scale));
    }
    case 'io.debezium.data.VariableScaleDecimal':
      return plan(st, UNCONSTRAINED_NUMERIC, 'cast', (v) => checkedDecimal(variableScaleDecimalText(v), 38, 10));
    case 'org.apache.kafka.connect.data.Date':
    case 'io.debezium.time.Date':
      return plan(st, 'DATE', 'cast', (v) => dateText(Number(integerValue(v, 32))));
    case 'org.apache.kafka.connect.data.Time':
    case 'io.debezium.time.Time':
    case 'io.debezium.time.MicroTime':
    case 'io.debezium.time.NanoTime': {
      const unit = s.name.endsWith('MicroTime') ? 'us' : s.name.endsWith('NanoTime') ? 'ns' : 'ms';
      // MySQL's TIME is a duration (up to 838:59:59, negative too): the native connector keeps an INTERVAL.
      if (isMysql(connector)) return plan(st, 'INTERVAL', 'interval', duration(unit));
      return plan(st, 'TIME', 'cast', timeOfDay(unit));
    }
    case 'org.apache.kafka.connect.data.Timestamp':
    case 'io.debezium.time.Timestamp':
      return plan(st, 'TIMESTAMP', 'cast', timestamp('ms'));
    case 'io.debezium.time.MicroTimestamp':
      return plan(st, 'TIMESTAMP', 'cast', timestamp('us'));
    case 'io.debezium.time.NanoTimestamp':
      return plan(st, 'TIMESTAMP', 'cast', timestamp('ns'));
    case 'io.debezium.time.ZonedTimestamp':
      return plan(st, 'TIMESTAMPTZ', 'cast', zonedTimestamp);
    case 'io.debezium.time.ZonedTime':
      return plan(st, 'TIMETZ', 'cast', zonedTime);
    case 'io.debezium.time.IsoDate':
      return plan(st, 'DATE', 'cast', isoUtc('date'));
    case 'io.debezium.time.IsoTime':
      return plan(st, 'TIME', 'cast', isoUtc('time'));
    case 'io.debezium.time.IsoTimestamp':
      return plan(st, 'TIMESTAMP', 'cast', isoUtc('timestamp'));
    case 'io.debezium.time.MicroDuration':
      return plan(st, 'INTERVAL', 'interval', duration('us'));
    case 'io.debezium.time.NanoDuration':
      return plan(st, 'INTERVAL', 'interval', duration('ns'));
    case 'io.debezium.time.Interval':
      return plan(st, 'INTERVAL', 'interval', isoInterval);
    case 'io.debezium.time.Year':
      return plan(st, 'SMALLINT', 'cast', (v) => integerText(v, 16));
    case 'io.debezium.data.Json':
      return plan(st, 'JSON', 'cast', jsonDocumentText);
    case 'io.debezium.data.Uuid':
      return plan(st, 'UUID', 'cast', uuidText);
    case 'io.debezium.data.Enum':
    case 'io.debezium.data.EnumSet':
    case 'io.debezium.data.Xml':
      return plan(st, 'VARCHAR', 'text', stringText);
    case 'io.debezium.data.Bits': {
      if (s.type !== 'bytes') return null;
      if (isMysql(connector)) return plan(st, 'UBIGINT', 'cast', (v) => bitsValue(v).toString());
      // Postgres prints bit strings most significant bit first; bit(n) keeps its leading zeros.
      const length = intParam(s, 'length');
      const width = length !== null && length <= 65536 ? length : 0;
      return plan(st, 'VARCHAR', 'text', (v) => bitsValue(v).toString(2).padStart(width, '0'));
    }
    default:
      return null;
  }
}

function primitive(s: ConnectSchema): ColumnPlan {
  const st = sourceTypeOf(s);
  switch (s.type) {
    case 'int8':
      return plan(st, 'TINYINT', 'cast', (v) => integerText(v, 8));
    case 'int16':
      return plan(st, 'SMALLINT', 'cast', (v) => integerText(v, 16));
    case 'int32':
      return plan(st, 'INTEGER', 'cast', (v) => integerText(v, 32));
    case 'int64':
      return plan(st, 'BIGINT', 'cast', (v) => integerText(v, 64));
    case 'float32':
      return plan(st, 'FLOAT', 'cast', floatText);
    case 'float64':
      return plan(st, 'DOUBLE', 'cast', floatText);
    case 'boolean':
      return plan(st, 'BOOLEAN', 'cast', booleanText);
    case 'string':
      return plan(st, 'VARCHAR', 'text', stringText);
    case 'bytes':
      return plan(st, 'BLOB', 'bytea-hex', bytesText);
    default:
      return asJson(s);
  }
}

/** Integers and booleans go into a JSON list bare; decimals as strings, so no double ever holds them. */
const BARE_JSON = /^(TINYINT|SMALLINT|INTEGER|BIGINT|UBIGINT|BOOLEAN)$/;

function floatElement(v: JsonValue): string {
  const t = floatText(v);
  return /^-?\d/.test(t) ? t : JSON.stringify(t);
}

/**
 * Arrays of values that have a DuckDB type become lists: the value travels as a JSON array
 * (integers and booleans bare, everything else as its canonical text in a string), which the
 * store's 'pg-array' conversion casts to `<type>[]`. Arrays of binary, JSON or of values without
 * a list conversion stay JSON.
 */
function array(s: ConnectSchema, connector: string): ColumnPlan {
  const items = s.items ? planConnectColumn(s.items, connector) : null;
  const el = items?.spec;
  if (!items || !el || el.storeType === 'JSON' || el.conversion === 'bytea-hex') return asJson(s);
  const element =
    items.element ?? (BARE_JSON.test(el.storeType) ? items.write : el.storeType === 'FLOAT' || el.storeType === 'DOUBLE' ? floatElement : quoted(items.write));
  const writeList = (v: JsonValue): string => {
    if (!Array.isArray(v)) throw new ValueError(`expected an array, got ${stringifyJson(v).slice(0, 60)}`);
    return `[${v.map((x) => (x === null ? 'null' : element(x))).join(',')}]`;
  };
  return { spec: { name: '', sourceType: sourceTypeOf(s), storeType: `${el.storeType}[]`, conversion: 'pg-array' }, write: writeList, element: writeList };
}

/**
 * A Connect field's column: the store type and how each value becomes text. The semantic name
 * decides when Sluice knows it; otherwise the literal type does (so `io.debezium.data.Ltree`,
 * a string, is a VARCHAR). Structs and maps without a known name stay JSON.
 */
export function planConnectColumn(s: ConnectSchema, connector: string): ColumnPlan {
  if (s.name) {
    const p = logical(s, connector);
    if (p) return p;
  }
  if (s.type === 'array') return array(s, connector);
  return primitive(s);
}

/** Exact text of a schema default, when the store can take it as a column default. */
export function defaultText(p: ColumnPlan, v: JsonValue | undefined): string | undefined {
  if (v === undefined || v === null || p.spec.conversion === 'bytea-hex' || p.spec.conversion === 'pg-array') return undefined;
  try {
    return p.write(v);
  } catch {
    return undefined;
  }
}

