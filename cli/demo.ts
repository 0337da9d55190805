import { rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { validateConfig } from '../core/config.js';
import { SluiceError, messageOf } from '../core/errors.js';
import { createLogger } from '../core/logger.js';
import { SluiceApp } from './sluice-app.js';

const DEMO_DB = 'sluice_demo';

const SCHEMA = `
  DROP TABLE IF EXISTS orders, customers;
  CREATE TABLE customers (id serial PRIMARY KEY, name text NOT NULL, country text NOT NULL, created_at timestamptz NOT NULL DEFAULT now());
  CREATE TABLE orders (id bigserial PRIMARY KEY, customer_id int NOT NULL REFERENCES customers(id), status text NOT NULL,
                       amount numeric(12,2) NOT NULL, created_at timestamptz NOT NULL DEFAULT now());
  INSERT INTO customers (name, country)
    SELECT 'customer ' || g, (ARRAY['DE','FR','US','JP','BR'])[1 + g % 5] FROM generate_series(1, 500) g;
  INSERT INTO orders (customer_id, status, amount, created_at)
    SELECT 1 + g % 500, (ARRAY['new','paid','shipped'])[1 + g % 3], round((random() * 200)::numeric, 2), now() - (g || ' minutes')::interval
    FROM generate_series(1, 5000) g;
`;

function withDatabase(url: string, db: string): string {
  const u = new URL(url);
  u.pathname = `/${db}`;
  return u.toString();
}

async function prepareDatabase(adminUrl: string): Promise<string> {
  const admin = new pg.Client({ connectionString: adminUrl });
  try {
    await admin.connect();
  } catch (e) {
    throw new SluiceError('SLUICE_DEMO', `cannot reach Postgres at ${adminUrl}: ${messageOf(e)} (pass --pg-url)`);
  }
  try {
    const level = (await admin.query('SHOW wal_level')).rows[0].wal_level as string;
    if (level !== 'logical') {
      throw new SluiceError('SLUICE_DEMO', `Postgres runs with wal_level=${level}; run "bash scripts/prepare-services.sh" (or set wal_level=logical and restart Postgres)`);
    }
    const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [DEMO_DB]);
    if (exists.rowCount === 0) await admin.query(`CREATE DATABASE ${DEMO_DB}`);
  } finally {
    await admin.end();
  }
  const url = withDatabase(adminUrl, DEMO_DB);
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  try {
    // Leftovers of an earlier demo that did not get to clean up.
    await db.query(`SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = 'sluice_shop' AND NOT active`);
    await db.query('DROP PUBLICATION IF EXISTS sluice_shop');
    await db.query(SCHEMA);
  } finally {
    await db.end();
  }
  return url;
}

/** A few orders a second: new ones, status changes, now and then a cancellation. */
function startTrickle(url: string, onError: (e: unknown) => void): () => Promise<void> {
  const client = new pg.Client({ connectionString: url });
  let stopped = false;
  const loop = (async () => {
    await client.connect();
    while (!stopped) {
      await client.query(`INSERT INTO orders (customer_id, status, amount)
        SELECT 1 + (random() * 499)::int, 'new', round((random() * 200)::numeric, 2) FROM generate_series(1, 3)`);
      await client.query(`UPDATE orders SET status = CASE status WHEN 'new' THEN 'paid' ELSE 'shipped' END
        WHERE id = (SELECT id FROM orders WHERE status <> 'shipped' ORDER BY random() LIMIT 1)`);
      if (Math.random() < 0.1) await client.query(`DELETE FROM orders WHERE id = (SELECT min(id) FROM orders)`);
      await new Promise((r) => setTimeout(r, 200));
    }
  })().catch(onError);
  return async () => {
    stopped = true;
    await loop;
    await client.end().catch(() => undefined);
  };
}

async function cleanUp(url: string): Promise<void> {
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  try {
    await db.query(`SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = 'sluice_shop'`);
    await db.query('DROP PUBLICATION IF EXISTS sluice_shop');
  } finally {
    await db.end();
  }
}

export async function runDemo(argv: string[], untilSignal: () => Promise<string>): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: { 'pg-url': { type: 'string' }, port: { type: 'string' }, 'data-dir': { type: 'string' } },
    strict: true,
  });
  const adminUrl = values['pg-url'] ?? process.env.SLUICE_DEMO_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const dataDir = resolve(values['data-dir'] ?? './data/demo');
  const port = Number(values.port ?? 8080);
  const url = await prepareDatabase(adminUrl);
  rmSync(dataDir, { recursive: true, force: true });

  const config = validateConfig({
    sources: [{ name: 'shop', kind: 'postgres', url, tables: ['public.orders', 'public.customers'] }],
    log: { kind: 'embedded', dir: `${dataDir}/log` },
    store: { path: `${dataDir}/store.duckdb` },
    api: { port },
    logging: { level: 'warn' },
  });
  const logger = createLogger(config.logging.level);
  const app = new SluiceApp(config, logger);
  let failed: unknown = null;
  const stopTrickle = startTrickle(url, (e) => (failed = e));
  try {
    await app.start();
    const http = app.address!.http;
    process.stdout.write(
      `\nSluice demo is running: orders are flowing into Postgres database "${DEMO_DB}" and into Sluice.\n\n` +
        `  curl -s ${http}/v1/sources\n` +
        `  curl -s ${http}/v1/tables\n` +
        `  curl -s ${http}/v1/query -H 'content-type: application/json' \\\n` +
        `       -d '{"sql": "select status, count(*) as orders, sum(amount) as revenue from shop.orders group by status"}'\n` +
        `  psql -h 127.0.0.1 -p ${app.address!.pgPort} -U demo sluice     # \\dt, \\d shop.orders, any SELECT\n\n` +
        `Ctrl-C stops it and removes the demo's replication slot and data.\n`,
    );
    await untilSignal();
  } finally {
    await stopTrickle();
    await app.stop();
    await cleanUp(url).catch(() => undefined);
    rmSync(dataDir, { recursive: true, force: true });
  }
  if (failed) throw failed;
}
