import type { DuckDBConnection } from '@duckdb/node-api';
import { literal } from '../../core/sql.js';
import { type ModelDefinition, inputKey, renderModel } from './model-definition.js';
import { historyTableFor } from './model-changes.js';

/**
 * What the materializations need to know about a model's SQL, read from DuckDB's own parse tree
 * (`json_serialize_sql`) rather than from the text, and the one rewrite scd2 needs.
 */

/**
 * An scd2 model is a projection and filter of one source, selecting its unique key columns as
 * they are. Its SQL is rewritten (through DuckDB's own parse tree) to read the batch's ordered
 * changes instead of the source and to pass their order and commit time through.
 */
export async function historySqlOf(conn: DuckDBConnection, def: ModelDefinition): Promise<string> {
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
 * The output columns an aggregate model groups by, from DuckDB's own parse of its SQL: one
 * input relation, a GROUP BY, and every grouping expression selected under a name.
 */
export async function groupColumnsOf(conn: DuckDBConnection, def: ModelDefinition): Promise<string[]> {
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
