import { join } from 'node:path';
import pg from 'pg';
import { SluiceApp } from '../cli/sluice-app.js';
import { validateConfig } from '../core/config.js';
import { createLogger } from '../core/logger.js';

export interface BenchOptions {
  readonly pgUrl: string;
  readonly mysqlUrl: string;
  readonly rows: number;
  readonly changes: number;
  readonly steadyRate: number;
  readonly steadySeconds: number;
  readonly dataDir: string;
  readonly keep: boolean;
}

/** Benchmarks report on stdout: their output is the product here, not a log. */
export function print(line: string): void {
  process.stdout.write(`${line}\n`);
}

export function rate(n: number, seconds: number): string {
  const r = n / seconds;
  return r >= 1e6 ? `${(r / 1e6).toFixed(2)}M` : r >= 1e3 ? `${(r / 1e3).toFixed(1)}k` : r.toFixed(0);
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export async function connectAdmin(url: string): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  return c;
}

/** Sluice in this process on embedded defaults, with its data in `dataDir`; `api` adds to `{ port: 0 }`. */
export function benchApp(source: Record<string, unknown>, dataDir: string, models: string | null = null, api: Record<string, unknown> = {}): SluiceApp {
  const config = validateConfig({
    sources: [source],
    log: { kind: 'embedded', dir: join(dataDir, 'log') },
    store: { path: join(dataDir, 'store.duckdb') },
    models,
    api: { port: 0, pgPort: 0, ...api },
    logging: { level: 'warn' },
  });
  return new SluiceApp(config, createLogger('warn'));
}

/** Resolves with the time the source streams and everything it logged is applied. */
export async function caughtUp(app: SluiceApp, source: string): Promise<number> {
  const p = app.pipelineFor(source)!;
  for (;;) {
    const [s] = (await app.sourcesStatus()) as { state: string }[];
    const st = p.status();
    if (s.state === 'streaming' && st.appliedOffset >= st.logEndOffset) return Date.now();
    await sleep(5);
  }
}

/** Resolves with the time the store committed a source transaction that ended after `lsn`. */
export async function visibleAfter(app: SluiceApp, lsn: bigint, source = 'bench'): Promise<number> {
  for (;;) {
    const p = app.pipelineFor(source)?.appliedPosition;
    if (p && lsnOf(p.lsn) > lsn) return Date.now();
    await sleep(2);
  }
}

function lsnOf(s: string): bigint {
  const [hi, lo] = s.split('/');
  return (BigInt(`0x${hi}`) << 32n) | BigInt(`0x${lo}`);
}

export async function currentLsn(c: pg.Client): Promise<bigint> {
  return lsnOf((await c.query(`SELECT pg_current_wal_lsn()::text AS l`)).rows[0].l);
}


/** Drops a benchmark's Postgres database and its replication slots, which would otherwise hold WAL. */
export async function dropBenchDatabase(adminUrl: string, db: string): Promise<void> {
  const admin = await connectAdmin(adminUrl);
  try {
    await admin.query(`SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE database = $1 AND NOT active`, [db]);
    await admin.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}

/** A new, empty Postgres database for a benchmark; returns a connected client and its URL. */
export async function freshBenchDatabase(adminUrl: string, db: string): Promise<{ client: pg.Client; url: string }> {
  await dropBenchDatabase(adminUrl, db);
  const admin = await connectAdmin(adminUrl);
  await admin.query(`CREATE DATABASE ${db}`);
  await admin.end();
  const u = new URL(adminUrl);
  u.pathname = `/${db}`;
  const client = await connectAdmin(u.toString());
  return { client, url: u.toString() };
}
