import { classifyStatement, refreshPgCatalog, searchPathOf, translatePostgresQuery } from '../../olap/pg-catalog/index.js';
import { ident, literal } from '../../core/sql.js';
import type { PgDialect } from './pg-dialect.js';

const STORE = 'sluice';
const HIDDEN = ['main', '_sluice', 'information_schema', 'pg_catalog'];

async function storeSchemas(conn: Parameters<PgDialect['refreshCatalog']>[0]): Promise<string[]> {
  const r = await conn.runAndReadAll(`SELECT schema_name FROM duckdb_schemas() WHERE database_name = ${literal(STORE)} ORDER BY schema_name`);
  return r.getRows().map(([name]) => String(name));
}

/** Postgres SQL on the store: statements split by Postgres's lexical rules, catalogs emulated. */
export const postgresDialect: PgDialect = {
  split: (sql) => [...classifyStatement(sql).statements],
  translate: (statement, session) => translatePostgresQuery(statement, session),
  refreshCatalog: async (conn) => {
    await refreshPgCatalog(conn);
  },
  applySearchPath: async (conn, session) => {
    const existing = new Set(await storeSchemas(conn));
    // Postgres's `public` is DuckDB's `main`; schemas that do not exist are skipped, as in Postgres.
    const path = searchPathOf(session)
      .map((n) => (n === 'public' ? 'main' : n))
      .filter((n) => existing.has(n))
      .map((n) => `${STORE}.${ident(n)}`);
    await conn.run(`SET search_path = ${literal((path.length ? path : [`${STORE}.main`]).join(','))}`);
  },
  defaultSearchPath: async (conn) => {
    const user = (await storeSchemas(conn)).filter((n) => !HIDDEN.includes(n));
    return ['"$user"', 'public', ...user].join(', ');
  },
};
