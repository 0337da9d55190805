import { open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { ChangeRecord, ColumnSpec, PatchPart, SchemaPart, SourcePosition } from '../core/change-record.js';
import { SluiceError } from '../core/errors.js';
import { ident, literal, qualified } from '../core/sql.js';
import { columnChanges, hasColumnChanges } from './column-changes.js';
import { ChangeCapture } from './models/change-capture.js';
import type { ModelRuntime } from './models/model-runtime.js';
import { oldKeyName, readCsvSql } from './stage-sql.js';

interface PendingRows {
  readonly bodies: Buffer[];
  /** Per body: its row count and its source commit time, for models that keep history. */
  readonly commits: { rows: number; tsMs: number }[];
  snapshot: boolean;
}

let stageCounter = 0;

/**
 * The bookkeeping table the applier keeps beside the replicas: each table's shape and how far it
 * has been applied. Wherever replicas are applied (the store, a log replay) it must exist.
 */
export const TABLES_DDL = `CREATE TABLE IF NOT EXISTS _sluice.tables (source VARCHAR NOT NULL, "table" VARCHAR NOT NULL,
  spec JSON NOT NULL, last_commit_ms BIGINT, position VARCHAR, PRIMARY KEY (source, "table"))`;

/**
 * Applies decoded log records inside the store transaction its caller opened. Consecutive row
 * parts of a table are concatenated and applied together; anything that must happen between
 * them in source order (a schema change, a truncate, a patch) flushes the table first.
 *
 * Upserts are delete-then-insert by key from a staged copy of the rows (DuckDB's MERGE and
 * PRIMARY KEY upserts are an order of magnitude slower, see DESIGN.md); only the last change
 * per key in a flush survives. Tables without a key are multisets: each change is +1 or -1
 * of a whole row, netted per distinct row.
 */
export class BatchApplier {
  private readonly pending = new Map<string, PendingRows>();
  private readonly changedSchemas = new Map<string, SchemaPart>();
  private readonly touched = new Set<string>();
  private readonly stageFiles: string[] = [];
  private readonly capture: ChangeCapture | null;

  constructor(
    private readonly conn: DuckDBConnection,
    private readonly source: string,
    private readonly schemas: Map<string, SchemaPart>,
    private readonly stageDir: string,
    models: ModelRuntime | null = null,
  ) {
    this.capture = models ? new ChangeCapture(conn, source, models) : null;
  }

  private schemaOf(table: string): SchemaPart {
    const s = this.changedSchemas.get(table) ?? this.schemas.get(`${this.source}.${table}`);
    if (!s) throw new SluiceError('SLUICE_STORE_APPLY', `rows for ${this.source}.${table} arrived before its schema`);
    return s;
  }

  private target(table: string): string {
    return qualified(this.source, table);
  }

  async apply(records: readonly ChangeRecord[]): Promise<{ position: SourcePosition | null; snapshotting: boolean | null }> {
    let position: SourcePosition | null = null;
    let snapshotting: boolean | null = null;
    for (const { header, body } of records) {
      if (header.kind === 'snapshot-begin') {
        await this.flushAll();
        for (const t of header.tables) await this.dropTable(t);
        snapshotting = true;
        continue;
      }
      if (header.kind === 'snapshot-end') {
        await this.flushAll();
        snapshotting = false;
        position = header.position;
        continue;
      }
      let at = 0;
      for (const part of header.parts) {
        const partBody = body.subarray(at, at + part.bytes);
        at += part.bytes;
        switch (part.kind) {
          case 'rows': {
            let p = this.pending.get(part.table);
            if (p && p.snapshot !== header.snapshot) {
              await this.flush(part.table);
              p = undefined;
            }
            if (!p) this.pending.set(part.table, (p = { bodies: [], commits: [], snapshot: header.snapshot }));
            p.bodies.push(partBody);
            // Pieces before a transaction's last one carry no position, only (Postgres) its time.
            p.commits.push({ rows: part.rows, tsMs: header.position?.tsMs ?? header.piece?.tsMs ?? header.capturedMs });
            break;
          }
          case 'schema':
            await this.flush(part.table);
            await this.applySchema(part);
            break;
          case 'truncate':
            await this.flush(part.table);
            await this.conn.run(`DELETE FROM ${this.target(part.table)}`);
            this.capture?.changedWholly(part.table);
            this.touched.add(part.table);
            break;
          case 'patch':
            await this.flush(part.table);
            await this.applyPatch(part, partBody);
            this.capture?.changedWholly(part.table);
            break;
        }
      }
      if (header.position) position = header.position;
    }
    await this.flushAll();
    if (position) await this.recordTableProgress(position);
    await this.capture?.maintain();
    return { position, snapshotting };
  }

  /** Makes schema changes visible to later batches; called once the transaction committed. */
  commitSchemas(): void {
    for (const [table, part] of this.changedSchemas) this.schemas.set(`${this.source}.${table}`, part);
  }

  /** Removes the staged files; between the pieces of a long transaction too, so disk stays bounded. */
  async cleanup(): Promise<void> {
    const files = this.stageFiles.splice(0);
    await Promise.all(files.map((f) => rm(f, { force: true })));
  }

  private async stage(bodies: readonly Buffer[]): Promise<string> {
    const file = join(this.stageDir, `${process.pid}-${++stageCounter}.csv`);
    this.stageFiles.push(file);
    const fh = await open(file, 'w');
    try {
      await fh.writev(bodies as Buffer[]);
    } finally {
      await fh.close();
    }
    return file;
  }

  private async flushAll(): Promise<void> {
    for (const table of [...this.pending.keys()]) await this.flush(table);
  }

  private async flush(table: string): Promise<void> {
    const p = this.pending.get(table);
    if (!p) return;
    this.pending.delete(table);
    this.touched.add(table);
    const spec = this.schemaOf(table);
    const file = await this.stage(p.bodies);
    const cols = spec.columns.map((c) => ident(c.name)).join(', ');
    const target = this.target(table);
    if (p.snapshot) {
      // Snapshot rows only add to a table the snapshot emptied. Models reading it learn them as
      // row changes (a history gets one version per row, not one per chunk applied so far).
      const keys = spec.columns.filter((c) => c.key).map((c) => ident(c.name));
      if (!this.capture?.wants(table) || spec.identity !== 'key') {
        await this.conn.run(`INSERT INTO ${target} (${cols}) SELECT ${cols} FROM (${readCsvSql(file, spec.columns)})`);
        this.capture?.changedWholly(table);
        return;
      }
      await this.conn.run(`CREATE OR REPLACE TEMP TABLE __stage AS ${readCsvSql(file, spec.columns)}`);
      await this.capture.rows(table, target, keys, 'old');
      await this.capture.history(table, spec.columns, p.commits);
      await this.conn.run(`INSERT INTO ${target} (${cols}) SELECT ${cols} FROM __stage`);
      await this.capture.rows(table, target, keys, 'new');
      return;
    }
    await this.conn.run(`CREATE OR REPLACE TEMP TABLE __stage AS ${readCsvSql(file, spec.columns)}`);
    // __stage stays until the next flush replaces it: dropping it would cost a statement per batch.
    if (spec.identity === 'key') {
      const keys = spec.columns.filter((c) => c.key).map((c) => ident(c.name));
      await this.capture?.rows(table, target, keys, 'old');
      await this.capture?.history(table, spec.columns, p.commits);
      await this.upsertByKey(target, spec.columns, cols);
      await this.capture?.rows(table, target, keys, 'new');
    } else {
      await this.applyMultiset(target, spec.columns, cols);
      this.capture?.changedWholly(table);
    }
  }

  private async upsertByKey(target: string, columns: readonly ColumnSpec[], cols: string): Promise<void> {
    const keys = columns.filter((c) => c.key).map((c) => ident(c.name));
    const match = keys.map((k) => `t.${k} = s.${k}`).join(' AND ');
    // Before images ('b') only inform consumers of the log; the row they describe is the key's.
    await this.conn.run(`DELETE FROM ${target} AS t USING (SELECT DISTINCT ${keys.join(', ')} FROM __stage WHERE __op <> 'b') AS s WHERE ${match}`);
    // The stage keeps file order, so the highest rowid per key is its last change.
    await this.conn.run(
      `INSERT INTO ${target} (${cols}) SELECT ${cols} FROM (
         SELECT *, row_number() OVER (PARTITION BY ${keys.join(', ')} ORDER BY rowid DESC) AS __rn
         FROM __stage WHERE __op <> 'b') WHERE __rn = 1 AND __op <> 'd'`,
    );
  }

  private async applyMultiset(target: string, columns: readonly ColumnSpec[], cols: string): Promise<void> {
    const names = columns.map((c) => ident(c.name));
    const same = names.map((n) => `t.${n} IS NOT DISTINCT FROM d.${n}`).join(' AND ');
    await this.conn.run(
      `CREATE OR REPLACE TEMP TABLE __delta AS SELECT ${cols}, sum(CASE WHEN __op IN ('d', 'b') THEN -1 ELSE 1 END)::BIGINT AS __n
       FROM __stage GROUP BY ALL HAVING __n <> 0`,
    );
    await this.conn.run(
      `DELETE FROM ${target} WHERE rowid IN (SELECT __rid FROM (
         SELECT t.rowid AS __rid, d.__n, row_number() OVER (PARTITION BY ${names.map((n) => `t.${n}`).join(', ')} ORDER BY t.rowid) AS __rn
         FROM ${target} AS t JOIN __delta AS d ON ${same} WHERE d.__n < 0) WHERE __rn <= -__n)`,
    );
    await this.conn.run(`INSERT INTO ${target} (${cols}) SELECT ${cols} FROM (SELECT *, unnest(range(__n)) FROM __delta WHERE __n > 0)`);
  }

  private async applyPatch(part: PatchPart, body: Buffer): Promise<void> {
    this.touched.add(part.table);
    const spec = this.schemaOf(part.table);
    const file = await this.stage([body]);
    const skip = new Set(part.unchanged);
    const sets = spec.columns.filter((_, i) => !skip.has(i)).map((c) => `${ident(c.name)} = s.${ident(c.name)}`);
    const match = spec.columns.filter((c) => c.key).map((c) => `t.${ident(c.name)} = s.${ident(oldKeyName(c))}`);
    await this.conn.run(
      `UPDATE ${this.target(part.table)} AS t SET ${sets.join(', ')} FROM (${readCsvSql(file, spec.columns, true)}) AS s WHERE ${match.join(' AND ')}`,
    );
  }

  private async dropTable(table: string): Promise<void> {
    this.pending.delete(table);
    await this.conn.run(`DROP TABLE IF EXISTS ${this.target(table)}`);
    await this.conn.run(`DELETE FROM _sluice.tables WHERE source = ${literal(this.source)} AND "table" = ${literal(table)}`);
    this.changedSchemas.delete(table);
    this.schemas.delete(`${this.source}.${table}`);
  }

  /**
   * Creates the replica on first sight and follows later changes in place: new columns are
   * added, dropped ones dropped, renamed ones renamed, changed types altered. Rows already there
   * keep their values.
   */
  private async applySchema(part: SchemaPart): Promise<void> {
    const target = this.target(part.table);
    const before = this.changedSchemas.get(part.table) ?? this.schemas.get(`${this.source}.${part.table}`);
    // Sources describe tables again at every new session; only a real change touches anything
    // (and makes the models reading the table start over).
    if (before && before.identity === part.identity && JSON.stringify(before.columns) === JSON.stringify(part.columns)) return;
    await this.conn.run(`CREATE SCHEMA IF NOT EXISTS ${ident(this.source)}`);
    if (!before) {
      const cols = part.columns.map((c) => `${ident(c.name)} ${c.storeType}`).join(', ');
      await this.conn.run(`CREATE TABLE IF NOT EXISTS ${target} (${cols})`);
    } else {
      const changes = columnChanges(before.columns, part.columns);
      if (hasColumnChanges(changes) && this.touched.has(part.table)) {
        // DuckDB cannot ALTER a table that the same transaction already changed, so what came
        // before is committed first. The checkpoint only moves with the final commit: a crash in
        // between re-applies the first half, which for keyed tables lands on the same rows.
        await this.conn.run('COMMIT');
        await this.conn.run('BEGIN TRANSACTION');
        this.touched.delete(part.table);
      }
      for (const name of changes.drops) await this.conn.run(`ALTER TABLE ${target} DROP COLUMN ${ident(name)}`);
      // Through temporary names when there are several: renames may swap names between columns.
      const via = changes.renames.length > 1 ? changes.renames.map((_, i) => `__sluice_renaming_${i}`) : changes.renames.map(([, to]) => to);
      for (const [i, [from]] of changes.renames.entries()) await this.conn.run(`ALTER TABLE ${target} RENAME COLUMN ${ident(from)} TO ${ident(via[i])}`);
      if (changes.renames.length > 1) {
        for (const [i, [, to]] of changes.renames.entries()) await this.conn.run(`ALTER TABLE ${target} RENAME COLUMN ${ident(via[i])} TO ${ident(to)}`);
      }
      for (const c of changes.retypes) await this.conn.run(`ALTER TABLE ${target} ALTER COLUMN ${ident(c.name)} TYPE ${c.storeType}`);
      for (const c of changes.adds) await this.conn.run(`ALTER TABLE ${target} ADD COLUMN ${ident(c.name)} ${c.storeType}`);
      // Rows that predate a column show its default, as in the source. (Not ADD COLUMN ...
      // DEFAULT: DuckDB 1.5 fails that inside a transaction once the configuration is locked.)
      // One UPDATE after all ALTERs: DuckDB refuses an ALTER after a change in one transaction.
      const defaults = changes.adds.filter((c) => c.default !== undefined);
      if (defaults.length > 0) {
        await this.conn.run(`UPDATE ${target} SET ${defaults.map((c) => `${ident(c.name)} = CAST(${literal(c.default!)} AS ${c.storeType})`).join(', ')}`);
        this.touched.add(part.table);
      }
    }
    this.capture?.changedWholly(part.table);
    const spec = JSON.stringify({ ...part, source: this.source });
    await this.conn.run(
      `INSERT INTO _sluice.tables (source, "table", spec) VALUES (${literal(this.source)}, ${literal(part.table)}, ${literal(spec)})
       ON CONFLICT (source, "table") DO UPDATE SET spec = excluded.spec`,
    );
    this.changedSchemas.set(part.table, part);
  }

  private async recordTableProgress(position: SourcePosition): Promise<void> {
    if (this.touched.size === 0) return;
    const tables = [...this.touched].map(literal).join(', ');
    await this.conn.run(
      `UPDATE _sluice.tables SET last_commit_ms = ${position.tsMs}, position = ${literal(position.lsn)}
       WHERE source = ${literal(this.source)} AND "table" IN (${tables})`,
    );
  }
}
