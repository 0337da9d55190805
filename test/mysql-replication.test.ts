import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeRecord } from '../core/change-record.js';
import { EmbeddedLog } from '../core/log/embedded-log.js';
import { connectMysqlTest, dropMysqlDatabase, freshMysqlDatabase } from './helpers/mysql.js';
import { waitFor } from './helpers/postgres.js';
import { type TestSluice, expectReplicaRows, startSluice, tempDir } from './helpers/sluice.js';

const DB = 'sluice_t_mysql';

const KITCHEN_DDL = `CREATE TABLE kitchen (
  id int PRIMARY KEY, i8 bigint, ubig bigint unsigned, dec1 decimal(14,4), flag tinyint(1), txt text, dt datetime(6),
  ts timestamp(6) NULL, d date, tm time, j json, e enum('small','large'), s set('x','y','z'), b blob, f double, yr year)`;

/** Awkward values: quotes, commas, newlines, unicode, NULLs, extremes, zero dates. */
function kitchenInsert(from: number, to: number): string {
  return `INSERT INTO kitchen SELECT seq, seq * 1000003, IF(seq % 3 = 0, 18446744073709551615, seq), seq * 1.2345, seq % 2,
    ELT(1 + seq % 6, NULL, '', 'he said "hi", then left', 'line1\\nline2\\r\\nline3', 'ünïcødé ✓ 日本', CONCAT('plain ', seq)),
    TIMESTAMP'2024-01-01 00:00:00.123456' + INTERVAL seq MINUTE + INTERVAL seq MICROSECOND,
    IF(seq % 5 = 0, NULL, TIMESTAMP'2024-03-31 01:30:00' + INTERVAL seq * 37 MINUTE),
    IF(seq % 11 = 0, '0000-00-00', DATE'2024-01-01' + INTERVAL seq DAY), SEC_TO_TIME(CAST(seq AS SIGNED) * 97 - 100000),
    JSON_OBJECT('k', seq, 's', 'x"y'), ELT(1 + seq % 3, 'small', 'large', NULL), ELT(1 + seq % 4, '', 'x', 'x,z', 'x,y,z'),
    IF(seq % 4 = 0, NULL, UNHEX(CONCAT(LPAD(HEX(seq), 8, '0'), '00FF22'))), seq / 3, 1901 + seq % 254
    FROM seq_${from}_to_${to}`;
}

const MY_CANON = `SELECT CAST(id AS CHAR), CAST(i8 AS CHAR), CAST(ubig AS CHAR), CAST(dec1 AS CHAR), IF(flag IS NULL, NULL, IF(flag <> 0, 'true', 'false')), txt,
  DATE_FORMAT(dt, '%Y-%m-%d %H:%i:%s.%f'), CAST(ROUND(UNIX_TIMESTAMP(ts) * 1000000) AS CHAR), IF(d = '0000-00-00', NULL, CAST(d AS CHAR)),
  CAST(TIME_TO_SEC(tm) AS CHAR), j, e, s, HEX(b), CAST(ROUND(f * 1000) AS CHAR), CAST(yr AS CHAR)
  FROM kitchen ORDER BY kitchen.id`;
const DUCK_CANON = `SELECT id::VARCHAR, i8::VARCHAR, ubig::VARCHAR, dec1::VARCHAR, flag::VARCHAR, txt,
  strftime(dt, '%Y-%m-%d %H:%M:%S.%f'), epoch_us(ts)::VARCHAR, d::VARCHAR,
  epoch(tm)::BIGINT::VARCHAR, j::VARCHAR, e, s, hex(b), round(f * 1000)::BIGINT::VARCHAR, yr::VARCHAR
  FROM inv.kitchen AS k ORDER BY k.id`;

async function expectReplicaEqual(src: mysql.Connection, sl: TestSluice): Promise<void> {
  const [rows] = await src.query({ sql: MY_CANON, rowsAsArray: true });
  await expectReplicaRows(sl, DUCK_CANON, (rows as unknown[][]).map((r) => r.map((v) => (v === null ? null : String(v)))));
}

describe('MySQL/MariaDB -> replica', () => {
  let url: string;
  let src: mysql.Connection;
  let sl: TestSluice;

  beforeAll(async () => {
    url = await freshMysqlDatabase(DB);
    src = await connectMysqlTest(DB);
    await src.query(`SET SESSION sql_mode = ''`);
    await src.query(KITCHEN_DDL);
    await src.query(kitchenInsert(1, 3000));
    await src.query(`CREATE TABLE nokey (a int, b varchar(10))`);
    await src.query(`INSERT INTO nokey VALUES (1, 'x'), (1, 'x'), (2, 'y')`);
    await src.query(`CREATE TABLE evolving (id int PRIMARY KEY, v varchar(10), n int)`);
    await src.query(`INSERT INTO evolving VALUES (1, 'a', 1), (2, 'b', 2)`);
    sl = await startSluice({ name: 'inv', kind: 'mysql', url, tables: ['kitchen', 'nokey', 'evolving'] });
  });

  afterAll(async () => {
    await sl?.stop();
    await src?.end();
    await dropMysqlDatabase(DB);
  });

  it('snapshots a few thousand rows of mixed types exactly', async () => {
    await expectReplicaEqual(src, sl);
  });

  it('keeps column types meaningful', async () => {
    const types = await sl.query(
      `SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = 'inv' AND table_name = 'kitchen' ORDER BY ordinal_position`,
    );
    expect(Object.fromEntries(types as [string, string][])).toEqual({
      id: 'INTEGER', i8: 'BIGINT', ubig: 'UBIGINT', dec1: 'DECIMAL(14,4)', flag: 'BOOLEAN', txt: 'VARCHAR', dt: 'TIMESTAMP',
      ts: 'TIMESTAMP WITH TIME ZONE', d: 'DATE', tm: 'INTERVAL', j: 'JSON', e: 'VARCHAR', s: 'VARCHAR', b: 'BLOB', f: 'DOUBLE', yr: 'SMALLINT',
    });
    const [[max]] = await sl.query(`SELECT max(ubig)::VARCHAR FROM inv.kitchen`);
    expect(max).toBe('18446744073709551615');
  });

  it('streams inserts, updates (including key changes), deletes and multi-statement transactions', async () => {
    await src.query(kitchenInsert(3001, 4000));
    await src.query(`UPDATE kitchen SET txt = 'updated, "quoted"', dec1 = dec1 + 1 WHERE id % 10 = 0`);
    await src.query(`UPDATE kitchen SET id = id + 100000 WHERE id BETWEEN 100 AND 110`);
    await src.query(`DELETE FROM kitchen WHERE id % 13 = 0`);
    await src.query(`START TRANSACTION; UPDATE kitchen SET e = 'large' WHERE id = 1; UPDATE kitchen SET e = 'small' WHERE id = 1;
      DELETE FROM kitchen WHERE id = 2; INSERT INTO kitchen (id, txt) VALUES (2, 'reborn'); COMMIT`);
    await expectReplicaEqual(src, sl);
  });

  it('treats a table without a primary key as a multiset', async () => {
    await src.query(`DELETE FROM nokey WHERE a = 1 LIMIT 1`);
    await src.query(`UPDATE nokey SET b = 'z' WHERE a = 2`);
    await src.query(`INSERT INTO nokey VALUES (2, 'z')`);
    await waitFor('multiset changes', async () => {
      const rows = await sl.query(`SELECT a, b, count(*) FROM inv.nokey GROUP BY ALL ORDER BY ALL`);
      return JSON.stringify(rows) === JSON.stringify([[1, 'x', 1], [2, 'z', 2]]);
    });
  });

  it('follows ADD COLUMN (existing rows get the default), MODIFY to a wider type and DROP COLUMN without a re-snapshot', async () => {
    const before = Number((await (await fetch(`${sl.http}/v1/sources`)).json() as any).sources[0].snapshot.rows);
    await src.query(`ALTER TABLE evolving ADD COLUMN tag varchar(10) DEFAULT 'new'`);
    await src.query(`INSERT INTO evolving (id, v, n, tag) VALUES (3, 'c', 3, 'given')`);
    await src.query(`ALTER TABLE evolving MODIFY n bigint`);
    await src.query(`UPDATE evolving SET n = 9000000000 WHERE id = 1`);
    await src.query(`ALTER TABLE evolving DROP COLUMN v`);
    await src.query(`UPDATE evolving SET tag = 'after' WHERE id = 2`);
    let rows: unknown[][] = [];
    await waitFor('schema changes', async () => {
      rows = await sl.query(`SELECT * FROM inv.evolving ORDER BY id`);
      return JSON.stringify(rows) === JSON.stringify([[1, 9000000000, 'new'], [2, 2, 'after'], [3, 3, 'given']]);
    }).catch(() => undefined);
    expect(rows).toEqual([[1, 9000000000, 'new'], [2, 2, 'after'], [3, 3, 'given']]);
    const cols = await sl.query(`SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = 'inv' AND table_name = 'evolving' ORDER BY ordinal_position`);
    expect(cols).toEqual([['id', 'INTEGER'], ['n', 'BIGINT'], ['tag', 'VARCHAR']]);
    const after = Number((await (await fetch(`${sl.http}/v1/sources`)).json() as any).sources[0].snapshot.rows);
    expect(after).toBe(before);
  });

  it('serves binlog changes as Debezium events with file:position', async () => {
    const from = Number(((await (await fetch(`${sl.http}/v1/sources`)).json()) as any).sources[0].log.endOffset);
    await src.query(`UPDATE evolving SET tag = 'feed' WHERE id = 3`);
    const feed = await waitFor('a new record', async () => {
      const r = (await (await fetch(`${sl.http}/v1/sources/inv/changes?from=${from}`)).json()) as any;
      return r.records.length >= 1 ? r : undefined;
    });
    const [event] = feed.records.flatMap((r: any) => r.events);
    expect(event).toMatchObject({
      op: 'u', before: { id: 3, tag: 'given' }, after: { id: 3, tag: 'feed' },
      source: { connector: 'mysql', name: 'inv', db: DB, table: 'evolving' },
    });
    expect(event.source.lsn).toMatch(/^[\w.-]+\.\d+:\d+$/);
  });
});

describe('MySQL start-up checks', () => {
  it('says exactly which binlog setting is wrong', async () => {
    const url = await freshMysqlDatabase('sluice_t_mysql_cfg');
    const admin = await connectMysqlTest();
    await admin.query(`SET GLOBAL binlog_format = 'STATEMENT'`);
    try {
      const c = await connectMysqlTest('sluice_t_mysql_cfg');
      await c.query('CREATE TABLE t (id int PRIMARY KEY)');
      await c.end();
      await expect(startSluice({ name: 'cfg', kind: 'mysql', url, tables: ['t'] })).rejects.toMatchObject({
        code: 'SLUICE_MYSQL_BINLOG_CONFIG',
        message: expect.stringMatching(/binlog_format is STATEMENT, needs ROW.*binlog_format=ROW/),
      });
    } finally {
      await admin.query(`SET GLOBAL binlog_format = 'ROW'`);
      await admin.end();
      await dropMysqlDatabase('sluice_t_mysql_cfg');
    }
  });

  it('reports a purged binlog clearly instead of resuming with a gap', async () => {
    const url = await freshMysqlDatabase('sluice_t_mysql_purged');
    const c = await connectMysqlTest('sluice_t_mysql_purged');
    await c.query('CREATE TABLE t (id int PRIMARY KEY)');
    await c.end();
    const dir = tempDir('purged');
    // A log that stopped at a binlog file the server no longer has.
    mkdirSync(join(dir, 'log', 'gone'), { recursive: true });
    const log = await EmbeddedLog.open({ dir: join(dir, 'log', 'gone') });
    await log.append([encodeRecord({ kind: 'snapshot-end', source: 'gone', position: { lsn: 'mariadb-bin.000000:4', tsMs: 0 } })]);
    await log.close();
    await expect(startSluice({ name: 'gone', kind: 'mysql', url, tables: ['t'] }, dir)).rejects.toMatchObject({
      code: 'SLUICE_MYSQL_BINLOG_PURGED',
      message: expect.stringContaining('mariadb-bin.000000'),
    });
    await dropMysqlDatabase('sluice_t_mysql_purged');
  });
});

describe('a table added to a running MySQL source', () => {
  it('is copied on its own, its older binlog changes are not applied twice, and the other tables keep streaming', async () => {
    const url = await freshMysqlDatabase('sluice_t_mysql_add');
    const c = await connectMysqlTest('sluice_t_mysql_add');
    await c.query(`CREATE TABLE a (id int PRIMARY KEY, v int); CREATE TABLE b (k int, v varchar(10))`);
    await c.query(`INSERT INTO a SELECT seq, seq FROM seq_1_to_100; INSERT INTO b SELECT seq % 7, 'x' FROM seq_1_to_100`);
    const dir = tempDir('added');
    const first = await startSluice({ name: 'grow', kind: 'mysql', url, tables: ['a'] }, dir);
    await waitFor('a copied', async () => (await first.query('SELECT count(*) FROM grow.a'))[0][0] === 100);
    await c.query(`INSERT INTO b SELECT seq % 7, 'y' FROM seq_1_to_50; UPDATE a SET v = v + 1 WHERE id <= 10`);
    await first.stop();
    // Committed while Sluice was down: in the binlog before the copy of b is taken.
    await c.query(`INSERT INTO b SELECT seq % 7, 'z' FROM seq_1_to_30; DELETE FROM b WHERE k = 0 LIMIT 3; UPDATE a SET v = 0 WHERE id = 50`);
    const second = await startSluice({ name: 'grow', kind: 'mysql', url, tables: ['a', 'b'] }, dir);
    await c.query(`INSERT INTO b VALUES (99, 'after'); UPDATE a SET v = -1 WHERE id = 1`);
    const expectB = async (): Promise<string> => {
      const [rows] = await c.query({ sql: 'SELECT k, v, count(*) n FROM b GROUP BY k, v ORDER BY k, v', rowsAsArray: true });
      return JSON.stringify((rows as unknown[][]).map(([k, v, n]) => [k, v, Number(n)]));
    };
    let got = '';
    await waitFor('b equal to the source', async () => {
      got = JSON.stringify(await second.query('SELECT k, v, count(*) FROM grow.b GROUP BY k, v ORDER BY k, v'));
      return got === (await expectB());
    }).catch(() => undefined);
    expect(got).toBe(await expectB());
    const [aRows] = await c.query({ sql: 'SELECT id, v FROM a ORDER BY id', rowsAsArray: true });
    await waitFor('a equal to the source', async () => JSON.stringify(await second.query('SELECT id, v FROM grow.a ORDER BY id')) === JSON.stringify(aRows));
    await second.stop();
    await c.end();
    await dropMysqlDatabase('sluice_t_mysql_add');
  });
});
