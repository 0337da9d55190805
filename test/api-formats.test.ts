import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { join } from 'node:path';
import { RecordBatchReader, tableFromIPC, type Table } from 'apache-arrow';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApi } from '../api/server.js';
import { createLogger } from '../core/logger.js';
import { DuckDbStore } from '../olap/duckdb-store.js';
import { QueryEngine } from '../olap/query/query-engine.js';
import type { QueryLimits, QueryStream } from '../olap/query/query-stream.js';
import { tempDir } from './helpers/sluice.js';

const ARROW = 'application/vnd.apache.arrow.stream';

/** A real store and engine behind the real REST API; `streams` records what each request ran. */
interface Api {
  readonly app: FastifyInstance;
  readonly base: string;
}

let store: DuckDbStore;
let engine: QueryEngine;
/** Every query the API started (settles when it has its first rows or failed), and its stream. */
const started: Promise<QueryStream>[] = [];
const streams: QueryStream[] = [];
let api: Api;
let small: Api;

async function startApi(limits: { queryTimeoutMs: number; maxRows: number }): Promise<Api> {
  const logger = createLogger(process.env.SLUICE_TEST_LOG ?? 'silent');
  const app = await buildApi({
    query: {
      async stream(sql: string, l: QueryLimits) {
        const pending = engine.stream(sql, l);
        started.push(pending);
        const s = await pending;
        streams.push(s);
        return s;
      },
    },
    status: { sources: async () => [], tables: async () => [] },
    changes: { changes: async () => ({ records: [] }) },
    models: { list: async () => ({ models: [] }), reload: async () => ({}) },
    logger,
    ...limits,
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const addr = app.server.address() as { port: number };
  return { app, base: `http://127.0.0.1:${addr.port}` };
}

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  trailers: Record<string, string | undefined>;
  /** False when the server cut the transfer short. */
  complete: boolean;
}

/** POST /v1/query over node:http, which (unlike fetch) shows trailers and incomplete transfers. */
function query(a: Api, body: object, accept?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (accept !== undefined) headers.accept = accept;
    const req = httpRequest(`${a.base}/v1/query`, { method: 'POST', headers }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('error', () => undefined);
      res.on('close', () =>
        resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(parts), trailers: res.trailers, complete: res.complete }),
      );
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

const json = (a: Answer): any => JSON.parse(a.body.toString('utf8'));

/** RFC 4180 reader for the tests: fields keep quoted-ness so NULL ('') and "" stay apart. */
function parseCsv(text: string): { value: string; quoted: boolean }[][] {
  const rows: { value: string; quoted: boolean }[][] = [];
  let row: { value: string; quoted: boolean }[] = [];
  let i = 0;
  while (i < text.length) {
    let value = '';
    let quoted = false;
    if (text[i] === '"') {
      quoted = true;
      i++;
      for (;;) {
        if (text[i] === '"' && text[i + 1] === '"') {
          value += '"';
          i += 2;
        } else if (text[i] === '"') {
          i++;
          break;
        } else value += text[i++];
      }
    } else {
      while (i < text.length && text[i] !== ',' && text[i] !== '\n') value += text[i++];
    }
    row.push({ value, quoted });
    if (text[i] === ',') i++;
    else {
      rows.push(row);
      row = [];
      i++;
    }
  }
  return rows;
}

const TYPES_TABLE = `CREATE TABLE types AS
  SELECT * FROM (VALUES
    (1, true, 1::TINYINT, 2::SMALLINT, 3, 4::BIGINT, 5::HUGEINT, 6::UTINYINT, 7::USMALLINT, 8::UINTEGER, 9::UBIGINT, 10::UHUGEINT,
     1.5::FLOAT, 0.25::DOUBLE, 123.4::DECIMAL(4,1), -1234.567::DECIMAL(9,3), 12345678901234.5678::DECIMAL(18,4),
     -1234567890123456789012345678.0123456789::DECIMAL(38,10), 'plain', '\\xAA\\x00ab'::BLOB, DATE '2024-02-29',
     TIMESTAMP '2024-01-02 03:04:05.678901', TIMESTAMPTZ '2024-01-02 03:04:05.5+02', TIME '12:34:56.789',
     INTERVAL '1 year 2 months 3 days 04:05:06.7', '6ba7b810-9dad-11d1-80b4-00c04fd430c8'::UUID, [1, 2, NULL],
     {'a': 1, 'b': 'x'}, MAP {'k': 1}, 'x'::ENUM('x', 'yy'), '{"a":1}'::JSON),
    (2, false, (-128)::TINYINT, (-32768)::SMALLINT, -2147483648, (-9223372036854775808)::BIGINT,
     (-170141183460469231731687303715884105728)::HUGEINT, 255::UTINYINT, 65535::USMALLINT, 4294967295::UINTEGER,
     18446744073709551615::UBIGINT, 340282366920938463463374607431768211455::UHUGEINT, -0.1::FLOAT, -1e300::DOUBLE,
     -0.5::DECIMAL(4,1), 0.001::DECIMAL(9,3), -0.0001::DECIMAL(18,4), 99999999999999999999999999.9999999999::DECIMAL(38,10),
     'a "quoted", multi-line' || chr(10) || 'string, ünïcödé and long enough to leave the inline slot', ''::BLOB,
     DATE '0044-03-15 (BC)', TIMESTAMP '1900-01-01 00:00:00', TIMESTAMPTZ '2262-04-11 23:47:16.854775+00', TIME '00:00:00',
     INTERVAL '-5 days 00:00:00.000001', '00000000-0000-0000-0000-000000000000'::UUID, [], {'a': NULL, 'b': 'y,z'}, MAP {},
     'yy'::ENUM('x', 'yy'), '[]'::JSON),
    (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, '', NULL, NULL,
     NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    (4, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
     NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)
  ) v(id, b, ti, si, i, bi, hi, uti, usi, ui, ubi, uhi, f, d, d1, d2, d3, d4, v, bl, dt, ts, tstz, tm, iv, u, l, s, m, e, j)`;

const TYPES_QUERY = 'SELECT * FROM types ORDER BY id';

beforeAll(async () => {
  const dir = tempDir('formats');
  store = await DuckDbStore.open({ path: join(dir, 'store.duckdb'), logger: createLogger('silent') });
  engine = new QueryEngine(() => store.connect());
  const conn = await store.connect();
  await conn.run(TYPES_TABLE);
  conn.closeSync();
  api = await startApi({ queryTimeoutMs: 20_000, maxRows: 10_000_000 });
  small = await startApi({ queryTimeoutMs: 1_000, maxRows: 1_000 });
});

afterAll(async () => {
  await api?.app.close();
  await small?.app.close();
  engine?.close();
  await store?.close();
});

describe('content negotiation', () => {
  it.each([
    [undefined, 'application/json'],
    ['*/*', 'application/json'],
    ['application/json', 'application/json'],
    ['text/csv', 'text/csv'],
    [ARROW, ARROW],
    ['text/html, application/xhtml+xml, */*;q=0.8', 'application/json'],
    ['application/json;q=0.5, text/csv', 'text/csv'],
    [`text/csv;q=0.9, ${ARROW}`, ARROW],
    ['text/*', 'text/csv'],
  ])('Accept %s answers %s', async (accept, type) => {
    const r = await query(api, { sql: 'SELECT 1 AS x' }, accept);
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toContain(type);
  });

  it.each(['text/html', 'application/xml', 'application/json;q=0', 'image/png, text/plain'])('answers Accept %s with 406', async (accept) => {
    const r = await query(api, { sql: 'SELECT 1 AS x' }, accept);
    expect(r.status).toBe(406);
    expect(r.headers['content-type']).toContain('application/json');
    const body = json(r);
    expect(body.error.code).toBe('SLUICE_NOT_ACCEPTABLE');
    for (const t of ['application/json', 'text/csv', ARROW]) expect(body.error.message).toContain(t);
  });

  it('answers errors before the first row as JSON with their status, whatever the Accept', async () => {
    for (const accept of ['text/csv', ARROW]) {
      const r = await query(api, { sql: 'SELEC 1' }, accept);
      expect(r.status).toBe(400);
      expect(json(r).error.code).toBe('SLUICE_QUERY_INVALID');
    }
  });
});

describe('JSON', () => {
  it('has the same values as the engine gives (the format\'s original definition), NULLs included', async () => {
    const r = await query(api, { sql: TYPES_QUERY });
    expect(r.status).toBe(200);
    const body = json(r);
    const direct = await engine.query(TYPES_QUERY, { timeoutMs: 10_000, maxRows: 100 });
    expect(body.columns).toEqual(direct.columns);
    expect(body.rowCount).toBe(4);
    expect(body.truncated).toBeUndefined();
    const expected = Array.from({ length: 4 }, (_, row) => direct.values.map((col) => col[row]));
    expect(body.rows).toEqual(expected);
    // Spot checks of the conventions, so a change in the engine's converter cannot hide here.
    const [first, second, , nulls] = body.rows;
    const col = (name: string): number => body.columns.findIndex((c: { name: string }) => c.name === name);
    expect(first[col('bi')]).toBe(4);
    expect(second[col('bi')]).toBe('-9223372036854775808');
    expect(second[col('ubi')]).toBe('18446744073709551615');
    expect(first[col('d4')]).toBe('-1234567890123456789012345678.0123456789');
    expect(second[col('d1')]).toBe('-0.5');
    expect(first[col('ts')]).toBe('2024-01-02 03:04:05.678901');
    expect(first[col('tstz')]).toBe('2024-01-02 01:04:05.5+00');
    expect(second[col('dt')]).toBe('0044-03-15 (BC)');
    expect(first[col('l')]).toEqual([1, 2, null]);
    expect(first[col('iv')]).toEqual({ months: 14, days: 3, micros: '14706700000' });
    expect(nulls.slice(1).every((v: unknown) => v === null)).toBe(true);
  });

  it('keeps the engine\'s conventions for special values', async () => {
    const sql = `SELECT 'NaN'::DOUBLE AS nan, '-inf'::FLOAT AS ninf, 'inf'::DOUBLE AS inf, 0.1::FLOAT AS f,
      chr(1) || chr(9) || '"\\' || chr(8232) AS ctl, [{'k': 'q"'}] AS nested, 12::HUGEINT AS small_huge,
      (2::UBIGINT ** 60)::UBIGINT AS big_u, 9007199254740993::BIGINT AS unsafe, -9007199254740991::BIGINT AS safe,
      0.5::DECIMAL(38,1) AS wide, -0.0::DOUBLE AS negzero, [1.5::DECIMAL(4,2)] AS dec_list`;
    const body = json(await query(api, { sql }));
    const direct = await engine.query(sql, { timeoutMs: 10_000, maxRows: 10 });
    // Through JSON text, as the engine's values reached clients before (-0 prints as 0).
    expect(body.rows).toEqual(JSON.parse(JSON.stringify([direct.values.map((c) => c[0])])));
    expect(body.rows[0].slice(0, 4)).toEqual(['NaN', '-Infinity', 'Infinity', 0.10000000149011612]);
    expect(body.rows[0].slice(6, 10)).toEqual([12, '1152921504606846976', '9007199254740993', -9007199254740991]);
  });

  it('streams a result larger than one chunk as one valid document', async () => {
    const r = await query(api, { sql: 'SELECT i, i::VARCHAR AS s FROM range(10000) t(i)' });
    const body = json(r);
    expect(body.rowCount).toBe(10000);
    expect(body.rows).toHaveLength(10000);
    expect(body.rows[9999]).toEqual([9999, '9999']);
    expect(r.headers['transfer-encoding']).toBe('chunked');
  });

  it('answers an empty result', async () => {
    const body = json(await query(api, { sql: 'SELECT 1 AS x WHERE false' }));
    expect(body).toEqual({ columns: [{ name: 'x', type: 'INTEGER' }], rows: [], rowCount: 0 });
  });
});

describe('CSV', () => {
  it('writes a header and each type as DuckDB\'s text, NULL as an empty field and "" for the empty string', async () => {
    const r = await query(api, { sql: TYPES_QUERY }, 'text/csv');
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('text/csv; charset=utf-8; header=present');
    const text = r.body.toString('utf8');
    expect(text.endsWith('\n')).toBe(true);
    const rows = parseCsv(text);
    expect(rows).toHaveLength(5);
    const names = rows[0].map((f) => f.value);
    // Scalars must read exactly as DuckDB casts them to text.
    const scalars = names.filter((n) => !['f', 'd', 'l', 's', 'm'].includes(n));
    const cast = await engine.query(`SELECT ${scalars.map((n) => `${n}::VARCHAR`).join(', ')} FROM types ORDER BY id`, { timeoutMs: 10_000, maxRows: 100 });
    scalars.forEach((name, k) => {
      const c = names.indexOf(name);
      for (let row = 0; row < 4; row++) {
        const expected = cast.values[k][row];
        const got = rows[row + 1][c];
        if (expected === null) expect(got, `${name} row ${row}`).toEqual({ value: '', quoted: false });
        else expect(got.value, `${name} row ${row}`).toBe(expected);
      }
    });
    const at = (row: number, name: string) => rows[row][names.indexOf(name)];
    expect(at(1, 'f').value).toBe('1.5');
    expect(at(2, 'f').value).toBe('-0.1');
    expect(at(2, 'd').value).toBe('-1e+300');
    expect(at(1, 'l').value).toBe('[1, 2, NULL]');
    expect(at(2, 's')).toEqual({ value: "{'a': NULL, 'b': 'y,z'}", quoted: true });
    expect(at(3, 'v')).toEqual({ value: '', quoted: true });
    expect(at(4, 'v')).toEqual({ value: '', quoted: false });
    expect(at(2, 'v')).toEqual({ value: 'a "quoted", multi-line\nstring, ünïcödé and long enough to leave the inline slot', quoted: true });
  });

  it('quotes commas, quotes and line breaks (RFC 4180), in names too', async () => {
    const r = await query(api, { sql: `SELECT 'a,b' AS "x,y", 'say "hi"' AS "q""", 'l1' || chr(13) || chr(10) || 'l2' AS plain, 'no' AS n` }, 'text/csv');
    expect(r.body.toString('utf8')).toBe('"x,y","q""",plain,n\n"a,b","say ""hi""","l1\r\nl2",no\n');
  });

  it('writes only the header for an empty result', async () => {
    const r = await query(api, { sql: 'SELECT 1 AS x, 2 AS y WHERE false' }, 'text/csv');
    expect(r.body.toString()).toBe('x,y\n');
    expect(r.trailers['sluice-truncated']).toBe('false');
    expect(r.trailers['sluice-row-count']).toBe('0');
  });
});

describe('text of scalar values', () => {
  // Each value next to DuckDB's own cast to VARCHAR: 20,000 pseudo-random dates (±5.4M years,
  // BC included), timestamps (±290k years and around now), times, decimals of every storage
  // width and 64/128-bit integers, which the formats print without DuckDB's help.
  const sql = `SELECT dt, dt::VARCHAR, ts, ts::VARCHAR, tz, tz::VARCHAR, tm, tm::VARCHAR, d1, d1::VARCHAR, d2, d2::VARCHAR,
      d3, d3::VARCHAR, d4, d4::VARCHAR, hi, hi::VARCHAR, bi, bi::VARCHAR
    FROM (SELECT
      DATE '1970-01-01' + ((hash(i) % 4000000000)::BIGINT - 2000000000)::INTEGER AS dt,
      make_timestamp(CASE i % 3 WHEN 0 THEN (hash(i + 1) % 18000000000000000000)::HUGEINT - 9000000000000000000
                                WHEN 1 THEN (hash(i + 1) % 8000000000000000)::BIGINT - 4000000000000000
                                ELSE 1700000000000000 + (i * 1234567) % 86400000000 END::BIGINT) AS ts,
      make_timestamp((hash(i + 2) % 8000000000000000)::BIGINT - 4000000000000000)::TIMESTAMPTZ AS tz,
      TIME '00:00:00' + to_microseconds((hash(i + 3) % 86400000000)::BIGINT) AS tm,
      (((hash(i + 4) % 19999)::INTEGER - 9999) / 10)::DECIMAL(4,1) AS d1,
      (((hash(i + 5) % 1999999999)::BIGINT - 999999999) / 1000)::DECIMAL(9,3) AS d2,
      ((hash(i + 6) % 1000000000000000000)::BIGINT - 500000000000000000)::DECIMAL(18,0) * 0.000001::DECIMAL(7,6) AS d3,
      (((hash(i + 7)::HUGEINT * 1000003) - 9000000000000000000000000::HUGEINT)::DECIMAL(38,0)
        * 0.0000000001::DECIMAL(11,10))::DECIMAL(38,10) AS d4,
      ((hash(i + 8)::HUGEINT << 62) + hash(i + 9)::HUGEINT - 85070591730234615865843651857942052864::HUGEINT) AS hi,
      (hash(i + 10)::HUGEINT - 9223372036854775808)::BIGINT AS bi
    FROM range(20000) t(i))`;

  it('CSV prints them exactly as DuckDB does', async () => {
    const r = await query(api, { sql }, 'text/csv');
    const lines = r.body.toString('utf8').trimEnd().split('\n').slice(1);
    expect(lines).toHaveLength(20000);
    const wrong = lines.filter((line) => {
      const f = line.split(',');
      return f.some((v, k) => k % 2 === 0 && v !== f[k + 1]);
    });
    expect(wrong.slice(0, 5)).toEqual([]);
  });

  it('JSON gives the same text (integers as numbers when exact)', async () => {
    const body = json(await query(api, { sql }));
    const wrong = body.rows.filter((row: unknown[]) => row.some((v, k) => k % 2 === 0 && String(v) !== row[k + 1]));
    expect(wrong.slice(0, 5)).toEqual([]);
    expect(body.rows.some((row: unknown[]) => typeof row[18] === 'number')).toBe(true);
  });
});

/** Arrow's 128/256-bit decimal words (little-endian uint32s) as a bigint. */
function decimalBig(words: Uint32Array, signedBits: number): bigint {
  let v = 0n;
  for (let i = words.length - 1; i >= 0; i--) v = (v << 32n) | BigInt(words[i]);
  return BigInt.asIntN(signedBits, v);
}

describe('Arrow IPC', () => {
  let table: Table;
  beforeAll(async () => {
    const r = await query(api, { sql: TYPES_QUERY }, ARROW);
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe(ARROW);
    expect(r.complete).toBe(true);
    table = tableFromIPC(r.body);
  });

  it('maps each DuckDB type to its Arrow type', () => {
    const types = Object.fromEntries(table.schema.fields.map((f) => [f.name, String(f.type)]));
    expect(types).toEqual({
      id: 'Int32', b: 'Bool', ti: 'Int8', si: 'Int16', i: 'Int32', bi: 'Int64', hi: 'Decimal[38e0]', uti: 'Uint8', usi: 'Uint16',
      ui: 'Uint32', ubi: 'Uint64', uhi: 'Decimal[39e0]', f: 'Float32', d: 'Float64', d1: 'Decimal[4e+1]', d2: 'Decimal[9e+3]',
      d3: 'Decimal[18e+4]', d4: 'Decimal[38e+10]', v: 'Utf8', bl: 'Binary', dt: 'Date32<DAY>', ts: 'Timestamp<MICROSECOND>',
      tstz: 'Timestamp<MICROSECOND, UTC>', tm: 'Time64<MICROSECOND>', iv: 'Interval<MONTH_DAY_NANO>', u: 'Utf8', l: 'Utf8',
      s: 'Utf8', m: 'Utf8', e: 'Utf8', j: 'Utf8',
    });
    expect(table.schema.fields.find((f) => f.name === 'l')!.metadata.get('duckdb.type')).toBe('INTEGER[]');
    expect(table.numRows).toBe(4);
  });

  it('round-trips every value, NULLs included', async () => {
    const get = (name: string) => table.getChild(name)!;
    const values = (name: string) => [0, 1, 2, 3].map((r) => get(name).get(r));
    expect(values('id')).toEqual([1, 2, 3, 4]);
    expect(values('b')).toEqual([true, false, null, null]);
    expect(values('ti')).toEqual([1, -128, null, null]);
    expect(values('si')).toEqual([2, -32768, null, null]);
    expect(values('i')).toEqual([3, -2147483648, null, null]);
    expect(values('bi')).toEqual([4n, -9223372036854775808n, null, null]);
    expect(values('uti')).toEqual([6, 255, null, null]);
    expect(values('usi')).toEqual([7, 65535, null, null]);
    expect(values('ui')).toEqual([8, 4294967295, null, null]);
    expect(values('ubi')).toEqual([9n, 18446744073709551615n, null, null]);
    expect(values('f')).toEqual([1.5, Math.fround(-0.1), null, null]);
    expect(values('d')).toEqual([0.25, -1e300, null, null]);
    const decimals = (name: string, bits: number) => values(name).map((v) => (v === null ? null : decimalBig(v as Uint32Array, bits)));
    expect(decimals('hi', 128)).toEqual([5n, -170141183460469231731687303715884105728n, null, null]);
    expect(decimals('uhi', 256)).toEqual([10n, 340282366920938463463374607431768211455n, null, null]);
    expect(decimals('d1', 128)).toEqual([1234n, -5n, null, null]);
    expect(decimals('d2', 128)).toEqual([-1234567n, 1n, null, null]);
    expect(decimals('d3', 128)).toEqual([123456789012345678n, -1n, null, null]);
    expect(decimals('d4', 128)).toEqual([-12345678901234567890123456780123456789n, 999999999999999999999999999999999999n, null, null]);
    expect(values('v')).toEqual(['plain', 'a "quoted", multi-line\nstring, ünïcödé and long enough to leave the inline slot', '', null]);
    expect(values('bl').map((b) => (b === null ? null : Buffer.from(b as Uint8Array).toString('hex')))).toEqual(['aa006162', '', null, null]);
    // Temporal values: compare the raw stored integers, which the JS getters round to milliseconds.
    const raw = (name: string) => [0, 1, 2, 3].map((r) => (get(name).isValid(r) ? get(name).data[0].values[r] : null));
    const epoch = await engine.query(
      `SELECT (dt - DATE '1970-01-01')::INTEGER, epoch_us(ts), epoch_us(tstz), epoch_us(tm) FROM types ORDER BY id`,
      { timeoutMs: 10_000, maxRows: 100 },
    );
    const big = (v: unknown) => (v === null ? null : BigInt(v as number | string));
    expect(raw('dt')).toEqual(epoch.values[0]);
    expect(raw('ts')).toEqual(epoch.values[1].map(big));
    expect(raw('tstz')).toEqual(epoch.values[2].map(big));
    expect(raw('tm')).toEqual(epoch.values[3].map(big));
    const iv = values('iv');
    expect(Array.from(iv[0] as Int32Array)).toEqual([14, 3, ...int64Words(14706700000n * 1000n)]);
    expect(Array.from(iv[1] as Int32Array)).toEqual([0, -5, ...int64Words(1000n)]);
    expect(iv.slice(2)).toEqual([null, null]);
    expect(values('u')).toEqual(['6ba7b810-9dad-11d1-80b4-00c04fd430c8', '00000000-0000-0000-0000-000000000000', null, null]);
    expect(values('l')).toEqual(['[1, 2, NULL]', '[]', null, null]);
    expect(values('s')).toEqual(["{'a': 1, 'b': 'x'}", "{'a': NULL, 'b': 'y,z'}", null, null]);
    expect(values('e')).toEqual(['x', 'yy', null, null]);
    expect(values('j')).toEqual(['{"a":1}', '[]', null, null]);
  });

  it('sends the schema and an end-of-stream marker for an empty result', async () => {
    const r = await query(api, { sql: 'SELECT 1::INTEGER AS x, \'a\' AS y WHERE false' }, ARROW);
    const t = tableFromIPC(r.body);
    expect(t.numRows).toBe(0);
    expect(t.schema.fields.map((f) => `${f.name}:${f.type}`)).toEqual(['x:Int32', 'y:Utf8']);
  });
});

function int64Words(v: bigint): number[] {
  const b = new BigInt64Array([v]);
  return Array.from(new Int32Array(b.buffer));
}

describe('streaming', () => {
  const N = 3_000_000;

  it('streams a large CSV result completely and in order', async () => {
    const r = await query(api, { sql: `SELECT i, i * 2 AS j, 'row ' || i AS s FROM range(${N}) t(i)` }, 'text/csv');
    expect(r.status).toBe(200);
    expect(r.complete).toBe(true);
    expect(r.trailers).toEqual({ 'sluice-truncated': 'false', 'sluice-row-count': String(N) });
    const text = r.body.toString('latin1');
    let at = text.indexOf('\n') + 1;
    expect(text.slice(0, at)).toBe('i,j,s\n');
    for (let i = 0; i < N; i++) {
      const end = text.indexOf('\n', at);
      const line = text.slice(at, end);
      if (line !== `${i},${i * 2},row ${i}`) expect(line, `line ${i}`).toBe(`${i},${i * 2},row ${i}`);
      at = end + 1;
    }
    expect(at).toBe(text.length);
  });

  it('streams a large Arrow result completely, one record batch per chunk', async () => {
    const done = new Promise<{ rows: number; batches: number; ok: boolean; trailers: NodeJS.Dict<string> }>((resolve, reject) => {
      const req = httpRequest(`${api.base}/v1/query`, { method: 'POST', headers: { 'content-type': 'application/json', accept: ARROW } }, async (res) => {
        try {
          const reader = await RecordBatchReader.from(res);
          let rows = 0;
          let batches = 0;
          let ok = true;
          for await (const batch of reader) {
            const ids = batch.getChild('i')!.data[0].values as BigInt64Array;
            const half = batch.getChild('h')!.data[0].values as Float64Array;
            for (let k = 0; k < batch.numRows; k++) {
              if (ids[k] !== BigInt(rows + k) || half[k] !== (rows + k) / 2) ok = false;
            }
            rows += batch.numRows;
            batches++;
          }
          res.on('end', () => resolve({ rows, batches, ok, trailers: res.trailers }));
          res.resume();
        } catch (e) {
          reject(e);
        }
      });
      req.end(JSON.stringify({ sql: `SELECT i, i / 2 AS h FROM range(${N}) t(i)` }));
    });
    const { rows, batches, ok, trailers } = await done;
    expect(rows).toBe(N);
    expect(ok).toBe(true);
    expect(batches).toBeGreaterThanOrEqual(Math.ceil(N / 2048));
    expect(trailers['sluice-truncated']).toBe('false');
  });

  it('computes no further ahead than the client reads (backpressure)', async () => {
    const before = streams.length;
    const req = httpRequest(`${api.base}/v1/query`, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'text/csv' } });
    const res = await new Promise<import('node:http').IncomingMessage>((resolve) => {
      req.on('response', resolve);
      req.end(JSON.stringify({ sql: `SELECT i, 'padding padding padding ' || i AS s FROM range(${N}) t(i)` }));
    });
    res.pause();
    const stream = streams[before];
    // Socket buffers take some chunks, then the server stops asking DuckDB for more.
    let rowsAfterPause = -1;
    await waitUntil(() => {
      const settled = stream.rowCount === rowsAfterPause;
      rowsAfterPause = stream.rowCount;
      return settled;
    }, 10_000, 250);
    await new Promise((r) => setTimeout(r, 500));
    expect(stream.rowCount).toBe(rowsAfterPause);
    expect(rowsAfterPause).toBeLessThan(N / 4);
    res.destroy();
    await stream.ended;
  });

  it('cancels the query when the client goes away mid-stream, and the engine keeps answering', async () => {
    for (const accept of ['text/csv', ARROW, 'application/json']) {
      const before = streams.length;
      await new Promise<void>((resolve, reject) => {
        const req = httpRequest(`${api.base}/v1/query`, { method: 'POST', headers: { 'content-type': 'application/json', accept } }, (res) => {
          let seen = 0;
          res.on('data', (d: Buffer) => {
            seen += d.length;
            if (seen > 200_000) {
              req.destroy();
              resolve();
            }
          });
          res.on('end', () => reject(new Error('the whole result arrived')));
        });
        req.on('error', () => undefined);
        // Results are computed whole before the first byte: big enough to take a while to send,
        // small enough to compute in a fraction of a second.
        req.end(JSON.stringify({ sql: `SELECT i, i::VARCHAR AS s FROM range(3000000) t(i)` }));
      });
      const stream = streams[before];
      await stream.ended;
      expect(stream.rowCount).toBeLessThan(3_000_000);
    }
    const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => query(api, { sql: `SELECT ${i} AS n` })));
    expect(answers.map((a) => json(a).rows[0][0])).toEqual(Array.from({ length: 12 }, (_, i) => i));
  });

  it('cancels a query still computing its first chunk when the client goes away', async () => {
    const before = started.length;
    const req = httpRequest(`${api.base}/v1/query`, { method: 'POST', headers: { 'content-type': 'application/json' } });
    req.on('error', () => undefined);
    req.end(JSON.stringify({ sql: 'SELECT sum(a.range * b.range) FROM range(200000) a, range(200000) b' }));
    await waitUntil(() => started.length > before);
    await new Promise((r) => setTimeout(r, 200));
    const t0 = Date.now();
    req.destroy();
    await expect(started[before]).rejects.toMatchObject({ code: 'SLUICE_QUERY_CANCELLED' });
    expect(Date.now() - t0).toBeLessThan(5_000);
    expect(json(await query(api, { sql: 'SELECT 42 AS x' })).rows).toEqual([[42]]);
  });
});

async function waitUntil(check: () => boolean, timeoutMs = 10_000, everyMs = 10): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

describe('limits', () => {
  it('truncates at maxRows: a JSON field, and trailers for CSV and Arrow', async () => {
    const sql = 'SELECT i FROM range(5000) t(i)';
    const j = json(await query(api, { sql, maxRows: 2500 }));
    expect(j.rowCount).toBe(2500);
    expect(j.truncated).toBe(true);
    expect(j.rows[2499]).toEqual([2499]);

    const csv = await query(api, { sql, maxRows: 2500 }, 'text/csv');
    expect(csv.headers.trailer).toMatch(/sluice-truncated/i);
    expect(csv.trailers).toEqual({ 'sluice-truncated': 'true', 'sluice-row-count': '2500' });
    expect(csv.body.toString().trimEnd().split('\n')).toHaveLength(2501);

    const arrow = await query(api, { sql, maxRows: 2500 }, ARROW);
    expect(arrow.trailers['sluice-truncated']).toBe('true');
    expect(tableFromIPC(arrow.body).numRows).toBe(2500);

    const whole = await query(api, { sql }, 'text/csv');
    expect(whole.trailers['sluice-truncated']).toBe('false');
  });

  it('lets a request lower the limits but never raise them', async () => {
    const j = json(await query(small, { sql: 'SELECT i FROM range(5000) t(i)', maxRows: 4000 }));
    expect(j.rowCount).toBe(1000);
    expect(j.truncated).toBe(true);
    const zero = json(await query(small, { sql: 'SELECT i FROM range(5) t(i)', maxRows: 0 }));
    expect(zero).toEqual({ columns: [{ name: 'i', type: 'BIGINT' }], rows: [], rowCount: 0, truncated: true });
    const slow = await query(small, { sql: 'SELECT sum(a.range * b.range) FROM range(200000) a, range(200000) b', timeoutMs: 60_000 });
    expect(slow.status).toBe(408);
    for (const bad of [{ maxRows: -1 }, { maxRows: 1.5 }, { timeoutMs: 0 }, { maxRows: '10' }]) {
      const r = await query(api, { sql: 'SELECT 1', ...bad });
      expect(r.status, JSON.stringify(bad)).toBe(400);
      expect(json(r).error.code).toBe('SLUICE_REQUEST_INVALID');
    }
  });

  it('answers a query past its timeout with 408 SLUICE_QUERY_TIMEOUT', async () => {
    for (const accept of ['application/json', 'text/csv', ARROW]) {
      const started = Date.now();
      const r = await query(api, { sql: 'SELECT sum(a.range * b.range) FROM range(200000) a, range(200000) b', timeoutMs: 300 }, accept);
      expect(r.status).toBe(408);
      expect(json(r).error.code).toBe('SLUICE_QUERY_TIMEOUT');
      expect(Date.now() - started).toBeLessThan(5_000);
    }
  });
});

describe('errors after the response started', () => {
  /**
   * A query that times out while the client is not reading: the status line and the first rows
   * went out long before, so the failure can only show in the body.
   */
  async function pausedPastTimeout(accept: string): Promise<Answer> {
    return new Promise((resolve, reject) => {
      const req = httpRequest(`${api.base}/v1/query`, { method: 'POST', headers: { 'content-type': 'application/json', accept } }, (res) => {
        const parts: Buffer[] = [];
        res.on('data', (d: Buffer) => parts.push(d));
        res.on('error', () => undefined);
        res.on('close', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(parts), trailers: res.trailers, complete: res.complete }));
        res.pause();
        setTimeout(() => res.resume(), 1_500);
      });
      req.on('error', reject);
      // Small enough for DuckDB to compute well inside the timeout; the paused reader overruns it.
      req.end(JSON.stringify({ sql: `SELECT i, 'padding padding padding ' || i AS s FROM range(1000000) t(i)`, timeoutMs: 1_000 }));
    });
  }

  it('JSON ends with an error member after the rows that made it', async () => {
    const r = await pausedPastTimeout('application/json');
    expect(r.status).toBe(200);
    expect(r.complete).toBe(true);
    const body = json(r);
    expect(body.error).toEqual({ code: 'SLUICE_QUERY_TIMEOUT', message: expect.stringContaining('timeout') });
    expect(body.rows.length).toBe(body.rowCount);
    expect(body.rowCount).toBeGreaterThan(0);
    expect(body.rowCount).toBeLessThan(1000000);
    expect(body.truncated).toBeUndefined();
  });

  it.each(['text/csv', ARROW])('%s is cut off: an incomplete transfer without trailers', async (accept) => {
    const r = await pausedPastTimeout(accept);
    expect(r.status).toBe(200);
    expect(r.complete).toBe(false);
    expect(r.body.length).toBeGreaterThan(0);
    expect(r.trailers['sluice-truncated']).toBeUndefined();
  });

  it('reports a failure DuckDB meets early in the result as an error status', async () => {
    const r = await query(api, { sql: `SELECT CASE WHEN i < 3000 THEN i::VARCHAR ELSE 'x' END::INT AS v FROM range(200000) t(i)` }, 'text/csv');
    expect(r.status).toBe(400);
    expect(json(r).error.code).toBe('SLUICE_QUERY_FAILED');
  });

  // A streaming DuckDB result that fails part-way ends like a complete one (the node bindings do
  // not expose the error), so results are computed in full before the first byte: this failure,
  // 100,000 rows in, must still be an error and not a short answer.
  it('reports a failure DuckDB meets after the first rows went out', async () => {
    const body = json(await query(api, { sql: `SELECT i, CASE WHEN i < 100000 THEN i::VARCHAR ELSE 'x' END::INT AS v FROM range(200000) t(i)` }));
    expect(body.error?.code).toBe('SLUICE_QUERY_FAILED');
  });
});

describe('OpenAPI', () => {
  /** fastify's route tree, flattened: [METHOD, /path/{param}] for every route but HEAD. */
  function registeredRoutes(app: FastifyInstance): string[] {
    const out: string[] = [];
    const stack: string[] = [];
    for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
      const m = /^([│├└─\s]*)(\S.*?) \(([A-Z, ]+)\)$/.exec(line);
      if (!m) continue;
      const depth = m[1].length / 4;
      stack.length = depth;
      stack.push(m[2]);
      const path = stack.join('').replace(/:(\w+)/g, '{$1}');
      for (const method of m[3].split(', ')) if (method !== 'HEAD') out.push(`${method} ${path}`);
    }
    return out;
  }

  it('documents every registered route, with summaries and the error body', async () => {
    const res = await fetch(`${api.base}/docs`);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as any;
    expect(doc.openapi).toMatch(/^3\./);
    const routes = registeredRoutes(api.app);
    expect(routes.length).toBeGreaterThanOrEqual(9);
    for (const route of routes) {
      const [method, path] = route.split(' ');
      const op = doc.paths[path]?.[method.toLowerCase()];
      expect(op, route).toBeDefined();
      expect(op.summary, route).toBeTruthy();
      expect(op.responses['500'].content['application/json'].schema.$ref, route).toBe('#/components/schemas/ErrorBody');
    }
    const q = doc.paths['/v1/query'].post;
    expect(Object.keys(q.responses['200'].content)).toEqual(['application/json', 'text/csv', ARROW]);
    expect(q.responses['406']).toBeDefined();
    expect(Object.keys(q.requestBody.content['application/json'].schema.properties)).toEqual(['sql', 'maxRows', 'timeoutMs']);
    expect(doc.components.schemas.ErrorBody.properties.error.properties.code.enum).toContain('SLUICE_NOT_ACCEPTABLE');
  });

  it('serves the same document as YAML', async () => {
    const res = await fetch(`${api.base}/docs.yaml`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('yaml');
    const { parse } = await import('yaml');
    const fromYaml = parse(await res.text());
    expect(fromYaml).toEqual(await (await fetch(`${api.base}/docs`)).json());
  });
});
