import type mysql from 'mysql2/promise';
import type { CapturedTable } from '../../core/captured-table.js';
import type { ColumnSpec } from '../../core/change-record.js';
import { SluiceError } from '../../core/errors.js';
import { type MysqlColumnType, mapMysqlType } from './type-map.js';

export interface MysqlTable extends CapturedTable {
  /** Per column, how values are written; parallel to `columns`. */
  readonly kinds: readonly MysqlColumnType['kind'][];
}

export function splitMysqlTable(spec: string, defaultDb: string): { db: string; name: string } {
  const dot = spec.indexOf('.');
  return dot < 0 ? { db: defaultDb, name: spec } : { db: spec.slice(0, dot), name: spec.slice(dot + 1) };
}

/** `items` of the connection's database is `items`; tables of other databases keep theirs as a prefix. */
export function mysqlReplicaName(db: string, name: string, defaultDb: string): string {
  return (db === defaultDb ? name : `${db}_${name}`).toLowerCase();
}

/**
 * A literal default as text; undefined for none, NULL, or an expression (CURRENT_TIMESTAMP...).
 * MariaDB quotes string literals in COLUMN_DEFAULT, MySQL does not; numbers are bare in both.
 */
function constantDefault(raw: unknown): string | undefined {
  if (raw === null || raw === undefined) return undefined;
  const s = String(raw);
  if (/^'.*'$/s.test(s)) return s.slice(1, -1).replace(/''/g, "'").replace(/\\(.)/g, '$1');
  if (/^-?\d+(\.\d+)?$/.test(s)) return s;
  return undefined;
}

/** MariaDB's JSON is LONGTEXT plus a `json_valid(col)` check; MySQL has a real JSON type. */
async function mariadbJsonColumns(conn: mysql.Connection, db: string, table: string): Promise<Set<string>> {
  try {
    const [rows] = await conn.query<mysql.RowDataPacket[]>(
      `SELECT CHECK_CLAUSE AS clause FROM information_schema.CHECK_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = ? AND TABLE_NAME = ?`,
      [db, table],
    );
    const out = new Set<string>();
    for (const r of rows) {
      const m = /^json_valid\(`((?:[^`]|``)+)`\)$/i.exec(String(r.clause).trim());
      if (m) out.add(m[1].replace(/``/g, '`'));
    }
    return out;
  } catch {
    return new Set(); // MySQL: CHECK_CONSTRAINTS has no TABLE_NAME, and JSON is its own type there
  }
}

/**
 * The table as information_schema has it now. Rows are identified by the primary key; a table
 * without one is a multiset (the binlog's full row images carry every column of the old row).
 */
export async function describeMysqlTable(conn: mysql.Connection, spec: string, defaultDb: string): Promise<MysqlTable> {
  const { db, name } = splitMysqlTable(spec, defaultDb);
  const [cols] = await conn.query<mysql.RowDataPacket[]>(
    `SELECT COLUMN_NAME AS name, DATA_TYPE AS dataType, COLUMN_TYPE AS columnType, COLUMN_KEY AS columnKey,
            COLUMN_DEFAULT AS columnDefault
       FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION`,
    [db, name],
  );
  if (cols.length === 0) throw new SluiceError('SLUICE_MYSQL_TABLE_MISSING', `table ${db}.${name} does not exist`);
  const [keys] = await conn.query<mysql.RowDataPacket[]>(
    `SELECT COLUMN_NAME AS name FROM information_schema.KEY_COLUMN_USAGE
      WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND CONSTRAINT_NAME = 'PRIMARY' ORDER BY ORDINAL_POSITION`,
    [db, name],
  );
  const keyColumns = keys.map((k) => String(k.name));
  const jsonColumns = await mariadbJsonColumns(conn, db, name);
  const kinds: MysqlColumnType['kind'][] = [];
  const columns: ColumnSpec[] = cols.map((c) => {
    const t = mapMysqlType(String(c.dataType), String(c.columnType), jsonColumns.has(String(c.name)));
    kinds.push(t.kind);
    const dflt = constantDefault(c.columnDefault);
    return {
      name: String(c.name),
      sourceType: String(c.columnType),
      storeType: t.storeType,
      conversion: t.conversion,
      key: keyColumns.includes(String(c.name)),
      ...(dflt === undefined ? {} : { default: dflt }),
    };
  });
  return {
    connector: 'mysql',
    database: db,
    schema: db,
    name,
    replicaName: mysqlReplicaName(db, name, defaultDb),
    identity: keyColumns.length > 0 ? 'key' : 'full',
    keyColumns,
    columns,
    kinds,
  };
}
