import { readFileSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { messageOf } from '../../core/errors.js';
import { ident, literal, qualified } from '../../core/sql.js';
import { MODELS_SCHEMA, type ModelDefinition, ModelDefinitionError, inputKey, inputRelation, parseModelFile, renderModel } from './model-definition.js';
import { orderModels } from './model-graph.js';

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

/**
 * What changed in one input during a batch: some rows, identified by `keys` (their old and new
 * versions kept in temp tables), or too much to say row by row.
 */
export type RowChange = {
  readonly kind: 'rows';
  readonly old: string;
  readonly new: string;
  readonly keys: readonly string[];
  /** Every change in order (`__op`, `__seq`, `__ts`), for models that keep history. */
  readonly history?: string;
};
export type InputChange = RowChange | { readonly kind: 'all' };

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

/** Temp table holding a relation's changed rows (old or new versions) during one batch. */
export function changeTableFor(key: string, version: 'old' | 'new'): string {
  return ident(`__chg_${version}_${key.replace(/\./g, '__')}`);
}

/** Temp table of a relation's changes in order with their commit times, during one batch. */
export function historyTableFor(key: string): string {
  return ident(`__hist_${key.replace(/\./g, '__')}`);
}

/** Both versions of the changed rows, for finding what they touch. */
function bothVersions(c: RowChange): string {
  return `(SELECT * FROM ${c.old} UNION ALL SELECT * FROM ${c.new})`;
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
        const names = e instanceof ModelDefinitionError && e.models.length ? e.models : [];
        const file = e instanceof ModelDefinitionError ? e.file : '';
        const bad = defs.filter((d) => names.includes(d.name) || d.file === file);
        for (const d of bad.length ? bad : [defs[0]]) failed.push({ def: d, state: 'failed', error: messageOf(e), groupColumns: [] });
        defs = defs.filter((d) => !bad.includes(d) && d !== (bad.length ? null : defs[0]));
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
   * Builds every loadable model whose definition is new or changed from the replicas as they are. A model whose SQL does not bind
   * or does not fit its materialization fails with the reason; models that read it fail too.
   */
  async buildAll(conn: DuckDBConnection, onlyWaiting = false, force = false): Promise<void> {
    await conn.run(`CREATE SCHEMA IF NOT EXISTS ${MODELS_SCHEMA}`);
    await conn.run(`CREATE TABLE IF NOT EXISTS _sluice.models (name VARCHAR NOT NULL, definition VARCHAR NOT NULL)`);
    const rebuilt = new Set<string>();
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
        if (m.def.materialized === 'aggregate') m.groupColumns = await this.groupColumnsOf(conn, m.def);
        if (m.def.materialized === 'scd2') m.historySql = await this.historySqlOf(conn, m.def);
        // Unchanged since it was built: it was kept current with the replicas, and an scd2
        // model's history exists nowhere else. Only a changed definition means a rebuild.
        const definition = `${m.def.materialized}\n${m.def.uniqueKey.join(',')}\n${m.def.template}`;
        const built = await conn.runAndReadAll(`SELECT definition FROM _sluice.models WHERE name = ${literal(m.def.name)}`);
        const exists = (await this.missingInput(conn, { ...m.def, inputs: [{ kind: 'ref', model: m.def.name }] })) === null;
        const upstreamRebuilt = m.def.inputs.some((i) => i.kind === 'ref' && rebuilt.has(i.model));
        if (force || !exists || upstreamRebuilt || built.getRows()[0]?.[0] !== definition) {
          await this.rebuild(conn, m);
          rebuilt.add(m.def.name);
          await conn.run(`DELETE FROM _sluice.models WHERE name = ${literal(m.def.name)}`);
          await conn.run(`INSERT INTO _sluice.models VALUES (${literal(m.def.name)}, ${literal(definition)})`);
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
      const r = await conn.runAndReadAll(
        `SELECT count(*) FROM (SELECT schema_name, table_name FROM duckdb_tables() UNION ALL SELECT schema_name, view_name FROM duckdb_views())
          WHERE schema_name = ${literal(schema)} AND table_name = ${literal(name)}`,
      );
      if (Number(r.getRows()[0][0]) === 0) return inputKey(i);
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
   * An scd2 model is a projection and filter of one source, selecting its unique key columns as
   * they are. Its SQL is rewritten (through DuckDB's own parse tree) to read the batch's ordered
   * changes instead of the source and to pass their order and commit time through.
   */
  private async historySqlOf(conn: DuckDBConnection, def: ModelDefinition): Promise<string> {
    const input = def.inputs[0];
    if (def.inputs.length !== 1 || input.kind !== 'source') throw new Error('an scd2 model reads exactly one source');
    const parsed = await conn.runAndReadAll(`SELECT json_serialize_sql(${literal(renderModel(def))})`);
    const tree = JSON.parse(String(parsed.getRows()[0][0])) as { error?: boolean; error_message?: string; statements: { node: AstNode & Record<string, unknown> }[] };
    if (tree.error) throw new Error(tree.error_message);
    const node = tree.statements[0]?.node;
    if (node?.type !== 'SELECT_NODE' || node.from_table?.type !== 'BASE_TABLE' || (node.group_expressions ?? []).length > 0) {
      throw new Error('an scd2 model is a SELECT of columns (and a WHERE) FROM its source, no joins or GROUP BY');
    }
    for (const k of def.uniqueKey) {
      const plain = node.select_list!.some((e) => e.class === 'COLUMN_REF' && e.column_names!.at(-1) === k && (!e.alias || e.alias === k));
      if (!plain) throw new Error(`unique_key column "${k}" must be selected as it is in the source`);
    }
    for (const col of ['__op', '__seq', '__ts']) node.select_list!.push({ class: 'COLUMN_REF', type: 'COLUMN_REF', alias: '', query_location: 0, column_names: [col] } as AstNode);
    node.from_table = { ...node.from_table, schema_name: '', table_name: historyTableFor(inputKey(input)).slice(1, -1), alias: node.from_table.alias ?? '' } as AstNode;
    const sql = await conn.runAndReadAll(`SELECT json_deserialize_sql(${literal(JSON.stringify(tree))})`);
    return String(sql.getRows()[0][0]);
  }

  /**
   * Applies a batch's changes to an scd2 model, in commit order: each change closes the key's
   * current version at its commit time; an insert or update that passes the model's filter opens
   * the next version. A deleted (or filtered-out) row keeps its history and has no current version.
   */
  private async appendHistory(conn: DuckDBConnection, m: LoadedModel, change: RowChange): Promise<void> {
    const target = qualified(MODELS_SCHEMA, m.def.name);
    const uk = m.def.uniqueKey.map(ident);
    const cols = (await conn.runAndReadAll(`SELECT * FROM ${target} LIMIT 0`)).columnNames().filter((c) => !['valid_from', 'valid_to', 'is_current'].includes(c)).map(ident);
    const events = `(SELECT ${cols.join(', ')}, __seq, __ts, true AS __version FROM (${m.historySql})
       UNION ALL BY NAME SELECT ${uk.join(', ')}, __seq, __ts, false AS __version FROM ${change.history})`;
    // A change that produced a version is not also a closing: keep the version row per (key, seq).
    await conn.run(`CREATE OR REPLACE TEMP TABLE __scd_events AS SELECT * FROM ${events} QUALIFY row_number() OVER (PARTITION BY ${uk.join(', ')}, __seq ORDER BY __version DESC) = 1`);
    const match = uk.map((k) => `t.${k} IS NOT DISTINCT FROM f.${k}`).join(' AND ');
    await conn.run(
      `UPDATE ${target} AS t SET valid_to = f.first_ts, is_current = false
       FROM (SELECT ${uk.join(', ')}, min(__ts) AS first_ts FROM __scd_events GROUP BY ALL) AS f WHERE t.is_current AND ${match}`,
    );
    await conn.run(
      `INSERT INTO ${target} (${cols.join(', ')}, valid_from, valid_to, is_current)
       SELECT ${cols.join(', ')}, __ts, __next, __next IS NULL FROM (
         SELECT *, lead(__ts) OVER (PARTITION BY ${uk.join(', ')} ORDER BY __seq) AS __next FROM __scd_events) WHERE __version`,
    );
  }

  /** The rows as they are now become new versions: what is left when changes are not known one by one. */
  private async reopenHistory(conn: DuckDBConnection, m: LoadedModel): Promise<void> {
    const target = qualified(MODELS_SCHEMA, m.def.name);
    await conn.run(`UPDATE ${target} SET valid_to = now(), is_current = false WHERE is_current`);
    await conn.run(`INSERT INTO ${target} SELECT *, now(), NULL, true FROM (${renderModel(m.def)})`);
  }

  /**
   * The output columns an aggregate model groups by, from DuckDB's own parse of its SQL: one
   * input relation, a GROUP BY, and every grouping expression selected under a name.
   */
  private async groupColumnsOf(conn: DuckDBConnection, def: ModelDefinition): Promise<string[]> {
    if (def.inputs.length !== 1) throw new Error('an aggregate model reads exactly one source or model (join in an incremental model, then aggregate that)');
    const parsed = await conn.runAndReadAll(`SELECT json_serialize_sql(${literal(renderModel(def))})`);
    const tree = JSON.parse(String(parsed.getRows()[0][0])) as { error?: boolean; error_message?: string; statements: { node: AstNode }[] };
    if (tree.error) throw new Error(tree.error_message);
    const node = tree.statements[0]?.node;
    if (node?.type !== 'SELECT_NODE') throw new Error('an aggregate model is a single SELECT ... GROUP BY');
    if (node.from_table?.type !== 'BASE_TABLE') throw new Error('an aggregate model selects FROM its input directly (no join or subquery)');
    const groups = node.group_expressions ?? [];
    if (groups.length === 0) throw new Error('an aggregate model needs a GROUP BY');
    const select = node.select_list ?? [];
    const outputName = (e: AstNode): string | null => e.alias || (e.class === 'COLUMN_REF' ? e.column_names![e.column_names!.length - 1] : null);
    const strip = (e: unknown): string => JSON.stringify(e, (k, v) => (k === 'query_location' || k === 'alias' ? undefined : v));
    return groups.map((g) => {
      let at = -1;
      if (g.class === 'CONSTANT' && g.value?.type?.id === 'INTEGER') at = Number(g.value.value) - 1;
      else if (g.class === 'COLUMN_REF' && g.column_names!.length === 1) at = select.findIndex((e) => outputName(e) === g.column_names![0]);
      if (at < 0) at = select.findIndex((e) => strip(e) === strip(g));
      const name = at >= 0 ? outputName(select[at]) : null;
      if (!name) throw new Error(`select every GROUP BY expression under a name (e.g. "${'date_trunc(...) AS day'}")`);
      return name;
    });
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
      if (c.kind === 'rows' && c.history) await this.appendHistory(conn, m, c);
      else await this.reopenHistory(conn, m);
      return { kind: 'all' };
    }
    if (inputs.every((c) => c.kind === 'rows') && (m.def.materialized === 'aggregate' || m.def.materialized === 'incremental')) {
      return this.refreshAffected(conn, m, changes);
    }
    await this.rebuild(conn, m);
    return { kind: 'all' };
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

interface AstNode {
  type?: string;
  schema_name?: string;
  table_name?: string;
  class?: string;
  alias?: string;
  column_names?: string[];
  value?: { type?: { id?: string }; value?: unknown };
  from_table?: AstNode;
  group_expressions?: AstNode[];
  select_list?: AstNode[];
}
