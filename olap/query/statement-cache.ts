import type { DuckDBPreparedStatement } from '@duckdb/node-api';

/**
 * A session's prepared statements by SQL text, least recently used first out. Dashboards send
 * the same few queries again and again; preparing is a round trip to DuckDB's threads and a
 * parse and bind, a large share of a millisecond query. DuckDB re-binds a cached statement by
 * itself when the tables under it change. Eviction happens while preparing, when none of the
 * session's statements is executing (results are materialised and do not need their statement).
 */
export class StatementCache {
  private readonly entries = new Map<string, DuckDBPreparedStatement>();

  constructor(private readonly capacity = 64) {}

  get(sql: string): DuckDBPreparedStatement | undefined {
    const hit = this.entries.get(sql);
    if (hit) {
      this.entries.delete(sql);
      this.entries.set(sql, hit);
    }
    return hit;
  }

  put(sql: string, statement: DuckDBPreparedStatement): void {
    this.entries.set(sql, statement);
    while (this.entries.size > this.capacity) {
      const [oldest, s] = this.entries.entries().next().value!;
      this.entries.delete(oldest);
      s.destroySync();
    }
  }

  clear(): void {
    for (const s of this.entries.values()) s.destroySync();
    this.entries.clear();
  }
}
