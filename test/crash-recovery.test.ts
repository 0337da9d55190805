import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import type pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeRecord } from '../core/change-record.js';
import { EmbeddedLog } from '../core/log/embedded-log.js';
import { connectPg, dropDatabase, freshDatabase, waitFor } from './helpers/postgres.js';
import { tempDir } from './helpers/sluice.js';

const DB = 'sluice_t_crash';
const MAIN = join(import.meta.dirname, '..', 'dist', 'cli', 'main.js');

function lsn(s: string): bigint {
  const [hi, lo] = s.split('/');
  return (BigInt(`0x${hi}`) << 32n) | BigInt(`0x${lo}`);
}

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as AddressInfo;
  await new Promise((r) => srv.close(r));
  return port;
}

async function sourceStatus(port: number): Promise<{ state: string; acknowledged: string | null } | undefined> {
  const res = await fetch(`http://127.0.0.1:${port}/v1/sources`).catch(() => null);
  if (!res?.ok) return undefined;
  return ((await res.json()) as { sources: { state: string; acknowledged: string | null }[] }).sources[0];
}

function startSluice(config: string): ChildProcess {
  return spawn(process.execPath, [MAIN, 'run', '--config', config], { stdio: ['ignore', 'ignore', 'pipe'] });
}

async function readStore(path: string, sql: string): Promise<unknown[][]> {
  const db = await DuckDBInstance.create(path, { access_mode: 'READ_ONLY' });
  const c = await db.connect();
  try {
    return (await c.runAndReadAll(sql)).getRowsJson() as unknown[][];
  } finally {
    c.closeSync();
    db.closeSync();
  }
}

/** Transactions of every shape, for as long as the test runs. */
function startWriter(c: pg.Client): { stop(): Promise<number> } {
  let stopped = false;
  let txns = 0;
  const done = (async () => {
    while (!stopped) {
      const r = Math.random();
      if (r < 0.4) {
        await c.query(`BEGIN; INSERT INTO ledger (acct, amount, note) SELECT (random() * 100)::int, round((random() * 1000)::numeric, 2), 'n' || g FROM generate_series(1, 20) g;
          INSERT INTO events (kind, seq) SELECT 'ins', nextval('event_seq') FROM generate_series(1, 5); COMMIT`);
      } else if (r < 0.8) {
        await c.query(`BEGIN; UPDATE ledger SET amount = amount + 1, note = note || '+' WHERE id IN (SELECT id FROM ledger ORDER BY random() LIMIT 10);
          INSERT INTO events (kind, seq) VALUES ('upd', nextval('event_seq')); COMMIT`);
      } else {
        await c.query(`BEGIN; DELETE FROM ledger WHERE id IN (SELECT id FROM ledger ORDER BY random() LIMIT 5);
          DELETE FROM events WHERE seq IN (SELECT seq FROM events ORDER BY random() LIMIT 2); COMMIT`);
      }
      txns++;
    }
  })();
  return {
    async stop() {
      stopped = true;
      await done;
      return txns;
    },
  };
}

describe('kill -9 and restart', () => {
  const dir = tempDir('crash');
  let src: pg.Client;
  let child: ChildProcess | null = null;

  afterAll(async () => {
    child?.kill('SIGKILL');
    await src?.end();
    await dropDatabase(DB);
  });

  it('ends with the replica equal to the source: nothing lost, nothing doubled', async () => {
    const url = await freshDatabase(DB);
    src = await connectPg(url);
    await src.query(`CREATE TABLE ledger (id bigserial PRIMARY KEY, acct int NOT NULL, amount numeric(12,2) NOT NULL, note text)`);
    await src.query(`INSERT INTO ledger (acct, amount, note) SELECT g % 100, g / 100.0, 'seed' FROM generate_series(1, 100000) g`);
    // No key: a change applied twice would show up as an extra row.
    await src.query(`CREATE TABLE events (kind text NOT NULL, seq bigint NOT NULL); ALTER TABLE events REPLICA IDENTITY FULL; CREATE SEQUENCE event_seq`);
    const store = join(dir, 'store.duckdb');
    const config = join(dir, 'sluice.json');
    const port = await freePort();
    writeFileSync(config, JSON.stringify({
      sources: [{ name: 'crash', kind: 'postgres', url, tables: ['ledger', 'events'] }],
      log: { kind: 'embedded', dir: join(dir, 'log'), segmentBytes: 256 * 1024 },
      store: { path: store },
      api: { port },
      logging: { level: 'warn' },
    }));

    const writerClient = await connectPg(url);
    const writer = startWriter(writerClient);
    const kills = 6;
    for (let i = 0; i < kills; i++) {
      child = startSluice(config);
      // The first kill lands in the snapshot, the later ones mid-stream.
      if (i > 0) await waitFor('streaming', async () => (await sourceStatus(port))?.state === 'streaming', 60_000);
      await new Promise((r) => setTimeout(r, (i === 0 ? 500 : 100) + Math.random() * 800));
      child.kill('SIGKILL');
      await new Promise((r) => child!.once('exit', r));
      child = null;
      // Acknowledged to Postgres can never be ahead of what the store committed.
      const slot = await src.query(`SELECT confirmed_flush_lsn::text AS f FROM pg_replication_slots WHERE slot_name = 'sluice_crash'`);
      const cp = await readStore(store, `SELECT json_extract_string(position, '$.lsn') FROM _sluice.checkpoints WHERE source = 'crash'`).catch(() => []);
      if (slot.rows[0] && cp[0]?.[0]) expect(lsn(slot.rows[0].f)).toBeLessThanOrEqual(lsn(String(cp[0][0])) + 1n);
    }
    const txns = await writer.stop();
    await writerClient.end();
    expect(txns).toBeGreaterThan(20);

    // A sentinel, the only transaction after `before`: once an acknowledgement passes `before`,
    // the store has committed the sentinel and everything ahead of it.
    const before = lsn((await src.query(`SELECT pg_current_wal_lsn()::text AS l`)).rows[0].l);
    await src.query(`INSERT INTO events (kind, seq) VALUES ('sentinel', -1)`);
    child = startSluice(config);
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    await waitFor('catch-up', async () => {
      const s = await sourceStatus(port);
      return s?.state === 'streaming' && s.acknowledged !== null && lsn(s.acknowledged) > before;
    }, 60_000).catch((e) => {
      throw new Error(`${e.message}\n${stderr}`);
    });
    child.kill('SIGTERM');
    await new Promise((r) => child!.once('exit', r));
    child = null;

    const ledgerSql = `SELECT id::text, acct::text, amount::text, note FROM ledger ORDER BY 1`;
    const expected = (await src.query({ text: ledgerSql, rowMode: 'array' })).rows;
    const actual = await readStore(store, `SELECT id::VARCHAR, acct::VARCHAR, amount::VARCHAR, note FROM crash.ledger ORDER BY 1`);
    expect(actual.length).toBe(expected.length);
    expect(actual).toEqual(expected);

    const eventsSql = `SELECT kind, seq::text, count(*)::text FROM events GROUP BY 1, 2 ORDER BY 2, 1`;
    const expectedEvents = (await src.query({ text: eventsSql, rowMode: 'array' })).rows;
    const actualEvents = await readStore(store, `SELECT kind, seq::VARCHAR, count(*)::VARCHAR FROM crash.events GROUP BY 1, 2 ORDER BY 2, 1`);
    expect(actualEvents).toEqual(expectedEvents);

    // The log itself holds every transaction once, in commit order.
    const log = await EmbeddedLog.open({ dir: join(dir, 'log', 'crash') });
    let last = 0n;
    for (let at = log.startOffset; at < log.endOffset; ) {
      const records = await log.read(at);
      for (const r of records) {
        const h = decodeRecord(r.payload).header;
        if (h.kind === 'snapshot-begin') last = 0n;
        const p = h.kind === 'changes' ? h.position : h.kind === 'snapshot-end' ? h.position : undefined;
        if (p && h.kind === 'changes') {
          expect(lsn(p.lsn)).toBeGreaterThan(last);
          last = lsn(p.lsn);
        }
      }
      at = records[records.length - 1].offset + 1;
    }
    await log.close();
  });
});
