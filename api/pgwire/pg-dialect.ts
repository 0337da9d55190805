import type { DuckDBConnection } from '@duckdb/node-api';
import type { PgSessionInfo } from '../../olap/pg-catalog/index.js';

export type { PgSessionInfo };

/**
 * The Postgres-to-DuckDB SQL layer the wire protocol uses: splitting a simple-query string into
 * statements, rewriting Postgres dialect and catalog references into what the store runs, and
 * keeping the catalog emulation and the unqualified-name lookup in step with the session.
 */
export interface PgDialect {
  split(sql: string): string[];
  translate(statement: string, session: PgSessionInfo): { readonly sql: string; readonly readsCatalog: boolean };
  /** Brings the catalog emulation up to date with the store; before a statement that reads it. */
  refreshCatalog(conn: DuckDBConnection): Promise<void>;
  /** Makes DuckDB resolve unqualified names along the session's search_path. */
  applySearchPath(conn: DuckDBConnection, session: PgSessionInfo): Promise<void>;
  /** The search_path a session starts with: every schema holding replicas or models. */
  defaultSearchPath(conn: DuckDBConnection): Promise<string>;
}
