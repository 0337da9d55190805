import { type JsonObject, type JsonValue, isJsonObject } from './json-text.js';

/**
 * A Kafka Connect schema as the JSON converter writes it (`schemas.enable=true`): type, optional,
 * name (the logical/semantic type), parameters, default; fields for structs, items for arrays,
 * keys/values for maps. Read leniently: type names in any case, `"optional": "false"` as text
 * (Debezium's own documentation shows both), and `float32`/`float64` for `float`/`double`.
 */
export type ConnectType = 'int8' | 'int16' | 'int32' | 'int64' | 'float32' | 'float64' | 'boolean' | 'string' | 'bytes' | 'array' | 'map' | 'struct';

export interface ConnectSchema {
  readonly type: ConnectType;
  readonly optional: boolean;
  readonly name: string | null;
  readonly parameters: Readonly<Record<string, string>>;
  readonly default: JsonValue | undefined;
  /** Structs: the fields in order, each with its name. */
  readonly fields: readonly ConnectField[];
  readonly items: ConnectSchema | null;
  readonly keys: ConnectSchema | null;
  readonly values: ConnectSchema | null;
}

export interface ConnectField extends ConnectSchema {
  readonly field: string;
}

const TYPES: Record<string, ConnectType> = {
  int8: 'int8',
  int16: 'int16',
  int32: 'int32',
  int64: 'int64',
  float: 'float32',
  float32: 'float32',
  double: 'float64',
  float64: 'float64',
  boolean: 'boolean',
  string: 'string',
  bytes: 'bytes',
  array: 'array',
  map: 'map',
  struct: 'struct',
};

/** What is wrong with a schema, and where (a JSON path below the schema's root). */
export class SchemaShapeError extends Error {
  constructor(readonly path: string, why: string) {
    super(why);
  }
}

function flag(v: JsonValue | undefined): boolean {
  return v === true || v === 'true';
}

export function readConnectSchema(raw: JsonValue, path: string): ConnectSchema {
  if (!isJsonObject(raw)) throw new SchemaShapeError(path, 'a schema must be an object');
  const t = typeof raw.type === 'string' ? TYPES[raw.type.toLowerCase()] : undefined;
  if (!t) throw new SchemaShapeError(`${path}.type`, `unknown Kafka Connect type ${JSON.stringify(raw.type ?? null)}`);
  const parameters: Record<string, string> = {};
  if (isJsonObject(raw.parameters)) {
    for (const [k, v] of Object.entries(raw.parameters)) if (v !== null) parameters[k] = typeof v === 'string' ? v : String(v);
  }
  let fields: ConnectField[] = [];
  if (t === 'struct') {
    if (!Array.isArray(raw.fields)) throw new SchemaShapeError(`${path}.fields`, 'a struct schema needs a fields array');
    fields = raw.fields.map((f, i) => {
      const p = `${path}.fields[${i}]`;
      // The JSON converter writes {"field": name, "type": ...}; the Postgres connector page's key
      // example shows {"name": name, "schema": {...}}. Both are read.
      const nested = isJsonObject(f) && f.type === undefined && isJsonObject(f.schema);
      const s = nested ? readConnectSchema((f as JsonObject).schema, `${p}.schema`) : readConnectSchema(f, p);
      const name = nested ? ((f as JsonObject).field ?? (f as JsonObject).name) : (f as JsonObject).field;
      if (typeof name !== 'string') throw new SchemaShapeError(`${p}.field`, 'a struct field needs a name');
      return { ...s, field: name };
    });
  }
  return {
    type: t,
    optional: flag(raw.optional),
    name: typeof raw.name === 'string' ? raw.name : null,
    parameters,
    default: raw.default,
    fields,
    items: t === 'array' ? readConnectSchema(raw.items ?? null, `${path}.items`) : null,
    keys: t === 'map' ? readConnectSchema(raw.keys ?? null, `${path}.keys`) : null,
    values: t === 'map' ? readConnectSchema(raw.values ?? null, `${path}.values`) : null,
  };
}

export function fieldOf(s: ConnectSchema | null, name: string): ConnectField | undefined {
  return s?.fields.find((f) => f.field === name);
}
