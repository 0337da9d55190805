import { qualified } from '../../core/sql.js';

export type Materialization = 'view' | 'incremental' | 'aggregate' | 'scd2';

/** A relation a model reads: a replicated table, or another model. */
export type ModelInput = { readonly kind: 'source'; readonly source: string; readonly table: string } | { readonly kind: 'ref'; readonly model: string };

export interface ModelDefinition {
  readonly name: string;
  readonly file: string;
  readonly materialized: Materialization;
  readonly uniqueKey: readonly string[];
  /** The SQL as written, with `{{ source() }}`/`{{ ref() }}` still in it. */
  readonly template: string;
  readonly inputs: readonly ModelInput[];
}

/** Schema in the store that holds the models. */
export const MODELS_SCHEMA = 'models';

export class ModelDefinitionError extends Error {
  /** `models` names every model the problem concerns (all of a cycle). */
  constructor(readonly file: string, message: string, readonly models: readonly string[] = []) {
    super(`${file}: ${message}`);
  }
}

const TAG = /\{\{\s*(config|source|ref)\s*\(([^)]*)\)\s*\}\}/g;
const ARG = /(?:(\w+)\s*=\s*)?(?:'([^']*)'|"([^"]*)"|\[([^\]]*)\])/g;

function args(raw: string): { positional: string[]; named: Record<string, string | string[]> } {
  const positional: string[] = [];
  const named: Record<string, string | string[]> = {};
  for (const m of raw.matchAll(ARG)) {
    const value = m[4] !== undefined ? [...m[4].matchAll(/'([^']*)'|"([^"]*)"/g)].map((x) => x[1] ?? x[2]) : (m[2] ?? m[3]);
    if (m[1]) named[m[1]] = value;
    else positional.push(Array.isArray(value) ? value.join(',') : value);
  }
  return { positional, named };
}

/**
 * Reads a dbt-style model file: `{{ config(materialized='aggregate', unique_key='id') }}`,
 * `{{ source('shop', 'orders') }}` and `{{ ref('other_model') }}`. The file name is the model
 * name; the table is `models.<name>`.
 */
export function parseModelFile(name: string, file: string, text: string): ModelDefinition {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new ModelDefinitionError(file, `model name "${name}" must be a lower-case SQL identifier`);
  let materialized: Materialization = 'view';
  let uniqueKey: string[] = [];
  const inputs: ModelInput[] = [];
  for (const m of text.matchAll(TAG)) {
    const a = args(m[2]);
    if (m[1] === 'config') {
      const mat = a.named.materialized ?? 'view';
      if (!['view', 'incremental', 'aggregate', 'scd2'].includes(String(mat))) {
        throw new ModelDefinitionError(file, `materialized='${mat}' is not one of view, incremental, aggregate, scd2`);
      }
      materialized = mat as Materialization;
      const key = a.named.unique_key;
      uniqueKey = key === undefined ? [] : Array.isArray(key) ? key : String(key).split(',').map((k) => k.trim());
    } else if (m[1] === 'source') {
      if (a.positional.length !== 2) throw new ModelDefinitionError(file, `source() takes a source and a table: ${m[0]}`);
      inputs.push({ kind: 'source', source: a.positional[0], table: a.positional[1] });
    } else {
      if (a.positional.length !== 1) throw new ModelDefinitionError(file, `ref() takes one model name: ${m[0]}`);
      inputs.push({ kind: 'ref', model: a.positional[0] });
    }
  }
  if ((materialized === 'incremental' || materialized === 'scd2') && uniqueKey.length === 0) {
    throw new ModelDefinitionError(file, `materialized='${materialized}' needs unique_key`);
  }
  if (inputs.length === 0) throw new ModelDefinitionError(file, 'reads no source() or ref(): a model must be derived from replicated data');
  return { name, file, materialized, uniqueKey, template: text, inputs };
}

/** The store relation an input names. */
export function inputRelation(i: ModelInput): string {
  return i.kind === 'source' ? qualified(i.source, i.table) : qualified(MODELS_SCHEMA, i.model);
}

export function inputKey(i: ModelInput): string {
  return i.kind === 'source' ? `${i.source}.${i.table}` : `${MODELS_SCHEMA}.${i.model}`;
}

/**
 * The model's SQL with its inputs resolved; `replace` swaps chosen inputs for other relations
 * (the batch's changed rows, when finding what a change affects).
 */
export function renderModel(def: ModelDefinition, replace: ReadonlyMap<string, string> = new Map()): string {
  return def.template
    .replace(TAG, (_all, kind: string, raw: string) => {
      if (kind === 'config') return '';
      const a = args(raw);
      const input: ModelInput = kind === 'source' ? { kind: 'source', source: a.positional[0], table: a.positional[1] } : { kind: 'ref', model: a.positional[0] };
      return replace.get(inputKey(input)) ?? inputRelation(input);
    })
    .trim()
    .replace(/;\s*$/, '');
}
