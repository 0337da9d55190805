import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectPg, dropDatabase, freshDatabase, waitFor } from './helpers/postgres.js';
import { type TestSluice, startSluice, tempDir } from './helpers/sluice.js';

const run = promisify(execFile);
const DB = 'sluice_t_auth';
const PASSWORD = 's3cret-pässword';
/** Postgres here trusts local connections, so any password works: it is only there to be hidden. */
const SOURCE_PASSWORD = 'source-pw-5521';

describe('authentication with api.auth.users', () => {
  let sl: TestSluice;
  const logLines: string[] = [];

  beforeAll(async () => {
    const url = await freshDatabase(DB);
    const c = await connectPg(url);
    await c.query('CREATE TABLE t (id int PRIMARY KEY)');
    await c.query('INSERT INTO t VALUES (1), (2), (3)');
    await c.end();
    const withPassword = url.replace('postgres@', `postgres:${SOURCE_PASSWORD}@`);
    sl = await startSluice({ name: 'authsrc', kind: 'postgres', url: withPassword, tables: ['t'] }, tempDir('auth'), { api: { auth: { users: { analyst: PASSWORD } } } }, { write: (l) => logLines.push(l) });
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

  it('passwords appear in no log line at any level, and in no configuration error', async () => {
    // After the logins above, right and wrong, on both doors.
    expect(logLines.length).toBeGreaterThan(10);
    const secrets = [PASSWORD, SOURCE_PASSWORD, Buffer.from(`analyst:${PASSWORD}`).toString('base64')];
    for (const line of logLines) for (const s of secrets) expect(line).not.toContain(s);
    const bad = await startSluice({ name: 'authsrc', kind: 'postgres', url: `postgres://u:${SOURCE_PASSWORD}@127.0.0.1:1/x`, tables: ['t'], slot: 'Not A Slot!' }).catch((e: Error) => e);
    expect(bad).toBeInstanceOf(Error);
    expect(String((bad as Error).message)).toContain('slot');
    expect(String((bad as Error).message)).not.toContain(SOURCE_PASSWORD);
  });
});
