import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import copyStreams from 'pg-copy-streams';
import { type BenchOptions, benchApp, caughtUp, currentLsn, dropBenchDatabase, freshBenchDatabase, percentile, print, rate, sleep, visibleAfter } from './bench-util.js';

const DB = 'sluice_bench';
const TABLE_DDL = `CREATE TABLE orders (id bigint PRIMARY KEY, customer_id int NOT NULL, status text NOT NULL,
  amount numeric(12,2) NOT NULL, created_at timestamptz NOT NULL, note text)`;

async function setUp(o: BenchOptions): Promise<string> {
  const { client: c, url } = await freshBenchDatabase(o.pgUrl, DB);
  await c.query(TABLE_DDL);
  await c.query(`INSERT INTO orders SELECT g, g % 50000, (ARRAY['new','paid','shipped','cancelled'])[1 + g % 4],
    round((g % 100000) / 100.0, 2), TIMESTAMPTZ '2025-01-01' + g * interval '1 second', 'order note ' || g
    FROM generate_series(1, ${o.rows}) g`);
  await c.query('VACUUM ANALYZE orders');
  await c.end();
  return url;
}

/** Postgres' own COPY TO speed on the same table: the ceiling for any snapshot. */
async function copyBaseline(url: string, format: 'binary' | 'csv'): Promise<number> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  const t0 = performance.now();
  await pipeline(c.query(copyStreams.to(`COPY orders TO STDOUT (FORMAT ${format})`)), new Writable({ write: (_c, _e, done) => done() }));
  const s = (performance.now() - t0) / 1000;
  await c.end();
  return s;
}

export async function benchPostgres(o: BenchOptions): Promise<void> {
  const dataDir = join(o.dataDir, 'pg');
  rmSync(dataDir, { recursive: true, force: true });
  print(`postgres: generating ${o.rows.toLocaleString()} rows (orders: 6 columns incl. numeric, timestamptz, text)`);
  const url = await setUp(o);
  const binary = await copyBaseline(url, 'binary');
  const csv = await copyBaseline(url, 'csv');
  print(`postgres COPY TO STDOUT baseline: binary ${binary.toFixed(2)} s (${rate(o.rows, binary)} rows/s), csv ${csv.toFixed(2)} s (${rate(o.rows, csv)} rows/s)`);

  // 1. Snapshot: from start to every row queryable in the store.
  let app = benchApp({ name: 'bench', kind: 'postgres', url, tables: ['orders'] }, dataDir);
  let t0 = performance.now();
  await app.start();
  await caughtUp(app, 'bench');
  const snap = (performance.now() - t0) / 1000;
  print(`snapshot: ${o.rows.toLocaleString()} rows in ${snap.toFixed(2)} s = ${rate(o.rows, snap)} rows/s (${((binary / snap) * 100).toFixed(0)}% of COPY binary speed, end to end: COPY -> log -> DuckDB)`);

  // 2. Apply rate: changes committed while Sluice was stopped, then caught up from the slot.
  await app.stop();
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  const n = o.changes;
  const perTxn = 5000;
  for (let done = 0; done < n; done += perTxn) {
    const from = (done % o.rows) + 1;
    const kind = (done / perTxn) % 3;
    if (kind === 0) await c.query(`UPDATE orders SET status = 'paid', amount = amount + 1 WHERE id BETWEEN ${from} AND ${from + perTxn - 1}`);
    else if (kind === 1) await c.query(`INSERT INTO orders SELECT g, 1, 'new', 9.99, now(), 'late' FROM generate_series(${o.rows + done + 1}, ${o.rows + done + perTxn}) g`);
    else await c.query(`DELETE FROM orders WHERE id BETWEEN ${from} AND ${from + perTxn - 1}`);
  }
  const target = await currentLsn(c);
  app = benchApp({ name: 'bench', kind: 'postgres', url, tables: ['orders'] }, dataDir);
  const startedAt = Date.now();
  await app.start();
  const seenAt = await Promise.race([visibleAfter(app, target - 1n), sleep(120_000).then(() => NaN)]);
  const catchUp = (seenAt - startedAt) / 1000;
  print(`apply: ${n.toLocaleString()} changes (updates/inserts/deletes in ${perTxn}-row transactions) caught up in ${catchUp.toFixed(2)} s = ${rate(n, catchUp)} changes/s (decode -> log -> DuckDB, incl. start-up)`);

  // 3. Freshness at a steady load: source commit time to store commit (visible to queries).
  const lat: number[] = [];
  const applyMs: number[] = [];
  const off = app.pipelineFor('bench')!.onApplied((records, at, ms) => {
    applyMs.push(ms);
    for (const r of records) if (r.header.kind === 'changes' && r.header.position) lat.push(at - r.header.position.tsMs);
  });
  const perSec = o.steadyRate;
  const txnRows = 100;
  const txnsPerSec = perSec / txnRows;
  const writers = 2;
  const seconds = o.steadySeconds;
  let next = o.rows + n + 1;
  let sent = 0;
  const start = performance.now();
  const loop = async (w: number): Promise<void> => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    for (let i = 0; performance.now() - start < seconds * 1000; i++) {
      const due = start + (i * writers + w) * (1000 / txnsPerSec);
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      const id = next;
      next += txnRows / 2;
      // Half new orders, half status changes of existing ones.
      await client.query(`BEGIN; INSERT INTO orders SELECT g, 7, 'new', 1.00, now(), 'steady' FROM generate_series(${id}, ${id + txnRows / 2 - 1}) g;
        UPDATE orders SET status = 'shipped' WHERE id BETWEEN ${(id % o.rows) + 1} AND ${(id % o.rows) + txnRows / 2}; COMMIT`);
      sent += txnRows;
    }
    await client.end();
  };
  await Promise.all(Array.from({ length: writers }, (_, w) => loop(w)));
  const elapsed = (performance.now() - start) / 1000;
  await Promise.race([visibleAfter(app, (await currentLsn(c)) - 1n), sleep(30_000)]);
  await sleep(200);
  off();
  lat.sort((a, b) => a - b);
  applyMs.sort((a, b) => a - b);
  print(
    `freshness at ${rate(sent, elapsed)} changes/s for ${elapsed.toFixed(0)} s (${txnRows}-change transactions, ${writers} writers): ` +
      `p50 ${percentile(lat, 0.5)} ms, p99 ${percentile(lat, 0.99)} ms, max ${lat[lat.length - 1]} ms over ${lat.length} transactions`,
  );
  print(
    `  store commits: ${applyMs.length} batches, apply time p50 ${percentile(applyMs, 0.5).toFixed(1)} ms, ` +
      `p99 ${percentile(applyMs, 0.99).toFixed(1)} ms, max ${applyMs[applyMs.length - 1].toFixed(1)} ms`,
  );
  await c.end();
  await app.stop();
  if (!o.keep) {
    rmSync(dataDir, { recursive: true, force: true });
    await dropBenchDatabase(o.pgUrl, DB);
  }
}
