import { literal } from '../../core/sql.js';
import { TypeOid, pgTypeByOid } from './pg-types.js';

/**
 * DuckDB type (as duckdb_columns().data_type spells it) to the Postgres type clients are told
 * about. Unsigned and 128-bit integers go to the next wider signed type or numeric, so every
 * value fits; anything without a Postgres counterpart is text.
 */
const SCALARS: Readonly<Record<string, number>> = {
  BOOLEAN: TypeOid.bool,
  TINYINT: TypeOid.int2,
  UTINYINT: TypeOid.int2,
  SMALLINT: TypeOid.int2,
  USMALLINT: TypeOid.int4,
  INTEGER: TypeOid.int4,
  UINTEGER: TypeOid.int8,
  BIGINT: TypeOid.int8,
  UBIGINT: TypeOid.numeric,
  HUGEINT: TypeOid.numeric,
  UHUGEINT: TypeOid.numeric,
  VARINT: TypeOid.numeric,
  BIGNUM: TypeOid.numeric,
  FLOAT: TypeOid.float4,
  DOUBLE: TypeOid.float8,
  VARCHAR: TypeOid.text,
  JSON: TypeOid.json,
  BLOB: TypeOid.bytea,
  DATE: TypeOid.date,
  TIME: TypeOid.time,
  TIMESTAMP: TypeOid.timestamp,
  TIMESTAMP_S: TypeOid.timestamp,
  TIMESTAMP_MS: TypeOid.timestamp,
  TIMESTAMP_NS: TypeOid.timestamp,
  'TIMESTAMP WITH TIME ZONE': TypeOid.timestamptz,
  INTERVAL: TypeOid.interval,
  UUID: TypeOid.uuid,
};

/** Parameterised DuckDB types, by the text before their `(`. */
const PREFIXES: readonly (readonly [prefix: string, oid: number])[] = [
  ['DECIMAL(', TypeOid.numeric],
  // STRUCT and MAP values are sent in DuckDB's literal form ({'a': 1}), which is not JSON.
  ['STRUCT(', TypeOid.text],
  ['MAP(', TypeOid.text],
  ['ENUM(', TypeOid.text],
];

const ARRAY_SUFFIX = /(\[[0-9]*\])+$/;
const DECIMAL = /^DECIMAL\((\d+),\s*(\d+)\)/;

export interface PgTypeRef {
  readonly oid: number;
  /** atttypmod: `((precision << 16) | scale) + 4` for numeric, else -1. */
  readonly typmod: number;
}

function scalarOid(duckType: string): number {
  const exact = SCALARS[duckType];
  if (exact !== undefined) return exact;
  return PREFIXES.find(([p]) => duckType.startsWith(p))?.[1] ?? TypeOid.text;
}

/**
 * The Postgres type of a DuckDB column or result type: lists and fixed-size arrays (nested
 * ones too, as Postgres arrays are multi-dimensional) become the element's array type.
 */
export function duckDbTypeToPg(duckType: string): PgTypeRef {
  const t = duckType.trim().toUpperCase();
  const element = t.replace(ARRAY_SUFFIX, '');
  const elementOid = scalarOid(element);
  const oid = element === t ? elementOid : (pgTypeByOid(elementOid)?.array ?? 1009);
  const m = DECIMAL.exec(element);
  return { oid, typmod: m ? ((Number(m[1]) << 16) | Number(m[2])) + 4 : -1 };
}

/**
 * The same mapping as SQL over a column holding DuckDB type names, for the catalog views.
 * Generated from the tables above so the catalog and `duckDbTypeToPg` cannot disagree.
 */
export function duckTypeOidSql(col: string): string {
  const scalar = (e: string, array: boolean): string => {
    const pick = (oid: number): number => (array ? (pgTypeByOid(oid)?.array ?? 1009) : oid);
    const exact = Object.entries(SCALARS).map(([k, oid]) => `WHEN ${literal(k)} THEN ${pick(oid)}`).join(' ');
    const prefixed = PREFIXES.map(([p, oid]) => `WHEN starts_with(${e}, ${literal(p)}) THEN ${pick(oid)}`).join(' ');
    return `CASE ${e} ${exact} ELSE CASE ${prefixed} ELSE ${pick(TypeOid.text)} END END`;
  };
  const element = `regexp_replace(${col}, '${ARRAY_SUFFIX.source}', '')`;
  return `(CASE WHEN ends_with(${col}, ']') THEN ${scalar(element, true)} ELSE ${scalar(col, false)} END)`;
}

/** atttypmod of a column holding a DuckDB type name, as SQL. */
export function duckTypeModSql(col: string): string {
  const re = literal(DECIMAL.source);
  return `(CASE WHEN regexp_matches(${col}, ${re}) THEN ((CAST(regexp_extract(${col}, ${re}, 1) AS INTEGER) << 16)
    | CAST(regexp_extract(${col}, ${re}, 2) AS INTEGER)) + 4 ELSE -1 END)`;
}

/**
 * The DuckDB type an emulated catalog column gets for its Postgres type. Object references
 * are oids (BIGINT, as oids are unsigned 32-bit), except regproc, which the emulation keeps
 * as the function's name: clients only compare it with `'name'::regproc` or print it.
 */
export function catalogColumnType(pgType: string): string {
  if (pgType.endsWith('[]')) return `${catalogColumnType(pgType.slice(0, -2))}[]`;
  switch (pgType) {
    case 'boolean': return 'BOOLEAN';
    case 'smallint': return 'SMALLINT';
    case 'integer': case 'cardinal_number': return 'INTEGER';
    case 'bigint': return 'BIGINT';
    case 'real': return 'FLOAT';
    case 'double precision': case 'numeric': return 'DOUBLE';
    case 'oid': case 'regclass': case 'regtype': case 'regrole': case 'regnamespace': case 'xid': case 'xid8': case 'cid': return 'BIGINT';
    case 'int2vector': return 'SMALLINT[]';
    case 'oidvector': return 'BIGINT[]';
    case 'timestamp with time zone': case 'time_stamp': return 'TIMESTAMPTZ';
    case 'interval': return 'INTERVAL';
    case 'bytea': return 'BLOB';
    // name, text, "char", regproc, pg_node_tree, aclitem, inet, pg_lsn, anyarray, the
    // statistics types and information_schema's text domains: all text.
    default: return 'VARCHAR';
  }
}
