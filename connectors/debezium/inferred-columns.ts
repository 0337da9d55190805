import type { ColumnSpec } from '../../core/change-record.js';
import type { ColumnPlan } from './column-types.js';
import { type JsonValue, JsonNumber, stringifyJson } from './json-text.js';
import { booleanText, floatText, integerText } from './value-text.js';

/**
 * Column types guessed from values, for topics written with `schemas.enable=false`. JSON has
 * far fewer types than Debezium sends, so the guess is only what the JSON shows:
 *
 * - integer -> BIGINT, number with a fraction or exponent -> DOUBLE, boolean -> BOOLEAN,
 *   string -> VARCHAR, object/array -> JSON. A column seen only as null is VARCHAR for now.
 * - Types widen as values arrive (integer then 1.5: DOUBLE; number then "x": VARCHAR), each
 *   widening a schema change the store applies in place.
 * - What a schema would have said is lost: a Decimal (base64 bytes), a bytea, a UUID, a
 *   ZonedTimestamp are strings; a Date (days) or MicroTimestamp is an integer; VariableScaleDecimal
 *   is an object. They arrive as VARCHAR, BIGINT and JSON holding Debezium's encoding, never
 *   converted. Use `schemas.enable=true` where exact types matter.
 */
export type InferredKind = 'null' | 'boolean' | 'integer' | 'number' | 'string' | 'json';

const STORE: Record<InferredKind, string> = {
  null: 'VARCHAR',
  boolean: 'BOOLEAN',
  integer: 'BIGINT',
  number: 'DOUBLE',
  string: 'VARCHAR',
  json: 'JSON',
};

const INT64 = /^-?\d{1,19}$/;

export function kindOf(v: JsonValue | undefined): InferredKind {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'boolean') return 'boolean';
  if (typeof v === 'number') return 'integer';
  if (v instanceof JsonNumber) {
    if (!v.isInteger || !INT64.test(v.text)) return 'number';
    const n = BigInt(v.text);
    return n >= -(2n ** 63n) && n < 2n ** 63n ? 'integer' : 'number';
  }
  if (typeof v === 'string') return 'string';
  return 'json';
}

/** The narrowest kind that holds values of both. */
export function widen(a: InferredKind, b: InferredKind): InferredKind {
  if (a === b || b === 'null') return a;
  if (a === 'null') return b;
  if ((a === 'integer' && b === 'number') || (a === 'number' && b === 'integer')) return 'number';
  return 'string';
}

/** Reads back the kind a stored inferred column had (its sourceType is `json:<kind>`). */
export function storedKind(c: ColumnSpec): InferredKind {
  const m = /^json:(\w+)$/.exec(c.sourceType);
  if (m && m[1] in STORE) return m[1] as InferredKind;
  const byStore = (Object.keys(STORE) as InferredKind[]).find((k) => k !== 'null' && STORE[k] === c.storeType);
  return byStore ?? 'string';
}

function anyText(v: JsonValue): string {
  return typeof v === 'string' ? v : stringifyJson(v);
}

export function inferredPlan(kind: InferredKind): ColumnPlan {
  const spec = { name: '', sourceType: `json:${kind}`, storeType: STORE[kind], conversion: kind === 'null' || kind === 'string' ? 'text' : 'cast' } as const;
  switch (kind) {
    case 'boolean':
      return { spec, write: booleanText };
    case 'integer':
      return { spec, write: (v) => integerText(v, 64) };
    case 'number':
      return { spec, write: floatText };
    case 'json':
      return { spec, write: stringifyJson };
    default:
      return { spec, write: anyText };
  }
}
