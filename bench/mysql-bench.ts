import { rmSync } from 'node:fs';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import type { SluiceApp } from '../cli/sluice-app.js';
import { type BenchOptions, benchApp, print, rate, sleep } from './bench-util.js';

const DB = 'sluice_bench';

async function rowsVisible(app: SluiceApp, sql: string, want: number, timeoutMs = 300_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const rows = (await (await fetch(`${app.address!.http}/v1/query`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ sql }),
    })).json()) as { rows?: number[][] };
    if (rows.rows?.[0]?.[0] === want) return Date.now();
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${sql} = ${want}`);
    await sleep(5);
  }
}

/** Snapshot and streaming rates from the local MariaDB/MySQL, same table shape as the Postgres bench. */
export async function benchMysql(o: BenchOptions): Promise<void> {
  const dataDir = join(o.dataDir, 'mysql');
  rmSync(dataDir, { recursive: true, force: true });
  const u = new URL(o.mysqlUrl);
  const base = { host: u.hostname, port: Number(u.port || 3306), user: decodeURIComponent(u.username || 'root'), password: decodeURIComponent(u.password) };
  const admin = await mysql.createConnection({ ...base, multipleStatements: true });
  await admin.query(`DROP DATABASE IF EXISTS ${DB}; CREATE DATABASE ${DB}`);
  await admin.end();
  const c = await mysql.createConnection({ ...base, database: DB, multipleStatements: true });
  await c.query(`CREATE TABLE orders (id bigint PRIMARY KEY, customer_id int NOT NULL, status varchar(20) NOT NULL,
    amount decimal(12,2) NOT NULL, created_at timestamp(6) NOT NULL, note varchar(100))`);
  const [[version]] = (await c.query('SELECT VERSION() AS v')) as unknown as [{ v: string }[]];
  print(`mysql: generating ${o.rows.toLocaleString()} rows in ${version.v} (orders: same 6 columns as the Postgres bench)`);
  for (let from = 1; from <= o.rows; from += 200_000) {
    const to = Math.min(o.rows, from + 199_999);
    await c.query(`INSERT INTO orders SELECT seq, seq % 50000, ELT(1 + seq % 4, 'new', 'paid', 'shipped', 'cancelled'),
      (seq % 100000) / 100, TIMESTAMP'2025-01-01 00:00:00' + INTERVAL seq SECOND, CONCAT('order note ', seq) FROM seq_${from}_to_${to}`);
  }
  const url = `mysql://${base.user}${base.password ? `:${encodeURIComponent(base.password)}` : ''}@${base.host}:${base.port}/${DB}`;

  const app = benchApp({ name: 'benchmy', kind: 'mysql', url, tables: ['orders'] }, dataDir);
  const t0 = Date.now();
  await app.start();
  const snapDone = await rowsVisible(app, 'SELECT count(*) FROM benchmy.orders', o.rows);
  const snap = (snapDone - t0) / 1000;
  print(`mysql snapshot: ${o.rows.toLocaleString()} rows in ${snap.toFixed(2)} s = ${rate(o.rows, snap)} rows/s (consistent snapshot -> log -> DuckDB)`);

  // Streaming: changes committed while Sluice was stopped, then caught up from the binlog.
  await app.stop();
  const n = Math.min(o.changes, o.rows);
  const perTxn = 5000;
  for (let done = 0; done < n; done += perTxn) {
    await c.query(`UPDATE orders SET status = 'streamed' WHERE id BETWEEN ${done + 1} AND ${done + perTxn}`);
  }
  const again = benchApp({ name: 'benchmy', kind: 'mysql', url, tables: ['orders'] }, dataDir);
  const t1 = Date.now();
  await again.start();
  const seen = await rowsVisible(again, `SELECT count(*) FROM benchmy.orders WHERE status = 'streamed'`, n);
  const catchUp = (seen - t1) / 1000;
  print(`mysql streaming: ${n.toLocaleString()} row updates (${perTxn}-row transactions) caught up in ${catchUp.toFixed(2)} s = ${rate(n, catchUp)} changes/s (binlog decode -> log -> DuckDB, incl. start-up)`);
  await again.stop();
  if (!o.keep) await c.query(`DROP DATABASE ${DB}`);
  await c.end();
  if (!o.keep) rmSync(dataDir, { recursive: true, force: true });
}
