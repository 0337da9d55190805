import { SluiceError } from '../../core/errors.js';
import { ident } from '../../core/sql.js';
import { catalogColumnType } from './type-map.js';

/** Where the emulated pg_catalog lives: the in-memory catalog, which stays writable after lock-down. */
export const PG_SCHEMA = 'memory.pg_compat';
/** Where the emulated information_schema lives. */
export const INFO_SCHEMA = 'memory.pg_information_schema';

export interface RelationDef {
  /** FROM clause body the rows come from; without one the relation is always empty. */
  readonly from?: string;
  /** Column expressions by column name; a column not named gets its type's neutral value. */
  readonly columns?: Readonly<Record<string, string>>;
  /**
   * Row order, for relations whose rows clients read without ORDER BY and Postgres happens to
   * return in a stable order (a table's columns by number).
   */
  readonly orderBy?: string;
}

export interface ShapeColumn {
  readonly name: string;
  readonly pgType: string;
}

/** `'oid oid, relname name, ...'` (see the *-shapes.ts files) as columns. */
export function parseShape(shape: string): ShapeColumn[] {
  return shape.split(', ').map((c) => {
    const at = c.indexOf(' ');
    return { name: c.slice(0, at), pgType: c.slice(at + 1) };
  });
}

/**
 * What a catalog column holds when the emulation has nothing to say: Postgres' catalogs keep
 * their flags and counters NOT NULL, so false and 0 read as Postgres would show them; text,
 * arrays and times are NULL.
 */
function neutral(pgType: string, duckType: string): string {
  if (duckType === 'BOOLEAN') return 'false';
  if (['SMALLINT', 'INTEGER', 'BIGINT', 'FLOAT', 'DOUBLE'].includes(duckType) && pgType !== 'xid') return '0';
  return 'NULL';
}

/**
 * `CREATE OR REPLACE VIEW` for one emulated relation: every column of the Postgres relation,
 * in Postgres' order and with the DuckDB type that stands for its Postgres type, so that
 * `SELECT *` and column lists written for Postgres bind unchanged.
 */
export function relationSql(target: string, shape: string, def: RelationDef): string {
  const columns = parseShape(shape);
  const given = def.columns ?? {};
  for (const name of Object.keys(given)) {
    if (!columns.some((c) => c.name === name)) {
      throw new SluiceError('SLUICE_INTERNAL', `catalog emulation: ${target} has no column ${name}`);
    }
  }
  const list = columns.map((c) => {
    const type = catalogColumnType(c.pgType);
    const expr = given[c.name] ?? (def.from ? neutral(c.pgType, type) : 'NULL');
    return `CAST(${expr} AS ${type}) AS ${ident(c.name)}`;
  });
  const body = def.from ? `FROM ${def.from}${def.orderBy ? ` ORDER BY ${def.orderBy}` : ''}` : 'WHERE false';
  return `CREATE OR REPLACE VIEW ${target} AS SELECT ${list.join(',\n  ')}\n${body}`;
}
