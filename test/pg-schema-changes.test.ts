import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectPg, dropDatabase, freshDatabase, waitFor } from './helpers/postgres.js';
import { type TestSluice, startSluice, tempDir } from './helpers/sluice.js';

const DB = 'sluice_t_pg_ddl';

/** The table's column names and its rows as text, from the source and from the replica. */
async function both(src: pg.Client, sl: TestSluice, table: string, source: string): Promise<{ source: unknown; replica: unknown }> {
  const cols = (await src.query({ text: `SELECT column_name FROM information_schema.columns WHERE table_name = $1 ORDER BY ordinal_position`, values: [table], rowMode: 'array' })).rows.map((r) => r[0] as string);
  const list = (cast: string): string => cols.map((c) => `"${c}"::${cast}`).join(', ');
  const srcRows = (await src.query({ text: `SELECT ${list('text')} FROM ${table} ORDER BY 1`, rowMode: 'array' })).rows;
  const replicaCols = (await sl.query(`SELECT column_name FROM information_schema.columns WHERE table_schema = '${source}' AND table_name = '${table}' ORDER BY ordinal_position`)).map((r) => r[0]);
  const sameCols = JSON.stringify(replicaCols) === JSON.stringify(cols);
  const replicaRows = sameCols ? await sl.query(`SELECT ${list('VARCHAR')} FROM ${source}.${table} ORDER BY 1`) : [];
  return { source: { cols, rows: srcRows }, replica: { cols: replicaCols, rows: replicaRows } };
}

async function expectSame(src: pg.Client, sl: TestSluice, table: string, source: string): Promise<void> {
  let got = await both(src, sl, table, source);
  await waitFor(`${table} to match the source`, async () => {
    got = await both(src, sl, table, source);
    return JSON.stringify(got.replica) === JSON.stringify(got.source);
  }, 20_000).catch(() => undefined);
  expect(got.replica).toEqual(got.source);
}

describe('Postgres schema changes mid-stream', () => {
  let url: string;
  let src: pg.Client;
  const dir = tempDir('pg-ddl');
  let sl: TestSluice;
  const source = (tables: string[]): Record<string, unknown> => ({ name: 'ddl', kind: 'postgres', url, tables });

  beforeAll(async () => {
    url = await freshDatabase(DB);
    src = await connectPg(url);
    await src.query(`CREATE TABLE items (id int PRIMARY KEY, label text, n int, price numeric(8,2), gone text)`);
    await src.query(`INSERT INTO items SELECT g, 'item ' || g, g, g * 1.5, 'x' FROM generate_series(1, 50) g`);
    await src.query(`CREATE TABLE notes (body text, at int); ALTER TABLE notes REPLICA IDENTITY FULL`);
    await src.query(`INSERT INTO notes SELECT 'note ' || g, g FROM generate_series(1, 20) g`);
    // Key-less: a change applied twice shows as an extra row.
    await src.query(`CREATE TABLE later (id int, v text); ALTER TABLE later REPLICA IDENTITY FULL`);
    await src.query(`INSERT INTO later SELECT g, 'v' || g FROM generate_series(1, 1000) g`);
    sl = await startSluice(source(['items', 'notes']), dir);
    await waitFor('snapshot', async () => (await sl.query('SELECT count(*) FROM ddl.items'))[0][0] === 50);
  });

  afterAll(async () => {
    await sl?.stop();
    await src?.end();
    await dropDatabase(DB);
  });

  it('ADD COLUMN with a constant default: rows that existed show the default, as in the source', async () => {
    await src.query(`ALTER TABLE items ADD COLUMN tag text DEFAULT 'new', ADD COLUMN qty int NOT NULL DEFAULT 7`);
    await src.query(`INSERT INTO items (id, label, n, price, tag, qty) VALUES (51, 'given', 51, 1, 'mine', 1)`);
    await src.query(`ALTER TABLE notes ADD COLUMN flag boolean DEFAULT true`);
    await src.query(`INSERT INTO notes VALUES ('after', 21, false)`);
    await expectSame(src, sl, 'items', 'ddl');
    await expectSame(src, sl, 'notes', 'ddl');
    expect(await sl.query(`SELECT tag, qty FROM ddl.items WHERE id = 1`)).toEqual([['new', 7]]);
  });

  it('DROP COLUMN, RENAME COLUMN (the key too) and type widening, each followed in place', async () => {
    const snapshotRows = async (): Promise<number> => ((await (await fetch(`${sl.http}/v1/sources`)).json()) as any).sources[0].snapshot.rows;
    const before = await snapshotRows();
    await src.query(`ALTER TABLE items DROP COLUMN gone`);
    await src.query(`UPDATE items SET n = n + 1 WHERE id <= 5`);
    await src.query(`ALTER TABLE items RENAME COLUMN label TO title`);
    await src.query(`UPDATE items SET title = title || '!' WHERE id = 2`);
    await src.query(`ALTER TABLE items ALTER COLUMN n TYPE bigint, ALTER COLUMN price TYPE numeric(14,3)`);
    await src.query(`UPDATE items SET n = 9000000000, price = 12345678901.125 WHERE id = 3`);
    await src.query(`ALTER TABLE items RENAME COLUMN id TO item_id`);
    await src.query(`UPDATE items SET qty = 0 WHERE item_id = 4; DELETE FROM items WHERE item_id = 5`);
    // Two renames that swap names in one go, on the key-less table.
    await src.query(`ALTER TABLE notes RENAME COLUMN body TO tmp; ALTER TABLE notes RENAME COLUMN at TO body; ALTER TABLE notes RENAME COLUMN tmp TO at`);
    await src.query(`UPDATE notes SET flag = NOT flag WHERE body = 3`);
    await expectSame(src, sl, 'items', 'ddl');
    await expectSame(src, sl, 'notes', 'ddl');
    // Followed in place, not by copying the table again.
    expect(await snapshotRows()).toBe(before);
  });

  it('follows changes made while Sluice was stopped, and a table added to the capture list', async () => {
    await sl.stop();
    await src.query(`ALTER TABLE items RENAME COLUMN title TO name`);
    await src.query(`UPDATE items SET name = name || '?' WHERE item_id = 6`);
    await src.query(`ALTER TABLE items ADD COLUMN shelf int DEFAULT 3`);
    await src.query(`INSERT INTO items (item_id, name, n, price) VALUES (52, 'down', 1, 1)`);
    // Changes to `later` before it is captured, and (published already, as after a start that
    // failed half-way) streamed from the slot too: the copy holds them, the stream must not again.
    await src.query(`ALTER PUBLICATION sluice_ddl ADD TABLE later`);
    await src.query(`INSERT INTO later SELECT g, 'w' FROM generate_series(2001, 2100) g; UPDATE later SET v = v || '+' WHERE id <= 100; DELETE FROM later WHERE id > 990 AND id < 2000`);
    sl = await startSluice(source(['items', 'notes', 'later']), dir);
    await src.query(`INSERT INTO later VALUES (5000, 'after'); UPDATE later SET v = 'changed' WHERE id = 1; UPDATE items SET qty = 99 WHERE item_id = 7`);
    await expectSame(src, sl, 'items', 'ddl');
    await expectSame(src, sl, 'later', 'ddl');
    await expectSame(src, sl, 'notes', 'ddl');
    // And once more after a restart: nothing of `later` is applied twice.
    await sl.stop();
    await src.query(`UPDATE later SET v = 'again' WHERE id = 2`);
    sl = await startSluice(source(['items', 'notes', 'later']), dir);
    await expectSame(src, sl, 'later', 'ddl');
    const slots = await src.query(`SELECT slot_name FROM pg_replication_slots WHERE slot_name LIKE 'sluice_ddl%'`);
    expect(slots.rows.map((r) => r.slot_name)).toEqual(['sluice_ddl']);
  });
});
