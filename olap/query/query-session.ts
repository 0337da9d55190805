import { type DuckDBConnection, type DuckDBPreparedStatement, type DuckDBType, type DuckDBValue, StatementType } from '@duckdb/node-api';
import { SluiceError } from '../../core/errors.js';
import { stripLeadingComments } from '../../core/sql.js';
import { duckDbQueryError } from './duckdb-error.js';
import { type QueryLimits, QueryStream } from './query-stream.js';

const READ_ONLY = new Set<StatementType>([StatementType.SELECT, StatementType.EXPLAIN]);

/** A checked, prepared read: what it takes and what it returns are known before it runs. */
export interface PreparedQuery {
  readonly sql: string;
  /** null: DuckDB cannot tell before a value is bound (`SELECT $1`). */
  readonly parameterTypes: readonly (DuckDBType | null)[];
  /** Result columns as far as DuckDB knows them before running; null where a parameter decides. */
  readonly columns: readonly { readonly name: string; readonly type: DuckDBType | null }[];
  /** Runs with these parameter values; null binds SQL NULL. */
  execute(params: readonly (DuckDBValue | null)[], limits: QueryLimits): Promise<QueryStream>;
  /** Frees the statement; results already computed stay readable. */
  close(): void;
}

/**
 * One DuckDB connection used by one client at a time (a Postgres-protocol session, or a pooled
 * REST request). Every statement is checked before it runs: exactly one statement, and a read
 * (SELECT/EXPLAIN; PRAGMA is refused though DuckDB types some as SELECT). Files, ATTACH,
 * extension installs and settings are also closed off inside DuckDB (see DuckDbStore.open), so
 * this check is the first wall, not the only one.
 */
export class QuerySession {
  private readonly streams = new Set<QueryStream>();

  constructor(readonly conn: DuckDBConnection, private readonly memoryLimitHint: string) {}

  async prepare(sql: string): Promise<PreparedQuery> {
    if (typeof sql !== 'string' || sql.trim() === '') throw new SluiceError('SLUICE_QUERY_INVALID', 'sql must be a non-empty string');
    let extracted;
    try {
      extracted = await this.conn.extractStatements(sql);
    } catch (e) {
      throw duckDbQueryError(e, this.memoryLimitHint);
    }
    if (extracted.count !== 1) {
      throw new SluiceError('SLUICE_QUERY_FORBIDDEN', `send exactly one statement per query (got ${extracted.count})`);
    }
    let prepared: DuckDBPreparedStatement;
    try {
      prepared = await extracted.prepare(0);
    } catch (e) {
      throw duckDbQueryError(e, this.memoryLimitHint);
    }
    if (!READ_ONLY.has(prepared.statementType) || /^\s*pragma\b/i.test(stripLeadingComments(sql))) {
      const kind = StatementType[prepared.statementType] ?? 'this statement';
      prepared.destroySync();
      throw new SluiceError('SLUICE_QUERY_FORBIDDEN', `the query API is read-only: ${kind} statements are not allowed`);
    }
    return this.wrap(sql, prepared);
  }

  private wrap(sql: string, prepared: DuckDBPreparedStatement): PreparedQuery {
    const parameterTypes = Array.from({ length: prepared.parameterCount }, (_, i) => typeOrNull(() => prepared.parameterType(i + 1)));
    const columns = Array.from({ length: prepared.columnCount }, (_, i) => ({ name: prepared.columnName(i), type: typeOrNull(() => prepared.columnType(i)) }));
    return {
      sql,
      parameterTypes,
      columns,
      execute: async (params, limits) => {
        if (params.length !== parameterTypes.length) {
          throw new SluiceError('SLUICE_QUERY_INVALID', `the query takes ${parameterTypes.length} parameter(s), got ${params.length}`);
        }
        try {
          prepared.clearBindings();
          params.forEach((v, i) => (v === null ? prepared.bindNull(i + 1) : prepared.bindValue(i + 1, v)));
        } catch (e) {
          throw new SluiceError('SLUICE_QUERY_INVALID', `cannot bind parameters: ${duckDbQueryError(e, '').message}`);
        }
        // Results are materialised, so several may be open at once (suspended portals).
        let stream: QueryStream | null = null;
        stream = await QueryStream.start(this.conn, prepared, { memoryLimitHint: this.memoryLimitHint, ...limits }, () => {
          if (stream) this.streams.delete(stream);
        });
        this.streams.add(stream);
        return stream;
      },
      close: () => prepared.destroySync(),
    };
  }

  close(): void {
    for (const s of [...this.streams]) s.close();
    this.conn.closeSync();
  }
}

/** DuckDB throws for a type it has not resolved yet; that is an answer here, not an error. */
function typeOrNull(read: () => DuckDBType): DuckDBType | null {
  try {
    return read();
  } catch {
    return null;
  }
}
