import { join } from 'node:path';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectPg, dropDatabase, freshDatabase, waitFor } from './helpers/postgres.js';
import { SluiceProcess } from './helpers/sluice-process.js';
import { tempDir } from './helpers/sluice.js';

const DB = 'sluice_t_slotlost';

interface Status {
  state: string;
  error: { code: string; message: string } | null;
}

/** `sluice run` as a child process, so that it can be stopped (SIGSTOP) while its slot is invalidated. */
async function runSluice(source: Record<string, unknown>): Promise<SluiceProcess> {
  const dir = tempDir('slotlost');
  const sl = await SluiceProcess.configure(join(dir, 'sluice.json'), {
    sources: [source],
    log: { kind: 'embedded', dir: join(dir, 'log') },
    store: { path: join(dir, 'store.duckdb') },
    logging: { level: 'warn' },
  });
  sl.start();
  return sl;
}

/**
 * Lets the server invalidate the slot: with max_slot_wal_keep_size at its minimum, a few WAL
 * segments past the slot and a checkpoint are enough. The setting is put back at once: it is
 * server-wide.
 */
async function invalidateSlot(admin: pg.Client, slot: string): Promise<void> {
  await admin.query(`ALTER SYSTEM SET max_slot_wal_keep_size = '1MB'`);
  await admin.query(`SELECT pg_reload_conf()`);
  try {
    await waitFor('slot invalidated', async () => {
      for (let i = 0; i < 3; i++) {
        await admin.query(`CREATE TEMP TABLE IF NOT EXISTS wal_filler (x text); INSERT INTO wal_filler SELECT repeat('x', 100) FROM generate_series(1, 1000)`);
        await admin.query(`SELECT pg_switch_wal()`);
      }
      await admin.query('CHECKPOINT');
      const r = await admin.query(`SELECT wal_status FROM pg_replication_slots WHERE slot_name = $1`, [slot]);
      return r.rows[0]?.wal_status === 'lost';
    }, 30_000);
  } finally {
    await admin.query(`ALTER SYSTEM RESET max_slot_wal_keep_size`);
    await admin.query(`SELECT pg_reload_conf()`);
  }
}

describe('a replication slot the server invalidates mid-stream (wal_status = lost)', () => {
  let url: string;
  let src: pg.Client;
  let admin: pg.Client;
  const running: SluiceProcess[] = [];

  beforeAll(async () => {
    url = await freshDatabase(DB);
    src = await connectPg(url);
    admin = await connectPg(url.replace(`/${DB}`, '/postgres'));
    await src.query(`CREATE TABLE t (id int PRIMARY KEY, v text)`);
    await src.query(`INSERT INTO t SELECT g, 'v' || g FROM generate_series(1, 100) g`);
  });

  afterAll(async () => {
    for (const sl of running) await sl.kill('SIGKILL');
    await admin.query(`SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name LIKE 'sluice_slotlost%' AND NOT active`).catch(() => undefined);
    await admin?.end();
    await src?.end();
    await dropDatabase(DB);
  });

  /** Streams, then stops the process, writes, has the slot invalidated, and lets the process go on. */
  async function loseSlotUnder(name: string, newId: number, onSlotLost?: 'resnapshot'): Promise<SluiceProcess> {
    const sl = await runSluice({ name, kind: 'postgres', url, tables: ['t'], ...(onSlotLost ? { onSlotLost } : {}) });
    running.push(sl);
    await waitFor('streaming', async () => (await sl.status())?.state === 'streaming', 60_000);
    await src.query(`UPDATE t SET v = v || '+' WHERE id <= 10`);
    await waitFor('first update', async () => JSON.stringify(await sl.query(`SELECT v FROM ${name}.t WHERE id = 1`)) === '[["v1+"]]');
    sl.child!.kill('SIGSTOP');
    try {
      await src.query(`UPDATE t SET v = 'while stopped' WHERE id = 2; INSERT INTO t VALUES (${newId}, 'while stopped')`);
      await invalidateSlot(admin, `sluice_${name}`);
    } finally {
      sl.child!.kill('SIGCONT');
    }
    return sl;
  }

  it('is reported as SLUICE_PG_SLOT_LOST, not retried, and the process keeps serving what it has', async () => {
    const sl = await loseSlotUnder('slotlost', 101);
    let status: Status | undefined;
    await waitFor('failed', async () => (status = await sl.status<Status>())?.state === 'failed', 60_000).catch(() => undefined);
    expect(status?.state).toBe('failed');
    expect(status?.error?.code).toBe('SLUICE_PG_SLOT_LOST');
    expect(status?.error?.message).toContain('onSlotLost');
    // What reached the store before the slot was lost is still there to query.
    expect((await sl.query(`SELECT count(*) >= 100 FROM slotlost.t`))).toEqual([[true]]);
    await sl.kill('SIGTERM');
  }, 180_000);

  it('with onSlotLost: "resnapshot", is copied again and streams on by itself', async () => {
    const sl = await loseSlotUnder('slotlost_re', 102, 'resnapshot');
    await src.query(`INSERT INTO t VALUES (103, 'after')`);
    const expected = JSON.stringify((await src.query({ text: `SELECT id, v FROM t ORDER BY id`, rowMode: 'array' })).rows);
    let got = '';
    await waitFor('replica equal to the source', async () => (got = JSON.stringify(await sl.query(`SELECT id, v FROM slotlost_re.t ORDER BY id`))) === expected, 60_000).catch(() => undefined);
    expect(got).toBe(expected);
    expect((await sl.status())?.state).toBe('streaming');
    // Still streaming from the new slot.
    await src.query(`UPDATE t SET v = 'later' WHERE id = 3`);
    await waitFor('later change', async () => JSON.stringify(await sl.query(`SELECT v FROM slotlost_re.t WHERE id = 3`)) === '[["later"]]', 30_000);
    await sl.kill('SIGTERM');
  }, 180_000);
});
