/** What the SQL translation needs to know about the session it translates for. */
export interface PgSessionInfo {
  readonly user: string;
  readonly database: string;
  setting(name: string): string | undefined;
}

/**
 * The Postgres-to-DuckDB SQL layer the wire protocol uses: splitting a simple-query string into
 * statements, and rewriting Postgres dialect and catalog references into what the store runs.
 */
export interface PgDialect {
  split(sql: string): string[];
  translate(statement: string, session: PgSessionInfo): string;
}
