import type { ValueConversion } from '../../core/change-record.js';

export interface StoreColumnType {
  readonly storeType: string;
  readonly conversion: ValueConversion;
}

/**
 * Postgres type (as `format_type` prints it) to the replica's DuckDB type. Values travel in
 * Postgres' text form, so for most types the store just casts; the exceptions carry their own
 * conversion. Anything unknown (enums, domains over text, inet, geometric types...) is kept as
 * its exact text rather than guessed at.
 */
const SCALARS: Record<string, string> = {
  smallint: 'SMALLINT',
  integer: 'INTEGER',
  bigint: 'BIGINT',
  real: 'FLOAT',
  'double precision': 'DOUBLE',
  boolean: 'BOOLEAN',
  text: 'VARCHAR',
  date: 'DATE',
  'timestamp without time zone': 'TIMESTAMP',
  'timestamp with time zone': 'TIMESTAMPTZ',
  'time without time zone': 'TIME',
  'time with time zone': 'TIMETZ',
  interval: 'INTERVAL',
  json: 'JSON',
  jsonb: 'JSON',
  uuid: 'UUID',
  oid: 'UBIGINT',
};

/**
 * numeric without a declared precision has no DuckDB equivalent that is both exact and
 * unbounded; DECIMAL(38,10) holds 28 integer and 10 fractional digits exactly.
 */
export const UNCONSTRAINED_NUMERIC = 'DECIMAL(38,10)';

function scalar(pgType: string): string {
  const base = pgType.replace(/\(\d+\)$/, '');
  if (SCALARS[base]) return SCALARS[base];
  // timestamp(3) with time zone and friends: precision sits in the middle.
  const ts = pgType.replace(/\(\d+\)/, '');
  if (SCALARS[ts]) return SCALARS[ts];
  if (/^character varying|^character\b|^"char"$|^name$|^citext$/.test(pgType)) return 'VARCHAR';
  const num = /^numeric\((\d+),(\d+)\)$/.exec(pgType);
  if (num) return Number(num[1]) <= 38 ? `DECIMAL(${num[1]},${num[2]})` : 'VARCHAR';
  if (pgType === 'numeric') return UNCONSTRAINED_NUMERIC;
  if (pgType === 'bytea') return 'BLOB';
  return 'VARCHAR';
}

export function mapPostgresType(pgType: string): StoreColumnType {
  if (pgType.endsWith('[]')) {
    const element = pgType.replace(/(\[\])+$/, '');
    const dims = (pgType.length - element.length) / 2;
    const el = scalar(element);
    // Binary elements do not survive the JSON route; keep such arrays as text.
    if (el === 'BLOB') return { storeType: 'VARCHAR', conversion: 'text' };
    return { storeType: el + '[]'.repeat(dims), conversion: 'pg-array' };
  }
  const storeType = scalar(pgType);
  if (storeType === 'BLOB') return { storeType, conversion: 'bytea-hex' };
  if (storeType === 'INTERVAL') return { storeType, conversion: 'interval' };
  return { storeType, conversion: storeType === 'VARCHAR' ? 'text' : 'cast' };
}

/** Whether array elements of this store type are written as bare JSON numbers/booleans. */
export function isBareJsonElement(storeType: string): 'number' | 'boolean' | false {
  const el = storeType.replace(/(\[\])+$/, '');
  if (/^(SMALLINT|INTEGER|BIGINT|UBIGINT|FLOAT|DOUBLE|DECIMAL)/.test(el)) return 'number';
  if (el === 'BOOLEAN') return 'boolean';
  return false;
}
