import { type DuckDBConnection, JsonDuckDBValueConverter } from '@duckdb/node-api';
import type { QueryLimits } from './query-stream.js';
import { QuerySession } from './query-session.js';
import type { QueryStream } from './query-stream.js';

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

const INTEGER_TYPES = new Set(['BIGINT', 'UBIGINT', 'HUGEINT', 'UHUGEINT']);

/**
 * The one way into the store for API code: sessions (one DuckDB connection each) for the
 * Postgres protocol, and pooled one-shot queries for REST and status calls.
 */
export class QueryEngine {
  private readonly idle: QuerySession[] = [];

  constructor(
    private readonly connect: () => Promise<DuckDBConnection>,
    private readonly options: { poolSize?: number; memoryLimitHint?: string } = {},
  ) {}

  /** A session of its own, for a client that keeps prepared statements between queries. */
  async session(): Promise<QuerySession> {
    return new QuerySession(await this.connect(), this.memoryLimitHint);
  }

  /** Runs one parameterless read on a pooled connection; the connection returns when the stream ends. */
  async stream(sql: string, limits: QueryLimits): Promise<QueryStream> {
    const session = this.idle.pop() ?? (await this.session());
    let handedOff = false;
    try {
      const prepared = await session.prepare(sql);
      const stream = await prepared.execute([], limits);
      handedOff = true;
      // The prepared statement stays valid while its stream runs; free both when it ends.
      void stream.ended.then(() => {
        prepared.close();
        this.release(session);
      });
      return stream;
    } finally {
      if (!handedOff) this.release(session);
    }
  }

  /** Runs one read and holds the whole result: for small, internal answers (status counts). */
  async query(sql: string, limits: QueryLimits): Promise<QueryResult> {
    const stream = await this.stream(sql, limits);
    const types = stream.columns.map((c) => c.type.toString());
    const values: unknown[][] = stream.columns.map(() => []);
    for await (const chunk of stream) {
      for (let i = 0; i < values.length; i++) {
        const col = chunk.convertColumnValues(i, JsonDuckDBValueConverter);
        for (const v of col) values[i].push(v);
      }
    }
    return {
      columns: stream.columns.map((c, i) => ({ name: c.name, type: types[i] })),
      values: values.map((col, i) => toJsonColumn(col, types[i])),
      rowCount: stream.rowCount,
      truncated: stream.truncated,
    };
  }

  private get memoryLimitHint(): string {
    return this.options.memoryLimitHint ?? 'store.memoryLimit';
  }

  private release(session: QuerySession): void {
    if (this.idle.length < (this.options.poolSize ?? 16) && !this.idle.includes(session)) this.idle.push(session);
    else if (!this.idle.includes(session)) session.close();
  }

  close(): void {
    for (const s of this.idle.splice(0)) s.close();
  }
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
