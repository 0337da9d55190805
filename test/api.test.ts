import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectPg, dropDatabase, freshDatabase, waitFor } from './helpers/postgres.js';
import { type TestSluice, startSluice } from './helpers/sluice.js';

const DB = 'sluice_t_api';

describe('REST API', () => {
  let sl: TestSluice;

  beforeAll(async () => {
    const url = await freshDatabase(DB);
    const c = await connectPg(url);
    await c.query(`CREATE TABLE items (id int PRIMARY KEY, name text, price numeric(10,2))`);
    await c.query(`INSERT INTO items SELECT g, 'item ' || g, g * 1.5 FROM generate_series(1, 50) g`);
    await c.end();
    sl = await startSluice({ name: 'inv', kind: 'postgres', url, tables: ['items'] });
    await waitFor('snapshot', async () => (await sl.query('SELECT count(*) FROM inv.items'))[0][0] === 50);
  });

  afterAll(async () => {
    await sl?.stop();
    await dropDatabase(DB);
  });

  async function post(body: string, contentType = 'application/json'): Promise<{ status: number; body: any }> {
    const res = await fetch(`${sl.http}/v1/query`, { method: 'POST', headers: { 'content-type': contentType }, body });
    return { status: res.status, body: await res.json() };
  }

  it('answers a query with typed columns, rows and a row count', async () => {
    const r = await post(JSON.stringify({ sql: 'SELECT id, name, price FROM inv.items WHERE id <= 2 ORDER BY id' }));
    expect(r.status).toBe(200);
    expect(r.body).toEqual({
      columns: [{ name: 'id', type: 'INTEGER' }, { name: 'name', type: 'VARCHAR' }, { name: 'price', type: 'DECIMAL(10,2)' }],
      rows: [[1, 'item 1', '1.50'], [2, 'item 2', '3.00']],
      rowCount: 2,
    });
  });

  it('serves /health', async () => {
    const res = await fetch(`${sl.http}/health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  it('answers bad SQL with 400 and DuckDB\'s message', async () => {
    const r = await post(JSON.stringify({ sql: 'SELEC 1' }));
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe('SLUICE_QUERY_INVALID');
    expect(r.body.error.message).toMatch(/syntax error/i);
    const missing = await post(JSON.stringify({ sql: 'SELECT nope FROM inv.items' }));
    expect(missing.status).toBe(400);
    expect(missing.body.error.message).toMatch(/nope/);
  });

  it.each([
    ['DDL', 'CREATE TABLE inv.x (a int)'],
    ['DML', 'DELETE FROM inv.items'],
    ['ATTACH', "ATTACH '/tmp/other.duckdb' AS other"],
    ['INSTALL', 'INSTALL httpfs'],
    ['SET', "SET enable_external_access = true"],
    ['PRAGMA', 'PRAGMA enable_profiling'],
    ['several statements', 'SELECT 1; DROP TABLE inv.items'],
  ])('refuses %s with 403', async (_what, sql) => {
    const r = await post(JSON.stringify({ sql }));
    expect(r.status).toBe(403);
    expect(r.body.error.code).toBe('SLUICE_QUERY_FORBIDDEN');
    expect((await sl.query('SELECT count(*) FROM inv.items'))[0][0]).toBe(50);
  });

  it.each([
    ["read_csv('/etc/passwd')", "SELECT * FROM read_csv('/etc/passwd')"],
    ['read_text', "SELECT * FROM read_text('/etc/hostname')"],
    ['glob', "SELECT * FROM glob('/etc/*')"],
  ])('refuses file access through %s', async (_what, sql) => {
    const r = await post(JSON.stringify({ sql }));
    expect(r.status).toBeGreaterThanOrEqual(400);
    expect(r.status).toBeLessThan(500);
    expect(r.body.error.message).toMatch(/disabled|permission/i);
  });

  it('refuses COPY to a file, and writes nothing', async () => {
    const file = `/tmp/sluice-leak-${process.pid}.csv`;
    const r = await post(JSON.stringify({ sql: `COPY inv.items TO '${file}'` }));
    expect([400, 403]).toContain(r.status);
    expect(existsSync(file)).toBe(false);
  });

  it('answers malformed bodies with 400', async () => {
    for (const body of ['{"sql": ', 'not json', '{}', '{"sql": 42}', '{"sql": "select 1", "extra": true}']) {
      const r = await post(body);
      expect(r.status, body).toBe(400);
      expect(r.body.error.code).toBe('SLUICE_REQUEST_INVALID');
    }
    expect((await post('select 1', 'text/plain')).status).toBe(400);
    const wrongType = await post('<sql>select 1</sql>', 'application/xml');
    expect(wrongType.status).toBe(415);
    expect(wrongType.body.error.code).toBe('SLUICE_REQUEST_INVALID');
  });

  it('answers unknown routes with 404 in the error format', async () => {
    const res = await fetch(`${sl.http}/v1/nothing`);
    expect(res.status).toBe(404);
    expect(((await res.json()) as any).error.code).toBe('SLUICE_NOT_FOUND');
  });
});
