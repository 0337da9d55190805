import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectPg, dropDatabase, freshDatabase, waitFor } from './helpers/postgres.js';
import { type TestSluice, expectReplicaRows, startSluice } from './helpers/sluice.js';

const DB = 'sluice_t_replication';

/**
 * The same rows, printed the same way by both systems: every column of `kitchen` rendered to a
 * canonical text that does not depend on either system's display rules.
 */
const PG_CANON = `SELECT id::text, i2::text, i8::text, amount::text, big::numeric(38,10)::text, f8::numeric(30,9)::text, t, flag::text, d::text,
  (extract(epoch FROM ts) * 1000000)::bigint::text, (extract(epoch FROM tstz) * 1000000)::bigint::text,
  j::text, jb::text, u::text, encode(b, 'hex'), array_to_json(ints)::text, array_to_json(tags)::text, vc
  FROM kitchen AS k ORDER BY k.id`;
const DUCK_CANON = `SELECT id::VARCHAR, i2::VARCHAR, i8::VARCHAR, amount::VARCHAR, big::VARCHAR, f8::DECIMAL(30,9)::VARCHAR, t, flag::VARCHAR, d::VARCHAR,
  epoch_us(ts)::VARCHAR, epoch_us(tstz)::VARCHAR,
  j::VARCHAR, jb::VARCHAR, u::VARCHAR, lower(hex(b)), to_json(ints)::VARCHAR, to_json(tags)::VARCHAR, vc
  FROM repl.kitchen AS k ORDER BY k.id`;

const KITCHEN_DDL = `CREATE TABLE kitchen (
  id int PRIMARY KEY, i2 smallint, i8 bigint, amount numeric(14,4), big numeric, f8 double precision, t text,
  flag boolean, d date, ts timestamp(6), tstz timestamptz, j json, jb jsonb, u uuid, b bytea, ints int[], tags text[],
  vc varchar(40))`;

/** n rows of awkward values: quotes, commas, newlines, unicode, NULLs, extremes. */
function kitchenInsert(from: number, to: number): string {
  return `INSERT INTO kitchen SELECT g, (g % 32000)::smallint, g::bigint * 1000003, (g * 1.2345)::numeric(14,4),
    CASE WHEN g % 7 = 0 THEN NULL ELSE (g::numeric * 1000000007 + 0.123456789) END,
    CASE WHEN g % 5 = 0 THEN NULL ELSE g / 3.0 END,
    CASE g % 6 WHEN 0 THEN NULL WHEN 1 THEN '' WHEN 2 THEN 'he said "hi", then left' WHEN 3 THEN E'line1\\nline2\\r\\nline3'
         WHEN 4 THEN 'ünïcødé ✓ 日本' ELSE 'plain ' || g END,
    g % 2 = 0, DATE '2024-01-01' + g, TIMESTAMP '2024-01-01 00:00:00.123456' + g * interval '1 minute 0.000001 second',
    TIMESTAMPTZ '2024-03-31 01:30:00+02' + g * interval '37 minutes',
    json_build_object('k', g, 's', 'x"y'), jsonb_build_object('n', g, 'arr', jsonb_build_array(1, 'two', NULL)),
    md5(g::text)::uuid, decode(lpad(to_hex(g), 8, '0') || '00ff22', 'hex'),
    CASE WHEN g % 4 = 0 THEN NULL ELSE ARRAY[g, NULL, -g] END,
    ARRAY['a', 'b c', 'quote"d', g::text, NULL],
    left(md5(g::text), 10)
    FROM generate_series(${from}, ${to}) g`;
}

async function expectReplicaEqual(src: pg.Client, sl: TestSluice): Promise<void> {
  await expectReplicaRows(sl, DUCK_CANON, (await src.query({ text: PG_CANON, rowMode: 'array' })).rows);
}

describe('Postgres -> replica', () => {
  let url: string;
  let src: pg.Client;
  let sl: TestSluice;

  beforeAll(async () => {
    url = await freshDatabase(DB);
    src = await connectPg(url);
    await src.query(KITCHEN_DDL);
    await src.query(kitchenInsert(1, 3000));
    await src.query(`CREATE TABLE nokey (a int, b text)`);
    await src.query(`ALTER TABLE nokey REPLICA IDENTITY FULL`);
    await src.query(`INSERT INTO nokey VALUES (1, 'x'), (1, 'x'), (2, 'y')`);
    await src.query(`CREATE TABLE docs (id int PRIMARY KEY, title text, body text)`);
    await src.query(`ALTER TABLE docs ALTER COLUMN body SET STORAGE EXTERNAL`);
    await src.query(`CREATE TABLE spans (id int PRIMARY KEY, iv interval)`);
    await src.query(`INSERT INTO spans VALUES (1, '1 year 2 mons -3 days 04:05:06.5'), (2, '-1 year -2 mons +3 days -04:05:06'), (3, NULL)`);
    sl = await startSluice({ name: 'repl', kind: 'postgres', url, tables: ['public.kitchen', 'nokey', 'docs', 'spans'] });
  });

  afterAll(async () => {
    await sl?.stop();
    await src?.end();
    await dropDatabase(DB);
  });

  it('snapshots a few thousand rows of mixed types exactly', async () => {
    await expectReplicaEqual(src, sl);
    const [[rows]] = await sl.query('SELECT count(*) FROM repl.kitchen');
    expect(rows).toBe(3000);
  });

  it('keeps column types meaningful: numeric exact, timestamptz, json, uuid, bytea, arrays', async () => {
    const types = await sl.query(
      `SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = 'repl' AND table_name = 'kitchen' ORDER BY ordinal_position`,
    );
    expect(Object.fromEntries(types as [string, string][])).toMatchObject({
      id: 'INTEGER', i8: 'BIGINT', amount: 'DECIMAL(14,4)', big: 'DECIMAL(38,10)', f8: 'DOUBLE', t: 'VARCHAR', flag: 'BOOLEAN',
      d: 'DATE', ts: 'TIMESTAMP', tstz: 'TIMESTAMP WITH TIME ZONE', j: 'JSON', jb: 'JSON', u: 'UUID', b: 'BLOB',
      ints: 'INTEGER[]', tags: 'VARCHAR[]', vc: 'VARCHAR',
    });
    // Exact decimal arithmetic: a float sum of these would not end in .1845 exactly.
    const [[sum]] = await sl.query(`SELECT sum(amount)::VARCHAR FROM repl.kitchen`);
    const { rows } = await src.query(`SELECT sum(amount)::text AS s FROM kitchen`);
    expect(sum).toBe(rows[0].s);
  });

  it('keeps intervals with their months, days and microseconds apart', async () => {
    const expected = [
      [1, { months: 14, days: -3, micros: '14706500000' }],
      [2, { months: -14, days: 3, micros: '-14706000000' }],
      [3, null],
    ];
    await src.query(`INSERT INTO spans VALUES (4, '00:00:01')`);
    await waitFor('spans', async () => (await sl.query('SELECT count(*) FROM repl.spans'))[0][0] === 4);
    expect(await sl.query('SELECT id, iv FROM repl.spans WHERE id < 4 ORDER BY id')).toEqual(expected);
  });

  it('streams inserts, updates (including key changes) and deletes', async () => {
    await src.query(kitchenInsert(3001, 4000));
    await src.query(`UPDATE kitchen SET t = 'updated, "quoted"', amount = amount + 1 WHERE id % 10 = 0`);
    await src.query(`UPDATE kitchen SET id = id + 100000 WHERE id BETWEEN 100 AND 110`);
    await src.query(`DELETE FROM kitchen WHERE id % 13 = 0`);
    // Several changes to one key inside one transaction: only the last may survive.
    await src.query(`BEGIN; UPDATE kitchen SET vc = 'first' WHERE id = 1; UPDATE kitchen SET vc = 'second' WHERE id = 1;
      DELETE FROM kitchen WHERE id = 2; INSERT INTO kitchen (id, vc) VALUES (2, 'reborn'); COMMIT`);
    await expectReplicaEqual(src, sl);
  });

  it('applies a transaction as a whole: no query sees half of it', async () => {
    const total = async (): Promise<number> => Number((await sl.query(`SELECT sum(i8) FROM repl.kitchen WHERE id IN (5, 6)`))[0][0]);
    const before = await total();
    // Moves value between two rows; the sum is invariant at every transaction boundary.
    const writer = (async () => {
      for (let i = 0; i < 40; i++) await src.query(`BEGIN; UPDATE kitchen SET i8 = i8 - 7 WHERE id = 5; UPDATE kitchen SET i8 = i8 + 7 WHERE id = 6; COMMIT`);
    })();
    const seen = new Set<number>();
    while (!(await Promise.race([writer.then(() => true), new Promise<false>((r) => setTimeout(() => r(false), 5))]))) seen.add(await total());
    await writer;
    expect([...seen].every((s) => s === before)).toBe(true);
  });

  it('follows truncate', async () => {
    await src.query(`CREATE TEMP TABLE keep AS SELECT * FROM kitchen`);
    await src.query(`TRUNCATE kitchen`);
    await waitFor('truncate', async () => Number((await sl.query('SELECT count(*) FROM repl.kitchen'))[0][0]) === 0);
    await src.query(`INSERT INTO kitchen SELECT * FROM keep`);
    await expectReplicaEqual(src, sl);
  });

  it('keeps an unchanged TOASTed value when an update does not send it', async () => {
    const big = 'x'.repeat(300_000);
    await src.query(`INSERT INTO docs VALUES (1, 'v1', $1), (2, 'v1', $1)`, [big]);
    await src.query(`UPDATE docs SET title = 'v2' WHERE id = 1`);
    await src.query(`UPDATE docs SET title = 'v3', id = 3 WHERE id = 2`);
    await waitFor('toast updates', async () => {
      const rows = await sl.query(`SELECT id, title, length(body) FROM repl.docs ORDER BY id`);
      return JSON.stringify(rows) === JSON.stringify([[1, 'v2', 300_000], [3, 'v3', 300_000]]);
    });
  });

  it('treats a table without a key but REPLICA IDENTITY FULL as a multiset', async () => {
    await src.query(`DELETE FROM nokey WHERE ctid = (SELECT min(ctid) FROM nokey WHERE a = 1)`);
    await src.query(`UPDATE nokey SET b = 'z' WHERE a = 2`);
    await src.query(`INSERT INTO nokey VALUES (2, 'z')`);
    await waitFor('multiset changes', async () => {
      const rows = await sl.query(`SELECT a, b, count(*) FROM repl.nokey GROUP BY ALL ORDER BY ALL`);
      return JSON.stringify(rows) === JSON.stringify([[1, 'x', 1], [2, 'z', 2]]);
    });
  });

  it('serves its log as Debezium change events', async () => {
    const from = Number(((await (await fetch(`${sl.http}/v1/sources`)).json()) as any).sources[0].log.endOffset);
    await src.query(`UPDATE spans SET iv = '2 days' WHERE id = 4`);
    await src.query(`DELETE FROM spans WHERE id = 4`);
    const feed = await waitFor('two new records', async () => {
      const r = (await (await fetch(`${sl.http}/v1/sources/repl/changes?from=${from}`)).json()) as any;
      return r.records.length >= 2 ? r : undefined;
    });
    const [update, del] = feed.records.flatMap((r: any) => r.events);
    expect(update).toMatchObject({
      op: 'u',
      before: null,
      after: { id: 4, iv: '2 days' },
      source: { connector: 'postgresql', name: 'repl', db: DB, schema: 'public', table: 'spans', snapshot: 'false' },
    });
    expect(update.source.lsn).toMatch(/^[0-9A-F]+\/[0-9A-F]+$/);
    expect(update.source.txId).toBeGreaterThan(0);
    expect(typeof update.ts_ms).toBe('number');
    expect(del).toMatchObject({ op: 'd', before: { id: 4, iv: null }, after: null });

    const first = (await (await fetch(`${sl.http}/v1/sources/repl/changes?from=0&limit=5`)).json()) as any;
    const snapshotRow = first.records.flatMap((r: any) => r.events).find((e: any) => e.source.table === 'kitchen');
    expect(snapshotRow).toMatchObject({ op: 'r', before: null, source: { snapshot: 'true' } });
    expect(snapshotRow.after).toMatchObject({ id: 1, flag: false, jb: { n: 1 }, ints: [1, null, -1] });
    const bad = await fetch(`${sl.http}/v1/sources/nope/changes`);
    expect(bad.status).toBe(404);
  });

  it('reports tables and sources with positions and lag', async () => {
    const tables = (await (await fetch(`${sl.http}/v1/tables`)).json()) as { tables: Record<string, unknown>[] };
    const kitchen = tables.tables.find((t) => t.name === 'repl.kitchen')!;
    expect(kitchen).toMatchObject({ source: 'repl', sourceTable: 'public.kitchen' });
    expect(typeof kitchen.rows).toBe('number');
    expect(kitchen.position).toMatch(/^[0-9A-F]+\/[0-9A-F]+$/);
    expect(typeof kitchen.lagMs).toBe('number');
    const sources = (await (await fetch(`${sl.http}/v1/sources`)).json()) as { sources: Record<string, unknown>[] };
    expect(sources.sources[0]).toMatchObject({ name: 'repl', kind: 'postgres', state: 'streaming' });
  });
});

describe('start-up checks', () => {
  it('refuses a table whose updates cannot be matched, naming it and the fix', async () => {
    const url = await freshDatabase('sluice_t_identity');
    const c = await connectPg(url);
    await c.query(`CREATE TABLE loose (a int, b text)`);
    await c.end();
    await expect(startSluice({ name: 'bad', kind: 'postgres', url, tables: ['loose'] })).rejects.toMatchObject({
      code: 'SLUICE_PG_NO_REPLICA_IDENTITY',
      message: expect.stringContaining('REPLICA IDENTITY FULL'),
    });
    await expect(startSluice({ name: 'bad', kind: 'postgres', url, tables: ['missing_table'] })).rejects.toMatchObject({
      code: 'SLUICE_PG_TABLE_MISSING',
    });
    await dropDatabase('sluice_t_identity');
  });
});
