import { readFileSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { messageOf } from '../../core/errors.js';
import { ident, literal, qualified } from '../../core/sql.js';
import { MODELS_SCHEMA, type ModelDefinition, ModelDefinitionError, inputKey, inputRelation, parseModelFile, renderModel } from './model-definition.js';
import { groupColumnsOf, historySqlOf } from './model-analysis.js';
import { type InputChange, type RowChange, changeTableFor } from './model-changes.js';
import { orderModels } from './model-graph.js';
import { appendHistory, reopenHistory } from './scd2-history.js';

/** 'waiting': an input (a replica not snapshotted yet) does not exist yet; built once it does. */
export type ModelState = 'waiting' | 'building' | 'current' | 'failed';

export interface ModelStatus {
  readonly name: string;
  readonly file: string;
  readonly materialized: string;
  readonly dependsOn: readonly string[];
  readonly state: ModelState;
  readonly error: string | null;
}

interface LoadedModel {
  readonly def: ModelDefinition;
  state: ModelState;
  error: string | null;
  /** Output columns that hold the GROUP BY values, for aggregate models. */
  groupColumns: readonly string[];
  /** For scd2: the model's SQL reading the history table, with `__op, __seq, __ts` passed through. */
  historySql?: string;
}

/** A model failed while being kept current; the batch is retried without it. */
export class ModelMaintenanceError extends Error {
  constructor(readonly model: string, cause: unknown) {
    super(`model ${model} failed: ${messageOf(cause)}`, { cause });
  }
}

/** Both versions of the changed rows, for finding what they touch. */
function bothVersions(c: RowChange): string {
  return `(SELECT * FROM ${c.old} UNION ALL SELECT * FROM ${c.new})`;
}

/** What must stay the same for a built model to be kept as it is. */
function definitionOf(def: ModelDefinition): string {
  return `${def.materialized}\n${def.uniqueKey.join(',')}\n${def.template}`;
}

/** The models schema, and the record of which definition each model was built from. */
async function ensureModelBookkeeping(conn: DuckDBConnection): Promise<void> {
  await conn.run(`CREATE SCHEMA IF NOT EXISTS ${MODELS_SCHEMA}`);
  await conn.run(`CREATE TABLE IF NOT EXISTS _sluice.models (name VARCHAR NOT NULL, definition VARCHAR NOT NULL)`);
}

async function recordDefinition(conn: DuckDBConnection, def: ModelDefinition): Promise<void> {
  await conn.run(`DELETE FROM _sluice.models WHERE name = ${literal(def.name)}`);
  await conn.run(`INSERT INTO _sluice.models VALUES (${literal(def.name)}, ${literal(definitionOf(def))})`);
}

/** Whether a table or view exists in the connection's current catalog (not the scratch one). */
async function relationExists(conn: DuckDBConnection, schema: string, name: string): Promise<boolean> {
  const r = await conn.runAndReadAll(
    `SELECT count(*) FROM (SELECT database_name, schema_name, table_name FROM duckdb_tables()
        UNION ALL SELECT database_name, schema_name, view_name FROM duckdb_views())
      WHERE database_name = current_database() AND schema_name = ${literal(schema)} AND table_name = ${literal(name)}`,
  );
  return Number(r.getRows()[0][0]) > 0;
}

/** The input as it was before the batch: current rows, less the changed keys, plus their old versions. */
function oldState(relation: string, c: RowChange): string {
  const match = c.keys.map((k) => `t.${k} IS NOT DISTINCT FROM n.${k}`).join(' AND ');
  return `(SELECT * FROM ${relation} AS t ANTI JOIN ${c.new} AS n ON ${match} UNION ALL SELECT * FROM ${c.old})`;
}

/**
 * The models of a store: loaded from a folder of SQL files, built, and kept current inside the
 * same store transaction as the source changes that drive them, in dependency order.
 *
 * Maintenance (see refreshAffected): aggregate and incremental models recompute only the groups
 * or unique keys the batch's changed rows touch, from the full inputs, so min/max/count(distinct)
 * stay exact when a row leaves and a dimension's change reaches every fact row joined to it.
 * A model is recomputed whole when an input's changes are not known row by row (a truncate, a
 * snapshot, a schema change, a key-less table, a view in between).
 */
export class ModelRuntime {
  private models: LoadedModel[] = [];
  /** Models built anew (new or changed definition) since this runtime loaded its files. */
  readonly rebuilt = new Set<string>();

  constructor(private readonly dir: string | null) {}

  status(): ModelStatus[] {
    return this.models.map((m) => ({
      name: m.def.name,
      file: m.def.file,
      materialized: m.def.materialized,
      dependsOn: m.def.inputs.map(inputKey),
      state: m.state,
      error: m.error,
    }));
  }

  /** Whether a model waits for an input that does not exist yet. */
  hasWaiting(): boolean {
    return this.models.some((m) => m.state === 'waiting');
  }

  /** Whether a model keeping history (scd2) reads this input. */
  keepsHistory(key: string): boolean {
    return this.models.some((m) => m.state === 'current' && m.def.materialized === 'scd2' && m.def.inputs.some((i) => inputKey(i) === key));
  }

  /** Inputs (`source.table` or `models.name`) some model reads directly. */
  watches(key: string): boolean {
    return this.models.some((m) => m.state === 'current' && m.def.inputs.some((i) => inputKey(i) === key));
  }

  /** Reads the model files; problems are kept per model (file and reason), the rest go on. */
  load(): void {
    if (!this.dir) return;
    const failed: LoadedModel[] = [];
    let defs: ModelDefinition[] = [];
    for (const f of readdirSync(this.dir).filter((n) => n.endsWith('.sql')).sort()) {
      const file = join(this.dir, f);
      try {
        defs.push(parseModelFile(basename(f, '.sql'), file, readFileSync(file, 'utf8')));
      } catch (e) {
        failed.push(this.failedModel(basename(f, '.sql'), file, e));
      }
    }
    // A model that cannot be placed (cycle, missing ref) is set aside with whatever depends on it.
    for (;;) {
      try {
        this.models = [...orderModels(defs).map((def) => ({ def, state: 'building' as ModelState, error: null, groupColumns: [] })), ...failed];
        return;
      } catch (e) {
        const names = e instanceof ModelDefinitionError ? e.models : [];
        const file = e instanceof ModelDefinitionError ? e.file : '';
        const named = defs.filter((d) => names.includes(d.name) || d.file === file);
        const bad = named.length > 0 ? named : [defs[0]];
        for (const d of bad) failed.push({ def: d, state: 'failed', error: messageOf(e), groupColumns: [] });
        defs = defs.filter((d) => !bad.includes(d));
      }
    }
  }

  private failedModel(name: string, file: string, e: unknown): LoadedModel {
    return {
      def: { name, file, materialized: 'view', uniqueKey: [], template: '', inputs: [] },
      state: 'failed',
      error: messageOf(e),
      groupColumns: [],
    };
  }

  /**
   * Builds, from the replicas as they are, every loadable model whose definition is new or
   * changed. A model whose SQL does not bind or does not fit its materialization fails with the
   * reason; models that read it fail too.
   */
  async buildAll(conn: DuckDBConnection, onlyWaiting = false, force = false): Promise<void> {
    await ensureModelBookkeeping(conn);
    for (const m of this.models) {
      if (m.state === 'failed' || (onlyWaiting && m.state !== 'waiting')) continue;
      const upstreamFailed = m.def.inputs.find((i) => i.kind === 'ref' && this.models.find((x) => x.def.name === i.model)?.state === 'failed');
      if (upstreamFailed) {
        m.state = 'failed';
        m.error = `${m.def.file}: depends on model ${inputKey(upstreamFailed)}, which failed`;
        continue;
      }
      const missing = await this.missingInput(conn, m.def);
      if (missing) {
        m.state = 'waiting';
        m.error = `waiting for ${missing}`;
        continue;
      }
      try {
        if (m.def.materialized === 'aggregate') m.groupColumns = await groupColumnsOf(conn, m.def);
        if (m.def.materialized === 'scd2') m.historySql = await historySqlOf(conn, m.def);
        // Unchanged since it was built: it was kept current with the replicas, and an scd2
        // model's history exists nowhere else. Only a changed definition means a rebuild.
        const built = await conn.runAndReadAll(`SELECT definition FROM _sluice.models WHERE name = ${literal(m.def.name)}`);
        const exists = await relationExists(conn, MODELS_SCHEMA, m.def.name);
        const upstreamRebuilt = m.def.inputs.some((i) => i.kind === 'ref' && this.rebuilt.has(i.model));
        if (force || !exists || upstreamRebuilt || built.getRows()[0]?.[0] !== definitionOf(m.def)) {
          await this.rebuild(conn, m);
          this.rebuilt.add(m.def.name);
          await recordDefinition(conn, m.def);
        }
        m.state = 'current';
        m.error = null;
      } catch (e) {
        m.state = 'failed';
        m.error = `${m.def.file}: ${messageOf(e)}`;
        // An error while running a model's SQL aborts the whole transaction (binding errors do
        // not): the caller must roll back and build again without this model.
        if (!(await conn.run('SELECT 1').then(() => true, () => false))) throw new ModelMaintenanceError(m.def.name, e);
      }
    }
  }

  private async missingInput(conn: DuckDBConnection, def: ModelDefinition): Promise<string | null> {
    for (const i of def.inputs) {
      const [schema, name] = i.kind === 'source' ? [i.source, i.table] : [MODELS_SCHEMA, i.model];
      if (!(await relationExists(conn, schema, name))) return inputKey(i);
    }
    return null;
  }

  private async rebuild(conn: DuckDBConnection, m: LoadedModel): Promise<void> {
    const target = qualified(MODELS_SCHEMA, m.def.name);
    if (m.def.materialized === 'view') {
      await conn.run(`CREATE OR REPLACE VIEW ${target} AS ${renderModel(m.def)}`);
    } else if (m.def.materialized === 'scd2') {
      // History starts when the model does: the rows as they are now are its first versions.
      await conn.run(`CREATE OR REPLACE TABLE ${target} AS SELECT *, now() AS valid_from, NULL::TIMESTAMPTZ AS valid_to, true AS is_current FROM (${renderModel(m.def)})`);
    } else {
      await conn.run(`CREATE OR REPLACE TABLE ${target} AS ${renderModel(m.def)}`);
    }
  }

  /**
   * Brings the models up to date with a batch's input changes, in dependency order, inside the
   * caller's transaction. Changed rows of maintained models feed the models that read them.
   */
  async maintain(conn: DuckDBConnection, changes: Map<string, InputChange>): Promise<void> {
    // Models waiting for an input that this batch may have created.
    if (this.models.some((m) => m.state === 'waiting')) await this.buildAll(conn, true);
    for (const m of this.models) {
      if (m.state !== 'current' || m.def.materialized === 'view') continue;
      const touched = m.def.inputs.filter((i) => changes.has(inputKey(i)));
      if (touched.length === 0) continue;
      try {
        changes.set(`${MODELS_SCHEMA}.${m.def.name}`, await this.maintainOne(conn, m, touched.map((i) => changes.get(inputKey(i))!), changes));
      } catch (e) {
        throw new ModelMaintenanceError(m.def.name, e);
      }
    }
  }

  private async maintainOne(conn: DuckDBConnection, m: LoadedModel, inputs: readonly InputChange[], changes: Map<string, InputChange>): Promise<InputChange> {
    if (m.def.materialized === 'scd2') {
      const c = inputs[0];
      if (c.kind === 'rows' && c.history) await appendHistory(conn, m.def, m.historySql!, c);
      else await reopenHistory(conn, m.def);
      return { kind: 'all' };
    }
    if (inputs.every((c) => c.kind === 'rows') && (m.def.materialized === 'aggregate' || m.def.materialized === 'incremental')) {
      return this.refreshAffected(conn, m, changes);
    }
    await this.rebuild(conn, m);
    return { kind: 'all' };
  }

  /**
   * Takes over the models another runtime built in `catalog` (a log replay): their tables are
   * copied into the store's models schema, views re-created, definitions recorded. Runs in the
   * caller's transaction, so the swap is atomic for queries.
   */
  async adoptFrom(conn: DuckDBConnection, catalog: string): Promise<void> {
    await ensureModelBookkeeping(conn);
    for (const m of this.models) {
      if (m.state !== 'current') continue;
      const target = qualified(MODELS_SCHEMA, m.def.name);
      if (m.def.materialized === 'view') await this.rebuild(conn, m);
      else await conn.run(`CREATE OR REPLACE TABLE ${target} AS SELECT * FROM ${ident(catalog)}.${target}`);
      await recordDefinition(conn, m.def);
    }
  }

  /**
   * Takes a model (and every model reading it) out of maintenance after it failed at run time,
   * so the sources and the other models go on. Returns their names: they are stale from here on,
   * and the caller forgets their definitions so that a reload or restart rebuilds them.
   */
  markFailed(name: string, reason: string): string[] {
    const failed = new Set([name]);
    for (const m of this.models) {
      if (failed.has(m.def.name) || m.def.inputs.some((i) => i.kind === 'ref' && failed.has(i.model))) {
        failed.add(m.def.name);
        m.state = 'failed';
        m.error = m.def.name === name ? `${m.def.file}: ${reason}` : `${m.def.file}: depends on model models.${name}, which failed`;
      }
    }
    return [...failed];
  }

  /**
   * Recomputes just the model rows a batch can have changed. Which rows: the model's SQL run
   * over the changed input rows, once on the old state (old versions, the other inputs as they
   * were) and once on the new (new versions, the other inputs as they are), gives the group
   * values (aggregate) or unique keys (incremental) touched. Those rows are deleted and recomputed
   * from the full inputs; their old and new versions are this model's changes for models below.
   */
  private async refreshAffected(conn: DuckDBConnection, m: LoadedModel, changes: Map<string, InputChange>): Promise<InputChange> {
    const target = qualified(MODELS_SCHEMA, m.def.name);
    const keyCols = (m.def.materialized === 'aggregate' ? m.groupColumns : m.def.uniqueKey).map(ident);
    const same = (a: string, b: string): string => keyCols.map((c) => `${a}.${c} IS NOT DISTINCT FROM ${b}.${c}`).join(' AND ');
    const changed = m.def.inputs.filter((i) => changes.get(inputKey(i))?.kind === 'rows');
    const probes: string[] = [];
    for (const i of changed) {
      const c = changes.get(inputKey(i)) as RowChange;
      if (m.def.materialized === 'aggregate') {
        probes.push(renderModel(m.def, new Map([[inputKey(i), bothVersions(c)]])));
        continue;
      }
      const oldInputs = new Map(changed.map((o) => [inputKey(o), oldState(inputRelation(o), changes.get(inputKey(o)) as RowChange)]));
      oldInputs.set(inputKey(i), c.old);
      probes.push(renderModel(m.def, oldInputs));
      probes.push(renderModel(m.def, new Map([[inputKey(i), c.new]])));
    }
    const own: RowChange = { kind: 'rows', old: changeTableFor(`${MODELS_SCHEMA}.${m.def.name}`, 'old'), new: changeTableFor(`${MODELS_SCHEMA}.${m.def.name}`, 'new'), keys: keyCols };
    await conn.run(`CREATE OR REPLACE TEMP TABLE __affected AS ${probes.map((p) => `SELECT ${keyCols.join(', ')} FROM (${p})`).join(' UNION ')}`);
    await conn.run(`CREATE OR REPLACE TEMP TABLE ${own.old} AS SELECT m.* FROM ${target} AS m SEMI JOIN __affected AS a ON ${same('m', 'a')}`);
    await conn.run(`DELETE FROM ${target} AS m USING __affected AS a WHERE ${same('m', 'a')}`);
    await conn.run(`INSERT INTO ${target} SELECT s.* FROM (${renderModel(m.def)}) AS s SEMI JOIN __affected AS a ON ${same('s', 'a')}`);
    await conn.run(`CREATE OR REPLACE TEMP TABLE ${own.new} AS SELECT m.* FROM ${target} AS m SEMI JOIN __affected AS a ON ${same('m', 'a')}`);
    return own;
  }
}

