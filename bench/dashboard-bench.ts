import { rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import pg from 'pg';
import type { SluiceApp } from '../cli/sluice-app.js';
import { type BenchOptions, benchApp, caughtUp, dropBenchDatabase, freshBenchDatabase, percentile, print, sleep } from './bench-util.js';

export interface DashboardOptions extends BenchOptions {
  /** Timed sequential runs per query and path (after warm-up). */
  readonly runs: number;
}

const DB = 'sluice_bench_dash';
/** The source name: Postgres' `public.orders` is `dash.orders` in Sluice (slot `sluice_dash`). */
const SOURCE = 'dash';
const PG_TABLE = 'orders';
const SLUICE_TABLE = `${SOURCE}.orders`;
const CLIENTS = 16;
/** Postgres gets fewer timed runs when one run takes longer than this. */
const SLOW_MS = 500;
const SLOW_RUNS = 10;
const TARGET_SPEEDUP = 10;
const TARGET_P99_MS = 100;
const DAY_MS = 86_400_000;

const INDEXES = ['created_at', 'status', 'customer_id', 'region, status, created_at'];

interface DashQuery {
  readonly name: string;
  readonly sql: (table: string) => string;
  /** The same query with its filters as parameters: what an app with prepared statements sends. */
  readonly prepared?: { readonly sql: (table: string) => string; readonly values: readonly unknown[] };
}

/** A dashboard's queries: the time windows are literals a dashboard computes, so both sides see the same range. */
function dashboardQueries(end: Date): DashQuery[] {
  const since90 = new Date(end.getTime() - 90 * DAY_MS).toISOString();
  const windowFrom = new Date(end.getTime() - 60 * DAY_MS).toISOString();
  const windowTo = new Date(end.getTime() - 30 * DAY_MS).toISOString();
  return [
    {
      name: 'group-by-status',
      sql: (t) => `SELECT status, count(*) AS orders, sum(amount) AS revenue, avg(amount) AS avg_amount FROM ${t} GROUP BY status ORDER BY status`,
    },
    {
      name: 'daily-90-days',
      sql: (t) =>
        `SELECT date_trunc('day', created_at) AS day, count(*) AS orders, sum(amount) AS revenue FROM ${t} ` +
        `WHERE created_at >= TIMESTAMPTZ '${since90}' GROUP BY 1 ORDER BY 1`,
      prepared: {
        sql: (t) => `SELECT date_trunc('day', created_at) AS day, count(*) AS orders, sum(amount) AS revenue FROM ${t} WHERE created_at >= $1 GROUP BY 1 ORDER BY 1`,
        values: [since90],
      },
    },
    {
      name: 'top-10-customers',
      sql: (t) => `SELECT customer_id, count(*) AS orders, sum(amount) AS revenue FROM ${t} GROUP BY customer_id ORDER BY revenue DESC, customer_id LIMIT 10`,
    },
    {
      name: 'region-status-30-days',
      sql: (t) =>
        `SELECT count(*) AS orders, sum(amount) AS revenue FROM ${t} WHERE region = 'eu-west' AND status = 'cancelled' ` +
        `AND created_at >= TIMESTAMPTZ '${windowFrom}' AND created_at < TIMESTAMPTZ '${windowTo}'`,
      prepared: {
        sql: (t) => `SELECT count(*) AS orders, sum(amount) AS revenue FROM ${t} WHERE region = $1 AND status = $2 AND created_at >= $3 AND created_at < $4`,
        values: ['eu-west', 'cancelled', windowFrom, windowTo],
      },
    },
  ];
}

/** One way of asking: Postgres itself, Sluice over REST, Sluice over the Postgres protocol. */
interface QueryPath {
  readonly label: string;
  run(q: DashQuery, prepared: boolean): Promise<unknown[][]>;
  close(): Promise<void>;
}

function pgPath(label: string, client: pg.Client, table: string): QueryPath {
  return {
    label,
    async run(q, prepared) {
      const r =
        prepared && q.prepared
          ? await client.query({ name: `dash-${q.name}`, text: q.prepared.sql(table), values: [...q.prepared.values], rowMode: 'array' })
          : await client.query({ text: q.sql(table), rowMode: 'array' });
      return r.rows as unknown[][];
    },
    close: () => client.end(),
  };
}

function restPath(baseUrl: string): QueryPath {
  return {
    label: 'sluice REST',
    async run(q) {
      const res = await fetch(`${baseUrl}/v1/query`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ sql: q.sql(SLUICE_TABLE) }),
      });
      const body = (await res.json()) as { rows?: unknown[][]; error?: { code: string; message: string } };
      if (!res.ok || !body.rows) throw new Error(`HTTP ${res.status}: ${body.error ? `${body.error.code} ${body.error.message}` : JSON.stringify(body)}`);
      return body.rows;
    },
    close: async () => {},
  };
}

async function connectPg(config: pg.ClientConfig): Promise<pg.Client> {
  const c = new pg.Client(config);
  c.on('error', () => {}); // a server going away mid-bench shows up as a failed query instead
  try {
    await c.connect();
  } catch (e) {
    await c.end().catch(() => {});
    throw e;
  }
  return c;
}

function sluicePgConfig(pgPort: number): pg.ClientConfig {
  return { host: '127.0.0.1', port: pgPort, database: 'sluice', user: 'sluice', connectionTimeoutMillis: 5_000, query_timeout: 120_000 };
}

/** A port free right now, for `api.pgPort` (the Postgres-protocol door needs a known port). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (a && typeof a === 'object' ? resolve(a.port) : reject(new Error('no port'))));
    });
  });
}

interface Timing {
  readonly sorted: number[];
  readonly rows: unknown[][];
}

async function timeRuns(path: QueryPath, q: DashQuery, prepared: boolean, runs: number, warmups: number): Promise<Timing> {
  let rows: unknown[][] = [];
  for (let i = 0; i < warmups; i++) rows = await path.run(q, prepared);
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    rows = await path.run(q, prepared);
    ms.push(performance.now() - t0);
  }
  return { sorted: ms.sort((a, b) => a - b), rows };
}

function fmtMs(ms: number): string {
  if (!Number.isFinite(ms)) return '-';
  return ms < 1 ? ms.toFixed(2) : ms < 10 ? ms.toFixed(1) : ms.toFixed(0);
}

function fmtX(x: number): string {
  return x >= 10 ? x.toFixed(0) : x.toFixed(1);
}

function stats(sorted: readonly number[]): { p50: number; p99: number; max: number } {
  return { p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), max: sorted[sorted.length - 1] ?? NaN };
}

function describe(label: string, sorted: readonly number[], baselineP50?: number): string {
  const s = stats(sorted);
  const x = baselineP50 !== undefined ? ` (${fmtX(baselineP50 / s.p50)}x)` : '';
  return `${label} p50 ${fmtMs(s.p50)} ms p99 ${fmtMs(s.p99)} ms max ${fmtMs(s.max)} ms${x}`;
}

/** Values as comparable numbers (numeric strings, bigints, timestamps) or strings. */
function norm(v: unknown): number | string | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (v instanceof Date) return v.getTime();
  const s = String(v);
  if (/^-?\d+(\.\d+)?(e[+-]?\d+)?$/i.test(s)) return Number(s);
  const ts = /^(\d{4}-\d{2}-\d{2})(?:[ T](\d{2}:\d{2}:\d{2}(?:\.\d+)?))?(?:(Z)|([+-]\d{2})(?::?(\d{2}))?)?$/.exec(s);
  if (ts) {
    const zone = ts[3] ? 'Z' : ts[4] ? `${ts[4]}:${ts[5] ?? '00'}` : 'Z';
    const t = Date.parse(`${ts[1]}T${ts[2] ?? '00:00:00'}${zone}`);
    if (!Number.isNaN(t)) return t;
  }
  return s;
}

/** Null when the answers agree (numbers within rounding), else what differs first. */
function disagreement(expected: unknown[][], actual: unknown[][]): string | null {
  if (expected.length !== actual.length) return `${actual.length} rows instead of ${expected.length}`;
  for (let r = 0; r < expected.length; r++) {
    const e = expected[r];
    const a = actual[r];
    if (e.length !== a.length) return `row ${r}: ${a.length} columns instead of ${e.length}`;
    for (let c = 0; c < e.length; c++) {
      const x = norm(e[c]);
      const y = norm(a[c]);
      const same = typeof x === 'number' && typeof y === 'number' ? Math.abs(x - y) <= 0.006 + 1e-9 * Math.abs(x) : x === y;
      if (!same) return `row ${r} column ${c}: ${JSON.stringify(a[c])} instead of ${JSON.stringify(e[c] instanceof Date ? e[c] : String(e[c]))}`;
    }
  }
  return null;
}

function errorText(e: unknown): string {
  const m = e instanceof Error ? e.message || e.name : String(e);
  const code = (e as { code?: unknown })?.code;
  return typeof code === 'string' && !m.includes(code) ? `${code}: ${m}` : m;
}

async function setUp(o: DashboardOptions, end: Date): Promise<string> {
  const { client: c, url } = await freshBenchDatabase(o.pgUrl, DB);
  try {
    await c.query(`CREATE TABLE orders (id bigint PRIMARY KEY, customer_id int NOT NULL, status text NOT NULL, region text NOT NULL,
      amount numeric(12,2) NOT NULL, created_at timestamptz NOT NULL)`);
    const t0 = performance.now();
    await c.query(`SELECT setseed(0.42)`);
    // Orders arrive in id order over one year ending at `end`; statuses and regions skewed like a shop's,
    // a long tail of customers, amounts mostly small.
    await c.query(`INSERT INTO orders
      SELECT g, 1 + floor(200000 * r3 * r3)::int,
        CASE WHEN r1 < 0.55 THEN 'delivered' WHEN r1 < 0.70 THEN 'shipped' WHEN r1 < 0.80 THEN 'paid'
             WHEN r1 < 0.90 THEN 'new' WHEN r1 < 0.97 THEN 'cancelled' ELSE 'refunded' END,
        (ARRAY['eu-west','eu-central','us-east','us-west','apac','latam'])[1 + floor(r2 * r2 * 6)::int],
        round((2 + 498 * r4 * r4)::numeric, 2),
        TIMESTAMPTZ '${new Date(end.getTime() - 365 * DAY_MS).toISOString()}'
          + ((g - 1) * (365 * 86400.0 / ${o.rows}) + r5 * 600) * interval '1 second'
      FROM (SELECT g, random() AS r1, random() AS r2, random() AS r3, random() AS r4, random() AS r5
            FROM generate_series(1, ${o.rows}) g) s`);
    const loaded = (performance.now() - t0) / 1000;
    const t1 = performance.now();
    for (const cols of INDEXES) await c.query(`CREATE INDEX ON orders (${cols})`);
    await c.query('VACUUM ANALYZE orders');
    const settings = (
      await c.query(`SELECT name, setting, unit FROM pg_settings WHERE name IN ('shared_buffers', 'work_mem', 'max_parallel_workers_per_gather', 'jit') ORDER BY name`)
    ).rows as { name: string; setting: string; unit: string | null }[];
    const size = (await c.query(`SELECT pg_size_pretty(pg_table_size('orders')) AS t, pg_size_pretty(pg_indexes_size('orders')) AS i`)).rows[0] as { t: string; i: string };
    print(
      `dashboards: postgres table orders: ${o.rows.toLocaleString()} rows generated in ${loaded.toFixed(1)} s (${size.t}, 6 columns: bigint pk, int, 2 text, numeric(12,2), timestamptz over 1 year)`,
    );
    print(
      `dashboards: postgres indexes a DBA would add: ${INDEXES.map((i) => `orders(${i})`).join(', ')} (${size.i}, built + VACUUM ANALYZE in ${((performance.now() - t1) / 1000).toFixed(1)} s); ` +
        `stock settings: ${settings.map((s) => `${s.name}=${s.setting}${s.unit && s.unit !== '' ? ` ${s.unit}` : ''}`).join(', ')}; same machine as Sluice`,
    );
  } finally {
    await c.end();
  }
  return url;
}

/** 16 clients firing the query mix back to back for `seconds`; queries/s and latency under load. */
async function underLoad(label: string, paths: readonly QueryPath[], queries: readonly DashQuery[], seconds: number): Promise<string> {
  const ms: number[] = [];
  let errors = 0;
  let firstError = '';
  const t0 = performance.now();
  const deadline = t0 + seconds * 1000;
  await Promise.all(
    paths.map(async (p, i) => {
      for (let k = i; performance.now() < deadline; k++) {
        const q = queries[k % queries.length];
        const s = performance.now();
        try {
          await p.run(q, false);
          ms.push(performance.now() - s);
        } catch (e) {
          errors++;
          firstError ||= errorText(e);
          if (errors > 100) return;
        }
      }
    }),
  );
  const elapsed = (performance.now() - t0) / 1000;
  ms.sort((a, b) => a - b);
  const s = stats(ms);
  return (
    `dashboards: ${label} under load, ${paths.length} clients x query mix for ${elapsed.toFixed(1)} s: ${(ms.length / elapsed).toFixed(1)} queries/s, ` +
    `p50 ${fmtMs(s.p50)} ms p99 ${fmtMs(s.p99)} ms max ${fmtMs(s.max)} ms over ${ms.length} queries` +
    (errors ? `; ${errors} FAILED (first: ${firstError})` : '')
  );
}

/** Drops the database once the replication connection has let go of its slot. */
async function cleanUp(adminUrl: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await dropBenchDatabase(adminUrl, DB);
      return;
    } catch (e) {
      if (attempt >= 20) {
        print(`dashboards: could not drop database ${DB} and its slot: ${errorText(e)}`);
        return;
      }
      await sleep(500);
    }
  }
}

/**
 * Dashboard queries over a 5M-row fact table: Postgres itself (with its indexes) against Sluice's
 * replica of the same table, over REST and over the Postgres protocol; one at a time and under
 * 16 concurrent clients.
 */
export async function benchDashboards(o: DashboardOptions): Promise<void> {
  const dataDir = join(o.dataDir, 'dashboards');
  rmSync(dataDir, { recursive: true, force: true });
  const end = new Date(Math.floor(Date.now() / DAY_MS) * DAY_MS);
  const queries = dashboardQueries(end);
  const rowsText = `${o.rows.toLocaleString()} rows`;
  let app: SluiceApp | null = null;
  const open: QueryPath[] = [];
  try {
    const url = await setUp(o, end);
    const pgPort = await freePort();
    app = benchApp({ name: SOURCE, kind: 'postgres', url, tables: ['orders'] }, dataDir, null, { pgPort });
    const t0 = performance.now();
    await app.start();
    await caughtUp(app, SOURCE);
    const rest = restPath(app.address!.http);
    const [[visible]] = await rest.run({ name: 'count', sql: (t) => `SELECT count(*) FROM ${t}` }, false);
    const snap = (performance.now() - t0) / 1000;
    print(`dashboards: sluice snapshot of ${SLUICE_TABLE}: ${Number(visible).toLocaleString()} rows visible after ${snap.toFixed(1)} s (start to queryable)`);
    if (Number(visible) !== o.rows) throw new Error(`the replica has ${String(visible)} rows, expected ${o.rows}`);

    const postgres = pgPath('postgres', await connectPg({ connectionString: url }), PG_TABLE);
    open.push(postgres);
    let pgwire: QueryPath | null = null;
    let pgwireDown = '';
    try {
      const c = await connectPg(sluicePgConfig(pgPort));
      pgwire = pgPath('sluice pgwire', c, SLUICE_TABLE);
      open.push(pgwire);
      await c.query('SELECT 1');
    } catch (e) {
      pgwireDown = errorText(e);
      pgwire = null;
      print(`pgwire: not available (${pgwireDown}; api.pgPort ${pgPort}); REST and Postgres figures only`);
    }

    // What any answer costs through each door: the floor under the figures below.
    const ping: DashQuery = { name: 'ping', sql: () => 'SELECT 1' };
    const floors = [describe('sluice REST', (await timeRuns(rest, ping, false, o.runs, 3)).sorted)];
    if (pgwire) {
      try {
        floors.push(describe('sluice pgwire', (await timeRuns(pgwire, ping, false, o.runs, 3)).sorted));
      } catch (e) {
        floors.push(`sluice pgwire FAILED (${errorText(e)})`);
      }
    }
    floors.push(describe('postgres', (await timeRuns(postgres, ping, false, o.runs, 3)).sorted));
    print(`dashboards: round trip of SELECT 1 (no table): ${floors.join(' | ')}`);

    // 1. One query at a time.
    const verdicts: string[] = [];
    const worst = new Map<string, { x: number; p99: number; failed: boolean }>();
    for (const q of queries) {
      const pgWarm = performance.now();
      await postgres.run(q, false);
      const slow = performance.now() - pgWarm > SLOW_MS;
      const base = await timeRuns(postgres, q, false, slow ? Math.min(SLOW_RUNS, o.runs) : o.runs, slow ? 0 : 2);
      const baseP50 = stats(base.sorted).p50;
      const parts = [describe(`postgres (${base.sorted.length} runs)`, base.sorted)];
      const notes: string[] = [];
      const targets: string[] = [];
      const judge = (label: string, sorted: readonly number[]): void => {
        const s = stats(sorted);
        const x = baseP50 / s.p50;
        const w = worst.get(label) ?? { x: Infinity, p99: 0, failed: false };
        worst.set(label, { x: Math.min(w.x, x), p99: Math.max(w.p99, s.p99), failed: w.failed });
        const speedOk = x >= TARGET_SPEEDUP;
        const p99Ok = s.p99 < TARGET_P99_MS;
        targets.push(`${label} ${speedOk && p99Ok ? 'met' : `NOT met (${[speedOk ? '' : `${fmtX(x)}x`, p99Ok ? '' : `p99 ${fmtMs(s.p99)} ms`].filter(Boolean).join(', ')})`}`);
      };
      const paths: [QueryPath, boolean, string][] = [[rest, false, 'sluice REST']];
      if (pgwire) {
        paths.push([pgwire, false, 'sluice pgwire']);
        if (q.prepared) paths.push([pgwire, true, 'sluice pgwire prepared']);
      }
      for (const [path, prepared, label] of paths) {
        try {
          const t = await timeRuns(path, q, prepared, o.runs, 3);
          parts.push(describe(label, t.sorted, baseP50));
          judge(label, t.sorted);
          const diff = disagreement(base.rows, t.rows);
          if (diff) notes.push(`dashboards: ${q.name}: ${label} answer DIFFERS from postgres: ${diff}`);
        } catch (e) {
          parts.push(`${label} FAILED`);
          notes.push(`dashboards: ${q.name}: ${label} failed: ${errorText(e)}`);
          const w = worst.get(label) ?? { x: Infinity, p99: 0, failed: false };
          worst.set(label, { ...w, failed: true });
        }
      }
      print(`dashboards: ${q.name} over ${rowsText} (${base.rows.length} result rows): ${parts.join(' | ')}`);
      for (const n of notes) print(n);
      verdicts.push(`${q.name}: ${targets.join(', ')}`);
    }
    print(`dashboards: targets (sluice p50 >= ${TARGET_SPEEDUP}x postgres p50, p99 < ${TARGET_P99_MS} ms), per query: ${verdicts.join('; ')}`);
    const overall = [...worst].map(
      ([label, w]) =>
        `${label} ${!w.failed && w.x >= TARGET_SPEEDUP && w.p99 < TARGET_P99_MS ? 'MET' : 'NOT met'} (slowest speedup ${fmtX(w.x)}x, worst p99 ${fmtMs(w.p99)} ms${w.failed ? ', some queries failed' : ''})`,
    );
    print(`dashboards: targets over all ${queries.length} queries: ${overall.join(' | ')}`);

    // 2. Under load: 16 clients each, the query mix in a loop.
    const restClients = Array.from({ length: CLIENTS }, () => restPath(app!.address!.http));
    print(await underLoad('sluice REST', restClients, queries, o.steadySeconds));
    if (pgwire) {
      const conns: QueryPath[] = [];
      try {
        for (let i = 0; i < CLIENTS; i++) {
          const p = pgPath('sluice pgwire', await connectPg(sluicePgConfig(pgPort)), SLUICE_TABLE);
          conns.push(p);
          open.push(p);
        }
        print(await underLoad(`sluice pgwire (${CLIENTS} connections)`, conns, queries, o.steadySeconds));
      } catch (e) {
        print(`dashboards: sluice pgwire under load: could not open ${CLIENTS} connections (${conns.length} opened): ${errorText(e)}`);
      }
    } else {
      print(`pgwire: not available (${pgwireDown}); no figures under load`);
    }
    const pgConns: QueryPath[] = [];
    for (let i = 0; i < CLIENTS; i++) {
      const p = pgPath('postgres', await connectPg({ connectionString: url }), PG_TABLE);
      pgConns.push(p);
      open.push(p);
    }
    // Postgres' queries take ~0.5 s alone; a shorter window still sees a few rounds of the mix.
    print(await underLoad(`postgres (${CLIENTS} connections)`, pgConns, queries, Math.min(o.steadySeconds, 10)));
  } finally {
    for (const p of open) await p.close().catch(() => {});
    if (app) await app.stop().catch((e: unknown) => print(`dashboards: stopping sluice failed: ${errorText(e)}`));
    if (!o.keep) {
      rmSync(dataDir, { recursive: true, force: true });
      await cleanUp(o.pgUrl);
    }
  }
}
