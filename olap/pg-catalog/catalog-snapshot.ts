import type { DuckDBConnection } from '@duckdb/node-api';
import { SluiceError, messageOf } from '../../core/errors.js';
import { SNAPSHOTS } from './base-views.js';
import { PG_SCHEMA } from './relation-builder.js';

const s = PG_SCHEMA;
/** Refreshes in this process run one at a time; they are short, and DuckDB would refuse concurrent ones. */
let queue: Promise<unknown> = Promise.resolve();

/**
 * Brings the catalog emulation up to date with the store's schema: compares a signature of
 * the store's tables, views, schemas and replica specs (a few ms) with the one the snapshots
 * were taken at, and re-takes them in one transaction if it differs. Call it before running a
 * statement whose translation reads the catalog (`translatePostgresQuery(...).readsCatalog`),
 * on a connection with no transaction open. Returns whether the snapshots were re-taken.
 */
export function refreshPgCatalog(conn: DuckDBConnection): Promise<boolean> {
  const run = queue.then(() => refresh(conn));
  queue = run.catch(() => undefined);
  return run;
}

async function refresh(conn: DuckDBConnection): Promise<boolean> {
  const check = await conn.runAndReadAll(
    `SELECT (SELECT signature FROM ${s}._live_signature) IS NOT DISTINCT FROM (SELECT signature FROM ${s}._snapshot_state)`,
  );
  if (check.getRows()[0][0] === true) return false;
  await conn.run('BEGIN TRANSACTION');
  try {
    for (const name of SNAPSHOTS) {
      await conn.run(`DELETE FROM ${s}.${name}`);
      await conn.run(`INSERT INTO ${s}.${name} SELECT * FROM ${s}._live${name}`);
    }
    await conn.run(`UPDATE ${s}._snapshot_state SET signature = (SELECT signature FROM ${s}._live_signature)`);
    await conn.run('COMMIT');
    return true;
  } catch (e) {
    await conn.run('ROLLBACK').catch(() => undefined);
    // Refreshed at the same time through a connection this queue does not order: its snapshot serves.
    if (/conflict/i.test(messageOf(e))) return false;
    throw new SluiceError('SLUICE_INTERNAL', `refreshing the Postgres catalog emulation failed: ${messageOf(e)}`, { cause: e });
  }
}
