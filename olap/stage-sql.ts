import type { ColumnSpec } from '../core/change-record.js';
import { ident, literal } from '../core/sql.js';

/**
 * SQL that reads a staged CSV body (`op,<values>[,<old key values>]`) as typed columns. Types
 * that DuckDB parses from Postgres' text form are read typed by the CSV reader itself; the rest
 * are read as text and converted here.
 */
function readType(c: ColumnSpec): string {
  return c.conversion === 'cast' ? c.storeType : 'VARCHAR';
}

function convert(c: ColumnSpec, col: string): string {
  switch (c.conversion) {
    case 'bytea-hex':
      return `from_hex(substr(${col}, 3))`;
    case 'interval':
      // Postgres writes '+3 days' after a negative part; DuckDB wants no explicit plus.
      return `CAST(replace(${col}, '+', '') AS INTERVAL)`;
    case 'pg-array':
      return `CAST(CAST(${col} AS JSON) AS ${c.storeType})`;
    default:
      return col;
  }
}

export function oldKeyName(c: ColumnSpec): string {
  return `__old_${c.name}`;
}

export function readCsvSql(file: string, columns: readonly ColumnSpec[], withOldKey = false): string {
  const key = withOldKey ? columns.filter((c) => c.key) : [];
  const fields = [
    `'__op': 'VARCHAR'`,
    ...columns.map((c, i) => `'c${i}': ${literal(readType(c))}`),
    ...key.map((c, i) => `'k${i}': ${literal(readType(c))}`),
  ];
  const select = [
    `__op`,
    ...columns.map((c, i) => `${convert(c, `c${i}`)} AS ${ident(c.name)}`),
    ...key.map((c, i) => `${convert(c, `k${i}`)} AS ${ident(oldKeyName(c))}`),
  ];
  return (
    `SELECT ${select.join(', ')} FROM read_csv(${literal(file)}, header = false, auto_detect = false, ` +
    `delim = ',', quote = '"', escape = '"', allow_quoted_nulls = false, new_line = '\\n', ` +
    `strict_mode = true, columns = {${fields.join(', ')}})`
  );
}
