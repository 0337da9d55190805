import type { DuckDBConnection } from '@duckdb/node-api';
import type { ColumnSpec } from '../../core/change-record.js';
import { ident } from '../../core/sql.js';
import { type InputChange, changeTableFor, historyTableFor } from './model-changes.js';
import type { ModelRuntime } from './model-runtime.js';

/**
 * Records, during one batch, what changed in the tables models read: the old and new versions of
 * the rows an upsert touched, every change in order with its commit time for models that keep
 * history, or just "everything" when the change is not known row by row. Works on the staged
 * rows (`__stage`) of the batch applier, in the same transaction.
 */
export class ChangeCapture {
  /** What each watched input (`source.table`) had changed in this batch. */
  private readonly changes = new Map<string, InputChange>();
  private historyFlushes = 0;

  constructor(
    private readonly conn: DuckDBConnection,
    private readonly source: string,
    private readonly models: ModelRuntime,
  ) {}

  private watched(table: string): string | null {
    const key = `${this.source}.${table}`;
    return this.models.watches(key) ? key : null;
  }

  /** Whether models read this table and its changes are still being followed row by row. */
  wants(table: string): boolean {
    const key = this.watched(table);
    return key !== null && this.changes.get(key)?.kind !== 'all';
  }

  /** The models must recompute whatever reads this table: its changes are not known row by row. */
  changedWholly(table: string): void {
    const key = this.watched(table);
    if (key) this.changes.set(key, { kind: 'all' });
  }

  /**
   * Copies the current rows of `target` that match the staged keys into the batch's change
   * tables: before the change into the old-version table, after it into the new-version one.
   */
  async rows(table: string, target: string, keys: readonly string[], phase: 'old' | 'new'): Promise<void> {
    const key = this.watched(table);
    if (!key || this.changes.get(key)?.kind === 'all') return;
    if (!this.changes.has(key)) {
      const change = { kind: 'rows' as const, old: changeTableFor(key, 'old'), new: changeTableFor(key, 'new'), keys };
      await this.conn.run(`CREATE OR REPLACE TEMP TABLE ${change.old} AS SELECT * FROM ${target} LIMIT 0`);
      await this.conn.run(`CREATE OR REPLACE TEMP TABLE ${change.new} AS SELECT * FROM ${target} LIMIT 0`);
      this.changes.set(key, change);
    }
    const change = this.changes.get(key) as { old: string; new: string };
    const match = keys.map((k) => `t.${k} = s.${k}`).join(' AND ');
    await this.conn.run(
      `INSERT INTO ${phase === 'old' ? change.old : change.new} SELECT t.* FROM ${target} AS t
       SEMI JOIN (SELECT DISTINCT ${keys.join(', ')} FROM __stage WHERE __op <> 'b') AS s ON ${match}`,
    );
  }

  /**
   * For models that keep history (scd2): every staged change, in order, with its source commit
   * time. The stage keeps file order, and each body's row count says which commit a row is from;
   * rowids inside an open transaction carry an offset, so positions are taken from the first.
   */
  async history(table: string, columns: readonly ColumnSpec[], commits: readonly { rows: number; tsMs: number }[]): Promise<void> {
    const key = this.watched(table);
    const change = key ? this.changes.get(key) : undefined;
    if (!key || !this.models.keepsHistory(key) || change?.kind !== 'rows') return;
    const ranges: string[] = [];
    let from = 0;
    for (const c of commits) {
      ranges.push(`(${from}, ${from + c.rows}, ${c.tsMs})`);
      from += c.rows;
    }
    const history = historyTableFor(key);
    const seq = `${++this.historyFlushes}::BIGINT * 4294967296 + s.__row`;
    const select = `SELECT ${columns.map((c) => `s.${ident(c.name)}`).join(', ')}, s.__op, ${seq} AS __seq, make_timestamptz(r.ts * 1000) AS __ts
      FROM (SELECT *, rowid - min(rowid) OVER () AS __row FROM __stage) AS s
      JOIN (VALUES ${ranges.join(', ')}) AS r (lo, hi, ts) ON s.__row >= r.lo AND s.__row < r.hi WHERE s.__op <> 'b'`;
    if (!change.history) {
      await this.conn.run(`CREATE OR REPLACE TEMP TABLE ${history} AS ${select}`);
      this.changes.set(key, { ...change, history });
    } else {
      await this.conn.run(`INSERT INTO ${history} ${select}`);
    }
  }

  /** Brings the models up to date with everything captured, in the same transaction. */
  maintain(): Promise<void> {
    return this.models.maintain(this.conn, this.changes);
  }
}
