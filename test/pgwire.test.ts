import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RawPgClient, dataRowText, errorFields } from './helpers/pg-raw.js';
import { connectPg, dropDatabase, freshDatabase, waitFor } from './helpers/postgres.js';
import { type TestSluice, startSluice, tempDir } from './helpers/sluice.js';

const run = promisify(execFile);
const DB = 'sluice_t_pgwire';

/** Every type the replica keeps that a Postgres client decodes itself. */
const KITCHEN = `CREATE TABLE kitchen (
  id int PRIMARY KEY, small smallint, big bigint, num numeric(12,3), r real, d double precision, ok boolean,
  t text, vc varchar(20), day date, ts timestamp, tstz timestamptz, dur interval, u uuid, doc jsonb, raw bytea,
  tags text[], nums int[])`;
const KITCHEN_ROWS = `INSERT INTO kitchen VALUES
  (1, -32768, 9007199254740993, -123456789.125, 1.5, 0.1, true, 'plain', 'v', '2024-02-29', '2024-01-02 03:04:05.123456',
   '2024-01-02 03:04:05+02', '1 year 2 mons 3 days 04:05:06.5', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{"a": [1, 2]}',
   '\\x00ff10', '{"a","b c","","NULL"}', '{1,NULL,3}'),
  (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
  (3, 7, -1, 0.5, -0, 'Infinity', false, 'quote " comma , newline
 tab	', 'ü', '1999-12-31', '1970-01-01 00:00:00', '1999-12-31 23:59:59.999999+00', '-1 day -00:00:01', '00000000-0000-0000-0000-000000000000',
   '[]', '\\x', '{}', '{}')`;

describe('Postgres wire protocol', () => {
  let sl: TestSluice;
  let source: pg.Client;

  beforeAll(async () => {
    const url = await freshDatabase(DB);
    source = await connectPg(url);
    await source.query(KITCHEN);
    await source.query(KITCHEN_ROWS);
    await source.query(`CREATE TABLE orders AS SELECT g AS id, (g % 5)::int AS status, g * 0.5 AS amount FROM generate_series(1, 10000) g`);
    await source.query(`ALTER TABLE orders ADD PRIMARY KEY (id)`);
    sl = await startSluice({ name: 'shop', kind: 'postgres', url, tables: ['kitchen', 'orders'] });
    await waitFor('snapshot', async () => (await sl.query('SELECT count(*) FROM shop.orders'))[0][0] === 10000);
  });

  afterAll(async () => {
    await source?.end();
    await sl?.stop();
    await dropDatabase(DB);
  });

  async function client(extra: Partial<pg.ClientConfig> = {}): Promise<pg.Client> {
    const c = new pg.Client({ host: '127.0.0.1', port: sl.pgPort, user: 'tester', database: 'sluice', ...extra });
    await c.connect();
    return c;
  }

  it.each([
    ['simple protocol, text', {}],
    ['extended protocol, text', { params: true }],
    ['extended protocol, binary results', { params: true, binary: true }],
  ])('gives node-postgres the same values as Postgres itself (%s)', async (_name, mode: { params?: boolean; binary?: boolean }) => {
    const sluice = await client();
    try {
      // Binary results exist for the scalar types (not arrays, and JSON is json, not jsonb).
      const cols = mode.binary ? 'id, small, big, num, r, d, ok, t, vc, day, ts, tstz, dur, u, raw' : 'id, small, big, num, r, d, ok, t, vc, day, ts, tstz, dur, u, doc, raw, tags, nums';
      const text = mode.params ? `SELECT ${cols} FROM kitchen WHERE id > $1 ORDER BY id` : `SELECT ${cols} FROM kitchen ORDER BY id`;
      // Binary cells are compared as raw bytes: byte for byte what Postgres sends.
      const raw = { getTypeParser: () => (v: unknown) => v };
      const q = (c: pg.Client, table: string) =>
        c.query({
          text: text.replace('FROM kitchen', `FROM ${table}`), values: mode.params ? [0] : undefined, binary: mode.binary, rowMode: 'array',
          ...(mode.binary ? { types: raw } : {}),
        } as pg.QueryConfig);
      const expected = await q(source, 'kitchen');
      const actual = await q(sluice, 'shop.kitchen');
      expect(actual.fields.map((f) => f.name)).toEqual(expected.fields.map((f) => f.name));
      // The replica keeps jsonb as JSON (oid 114) and varchar(n) as text: DuckDB has one string
      // type and one JSON type. The driver decodes both pairs to the same values.
      expect(actual.fields.map((f) => `${f.name}:${f.dataTypeID}`)).toEqual(expected.fields.map((f) => `${f.name}:${({ 3802: 114, 1043: 25 } as Record<number, number>)[f.dataTypeID] ?? f.dataTypeID}`));
      expect(actual.rows).toEqual(expected.rows);
    } finally {
      await sluice.end();
    }
  });

  it('binds parameters in text and binary, with declared and inferred types', async () => {
    const c = await client();
    try {
      const filtered = 'SELECT count(*)::int AS n FROM shop.orders WHERE status = $1 AND amount > $2';
      const want = (await source.query(filtered.replace('shop.', ''), [3, '100'])).rows;
      expect(want).toEqual([{ n: 1960 }]);
      expect((await c.query(filtered, [3, '100'])).rows).toEqual(want);
      expect((await c.query('SELECT $1::text AS a, $2::int AS b, $3::text IS NULL AS c', ['x', 42, null])).rows).toEqual([{ a: 'x', b: 42, c: true }]);
      // A Buffer goes out as a binary bytea parameter.
      expect((await c.query('SELECT octet_length($1::blob)::int AS n', [Buffer.from([1, 2, 3])])).rows).toEqual([{ n: 3 }]);
      // Named statements are parsed once and reused.
      for (const s of [1, 2]) {
        const r = await c.query({ name: 'by-status', text: 'SELECT count(*)::int AS n FROM shop.orders WHERE status = $1', values: [s] });
        expect(r.rows[0].n).toBe(2000);
      }
    } finally {
      await c.end();
    }
  });

  it('answers SET, SHOW, RESET and transaction control as Postgres does, and refuses engine settings', async () => {
    const c = await client();
    try {
      await c.query(`SET application_name = 'dash'`);
      expect((await c.query('SHOW application_name')).rows).toEqual([{ application_name: 'dash' }]);
      await c.query('SET extra_float_digits TO 3');
      await c.query('BEGIN');
      expect((await c.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
      await c.query('COMMIT');
      await c.query('RESET application_name');
      expect((await c.query('SHOW application_name')).rows).toEqual([{ application_name: '' }]);
      for (const sql of ['SET threads = 1', 'SET enable_external_access = true', "SET memory_limit = '100GB'"]) {
        await expect(c.query(sql)).rejects.toMatchObject({ code: '42501' });
      }
      // A failed transaction block refuses everything until ROLLBACK, as Postgres does.
      await c.query('BEGIN');
      await expect(c.query('SELECT nope')).rejects.toMatchObject({ code: '42703' });
      await expect(c.query('SELECT 1')).rejects.toMatchObject({ code: '25P02' });
      await c.query('ROLLBACK');
      expect((await c.query('SELECT 2 AS two')).rows).toEqual([{ two: 2 }]);
    } finally {
      await c.end();
    }
  });

  it('answers errors with SQLSTATE codes and stays usable', async () => {
    const c = await client();
    try {
      await expect(c.query('SELEC 1')).rejects.toMatchObject({ code: '42601' });
      await expect(c.query('SELECT * FROM shop.nope')).rejects.toMatchObject({ code: '42P01' });
      await expect(c.query('DELETE FROM shop.orders')).rejects.toMatchObject({ code: '42501' });
      await expect(c.query("ATTACH '/tmp/x.duckdb' AS x")).rejects.toMatchObject({ code: '42501' });
      await expect(c.query("SELECT * FROM read_csv('/etc/passwd')")).rejects.toMatchObject({ severity: 'ERROR' });
      expect((await c.query('SELECT count(*)::int AS n FROM shop.orders')).rows).toEqual([{ n: 10000 }]);
    } finally {
      await c.end();
    }
    await expect(client({ database: 'postgres' })).rejects.toMatchObject({ code: '3D000' });
  });

  it('suspends a portal at the Execute row limit and resumes it', async () => {
    const { client: raw } = await RawPgClient.startup(sl.pgPort);
    try {
      raw.send(Buffer.concat([
        raw.parse('', 'SELECT id FROM shop.orders WHERE id <= 5 ORDER BY id'),
        raw.bind('p1', '', []),
        raw.execute('p1', 2),
        raw.execute('p1', 2),
        raw.execute('p1', 2),
        raw.sync(),
      ]));
      const msgs = await raw.readUntil('Z');
      expect(msgs.map((m) => m.type).join('')).toBe('12DDsDDsDCZ');
      expect(msgs.filter((m) => m.type === 'D').map((m) => dataRowText(m)[0])).toEqual(['1', '2', '3', '4', '5']);
      expect(msgs.find((m) => m.type === 'C')!.body.toString('utf8', 0, 8)).toBe('SELECT 5');
    } finally {
      raw.close();
    }
  });

  it('skips to Sync after an error in the extended protocol', async () => {
    const { client: raw } = await RawPgClient.startup(sl.pgPort);
    try {
      raw.send(Buffer.concat([raw.parse('', 'SELECT nope FROM shop.orders'), raw.bind('', '', []), raw.execute(''), raw.sync()]));
      const msgs = await raw.readUntil('Z');
      expect(msgs.map((m) => m.type).join('')).toBe('EZ');
      expect(errorFields(msgs[0]).code).toBe('42703');
      raw.send(Buffer.concat([raw.parse('', 'SELECT 41 + $1::int AS x'), raw.bind('', '', [Buffer.from('1')]), raw.describe('P', ''), raw.execute(''), raw.sync()]));
      const ok = await raw.readUntil('Z');
      expect(ok.map((m) => m.type).join('')).toBe('12TDCZ');
      expect(dataRowText(ok[3])).toEqual(['42']);
    } finally {
      raw.close();
    }
  });

  it('cancels a running query on CancelRequest, and by statement_timeout', async () => {
    const c = await client();
    try {
      const slow = 'SELECT count(*) FROM range(200000) a, range(200000) b WHERE a.range + b.range = -1';
      const started = Date.now();
      const pending = c.query(slow);
      await new Promise((r) => setTimeout(r, 300));
      const cancel = await RawPgClient.connect(sl.pgPort);
      const body = Buffer.alloc(16);
      body.writeInt32BE(16, 0);
      body.writeInt32BE(80877102, 4);
      body.writeInt32BE((c as unknown as { processID: number }).processID, 8);
      body.writeInt32BE((c as unknown as { secretKey: number }).secretKey, 12);
      cancel.send(body);
      await expect(pending).rejects.toMatchObject({ code: '57014' });
      expect(Date.now() - started).toBeLessThan(10_000);
      await c.query('SET statement_timeout = 200');
      await expect(c.query(slow)).rejects.toMatchObject({ code: '57014', message: expect.stringMatching(/timeout/) });
      expect((await c.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    } finally {
      await c.end();
    }
  });

  it('serves the real psql client', async () => {
    const env = { ...process.env, PGPASSWORD: '', PGCONNECT_TIMEOUT: '5' };
    const { stdout } = await run('psql', ['-h', '127.0.0.1', '-p', String(sl.pgPort), '-U', 'analyst', '-d', 'sluice', '-XAt', '-c', 'SELECT status, count(*) FROM shop.orders GROUP BY status ORDER BY status'], { env });
    expect(stdout.trim().split('\n')).toEqual(['0|2000', '1|2000', '2|2000', '3|2000', '4|2000']);
    // A multi-statement string runs statement by statement, as psql -c sends it.
    const multi = await run('psql', ['-h', '127.0.0.1', '-p', String(sl.pgPort), '-U', 'analyst', '-d', 'sluice', '-XAt', '-c', "SET application_name = 'x'; SELECT current_setting('application_name') IS NOT NULL; SELECT 'a;b'"], { env });
    expect(multi.stdout.trim().split('\n').at(-1)).toBe('a;b');
  });

  it("answers psql's \\dt and \\d from the emulated catalog", async () => {
    // Unaligned, with headers and footers (-t would drop the footer that lists the key).
    const psql = async (cmd: string) =>
      (await run('psql', ['-h', '127.0.0.1', '-p', String(sl.pgPort), '-U', 'analyst', '-d', 'sluice', '-XA', '-F', '|', '-c', cmd], { env: { ...process.env, PGCONNECT_TIMEOUT: '5' } })).stdout.trim().split('\n');
    expect(await psql('\\dt')).toEqual(['List of relations', 'Schema|Name|Type|Owner', 'shop|kitchen|table|sluice', 'shop|orders|table|sluice', '(2 rows)']);
    expect(await psql('\\d shop.orders')).toEqual([
      'Table "shop.orders"',
      'Column|Type|Collation|Nullable|Default',
      'id|integer||not null|',
      'status|integer|||',
      // An unconstrained numeric is kept as DECIMAL(38,10) (see Types in the README).
      'amount|numeric(38,10)|||',
      'Indexes:',
      '    "orders_pkey" PRIMARY KEY, btree (id)',
    ]);
    expect((await psql('\\d shop.kitchen')).slice(2, 6)).toEqual(['id|integer||not null|', 'small|smallint|||', 'big|bigint|||', 'num|numeric(12,3)|||']);
  });
});

describe('Postgres wire protocol over TLS, with a small store.memoryLimit', () => {
  let sl: TestSluice;
  const DB_TLS = 'sluice_t_pgwire_tls';

  beforeAll(async () => {
    const url = await freshDatabase(DB_TLS);
    const c = await connectPg(url);
    await c.query('CREATE TABLE t (id int PRIMARY KEY)');
    await c.query('INSERT INTO t VALUES (1), (2)');
    await c.end();
    const dir = tempDir('tls');
    const certFile = join(dir, 'cert.pem');
    const keyFile = join(dir, 'key.pem');
    await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '1', '-subj', '/CN=localhost']);
    sl = await startSluice({ name: 'sec', kind: 'postgres', url, tables: ['t'] }, tempDir('tls-data'), {
      api: { tls: { certFile, keyFile } },
      store: { memoryLimit: '64MB' },
    });
    await waitFor('snapshot', async () => (await sl.query('SELECT count(*) FROM sec.t'))[0][0] === 2);
  });

  afterAll(async () => {
    await sl?.stop();
    await dropDatabase(DB_TLS);
  });

  it('serves TLS when configured, and plain connections still work', async () => {
    const secure = new pg.Client({ host: '127.0.0.1', port: sl.pgPort, user: 'u', database: 'sluice', ssl: { rejectUnauthorized: false } });
    await secure.connect();
    try {
      expect((secure as unknown as { connection: { stream: { encrypted?: boolean } } }).connection.stream.encrypted).toBe(true);
      expect((await secure.query('SELECT count(*)::int AS n FROM sec.t')).rows).toEqual([{ n: 2 }]);
    } finally {
      await secure.end();
    }
    const { stdout } = await run('psql', [`host=127.0.0.1 port=${sl.pgPort} user=u dbname=sluice sslmode=require`, '-XAtc', 'SELECT 7']);
    expect(stdout.trim()).toBe('7');
  });

  it('fails a query that needs more than store.memoryLimit with 53200, naming the limit, and carries on', async () => {
    const c = new pg.Client({ host: '127.0.0.1', port: sl.pgPort, user: 'u', database: 'sluice' });
    await c.connect();
    try {
      await expect(c.query("SELECT length(string_agg(i::VARCHAR, ',')) FROM range(30000000) t(i)")).rejects.toMatchObject({
        code: '53200',
        message: expect.stringContaining('store.memoryLimit = 64MB'),
      });
      expect((await c.query('SELECT count(*)::int AS n FROM sec.t')).rows).toEqual([{ n: 2 }]);
    } finally {
      await c.end();
    }
  });

  it('answers N to SSLRequest when TLS is not configured, so sslmode=require fails clearly', async () => {
    const plain = await startSluice({ name: 'sec', kind: 'postgres', url: `postgres://postgres@127.0.0.1:5432/${DB_TLS}`, tables: ['t'], slot: 'sluice_sec_plain' });
    try {
      const c = new pg.Client({ host: '127.0.0.1', port: plain.pgPort, user: 'u', database: 'sluice', ssl: { rejectUnauthorized: false } });
      await expect(c.connect()).rejects.toThrow(/does not support SSL/);
      await expect(run('psql', [`host=127.0.0.1 port=${plain.pgPort} user=u dbname=sluice sslmode=prefer`, '-XAtc', 'SELECT 8'])).resolves.toMatchObject({ stdout: '8\n' });
    } finally {
      await plain.stop();
    }
  });
});
