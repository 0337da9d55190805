import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectPg, dropDatabase, freshDatabase, waitFor } from './helpers/postgres.js';
import { type TestSluice, expectReplicaRows, startSluice } from './helpers/sluice.js';

const DB = 'sluice_t_slot_hygiene';

describe('slot hygiene', () => {
  let sl: TestSluice;
  let src: pg.Client;

  beforeAll(async () => {
    const url = await freshDatabase(DB);
    src = await connectPg(url);
    await src.query('CREATE TABLE captured (id int PRIMARY KEY, v text)');
    await src.query('CREATE TABLE other (id serial PRIMARY KEY, pad text)');
    await src.query(`INSERT INTO captured VALUES (1, 'a')`);
    sl = await startSluice({ name: 'hygiene', kind: 'postgres', url, tables: ['captured'] });
    await expectReplicaRows(sl, 'SELECT id, v FROM hygiene.captured ORDER BY id', [[1, 'a']]);
  });

  afterAll(async () => {
    await src?.end();
    await sl?.stop();
    await dropDatabase(DB);
  });

  const confirmed = async (): Promise<bigint> => {
    const { rows } = await src.query(`SELECT (confirmed_flush_lsn - '0/0'::pg_lsn)::text AS n FROM pg_replication_slots WHERE slot_name = 'sluice_hygiene'`);
    return BigInt(rows[0].n);
  };

  it('lets the slot advance past writes to tables it does not capture, and loses nothing after', async () => {
    await src.query(`UPDATE captured SET v = 'b' WHERE id = 1`);
    await expectReplicaRows(sl, 'SELECT id, v FROM hygiene.captured ORDER BY id', [[1, 'b']]);
    const before = await confirmed();
    for (let i = 0; i < 5; i++) await src.query(`INSERT INTO other (pad) SELECT repeat('x', 200) FROM generate_series(1, 2000)`);
    const { rows } = await src.query(`SELECT (pg_current_wal_lsn() - '0/0'::pg_lsn)::text AS n`);
    const walAfter = BigInt(rows[0].n);
    expect(walAfter - before).toBeGreaterThan(1_000_000n);
    // Only the uncaptured table was written: the slot still moves up to (about) the WAL's end.
    await waitFor('slot confirmed past the writes to the other table', async () => (await confirmed()) >= walAfter, 45_000);
    await src.query(`INSERT INTO captured VALUES (2, 'c')`);
    await expectReplicaRows(sl, 'SELECT id, v FROM hygiene.captured ORDER BY id', [[1, 'b'], [2, 'c']]);
  }, 60_000);
});
