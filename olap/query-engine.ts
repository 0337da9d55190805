import { type DuckDBConnection, StatementType } from '@duckdb/node-api';
import { SluiceError, messageOf } from '../core/errors.js';

export interface QueryColumn {
  readonly name: string;
  readonly type: string;
}

export interface QueryResult {
  readonly columns: readonly QueryColumn[];
  /** Column-major values, JSON-ready: the caller decides how to lay them out. */
  readonly values: readonly (readonly unknown[])[];
  readonly rowCount: number;
  readonly truncated: boolean;
}

export interface QueryOptions {
  readonly timeoutMs: number;
  readonly maxRows: number;
}

const READ_ONLY = new Set<StatementType>([StatementType.SELECT, StatementType.EXPLAIN]);
const INTEGER_TYPES = new Set(['BIGINT', 'UBIGINT', 'HUGEINT', 'UHUGEINT']);

/**
 * The one way into the store for API code. Each statement is checked before it runs: exactly
 * one statement, and a read (SELECT/EXPLAIN; PRAGMA is refused though DuckDB types some as
 * SELECT). Files, ATTACH, extension installs and settings are also closed off inside DuckDB
 * itself (see DuckDbStore.open), so this check is the first wall, not the only one.
 */
export class QueryEngine {
  private readonly idle: DuckDBConnection[] = [];

  constructor(private readonly connect: () => Promise<DuckDBConnection>, private readonly poolSize = 4) {}

  private async acquire(): Promise<DuckDBConnection> {
    return this.idle.pop() ?? (await this.connect());
  }

  private release(c: DuckDBConnection): void {
    if (this.idle.length < this.poolSize) this.idle.push(c);
    else c.closeSync();
  }

  async query(sql: string, options: QueryOptions): Promise<QueryResult> {
    if (typeof sql !== 'string' || sql.trim() === '') {
      throw new SluiceError('SLUICE_QUERY_INVALID', 'sql must be a non-empty string');
    }
    const conn = await this.acquire();
    let timer: NodeJS.Timeout | undefined;
    let timedOut = false;
    try {
      const prepared = await this.prepareReadOnly(conn, sql);
      timer = setTimeout(() => {
        timedOut = true;
        conn.interrupt();
      }, options.timeoutMs);
      const reader = await prepared.runAndReadUntil(options.maxRows + 1);
      const types = reader.columnTypes().map((t) => t.toString());
      const names = reader.columnNames();
      const raw = reader.getColumnsJson();
      const rowCount = Math.min(reader.currentRowCount, options.maxRows);
      const values = raw.map((col, i) => toJsonColumn(col.slice(0, rowCount), types[i]));
      return {
        columns: names.map((name, i) => ({ name, type: types[i] })),
        values,
        rowCount,
        truncated: reader.currentRowCount > options.maxRows,
      };
    } catch (e) {
      if (e instanceof SluiceError) throw e;
      if (timedOut) throw new SluiceError('SLUICE_QUERY_TIMEOUT', `query exceeded the ${options.timeoutMs} ms timeout and was cancelled`);
      throw new SluiceError('SLUICE_QUERY_FAILED', messageOf(e));
    } finally {
      clearTimeout(timer);
      this.release(conn);
    }
  }

  private async prepareReadOnly(conn: DuckDBConnection, sql: string) {
    let extracted;
    try {
      extracted = await conn.extractStatements(sql);
    } catch (e) {
      throw new SluiceError('SLUICE_QUERY_INVALID', messageOf(e));
    }
    if (extracted.count !== 1) {
      throw new SluiceError('SLUICE_QUERY_FORBIDDEN', `send exactly one statement per query (got ${extracted.count})`);
    }
    let prepared;
    try {
      prepared = await extracted.prepare(0);
    } catch (e) {
      throw new SluiceError('SLUICE_QUERY_INVALID', messageOf(e));
    }
    if (!READ_ONLY.has(prepared.statementType) || /^\s*pragma\b/i.test(stripLeadingComments(sql))) {
      const kind = StatementType[prepared.statementType] ?? 'this statement';
      throw new SluiceError('SLUICE_QUERY_FORBIDDEN', `the query API is read-only: ${kind} statements are not allowed`);
    }
    return prepared;
  }

  close(): void {
    for (const c of this.idle.splice(0)) c.closeSync();
  }
}

function stripLeadingComments(sql: string): string {
  return sql.replace(/^(\s*(--[^\n]*\n|\/\*[\s\S]*?\*\/))*/, '');
}

/** 64-bit and wider integers come back as strings; numbers are friendlier where exact. */
function toJsonColumn(col: readonly unknown[], type: string): readonly unknown[] {
  if (!INTEGER_TYPES.has(type)) return col;
  return col.map((v) => {
    if (typeof v !== 'string') return v;
    const n = Number(v);
    return Number.isSafeInteger(n) ? n : v;
  });
}
