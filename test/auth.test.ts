import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectPg, dropDatabase, freshDatabase, waitFor } from './helpers/postgres.js';
import { type TestSluice, startSluice, tempDir } from './helpers/sluice.js';

const run = promisify(execFile);
const DB = 'sluice_t_auth';
const PASSWORD = 's3cret-pässword';

describe('authentication with api.auth.users', () => {
  let sl: TestSluice;

  beforeAll(async () => {
    const url = await freshDatabase(DB);
    const c = await connectPg(url);
    await c.query('CREATE TABLE t (id int PRIMARY KEY)');
    await c.query('INSERT INTO t VALUES (1), (2), (3)');
    await c.end();
    sl = await startSluice({ name: 'authsrc', kind: 'postgres', url, tables: ['t'] }, tempDir('auth'), { api: { auth: { users: { analyst: PASSWORD } } } });
    const basic = `Basic ${Buffer.from(`analyst:${PASSWORD}`).toString('base64')}`;
    await waitFor('snapshot', async () => {
      const r = await fetch(`${sl.http}/v1/query`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: basic }, body: JSON.stringify({ sql: 'SELECT count(*) FROM authsrc.t' }) });
      return r.ok && ((await r.json()) as { rows: number[][] }).rows[0][0] === 3;
    });
  });

  afterAll(async () => {
    await sl?.stop();
    await dropDatabase(DB);
  });

  const query = (authorization?: string) =>
    fetch(`${sl.http}/v1/query`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
      body: JSON.stringify({ sql: 'SELECT 1' }),
    });

  it('REST: 401 without or with wrong credentials, 200 with the right ones; /health stays open', async () => {
    const none = await query();
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Basic realm="sluice"/);
    expect(((await none.json()) as { error: { code: string } }).error.code).toBe('SLUICE_AUTH_REQUIRED');
    for (const creds of [`analyst:wrong`, `nobody:${PASSWORD}`, 'analyst']) {
      const r = await query(`Basic ${Buffer.from(creds).toString('base64')}`);
      expect(r.status).toBe(401);
      const body = (await r.json()) as { error: { code: string; message: string } };
      expect(body.error.code).toBe('SLUICE_AUTH_FAILED');
      expect(body.error.message).not.toContain(PASSWORD);
    }
    expect((await query(`Basic ${Buffer.from(`analyst:${PASSWORD}`).toString('base64')}`)).status).toBe(200);
    for (const path of ['/v1/tables', '/docs', '/', '/metrics']) expect((await fetch(`${sl.http}${path}`)).status, path).toBe(401);
    expect((await fetch(`${sl.http}/health`)).status).toBe(200);
  });

  it('Postgres protocol: SCRAM-SHA-256 login with the right password, 28P01 otherwise', async () => {
    const ok = new pg.Client({ host: '127.0.0.1', port: sl.pgPort, user: 'analyst', password: PASSWORD, database: 'sluice' });
    await ok.connect();
    expect((await ok.query('SELECT count(*)::int AS n FROM authsrc.t')).rows).toEqual([{ n: 3 }]);
    await ok.end();
    for (const [user, password] of [['analyst', 'wrong'], ['nobody', PASSWORD]]) {
      const bad = new pg.Client({ host: '127.0.0.1', port: sl.pgPort, user, password, database: 'sluice' });
      bad.on('error', () => undefined);
      await expect(bad.connect()).rejects.toMatchObject({ code: '28P01', message: `password authentication failed for user "${user}"` });
    }
    const { stdout } = await run('psql', ['-h', '127.0.0.1', '-p', String(sl.pgPort), '-U', 'analyst', '-d', 'sluice', '-XAtc', 'SELECT 42'], { env: { ...process.env, PGPASSWORD: PASSWORD } });
    expect(stdout.trim()).toBe('42');
    await expect(run('psql', ['-h', '127.0.0.1', '-p', String(sl.pgPort), '-U', 'analyst', '-d', 'sluice', '-XAtc', 'SELECT 1', '-w'], { env: { ...process.env, PGPASSWORD: 'nope' } })).rejects.toMatchObject({ stderr: expect.stringContaining('password authentication failed') });
  });
});
