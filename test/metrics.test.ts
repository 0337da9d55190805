import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectPg, dropDatabase, freshDatabase, waitFor } from './helpers/postgres.js';
import { type TestSluice, startSluice } from './helpers/sluice.js';

const DB = 'sluice_t_metrics';

interface Sample {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly value: number;
}

interface Exposition {
  readonly types: Map<string, string>;
  readonly samples: Sample[];
}

/**
 * The text exposition format 0.0.4, strictly: every line is a HELP, a TYPE or a sample, and
 * every sample belongs to a family with a TYPE. prom-client has no parser of its own.
 */
function parseExposition(text: string): Exposition {
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const meta = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
    if (meta) {
      if (meta[1] === 'TYPE') {
        expect(meta[3], line).toMatch(/^(counter|gauge|histogram|summary|untyped)$/);
        types.set(meta[2], meta[3]);
      }
      continue;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    expect(m, `not a sample line: ${line}`).not.toBeNull();
    const labels: Record<string, string> = {};
    for (const l of (m![2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?/g)) labels[l[1]] = l[2];
    // Go's ParseFloat, which Prometheus uses, takes NaN in any case: prom-client writes "Nan".
    const value = m![3] === '+Inf' ? Infinity : m![3] === '-Inf' ? -Infinity : Number(m![3]);
    expect(Number.isNaN(value) && !/^nan$/i.test(m![3]), line).toBe(false);
    const family = m![1].replace(/_(bucket|sum|count)$/, '');
    expect(types.has(m![1]) || types.has(family), `no TYPE for ${m![1]}`).toBe(true);
    samples.push({ name: m![1], labels, value });
  }
  return { types, samples };
}

/** The value of the one sample with this name whose labels include `labels`. */
function value(e: Exposition, name: string, labels: Record<string, string> = {}): number {
  const found = e.samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  expect(found.length, `${name} ${JSON.stringify(labels)}`).toBe(1);
  return found[0].value;
}

describe('GET /metrics', () => {
  let sl: TestSluice;
  let source: pg.Client;

  beforeAll(async () => {
    const url = await freshDatabase(DB);
    source = await connectPg(url);
    await source.query(`CREATE TABLE items (id int PRIMARY KEY, name text)`);
    await source.query(`INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 20) g`);
    sl = await startSluice({ name: 'shop', kind: 'postgres', url, tables: ['items'] });
    await waitFor('snapshot', async () => (await sl.query('SELECT count(*) FROM shop.items'))[0][0] === 20);
  });

  afterAll(async () => {
    await source?.end();
    await sl?.stop();
    await dropDatabase(DB);
  });

  async function scrape(): Promise<{ res: Response; e: Exposition }> {
    const res = await fetch(`${sl.http}/metrics`);
    expect(res.status).toBe(200);
    return { res, e: parseExposition(await res.text()) };
  }

  it('exposes every sluice_* metric with values that follow the changes and queries', async () => {
    const before = (await scrape()).e;
    const applied0 = value(before, 'sluice_source_changes_applied_total', { source: 'shop' });
    // The snapshot's rows are changes applied too.
    expect(applied0).toBeGreaterThanOrEqual(20);

    // 10 changes in three source transactions.
    await source.query(`INSERT INTO items SELECT g, 'item ' || g FROM generate_series(21, 25) g`);
    await source.query(`UPDATE items SET name = 'renamed' WHERE id <= 3`);
    await source.query(`DELETE FROM items WHERE id IN (24, 25)`);
    await waitFor('changes applied', async () => (await sl.query(`SELECT count(*) FROM shop.items WHERE name = 'renamed'`))[0][0] === 3
      && (await sl.query('SELECT count(*) FROM shop.items'))[0][0] === 23);

    // One query per door: REST, the Postgres protocol's simple and extended flavours, one failing.
    expect((await sl.query('SELECT count(*) FROM shop.items'))[0][0]).toBe(23);
    const client = new pg.Client({ host: '127.0.0.1', port: sl.pgPort, user: 'tester', database: 'sluice' });
    await client.connect();
    try {
      expect((await client.query('SELECT count(*)::int AS n FROM shop.items')).rows[0].n).toBe(23);
      expect((await client.query('SELECT name FROM shop.items WHERE id = $1', [1])).rows[0].name).toBe('renamed');
      await expect(client.query('SELECT nope FROM shop.items')).rejects.toThrow(/nope/);
    } finally {
      await client.end();
    }

    const applied = await waitFor('counter to catch up', async () => {
      const { e } = await scrape();
      return value(e, 'sluice_source_changes_applied_total', { source: 'shop' }) === applied0 + 10 ? e : undefined;
    }, 10_000);
    const { res, e } = await scrape();
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(value(e, 'sluice_source_changes_applied_total', { source: 'shop' })).toBe(applied0 + 10);
    expect(value(applied, 'sluice_source_changes_applied_total', { source: 'shop' })).toBe(applied0 + 10);

    expect(e.types.get('sluice_source_changes_applied_total')).toBe('counter');
    expect(e.types.get('sluice_apply_batch_seconds')).toBe('histogram');
    expect(e.types.get('sluice_freshness_seconds')).toBe('histogram');
    expect(e.types.get('sluice_query_seconds')).toBe('histogram');
    for (const g of ['sluice_source_lag_seconds', 'sluice_source_log_end_offset', 'sluice_source_applied_offset', 'sluice_source_state', 'sluice_log_bytes', 'sluice_store_bytes']) {
      expect(e.types.get(g), g).toBe('gauge');
    }

    expect(value(e, 'sluice_apply_batch_seconds_count', { source: 'shop' })).toBeGreaterThanOrEqual(
      value(before, 'sluice_apply_batch_seconds_count', { source: 'shop' }) + 1,
    );
    expect(value(e, 'sluice_apply_batch_seconds_sum', { source: 'shop' })).toBeGreaterThan(0);
    // Each of the three transactions is observed once it is visible.
    expect(value(e, 'sluice_freshness_seconds_count', { source: 'shop' })).toBeGreaterThanOrEqual(3);
    expect(value(e, 'sluice_freshness_seconds_bucket', { source: 'shop', le: '+Inf' })).toBe(value(e, 'sluice_freshness_seconds_count', { source: 'shop' }));
    expect(value(e, 'sluice_freshness_seconds_sum', { source: 'shop' })).toBeGreaterThanOrEqual(0);

    expect(value(e, 'sluice_query_seconds_count', { door: 'rest', outcome: 'ok' })).toBeGreaterThanOrEqual(3);
    expect(value(e, 'sluice_query_seconds_count', { door: 'pgwire', outcome: 'ok' })).toBeGreaterThanOrEqual(2);
    expect(value(e, 'sluice_query_seconds_count', { door: 'pgwire', outcome: 'error' })).toBe(1);

    expect(value(e, 'sluice_source_lag_seconds', { source: 'shop' })).toBeGreaterThanOrEqual(0);
    const end = value(e, 'sluice_source_log_end_offset', { source: 'shop' });
    expect(end).toBeGreaterThanOrEqual(4);
    expect(value(e, 'sluice_source_applied_offset', { source: 'shop' })).toBe(end);
    expect(value(e, 'sluice_source_state', { source: 'shop', state: 'streaming' })).toBe(1);
    expect(value(e, 'sluice_source_state', { source: 'shop', state: 'failed' })).toBe(0);
    expect(value(e, 'sluice_log_bytes', { source: 'shop' })).toBeGreaterThan(0);
    expect(value(e, 'sluice_store_bytes')).toBeGreaterThan(0);

    // prom-client's process metrics, under the same prefix; and nothing outside it.
    expect(value(e, 'sluice_process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect(value(e, 'sluice_process_resident_memory_bytes')).toBeGreaterThan(0);
    expect(e.samples.filter((s) => !s.name.startsWith('sluice_')).map((s) => s.name)).toEqual([]);
  });

  it('is documented in the OpenAPI document as text', async () => {
    const doc = (await (await fetch(`${sl.http}/docs`)).json()) as any;
    const op = doc.paths['/metrics'].get;
    expect(op.summary).toMatch(/Prometheus/);
    expect(Object.keys(op.responses['200'].content)).toEqual(['text/plain']);
  });

  it('scrapes quickly', async () => {
    const started = performance.now();
    for (let i = 0; i < 20; i++) await scrape();
    expect((performance.now() - started) / 20).toBeLessThan(250);
  });
});
