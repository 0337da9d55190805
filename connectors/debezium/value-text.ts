import { DECIMAL_LITERAL, base64Bytes, decimalText, unscaledValue } from './decimal-text.js';
import { type JsonValue, JsonNumber, isJsonObject, numberText, stringifyJson } from './json-text.js';

/**
 * Readers of single JSON values into canonical text, one per encoding the JSON converter uses.
 * Each throws ValueError, which the row writer turns into an error naming the message and field.
 */
export class ValueError extends Error {}

function show(v: JsonValue): string {
  const s = stringifyJson(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

const INT_RANGE: Record<number, [bigint, bigint]> = {
  8: [-128n, 127n],
  16: [-32768n, 32767n],
  32: [-2147483648n, 2147483647n],
  64: [-9223372036854775808n, 9223372036854775807n],
};

/** An integer of `bits` bits, as exact digits. Numeric strings are accepted (Debezium's docs show `"id": "1"`). */
export function integerValue(v: JsonValue, bits: 8 | 16 | 32 | 64): bigint {
  let text: string;
  if (typeof v === 'number' || v instanceof JsonNumber) text = numberText(v);
  else if (typeof v === 'string') text = v.trim();
  else throw new ValueError(`expected an int${bits}, got ${show(v)}`);
  if (!/^-?\d+$/.test(text)) throw new ValueError(`expected an int${bits}, got ${show(v)}`);
  const n = BigInt(text);
  const [lo, hi] = INT_RANGE[bits];
  if (n < lo || n > hi) throw new ValueError(`${text} is out of the int${bits} range`);
  return n;
}

export function integerText(v: JsonValue, bits: 8 | 16 | 32 | 64): string {
  // The common case, a JSON integer in range, skips BigInt (the parser only gives exact integers as numbers).
  if (typeof v === 'number' && Number.isInteger(v) && (bits === 64 || Math.abs(v) < 2 ** (bits - 1))) return String(v);
  return integerValue(v, bits).toString();
}

/** Floats; the JSON converter writes NaN and the infinities as strings. */
export function floatText(v: JsonValue): string {
  if (typeof v === 'number' || v instanceof JsonNumber) return numberText(v);
  if (typeof v === 'string' && (/^(NaN|-?Infinity)$/.test(v) || DECIMAL_LITERAL.test(v))) return v;
  throw new ValueError(`expected a number, got ${show(v)}`);
}

export function booleanText(v: JsonValue): string {
  if (v === true || v === 'true') return 'true';
  if (v === false || v === 'false') return 'false';
  throw new ValueError(`expected a boolean, got ${show(v)}`);
}

export function stringText(v: JsonValue): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || v instanceof JsonNumber) return typeof v === 'object' ? v.text : String(v);
  throw new ValueError(`expected a string, got ${show(v)}`);
}

export function bytesValue(v: JsonValue): Buffer {
  const b = typeof v === 'string' ? base64Bytes(v) : null;
  if (!b) throw new ValueError(`expected base64 bytes, got ${show(v)}`);
  return b;
}

/** Bytes as DuckDB's hex escape text, which the store's 'bytea-hex' conversion reads. */
export function bytesText(v: JsonValue): string {
  return `\\x${bytesValue(v).toString('hex')}`;
}

/** org.apache.kafka.connect.data.Decimal: base64 bytes (the default), or a number with `decimal.format=NUMERIC`. */
export function decimalValueText(v: JsonValue, scale: number): string {
  if (typeof v === 'string') {
    const b = base64Bytes(v);
    if (!b) throw new ValueError(`expected a Decimal as base64 bytes, got ${show(v)}`);
    return decimalText(unscaledValue(b), scale);
  }
  if (typeof v === 'number' || v instanceof JsonNumber) return numberText(v);
  throw new ValueError(`expected a Decimal, got ${show(v)}`);
}

/** io.debezium.data.VariableScaleDecimal: `{"scale": s, "value": <base64 bytes>}`. */
export function variableScaleDecimalText(v: JsonValue): string {
  if (!isJsonObject(v)) throw new ValueError(`expected a VariableScaleDecimal {scale, value}, got ${show(v)}`);
  const scale = Number(integerValue(v.scale ?? null, 32));
  const b = typeof v.value === 'string' ? base64Bytes(v.value) : null;
  if (!b) throw new ValueError(`expected VariableScaleDecimal value as base64 bytes, got ${show(v.value ?? null)}`);
  return decimalText(unscaledValue(b), scale);
}

/** JSON text (io.debezium.data.Json and friends), checked here so a bad document names its message. */
export function jsonDocumentText(v: JsonValue): string {
  if (typeof v !== 'string') return stringifyJson(v);
  try {
    JSON.parse(v);
  } catch {
    throw new ValueError(`expected a JSON document, got ${show(v)}`);
  }
  return v;
}
