import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type BenchOptions, benchApp, caughtUp, currentLsn, dropBenchDatabase, freshBenchDatabase, print, rate, sleep, visibleAfter } from './bench-util.js';

const DB = 'sluice_bench_models';

const MODELS: Record<string, string> = {
  enriched: `{{ config(materialized='incremental', unique_key='id') }}
select o.id, o.status, o.amount, c.name as customer, c.country
from {{ source('bench', 'orders') }} o left join {{ source('bench', 'customers') }} c on c.id = o.customer_id`,
  by_status: `{{ config(materialized='aggregate') }}
select status, count(*) as orders, sum(amount) as revenue, min(amount) as smallest, max(amount) as largest
from {{ source('bench', 'orders') }} group by status`,
};

/**
 * Changes/s through an enrichment join and an aggregate at 1M base rows: the same burst of
 * changes is caught up once without models and once with them; and how long a rebuild takes.
 */
export async function benchModels(o: BenchOptions): Promise<void> {
  const dataDir = join(o.dataDir, 'models');
  rmSync(dataDir, { recursive: true, force: true });
  const modelsDir = join(dataDir, 'models');
  mkdirSync(modelsDir, { recursive: true });
  for (const [name, sql] of Object.entries(MODELS)) writeFileSync(join(modelsDir, `${name}.sql`), sql);

  const { client: c, url } = await freshBenchDatabase(o.pgUrl, DB);
  await c.query(`CREATE TABLE customers (id int PRIMARY KEY, name text, country text)`);
  await c.query(`CREATE TABLE orders (id bigint PRIMARY KEY, customer_id int, status text, amount numeric(12,2))`);
  await c.query(`INSERT INTO customers SELECT g, 'customer ' || g, (ARRAY['DE','FR','US','JP','BR'])[1 + g % 5] FROM generate_series(1, 50000) g`);
  await c.query(`INSERT INTO orders SELECT g, 1 + g % 50000, (ARRAY['new','paid','shipped'])[1 + g % 3], (g % 10000) / 100.0 FROM generate_series(1, ${o.rows}) g`);
  print(`models: ${o.rows.toLocaleString()} orders, 50,000 customers; models: incremental left join (orders x customers), aggregate by status`);

  const burst = async (round: number): Promise<number> => {
    let n = 0;
    for (let i = 0; i < 50; i++) {
      const from = round * 200_000 + i * 2_000 + 1;
      await c.query(`UPDATE orders SET status = 'r${round}', amount = amount + 1 WHERE id BETWEEN ${from} AND ${from + 1_999}`);
      await c.query(`UPDATE customers SET name = name || '+' WHERE id BETWEEN ${i * 50 + 1} AND ${i * 50 + 50}`);
      n += 2_050;
    }
    return n;
  };

  for (const withModels of [false, true]) {
    rmSync(join(dataDir, 'log'), { recursive: true, force: true });
    rmSync(join(dataDir, 'store.duckdb'), { force: true });
    rmSync(join(dataDir, 'store.duckdb.wal'), { force: true });
    await c.query(`SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = 'sluice_bench'`);
    let app = benchApp({ name: 'bench', kind: 'postgres', url, tables: ['orders', 'customers'] }, dataDir, withModels ? modelsDir : null);
    await app.start();
    await caughtUp(app, 'bench');
    await app.stop();
    const n = await burst(withModels ? 1 : 0);
    app = benchApp({ name: 'bench', kind: 'postgres', url, tables: ['orders', 'customers'] }, dataDir, withModels ? modelsDir : null);
    const target = await currentLsn(c);
    const t0 = Date.now();
    await app.start();
    const s = ((await visibleAfter(app, target - 1n)) - t0) / 1000;
    print(`models: ${n.toLocaleString()} changes (order updates in 2,000-row transactions, customer renames reaching ~50k joined rows) caught up in ${s.toFixed(2)} s = ${rate(n, s)} changes/s ${withModels ? 'WITH both models maintained' : 'without models (replicas only)'}`);
    if (withModels) {
      let r0 = Date.now();
      await app.store().reloadModels({ rebuildAll: true });
      print(`models: rebuilding both models from the replicas (${o.rows.toLocaleString()} rows) took ${((Date.now() - r0) / 1000).toFixed(2)} s`);
      r0 = Date.now();
      app.rebuildModels();
      while (app.store().rebuild.running) await sleep(10);
      const records = app.pipelineFor('bench')!.status().logEndOffset;
      print(`models: rebuilding both models from the log (replaying ${records.toLocaleString()} records: the snapshot and every change since) took ${((Date.now() - r0) / 1000).toFixed(2)} s${app.store().rebuild.error ? ` FAILED: ${app.store().rebuild.error}` : ''}`);
    }
    await app.stop();
  }
  await c.end();
  if (!o.keep) {
    rmSync(dataDir, { recursive: true, force: true });
    await dropBenchDatabase(o.pgUrl, DB);
  }
}
