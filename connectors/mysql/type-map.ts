import type { ValueConversion } from '../../core/change-record.js';

export interface MysqlColumnType {
  readonly storeType: string;
  readonly conversion: ValueConversion;
  /** How a value of this column is written (see value-writer.ts). */
  readonly kind: 'plain' | 'bool' | 'bits' | 'binary' | 'timestamp' | 'date' | 'datetime' | 'set' | 'time';
}

const INTS: Record<string, [string, string]> = {
  tinyint: ['TINYINT', 'UTINYINT'],
  smallint: ['SMALLINT', 'USMALLINT'],
  mediumint: ['INTEGER', 'UINTEGER'],
  int: ['INTEGER', 'UINTEGER'],
  integer: ['INTEGER', 'UINTEGER'],
  bigint: ['BIGINT', 'UBIGINT'],
};

/**
 * MySQL/MariaDB column (information_schema DATA_TYPE and COLUMN_TYPE) to the replica's type.
 * - TINYINT(1), MySQL's BOOLEAN, is BOOLEAN (any non-zero value is true).
 * - DATETIME is a wall-clock time without zone: TIMESTAMP. TIMESTAMP is an instant: TIMESTAMPTZ,
 *   read in UTC. Zero dates ('0000-00-00') have no DuckDB value and become NULL.
 * - TIME is a duration (-838:59:59 to 838:59:59), not a time of day: INTERVAL.
 * - ENUM is its label; SET is its labels, comma-separated as MySQL prints them.
 * - JSON is JSON; on MariaDB that is a LONGTEXT with a json_valid() check, which the caller detects.
 */
export function mapMysqlType(dataType: string, columnType: string, isJson = false): MysqlColumnType {
  const dt = isJson ? 'json' : dataType.toLowerCase();
  const ct = columnType.toLowerCase();
  const unsigned = ct.includes('unsigned');
  if (dt === 'tinyint' && /^tinyint\(1\)/.test(ct)) return { storeType: 'BOOLEAN', conversion: 'cast', kind: 'bool' };
  if (INTS[dt]) return { storeType: INTS[dt][unsigned ? 1 : 0], conversion: 'cast', kind: 'plain' };
  if (dt === 'decimal' || dt === 'numeric') {
    const m = /\((\d+)(?:,(\d+))?\)/.exec(ct);
    const p = Number(m?.[1] ?? 10);
    const s = Number(m?.[2] ?? 0);
    return p <= 38 ? { storeType: `DECIMAL(${p},${s})`, conversion: 'cast', kind: 'plain' } : { storeType: 'VARCHAR', conversion: 'text', kind: 'plain' };
  }
  if (dt === 'float') return { storeType: 'FLOAT', conversion: 'cast', kind: 'plain' };
  if (dt === 'double' || dt === 'real') return { storeType: 'DOUBLE', conversion: 'cast', kind: 'plain' };
  if (dt === 'bit') return ct === 'bit(1)' ? { storeType: 'BOOLEAN', conversion: 'cast', kind: 'bits' } : { storeType: 'UBIGINT', conversion: 'cast', kind: 'bits' };
  if (dt === 'year') return { storeType: 'SMALLINT', conversion: 'cast', kind: 'plain' };
  if (dt === 'date') return { storeType: 'DATE', conversion: 'cast', kind: 'date' };
  if (dt === 'datetime') return { storeType: 'TIMESTAMP', conversion: 'cast', kind: 'datetime' };
  if (dt === 'timestamp') return { storeType: 'TIMESTAMPTZ', conversion: 'cast', kind: 'timestamp' };
  if (dt === 'time') return { storeType: 'INTERVAL', conversion: 'interval', kind: 'time' };
  if (dt === 'json') return { storeType: 'JSON', conversion: 'cast', kind: 'plain' };
  if (dt === 'set') return { storeType: 'VARCHAR', conversion: 'text', kind: 'set' };
  if (/^(binary|varbinary|tinyblob|blob|mediumblob|longblob)$/.test(dt)) return { storeType: 'BLOB', conversion: 'bytea-hex', kind: 'binary' };
  if (dt === 'uuid') return { storeType: 'UUID', conversion: 'cast', kind: 'plain' };
  return { storeType: 'VARCHAR', conversion: 'text', kind: 'plain' };
}
