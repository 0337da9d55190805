import type { DuckDBConnection } from '@duckdb/node-api';
import { ident, qualified } from '../../core/sql.js';
import { MODELS_SCHEMA, type ModelDefinition, renderModel } from './model-definition.js';
import type { RowChange } from './model-changes.js';

/**
 * Applies a batch's changes to an scd2 model, in commit order: each change closes the key's
 * current version at its commit time; an insert or update that passes the model's filter opens
 * the next version. A deleted (or filtered-out) row keeps its history and has no current version.
 */
export async function appendHistory(conn: DuckDBConnection, def: ModelDefinition, historySql: string, change: RowChange): Promise<void> {
  const target = qualified(MODELS_SCHEMA, def.name);
  const uk = def.uniqueKey.map(ident);
  const cols = (await conn.runAndReadAll(`SELECT * FROM ${target} LIMIT 0`)).columnNames().filter((c) => !['valid_from', 'valid_to', 'is_current'].includes(c)).map(ident);
  const events = `(SELECT ${cols.join(', ')}, __seq, __ts, true AS __version FROM (${historySql})
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
export async function reopenHistory(conn: DuckDBConnection, def: ModelDefinition): Promise<void> {
  const target = qualified(MODELS_SCHEMA, def.name);
  await conn.run(`UPDATE ${target} SET valid_to = now(), is_current = false WHERE is_current`);
  await conn.run(`INSERT INTO ${target} SELECT *, now(), NULL, true FROM (${renderModel(def)})`);
}
