import type { DuckDBConnection } from '@duckdb/node-api';
import { SluiceError, messageOf } from '../../core/errors.js';
import { baseViewStatements } from './base-views.js';
import { functionStatements, lateFunctionStatements } from './functions.js';
import { INFORMATION_SCHEMA_SHAPES } from './information-schema-shapes.js';
import { informationSchemaViews } from './information-schema-views.js';
import { PG_CATALOG_SHAPES } from './pg-catalog-shapes.js';
import { pgCatalogViews } from './pg-catalog-views.js';
import { INFO_SCHEMA, PG_SCHEMA, relationSql } from './relation-builder.js';

/**
 * Creates the Postgres catalog emulation (schemas `memory.pg_compat` and
 * `memory.pg_information_schema`) that the SQL translator points Postgres clients' catalog
 * queries at. It lives in the in-memory catalog, which is per DuckDB instance and stays
 * writable after the configuration is locked, and reads the store catalog's metadata live, so
 * it is installed once per instance, after the store's own schemas exist (`_sluice.tables`).
 * Idempotent. Schema changes reach it through refreshPgCatalog(). `catalog` is the store's catalog name (the database clients see).
 */
export async function installPgCatalog(conn: DuckDBConnection, catalog = 'sluice'): Promise<void> {
  const version = String((await conn.runAndReadAll('SELECT library_version FROM pragma_version()')).getRows()[0][0]);
  const pg = pgCatalogViews(catalog);
  const info = informationSchemaViews(catalog);
  const statements = [
    `CREATE SCHEMA IF NOT EXISTS ${PG_SCHEMA}`,
    `CREATE SCHEMA IF NOT EXISTS ${INFO_SCHEMA}`,
    ...baseViewStatements(catalog),
    ...functionStatements(version, new Date()),
    ...Object.entries(PG_CATALOG_SHAPES).map(([name, [, shape]]) => relationSql(`${PG_SCHEMA}.${name}`, shape, pg[name] ?? {})),
    ...Object.entries(INFORMATION_SCHEMA_SHAPES).map(([name, [, shape]]) => relationSql(`${INFO_SCHEMA}.${name}`, shape, info[name] ?? {})),
    ...lateFunctionStatements(),
  ];
  for (const sql of statements) {
    try {
      await conn.run(sql);
    } catch (e) {
      throw new SluiceError('SLUICE_INTERNAL', `installing the Postgres catalog emulation failed: ${messageOf(e)}\n${sql.slice(0, 300)}`, { cause: e });
    }
  }
}
