import { connect } from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectPg, dropDatabase, freshDatabase, waitFor } from './helpers/postgres.js';
import { type TestSluice, startSluice } from './helpers/sluice.js';

const DB = 'sluice_t_fuzz';

/** Deterministic pseudo-random bytes, so a failing case can be replayed from its seed. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32;
}

function bytes(rand: () => number, n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(rand() * 256);
  return b;
}

/** Sends `payload` on a fresh connection and waits until the server closes it or 300 ms pass. */
function throwAt(port: number, payload: Buffer): Promise<void> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1', () => s.write(payload));
    const done = (): void => {
      s.destroy();
      resolve();
    };
    s.on('error', done);
    s.on('close', done);
    s.on('data', () => undefined);
    setTimeout(done, 300);
  });
}

describe('fuzzing both doors', () => {
  let sl: TestSluice;

  beforeAll(async () => {
    const url = await freshDatabase(DB);
    const c = await connectPg(url);
    await c.query('CREATE TABLE t (id int PRIMARY KEY)');
    await c.query('INSERT INTO t VALUES (1), (2)');
    await c.end();
    sl = await startSluice({ name: 'fuzz', kind: 'postgres', url, tables: ['t'] });
    await waitFor('snapshot', async () => (await sl.query('SELECT count(*) FROM fuzz.t'))[0][0] === 2);
  });

  afterAll(async () => {
    await sl?.stop();
    await dropDatabase(DB);
  });

  async function stillAnswers(): Promise<void> {
    const c = new pg.Client({ host: '127.0.0.1', port: sl.pgPort, user: 'u', database: 'sluice' });
    await c.connect();
    expect((await c.query('SELECT count(*)::int AS n FROM fuzz.t')).rows).toEqual([{ n: 2 }]);
    await c.end();
  }

  it('random bytes on the Postgres port, before and after a valid start-up, never take the process down', async () => {
    const rand = rng(20261122);
    for (let i = 0; i < 150; i++) {
      const blob = bytes(rand, 1 + Math.floor(rand() * 200));
      if (i % 3 === 0) {
        // A valid start-up, then garbage as frontend messages.
        const params = Buffer.from('user\0fuzz\0database\0sluice\0\0', 'latin1');
        const head = Buffer.alloc(8);
        head.writeInt32BE(8 + params.length, 0);
        head.writeInt32BE(196608, 4);
        await throwAt(sl.pgPort, Buffer.concat([head, params, blob]));
      } else {
        await throwAt(sl.pgPort, blob);
      }
    }
    await stillAnswers();
  });

  it('malformed, oversized and odd REST requests get 4xx with a code, never a crash', async () => {
    const rand = rng(7);
    const cases: { body: BodyInit; type: string }[] = [
      { body: '{', type: 'application/json' },
      { body: '{"sql": 42}', type: 'application/json' },
      { body: '{"sql": "SELECT 1", "extra": true}', type: 'application/json' },
      { body: 'SELECT 1', type: 'text/plain' },
      { body: JSON.stringify({ sql: 'x'.repeat(2 * 1024 * 1024) }), type: 'application/json' },
      { body: '{"sql": "SELECT 1; SELECT 2"}', type: 'application/json' },
      { body: '{"sql": "PRAGMA version"}', type: 'application/json' },
      { body: '{"sql": "INSTALL httpfs"}', type: 'application/json' },
      { body: '{"sql": "SELECT * FROM read_text(\'/etc/passwd\')"}', type: 'application/json' },
    ];
    for (let i = 0; i < 40; i++) cases.push({ body: bytes(rand, 1 + Math.floor(rand() * 300)), type: i % 2 ? 'application/json' : 'application/octet-stream' });
    for (const c of cases) {
      const r = await fetch(`${sl.http}/v1/query`, { method: 'POST', headers: { 'content-type': c.type }, body: c.body });
      expect(r.status, String(c.body).slice(0, 60)).toBeGreaterThanOrEqual(400);
      expect(r.status, String(c.body).slice(0, 60)).toBeLessThan(500);
      const body = (await r.json()) as { error?: { code?: string } };
      expect(body.error?.code, String(c.body).slice(0, 60)).toMatch(/^SLUICE_/);
    }
    await stillAnswers();
  });
});
