import { BUILTIN_TYPES } from './builtin-types.js';

/** A row of the emulated pg_type, as Postgres 15 has it for its built-in types. */
export interface PgType {
  readonly oid: number;
  readonly name: string;
  readonly len: number;
  readonly byval: boolean;
  readonly type: string;
  readonly category: string;
  readonly preferred: boolean;
  readonly elem: number;
  readonly array: number;
  readonly input: string;
  readonly output: string;
  readonly receive: string;
  readonly send: string;
  readonly align: string;
  readonly storage: string;
  readonly collation: number;
  readonly delim: string;
  /** What format_type(oid, NULL) prints: `integer`, `character varying`, `text[]`. */
  readonly formatName: string;
}

function ioFunctions(input: string): Pick<PgType, 'input' | 'output' | 'receive' | 'send'> {
  // Every built-in type's functions are named after its input function: int4in/int4out/
  // int4recv/int4send, json_in/json_out/json_recv/json_send (checked against pg_type when the
  // table was generated).
  const base = input.replace(/in$/, '');
  return { input, output: `${base}out`, receive: `${base}recv`, send: `${base}send` };
}

function build(): PgType[] {
  const out: PgType[] = [];
  for (const [oid, name, len, byval, type, category, preferred, elem, array, input, align, storage, collation, formatName] of BUILTIN_TYPES) {
    const base: PgType = {
      oid, name, len, byval: byval === 1, type, category, preferred: preferred === 1, elem, array, ...ioFunctions(input),
      align, storage, collation, delim: name === 'box' ? ';' : ',', formatName: formatName || name,
    };
    out.push(base);
    if (array === 0) continue;
    // Postgres makes the array type of every base type the same way: `_name`, elements of
    // `name`, varlena, array_in/array_out, aligned as strictly as its element needs.
    out.push({
      oid: array, name: `_${name}`, len: -1, byval: false, type: 'b', category: 'A', preferred: false, elem: oid, array: 0,
      input: 'array_in', output: 'array_out', receive: 'array_recv', send: 'array_send',
      align: align === 'd' ? 'd' : 'i', storage: 'x', collation, delim: ',', formatName: `${base.formatName}[]`,
    });
  }
  return out.sort((a, b) => a.oid - b.oid);
}

export const PG_TYPES: readonly PgType[] = build();

const BY_OID = new Map(PG_TYPES.map((t) => [t.oid, t]));

export function pgTypeByOid(oid: number): PgType | undefined {
  return BY_OID.get(oid);
}

/** Oids of the types used by name in this module's callers. */
export const TypeOid = {
  bool: 16, bytea: 17, char: 18, name: 19, int8: 20, int2: 21, int4: 23, text: 25, oid: 26, json: 114,
  float4: 700, float8: 701, unknown: 705, varchar: 1043, date: 1082, time: 1083, timestamp: 1114,
  timestamptz: 1184, interval: 1186, timetz: 1266, numeric: 1700, uuid: 2950, jsonb: 3802,
} as const;
