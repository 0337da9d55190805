import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderResult } from '../cli/query-command.js';
import { RateMeter, SnapshotProgressReporter, renderProgressLine } from '../cli/snapshot-progress.js';
import { renderStatus } from '../cli/status-command.js';
import { formatTable } from '../cli/text-table.js';
import type { SourceStatus } from '../core/source.js';
import { connectPg, dropDatabase, freshDatabase, waitFor } from './helpers/postgres.js';
import { type TestSluice, startSluice, tempDir } from './helpers/sluice.js';

const MAIN = join(import.meta.dirname, '..', 'dist', 'cli', 'main.js');
const DB = 'sluice_t_cli_status';

/** Runs the built CLI to completion. */
function sluice(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.once('exit', (code) => resolve({ code, out, err }));
  });
}

describe('text rendering', () => {
  it('aligns columns, right-aligns numbers and escapes line breaks', () => {
    const t = formatTable([{ name: 'name' }, { name: 'n', align: 'right' }], [['alpha', '1'], ['b\nc', '12345']]);
    expect(t).toBe(['name       n', '-----  -----', 'alpha      1', 'b\\nc   12345', ''].join('\n'));
  });

  it('prints a query result with NULL, numbers right-aligned, a row count and a truncation note', () => {
    const out = renderResult({
      columns: [{ name: 'id', type: 'INTEGER' }, { name: 'label', type: 'VARCHAR' }, { name: 'big', type: 'BIGINT' }, { name: 'tags', type: 'VARCHAR[]' }],
      rows: [[1, 'a', '9007199254740993', ['x']], [20, null, 5, null]],
      rowCount: 2,
      truncated: true,
    });
    expect(out.split('\n')).toEqual([
      'id  label               big  tags',
      '--  -----  ----------------  -----',
      ' 1  a      9007199254740993  ["x"]',
      '20  NULL                  5  NULL',
      '(2 rows)',
      'note: the result was cut short at 2 rows by the row limit (api.maxRows or --max-rows); add a LIMIT or aggregate',
      '',
    ]);
    expect(renderResult({ columns: [{ name: 'x', type: 'INTEGER' }], rows: [[1]], rowCount: 1 })).toContain('(1 row)\n');
  });

  it('renders status sections, snapshot progress and errors', () => {
    const now = Date.parse('2026-11-20T10:00:10Z');
    const out = renderStatus('http://h:1', [
      { name: 'shop', kind: 'postgres', state: 'snapshotting', position: null, lagMs: 0, error: null, snapshot: { tablesDone: 1, tablesTotal: 3, rows: 1_200_000, rowsTotal: 2_900_000 } },
      { name: 'inv', kind: 'mysql', state: 'reconnecting', position: 'bin.000001:4', lagMs: 2500, error: { code: 'SLUICE_MYSQL_STREAM', message: 'connection lost' }, snapshot: { tablesDone: 2, tablesTotal: 2, rows: 10, rowsTotal: 9 } },
    ], [{ name: 'shop.orders', sourceTable: 'public.orders', rows: 1234567, lagMs: 0, lastCommitAt: '2026-11-20T10:00:07Z' }], [], now);
    expect(out).toContain('1/3 tables, 1.20M of ~2.90M rows (41%)');
    expect(out).toContain('done, 10 rows');
    expect(out).toContain('SLUICE_MYSQL_STREAM: connection lost');
    expect(out).toMatch(/shop\.orders\s+public\.orders\s+1,234,567\s+0s\s+3\.0s ago/);
    expect(out).toContain('Models\n(none)');
  });
});

describe('snapshot progress', () => {
  it('renders the bar with rows, total, rate and ETA, within the terminal width', () => {
    const line = renderProgressLine({ sources: ['shop'], tablesDone: 1, tablesTotal: 3, rows: 1_200_000, rowsTotal: 2_900_000, rowsPerSec: 815_000 }, 100);
    expect(line).toMatch(/^snapshot shop 1\/3 tables \[#+\.+\] 41% 1\.20M\/2\.90M rows 815k rows\/s ETA 2\.1s$/);
    expect(line.length).toBeLessThan(100);
    // Too narrow for a bar: the figures only, cut to the width.
    expect(renderProgressLine({ sources: ['shop'], tablesDone: 0, tablesTotal: 1, rows: 5, rowsTotal: 10, rowsPerSec: null }, 40)).not.toContain('[');
    // No estimate: no bar, percentage or ETA; an estimate that was too low never shows 100%.
    expect(renderProgressLine({ sources: ['a'], tablesDone: 0, tablesTotal: 1, rows: 500, rowsTotal: null, rowsPerSec: 100 })).toBe('snapshot a 0/1 tables 500 rows 100 rows/s');
    expect(renderProgressLine({ sources: ['a'], tablesDone: 0, tablesTotal: 1, rows: 500, rowsTotal: 100, rowsPerSec: 100 })).toContain('99% 500/500 rows');
  });

  it('measures the rate over recent samples and starts over on a new snapshot', () => {
    const m = new RateMeter(5000);
    expect(m.sample(0, 0)).toBeNull();
    expect(m.sample(1000, 1000)).toBe(1000);
    expect(m.sample(3000, 2000)).toBe(1500);
    expect(m.sample(10, 3000)).toBeNull();
  });

  const status = (rows: number, state: SourceStatus['state'] = 'snapshotting'): SourceStatus => ({
    name: 'shop', kind: 'postgres', state, position: null, acknowledged: null, error: null,
    snapshot: { tablesDone: 0, tablesTotal: 1, rows, rowsTotal: 10_000 },
  });

  it('on a terminal: draws in place, writes log lines above the bar, and wipes it when done', () => {
    let screen = '';
    let current: SourceStatus = status(0);
    let t = 0;
    const r = new SnapshotProgressReporter(() => [current], () => undefined, { write: (s) => (screen += s), columns: 80 }, { now: () => t });
    r.tick();
    t = 1000;
    current = status(2000);
    r.tick();
    expect(screen).toMatch(/\r\x1b\[Ksnapshot shop 0\/1 tables \[#+\.+\] 20% 2000\/10.0k rows 2000 rows\/s ETA 4\.0s$/);
    screen = '';
    r.logWriter().write('{"msg":"hello"}\n');
    expect(screen).toMatch(/^\r\x1b\[K\{"msg":"hello"\}\nsnapshot shop/);
    screen = '';
    current = status(10_000, 'streaming');
    r.tick();
    expect(screen).toBe('\r\x1b[K');
    screen = '';
    r.logWriter().write('{"msg":"after"}\n');
    expect(screen).toBe('{"msg":"after"}\n');
  });

  it('elsewhere: a progress log line every few seconds, no bar', () => {
    const logged: object[] = [];
    let t = 0;
    let rows = 0;
    const r = new SnapshotProgressReporter(() => [status(rows)], (f, msg) => logged.push({ ...f, msg }), null, { now: () => t, logEveryMs: 5000 });
    for (; t <= 10_000; t += 1000, rows += 500) r.tick();
    expect(logged).toHaveLength(2);
    expect(logged[0]).toEqual({ msg: 'snapshot progress', source: 'shop', tablesDone: 0, tablesTotal: 1, rows: 2500, rowsTotal: 10_000, rowsPerSec: 500, etaS: 15 });
  });
});

describe('sluice status and sluice query against a running Sluice', () => {
  let sl: TestSluice;

  beforeAll(async () => {
    const url = await freshDatabase(DB);
    const c = await connectPg(url);
    await c.query(`CREATE TABLE items (id int PRIMARY KEY, name text, price numeric(10,2)); INSERT INTO items VALUES (1, 'apple', 1.50), (2, NULL, 12.25), (3, 'cherry', 100)`);
    await c.end();
    sl = await startSluice({ name: 'shop', kind: 'postgres', url, tables: ['items'] });
    await waitFor('snapshot applied', async () => (await sl.query('SELECT count(*) FROM shop.items'))[0][0] === 3);
  });

  afterAll(async () => {
    await sl?.stop();
    await dropDatabase(DB);
  });

  it('status prints sources, tables and models', async () => {
    const r = await sluice(['status', '--api', sl.http]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toContain(`Sluice at ${sl.http}`);
    expect(r.out).toMatch(/^SOURCE\s+KIND\s+STATE\s+POSITION\s+LAG\s+SNAPSHOT\s+ERROR$/m);
    expect(r.out).toMatch(/^shop\s+postgres\s+streaming\s+[0-9A-F]+\/[0-9A-F]+\s+\d\S*\s+done, 3 rows\s+-$/m);
    expect(r.out).toMatch(/^shop\.items\s+public\.items\s+3\s+/m);
    expect(r.out).toContain('Models\n(none)');
  });

  it('query prints an aligned table, NULL and the row count', async () => {
    const r = await sluice(['query', 'SELECT id, name, price FROM shop.items ORDER BY id', '--api', sl.http]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toBe([
      'id  name     price',
      '--  ------  ------',
      ' 1  apple     1.50',
      ' 2  NULL     12.25',
      ' 3  cherry  100.00',
      '(3 rows)',
      '',
    ].join('\n'));
  });

  it('query --format csv / json, and a truncation note with --max-rows', async () => {
    const csv = await sluice(['query', 'SELECT id, name FROM shop.items ORDER BY id', '--api', sl.http, '--format', 'csv']);
    expect(csv.out).toBe('id,name\n1,apple\n2,\n3,cherry\n');
    const json = await sluice(['query', 'SELECT id FROM shop.items ORDER BY id', '--api', sl.http, '--format', 'json']);
    expect(JSON.parse(json.out)).toMatchObject({ rows: [[1], [2], [3]], rowCount: 3 });
    const cut = await sluice(['query', 'SELECT id FROM shop.items ORDER BY id', '--api', sl.http, '--max-rows', '2']);
    expect(cut.code).toBe(0);
    expect(cut.out).toContain('(2 rows)\nnote: the result was cut short');
  });

  it('a refused query prints the API error code and message and exits 1', async () => {
    const r = await sluice(['query', 'SELECT * FROM shop.nope', '--api', sl.http]);
    expect(r.code).toBe(1);
    expect(r.out).toBe('');
    expect(r.err).toMatch(/^sluice: SLUICE_QUERY_UNDEFINED: .*nope/);
  });

  it('an unreachable API is one line naming the URL, exit 1', async () => {
    for (const cmd of [['status'], ['query', 'select 1']]) {
      const r = await sluice([...cmd, '--api', 'http://127.0.0.1:59997']);
      expect(r.code).toBe(1);
      expect(r.out).toBe('');
      expect(r.err.trim().split('\n')).toHaveLength(1);
      expect(r.err).toContain('cannot reach the Sluice API at http://127.0.0.1:59997');
    }
    // The default URL comes from SLUICE_API when set.
    const viaEnv = await sluice(['status'], { SLUICE_API: '127.0.0.1:59997' });
    expect(viaEnv.err).toContain('http://127.0.0.1:59997');
  });

  it('help lists the new commands', async () => {
    const r = await sluice(['help']);
    expect(r.out).toContain('sluice status');
    expect(r.out).toContain('sluice query');
  });
});

describe('sluice run outside a terminal', () => {
  it('logs the snapshot estimate and never draws a bar', async () => {
    const url = await freshDatabase(`${DB}_run`);
    const c = await connectPg(url);
    await c.query(`CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t SELECT g, 'x' FROM generate_series(1, 20000) g`);
    await c.end();
    const dir = tempDir('cli-status');
    const file = join(dir, 'run.json');
    writeFileSync(file, JSON.stringify({
      sources: [{ name: 'r', kind: 'postgres', url, tables: ['t'] }],
      log: { kind: 'embedded', dir: join(dir, 'log') },
      store: { path: join(dir, 'store.duckdb') },
      api: { port: 18941, pgPort: 0 },
      logging: { level: 'info' },
    }));
    const child = spawn(process.execPath, [MAIN, 'run', '--config', file], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const exit = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    try {
      await waitFor('snapshot complete', async () => err.includes('snapshot complete'));
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exit).toBe(0);
    await dropDatabase(`${DB}_run`);
    expect(out).toBe('');
    expect(err).not.toMatch(/[\r\x1b]/);
    const lines = err.trim().split('\n').map((l) => JSON.parse(l) as { msg: string; rowsTotal?: number });
    // Never analyzed, small: counted exactly inside the snapshot.
    expect(lines.find((l) => l.msg === 'snapshot row estimate')?.rowsTotal).toBe(20000);
  });
});
