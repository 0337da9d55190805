import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PG_ADMIN_URL, connectPg, dropDatabase, freshDatabase, waitFor } from './helpers/postgres.js';
import { tempDir } from './helpers/sluice.js';

const MAIN = join(import.meta.dirname, '..', 'dist', 'cli', 'main.js');

function sluice(args: string[]): { child: ChildProcess; out: () => string; err: () => string; exit: Promise<number | null> } {
  const child = spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  const exit = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, out: () => out, err: () => err, exit };
}

describe('sluice command', () => {
  const dir = tempDir('cli');
  const running: ChildProcess[] = [];

  afterAll(async () => {
    for (const c of running) c.kill('SIGKILL');
    await dropDatabase('sluice_t_cli');
  });

  it('refuses a bad config, naming every bad field, and exits non-zero', async () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'sources:\n  - name: shop\n    kind: postgres\n    tables: []\napi:\n  port: "eighty"\n');
    const s = sluice(['run', '--config', file]);
    expect(await s.exit).toBe(1);
    expect(s.err()).toContain('SLUICE_CONFIG_INVALID');
    expect(s.err()).toContain('sources[0].url: required');
    expect(s.err()).toContain('sources[0].tables: list at least one table');
    expect(s.err()).toContain('api.port:');
  });

  // A closed local port: nothing listens, so this is an unreachable broker, not a fake one.
  it.each([
    ['the Kafka log', { sources: [{ name: 'shop', kind: 'postgres', url: 'postgres://postgres@127.0.0.1:5432/postgres', tables: ['t'] }], log: { kind: 'kafka', brokers: ['127.0.0.1:1'] } }],
    ['a Debezium source', { sources: [{ name: 'dbz', kind: 'debezium-kafka', brokers: ['127.0.0.1:1'], topics: ['db.public.t'] }] }],
  ])('fails fast when %s cannot reach Kafka, naming Kafka and the brokers', async (_what, config) => {
    const file = join(dir, `kafka-${_what.length}.json`);
    writeFileSync(file, JSON.stringify({ ...config, store: { path: join(dir, `kafka-${_what.length}.duckdb`) }, api: { port: 0, pgPort: 0 } }));
    const started = Date.now();
    const s = sluice(['run', '--config', file]);
    expect(await s.exit).toBe(1);
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(s.err()).toContain('SLUICE_KAFKA_UNREACHABLE');
    expect(s.err()).toContain('cannot reach Kafka at 127.0.0.1:1');
  });

  it('says what is wrong with an unreadable config or unknown command', async () => {
    const missing = sluice(['run', '--config', join(dir, 'nope.json')]);
    expect(await missing.exit).toBe(1);
    expect(missing.err()).toContain('SLUICE_CONFIG_UNREADABLE');
    const unknown = sluice(['frobnicate']);
    expect(await unknown.exit).toBe(2);
    expect(unknown.err()).toContain('unknown command');
  });

  it('runs a config and shuts down cleanly on SIGTERM', async () => {
    const url = await freshDatabase('sluice_t_cli');
    const c = await connectPg(url);
    await c.query('CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t VALUES (1, \'a\')');
    await c.end();
    const file = join(dir, 'good.json');
    writeFileSync(file, JSON.stringify({
      sources: [{ name: 'cli', kind: 'postgres', url, tables: ['t'] }],
      log: { kind: 'embedded', dir: './log' },
      store: { path: './store.duckdb' },
      api: { port: 18931, pgPort: 0 },
      logging: { level: 'info' },
    }));
    const s = sluice(['run', '--config', file]);
    running.push(s.child);
    await waitFor('health', async () => (await fetch('http://127.0.0.1:18931/health').catch(() => null))?.ok);
    s.child.kill('SIGTERM');
    expect(await s.exit).toBe(0);
    // Structured logs only, on stderr; nothing stray on stdout.
    expect(s.out()).toBe('');
    const lines = s.err().trim().split('\n').map((l) => JSON.parse(l) as { msg: string });
    expect(lines.map((l) => l.msg)).toContain('shutting down');
  });

  it('stops promptly on SIGTERM in the middle of a snapshot, and snapshots again on the next start', async () => {
    const url = await freshDatabase('sluice_t_cli_snap');
    const c = await connectPg(url);
    await c.query(`CREATE TABLE big (id int PRIMARY KEY, v text); INSERT INTO big SELECT g, repeat('v', 100) FROM generate_series(1, 1500000) g`);
    await c.end();
    const file = join(dir, 'snap.json');
    writeFileSync(file, JSON.stringify({
      sources: [{ name: 'snap', kind: 'postgres', url, tables: ['big'] }],
      log: { kind: 'embedded', dir: './snap-log' },
      store: { path: './snap.duckdb' },
      api: { port: 18933, pgPort: 0 },
      logging: { level: 'info' },
    }));
    const status = async (): Promise<{ state: string; snapshot: { rows: number } | null } | undefined> => {
      const res = await fetch('http://127.0.0.1:18933/v1/sources').catch(() => null);
      return res?.ok ? ((await res.json()) as any).sources[0] : undefined;
    };
    const first = sluice(['run', '--config', file]);
    running.push(first.child);
    await waitFor('snapshot under way', async () => ((await status())?.snapshot?.rows ?? 0) > 0);
    const stoppedAt = Date.now();
    first.child.kill('SIGTERM');
    expect(await first.exit).toBe(0);
    expect(Date.now() - stoppedAt).toBeLessThan(3000);

    const second = sluice(['run', '--config', file]);
    running.push(second.child);
    await waitFor('snapshot done', async () => (await status())?.state === 'streaming', 60_000);
    const res = await fetch('http://127.0.0.1:18933/v1/query', {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ sql: 'SELECT count(*), count(DISTINCT id) FROM snap.big' }),
    });
    await waitFor('all rows', async () => {
      const r = await fetch('http://127.0.0.1:18933/v1/query', {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ sql: 'SELECT count(*), count(DISTINCT id) FROM snap.big' }),
      });
      const body = (await r.json()) as { rows?: number[][]; error?: unknown };
      if (!body.rows) throw new Error(`${JSON.stringify(body)}\n${JSON.stringify(await status())}\n${second.err()}`);
      const rows = body.rows[0];
      return rows[0] === 1_500_000 && rows[1] === 1_500_000;
    });
    expect(res.ok).toBe(true);
    second.child.kill('SIGTERM');
    expect(await second.exit).toBe(0);
    await dropDatabase('sluice_t_cli_snap');
  });

  it('runs the demo: data flows, queries answer, Ctrl-C stops it and leaves no slot behind', async () => {
    const s = sluice(['demo', '--port', '18932', '--data-dir', join(dir, 'demo'), '--pg-url', PG_ADMIN_URL]);
    running.push(s.child);
    await waitFor('demo start', async () => s.out().includes('Sluice demo is running'), 60_000).catch((e) => {
      throw new Error(`${e.message}\n${s.err()}`);
    });
    expect(s.out()).toContain('http://127.0.0.1:18932/v1/query');
    const count = async (): Promise<number> => {
      const res = await fetch('http://127.0.0.1:18932/v1/query', {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ sql: 'SELECT count(*) FROM shop.orders' }),
      });
      return ((await res.json()) as { rows: number[][] }).rows[0][0];
    };
    const first = await waitFor('snapshot', async () => (await count()) > 0 && count());
    await waitFor('the trickle', async () => (await count()) !== first);
    s.child.kill('SIGINT');
    expect(await s.exit).toBe(0);
    const db = await connectPg(PG_ADMIN_URL.replace(/\/[^/]*$/, '/sluice_demo'));
    const slots = await db.query(`SELECT slot_name FROM pg_replication_slots WHERE slot_name = 'sluice_shop'`);
    await db.end();
    expect(slots.rowCount).toBe(0);
  });
});
