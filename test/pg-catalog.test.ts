import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codecFor } from '../api/pgwire/pg-codecs.js';
import type { ChangeRecord, ChangesHeader, ColumnSpec, SchemaPart } from '../core/change-record.js';
import { isSluiceError } from '../core/errors.js';
import { createLogger } from '../core/logger.js';
import { mapPostgresType } from '../connectors/postgres/type-map.js';
import { DuckDbStore } from '../olap/duckdb-store.js';
import {
  type PgSessionInfo,
  classifyStatement,
  duckDbTypeToPg,
  refreshPgCatalog,
  tokenize,
  translatePostgresQuery,
  translatePostgresSql,
} from '../olap/pg-catalog/index.js';
import { pgArrayLiteralToList } from '../olap/pg-catalog/pg-array-literal.js';
import { dropDatabase, freshDatabase } from './helpers/postgres.js';

const session = (over: Partial<PgSessionInfo> = {}): PgSessionInfo => ({
  user: 'postgres',
  database: 'sluice',
  setting: (name) => ({ search_path: '"$user", public', timezone: 'UTC', server_version_num: '150000' })[name.toLowerCase()],
  ...over,
});

describe('SQL tokenizer', () => {
  const kinds = (sql: string): string[] => tokenize(sql).filter((t) => t.kind !== 'space').map((t) => `${t.kind}:${t.value || t.text}`);

  it('gives the input back byte for byte', () => {
    const sql = `SELECT E'a\\'b', $q$x;y$q$, "We""ird", -- c;\n /* a /* nested */ b */ 1.5e3, $1::int[] FROM t;`;
    expect(tokenize(sql).map((t) => t.text).join('')).toBe(sql);
  });

  it('reads every form of string constant', () => {
    expect(kinds(`'it''s' E'a\\nb\\x41\\'' $$x'y$$ $tag$a$$b$tag$ B'101' X'ff' N'n' U&'u'`)).toEqual([
      "string:it's", 'string:a\nbA\'', "string:x'y", 'string:a$$b', 'string:101', 'string:ff', 'string:n', 'string:u',
    ]);
    // Without E, a backslash is an ordinary character (standard_conforming_strings).
    expect(kinds(`'a\\'`)).toEqual(['string:a\\']);
  });

  it('reads quoted identifiers, keywords folded to lower case, numbers, parameters and operators', () => {
    expect(kinds(`SELECT "Mixed ""Q""", Foo, 42, .5, 1e-3, $12, a::b, x <> y, c !~* d, e->>'f', -1`)).toEqual([
      'ident:select', 'quoted-ident:Mixed "Q"', 'punct:,', 'ident:foo', 'punct:,', 'number:42', 'punct:,', 'number:.5', 'punct:,',
      'number:1e-3', 'punct:,', 'param:12', 'punct:,', 'ident:a', 'punct:::', 'ident:b', 'punct:,', 'ident:x', 'operator:<>',
      'ident:y', 'punct:,', 'ident:c', 'operator:!~*', 'ident:d', 'punct:,', 'ident:e', 'operator:->>', "string:f", 'punct:,',
      'operator:-', 'number:1',
    ]);
  });

  it('splits operators as Postgres does', () => {
    expect(kinds('a+-1')).toEqual(['ident:a', 'operator:+', 'operator:-', 'number:1']);
    expect(kinds('a @- b')).toEqual(['ident:a', 'operator:@-', 'ident:b']);
    expect(kinds('a<>-- c\nb')).toEqual(['ident:a', 'operator:<>', 'comment:-- c', 'ident:b']);
    expect(kinds(`x::"char"[]`)).toEqual(['ident:x', 'punct:::', 'quoted-ident:char', 'punct:[', 'punct:]']);
  });

  it('keeps comments whole, nested block comments included', () => {
    const t = tokenize(`a /* x /* y */ z */ b -- tail ; 'q'\nc`);
    expect(t.filter((x) => x.kind === 'comment').map((x) => x.text)).toEqual(['/* x /* y */ z */', "-- tail ; 'q'"]);
    expect(t.filter((x) => x.kind === 'ident').map((x) => x.value)).toEqual(['a', 'b', 'c']);
  });

  it('refuses unterminated strings, identifiers and comments', () => {
    for (const bad of [`'abc`, `"abc`, `/* abc`, `$$abc`]) {
      expect(() => tokenize(bad)).toThrow(/unterminated/);
    }
  });
});

describe('statement classification', () => {
  it('tells the kind of the first statement and counts top-level statements', () => {
    expect(classifyStatement('select 1')).toMatchObject({ kind: 'SELECT', count: 1 });
    expect(classifyStatement('  -- hi\n WITH x AS (SELECT 1) SELECT * FROM x')).toMatchObject({ kind: 'WITH', count: 1 });
    expect(classifyStatement('(SELECT 1) UNION (SELECT 2)')).toMatchObject({ kind: 'SELECT' });
    expect(classifyStatement('SET application_name = \'a;b\'; SELECT 1;')).toMatchObject({ kind: 'SET', count: 2, statements: ["SET application_name = 'a;b'", 'SELECT 1'] });
    expect(classifyStatement('show timezone')).toMatchObject({ kind: 'SHOW', keyword: 'SHOW' });
    expect(classifyStatement('end')).toMatchObject({ kind: 'COMMIT', keyword: 'END' });
    expect(classifyStatement('abort')).toMatchObject({ kind: 'ROLLBACK' });
    expect(classifyStatement('START TRANSACTION READ ONLY')).toMatchObject({ kind: 'START' });
    expect(classifyStatement('DISCARD ALL')).toMatchObject({ kind: 'DISCARD' });
    expect(classifyStatement('DEALLOCATE pdo_stmt_1')).toMatchObject({ kind: 'DEALLOCATE' });
    expect(classifyStatement('INSERT INTO t VALUES (1)')).toMatchObject({ kind: 'OTHER', keyword: 'INSERT' });
    expect(classifyStatement('VALUES (1)')).toMatchObject({ kind: 'VALUES' });
    expect(classifyStatement('TABLE shop.orders')).toMatchObject({ kind: 'TABLE' });
    expect(classifyStatement('RESET ALL')).toMatchObject({ kind: 'RESET' });
    expect(classifyStatement('BEGIN')).toMatchObject({ kind: 'BEGIN' });
    for (const empty of ['', ';', '-- ping', ' ; ;']) expect(classifyStatement(empty)).toMatchObject({ kind: 'EMPTY', count: 0 });
    // Semicolons inside strings, dollar quotes, comments and parentheses do not split.
    expect(classifyStatement(`SELECT ';', $$;$$, /* ; */ (SELECT 1) -- ;\n; SELECT 2`).count).toBe(2);
  });
});

describe('SQL translation', () => {
  it('passes SQL that needs nothing through byte for byte', () => {
    for (const sql of [
      'SELECT status, count(*) AS n FROM shop.orders GROUP BY 1 ORDER BY 2 DESC',
      `select * from shop.orders where status = 'pg_catalog.pg_class' -- pg_class::regclass\n`,
      `SELECT "pg_class" FROM t /* OPERATOR(pg_catalog.~) */;`,
      'SELECT x::int AS x, y::text[] y, z FROM t WHERE a LIKE $1 AND b ~~* $2 AND w::numeric(10,2) > 0',
      `WITH r AS (SELECT * FROM shop.orders) SELECT date_trunc('day', created_at) AS day, sum(amount) AS "Total" FROM r GROUP BY ALL`,
      `SELECT {'a': 1} AS s, [x + 1 FOR x IN [1, 2]] AS l, COLUMNS('^a') FROM t`,
      'SELECT 1 = ANY (SELECT 1) AS b',
      '',
    ]) {
      expect(translatePostgresSql(sql, session())).toBe(sql);
    }
  });

  it('names result columns as Postgres does', () => {
    expect(translatePostgresSql('SELECT 1, count(*), x::text, CASE WHEN a THEN b END, t.c, Upper(d) AS Big, (SELECT max(v) FROM w) FROM t', session()))
      .toBe('SELECT 1 AS "?column?", count(*) AS "count", x::text AS "x", CASE WHEN a THEN b END AS "case", t.c, Upper(d) AS "big", (SELECT max(v) FROM w) AS "max" FROM t');
    expect(translatePostgresSql('SELECT 1', session(), { columnNames: 'duckdb' })).toBe('SELECT 1');
  });

  it('points catalog names at the emulation and keeps whitespace and comments', () => {
    const q = translatePostgresQuery(`SELECT c.relname -- the name\nFROM pg_catalog.pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace`, session());
    expect(q.readsCatalog).toBe(true);
    expect(q.sql).toBe(`SELECT c.relname -- the name\nFROM memory.pg_compat.pg_class c JOIN memory.pg_compat.pg_namespace n ON n.oid = c.relnamespace`);
    expect(translatePostgresSql('SELECT table_name FROM information_schema.tables', session())).toBe(
      'SELECT table_name FROM memory.pg_information_schema.tables',
    );
  });

  it('translates each statement of a simple-query string on its own', () => {
    const q = translatePostgresQuery(`SET x = 'a;b'; SELECT version() ; SELECT 1 AS one;`, session());
    expect(q.sql).toBe(`SET x = 'a;b'; SELECT memory.pg_compat.version() AS "version" ; SELECT 1 AS one;`);
    expect(q.readsCatalog).toBe(true);
    expect(translatePostgresQuery('SELECT 1 AS a; SELECT 2 AS b', session())).toEqual({ sql: 'SELECT 1 AS a; SELECT 2 AS b', readsCatalog: false });
  });

  it('answers session functions from the session', () => {
    const s = session({ user: 'grafana', database: 'sales', backendPid: 77 });
    expect(translatePostgresSql(`SELECT current_user, current_database(), current_setting('TimeZone'), pg_backend_pid()`, s)).toBe(
      `SELECT 'grafana' AS "current_user", 'sales' AS "current_database", 'UTC' AS "current_setting", 77 AS "pg_backend_pid"`,
    );
    expect(() => translatePostgresSql(`SELECT current_setting('no_such_thing')`, s)).toThrow(/unrecognized configuration parameter/);
    expect(translatePostgresSql(`SELECT current_setting('no_such_thing', true)`, s)).toContain('CAST(NULL AS VARCHAR)');
  });

  it('turns Postgres array literals into lists', () => {
    expect(pgArrayLiteralToList('{a,"b c",NULL,"x\\"y"}')).toBe(`['a', 'b c', NULL, 'x"y']`);
    expect(pgArrayLiteralToList('{{1,2},{3}}')).toBe(`[['1', '2'], ['3']]`);
    expect(pgArrayLiteralToList('{}')).toBe('[]');
    expect(pgArrayLiteralToList('not an array')).toBeNull();
  });

  it('maps DuckDB types to Postgres types as the wire layer presents them', () => {
    expect(duckDbTypeToPg('DECIMAL(12,2)')).toEqual({ oid: 1700, typmod: (12 << 16) + 2 + 4 });
    expect(duckDbTypeToPg('VARCHAR[]')).toEqual({ oid: 1009, typmod: -1 });
    expect(duckDbTypeToPg('INTEGER[][]').oid).toBe(1007);
    expect(duckDbTypeToPg('UBIGINT').oid).toBe(1700);
    expect(duckDbTypeToPg('UINTEGER').oid).toBe(20);
    expect(duckDbTypeToPg('USMALLINT').oid).toBe(23);
    expect(duckDbTypeToPg('UTINYINT').oid).toBe(21);
    expect(duckDbTypeToPg('TIMESTAMP WITH TIME ZONE').oid).toBe(1184);
    // Sent in DuckDB's literal form ({'a': 1}), which is not JSON: text.
    expect(duckDbTypeToPg('STRUCT(a INTEGER)').oid).toBe(25);
    expect(duckDbTypeToPg("ENUM('a', 'b')").oid).toBe(25);
    expect(duckDbTypeToPg('BLOB').oid).toBe(17);
  });
});

// ---------------------------------------------------------------------------------------------
// The real clients' catalog queries (test/fixtures/pg-clients), run on a real store and on a
// real Postgres holding the same schema, answers compared.

interface CorpusEntry {
  readonly id: string;
  readonly client: string;
  readonly sql: string;
  readonly params?: readonly (string | number | boolean | null)[];
  readonly protocol: 'simple' | 'extended';
}

const CORPUS_DIR = new URL('./fixtures/pg-clients/', import.meta.url).pathname;
const CORPUS: CorpusEntry[] = ['psql', 'sqlalchemy', 'metabase', 'grafana'].flatMap((f) =>
  existsSync(`${CORPUS_DIR}${f}.json`) ? (JSON.parse(readFileSync(`${CORPUS_DIR}${f}.json`, 'utf8')) as CorpusEntry[]) : [],
);
const QUERIES = new Set(['SELECT', 'WITH', 'VALUES', 'TABLE']);

/**
 * How an entry's answer may differ from Postgres'. Every entry must run and name its columns
 * as Postgres does; its rows must be equal too (oids and the database name normalised) except
 * where listed: columns left out of the comparison, or `rows: false` with the reason.
 */
const DIFFERENCES: Readonly<Record<string, { ignore?: readonly string[]; rows?: false; why: string }>> = {
  'psql-dt-pattern': { ignore: ['Owner'], why: 'everything is owned by the role sluice' },
  'psql-dn': { ignore: ['Owner'], why: 'everything is owned by the role sluice' },
  'psql-l': { rows: false, why: 'Sluice has one database, Postgres several' },
  'superset-catalog-names': { rows: false, why: 'Sluice has one database, Postgres several' },
  'psql-du': { rows: false, why: 'Sluice has one role' },
  'sa-connect-version': { rows: false, why: 'Sluice names itself in version()' },
  'sa-get-view-definition': { rows: false, why: 'DuckDB prints a view body its own way' },
  'metabase-get-tables': { ignore: ['estimated_row_count'], why: 'row estimates (Postgres updates its statistics when it likes)' },
  'superset-cancel-query-id': { rows: false, why: 'backend pids differ' },
  'metabase-table-privileges': { rows: false, why: 'Sluice is read-only: no insert, update or delete privileges' },
  'sa-load-domains': { rows: false, why: "information_schema's own domains (cardinal_number, ...) are not emulated: no Sluice column uses them" },
  'superset-sa14-load-domains': { rows: false, why: 'as sa-load-domains' },
  'pgjdbc-field-metadata': {
    rows: false,
    why: "asks about pg_namespace's own columns, which the emulation does not describe; sent only when RowDescription names a table oid, which Sluice leaves 0",
  },
};

describe('Postgres clients\' catalog queries', () => {
  const DB = 'sluice_t_pgcatalog';
  let dir: string;
  let store: DuckDbStore;
  let conn: DuckDBConnection;
  let pgc: pg.Client;
  let sluiceNames: Map<string, string>;
  let pgNames: Map<string, string>;

  beforeAll(async () => {
    // Sluice: a real store with a replica applied through the store's own path, a model, and a view.
    dir = mkdtempSync(join(tmpdir(), 'sluice-pgcat-'));
    mkdirSync(join(dir, 'models'));
    writeFileSync(join(dir, 'models', 'by_status.sql'), `{{ config(materialized='aggregate') }}
select status, count(*) as orders from {{ source('shop', 'orders') }} group by status`);
    store = await DuckDbStore.open({ path: join(dir, 'store.duckdb'), models: join(dir, 'models'), logger: createLogger('silent') });
    await store.apply('shop', [replica('orders', [['id', 'bigint', true], ['status', 'text'], ['amount', 'numeric(12,2)'], ['created_at', 'timestamp with time zone']],
      'c,1,new,10.50,2025-01-01 00:00:00+00\nc,2,paid,20.00,2025-01-02 00:00:00+00\n'),
    replica('customers', [['id', 'integer', true], ['name', 'text'], ['country', 'text']], 'c,1,Ann,DE\n')], 1);
    conn = await store.connect();
    await conn.run(`CREATE VIEW shop.order_totals AS SELECT status, sum(amount) AS total FROM shop.orders GROUP BY status`);
    await refreshPgCatalog(conn);

    // Postgres: the same schema. No public schema, as Sluice has none.
    const url = await freshDatabase(DB);
    pgc = new pg.Client({ connectionString: url, types: { getTypeParser: () => (v: string) => v } });
    await pgc.connect();
    await pgc.query(`DROP SCHEMA public; CREATE SCHEMA shop; CREATE SCHEMA models;
      CREATE TABLE shop.orders (id bigint PRIMARY KEY, status text, amount numeric(12,2), created_at timestamptz);
      CREATE TABLE shop.customers (id integer PRIMARY KEY, name text, country text);
      CREATE VIEW shop.order_totals AS SELECT status, sum(amount)::numeric(38,2) AS total FROM shop.orders GROUP BY status;
      CREATE TABLE models.by_status (status text, orders bigint);
      INSERT INTO shop.orders VALUES (1, 'new', 10.50, '2025-01-01 00:00:00+00'), (2, 'paid', 20.00, '2025-01-02 00:00:00+00');
      INSERT INTO shop.customers VALUES (1, 'Ann', 'DE');
      INSERT INTO models.by_status VALUES ('new', 1), ('paid', 1)`);

    // Oids differ between the two; results are compared with each oid replaced by what it names.
    const namesQuery = `SELECT c.oid::text, 'rel:' || n.nspname || '.' || c.relname FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname IN ('shop', 'models')
      UNION ALL SELECT oid::text, 'nsp:' || nspname FROM pg_catalog.pg_namespace UNION ALL SELECT oid::text, 'con:' || conname FROM pg_catalog.pg_constraint WHERE conname LIKE '%pkey'`;
    pgNames = new Map((await pgc.query({ text: namesQuery, rowMode: 'array' })).rows.map((r: string[]) => [r[0], r[1]]));
    pgNames.set(DB, 'sluice');
    const ours = await conn.runAndReadAll(translatePostgresSql(namesQuery, session()));
    sluiceNames = new Map(ours.getRows().map((r) => [String(r[0]), String(r[1])]));
  });

  afterAll(async () => {
    conn?.closeSync();
    await store?.close();
    await pgc?.end();
    await dropDatabase(DB);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  function replica(table: string, cols: [string, string, boolean?][], csv: string): ChangeRecord {
    const columns: ColumnSpec[] = cols.map(([name, sourceType, key]) => ({ name, sourceType, key: key ?? false, ...mapPostgresType(sourceType) }));
    const schema: SchemaPart = { kind: 'schema', table, connector: 'postgresql', sourceDb: 'shop', sourceSchema: 'public', sourceTable: table, columns, identity: 'key', bytes: 0 };
    const body = Buffer.from(csv);
    const header: ChangesHeader = {
      kind: 'changes', source: 'shop', snapshot: false, position: { lsn: '0/1', tsMs: Date.now() }, capturedMs: Date.now(),
      parts: [schema, { kind: 'rows', table, rows: csv.split('\n').length - 1, bytes: body.length }],
    };
    return { header, body };
  }

  async function onSluice(e: CorpusEntry, oid: string): Promise<{ columns: string[]; rows: (string | null)[][]; ms: number }> {
    const t = translatePostgresQuery(e.sql.replaceAll('{{oid:shop.orders}}', oid), session({ database: 'sluice' }));
    if (t.readsCatalog) await refreshPgCatalog(conn);
    const start = performance.now();
    const r = await conn.runAndReadAll(t.sql, e.params ? [...e.params] as never : undefined);
    const ms = performance.now() - start;
    const types = r.columnTypes();
    const rows = r.getRows().map((row) => row.map((v, i) => (v === null ? null : codecFor(types[i]).text(v))));
    return { columns: r.columnNames(), rows, ms };
  }

  async function onPostgres(e: CorpusEntry, oid: string): Promise<{ columns: string[]; rows: (string | null)[][] }> {
    const r = await pgc.query({ text: e.sql.replaceAll('{{oid:shop.orders}}', oid), values: e.params ? [...e.params] : undefined, rowMode: 'array' });
    return { columns: r.fields.map((f) => f.name), rows: r.rows as (string | null)[][] };
  }

  function comparable(result: { columns: string[]; rows: (string | null)[][] }, names: Map<string, string>, ignore: readonly string[]): string[] {
    const keep = result.columns.map((c) => !ignore.includes(c));
    return result.rows.map((row) => JSON.stringify(row.filter((_, i) => keep[i]).map((v) => (v !== null && names.has(v) ? names.get(v) : v)))).sort();
  }

  it('has the corpus', () => {
    expect(CORPUS.length).toBeGreaterThan(50);
  });

  it.each(CORPUS.map((e) => [e.id, e] as const))('%s answers as Postgres does', async (_id, e) => {
    const kind = classifyStatement(e.sql.replaceAll('{{oid:shop.orders}}', '1'));
    if (!QUERIES.has(kind.kind)) {
      // SET, SHOW, empty queries and transaction control are the wire layer's to answer.
      expect(['SET', 'SHOW', 'EMPTY', 'RESET', 'BEGIN', 'COMMIT', 'ROLLBACK', 'START', 'DISCARD', 'DEALLOCATE']).toContain(kind.kind);
      return;
    }
    const [ourOid] = [...sluiceNames].find(([, n]) => n === 'rel:shop.orders')!;
    const [pgOid] = [...pgNames].find(([, n]) => n === 'rel:shop.orders')!;
    const ours = await onSluice(e, ourOid);
    const theirs = await onPostgres(e, pgOid);
    expect(ours.columns).toEqual(theirs.columns);
    const diff = DIFFERENCES[e.id];
    if (diff?.rows !== false) {
      expect(comparable(ours, sluiceNames, diff?.ignore ?? [])).toEqual(comparable(theirs, pgNames, diff?.ignore ?? []));
    }
    expect(ours.ms).toBeLessThan(250);
  });

  /** More catalog SQL in the shapes clients use, with the search path set to shop on both sides. */
  const EXTRA = [
    `SELECT i.indkey[0], ix.indkey::varchar, array_upper(i.indkey, 1), array_lower(i.indkey, 1), generate_subscripts(i.indkey, 1)
       FROM pg_index i JOIN pg_index ix ON ix.indexrelid = i.indexrelid JOIN pg_class c ON c.oid = i.indrelid WHERE c.relname = 'orders'`,
    `SELECT 'shop.orders'::regclass = c.oid, c.oid::regclass, c.oid::regclass::text, 'orders'::regclass::text, CAST('shop.orders' AS regclass)::oid = c.oid
       FROM pg_catalog.pg_class c WHERE relname = 'orders'`,
    `SELECT a.attname, a.atttypid::regtype, format_type(a.atttypid, a.atttypmod), a.attnotnull FROM pg_attribute a
       WHERE a.attrelid = 'shop.orders'::regclass AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`,
    `SELECT n.nspname FROM pg_namespace n WHERE n.nspname ~ '^sh' OR n.nspname ~* 'MODEL' AND n.nspname !~ 'x' ORDER BY 1`,
    `SELECT relname FROM pg_class WHERE relname = ANY('{orders,customers}') ORDER BY 1`,
    `SELECT relname, relkind FROM pg_class WHERE relname <> ALL(ARRAY['orders']) AND relkind = ANY(ARRAY['r', 'v'])
       AND relnamespace IN (SELECT oid FROM pg_namespace WHERE nspname IN ('shop', 'models')) ORDER BY 1`,
    `SELECT quote_ident('Odd Name'), quote_ident('select'), quote_ident('plain'), format('%I.%L', 'a b', 'x''y'), format('%s-%s', 1, NULL)`,
    `SELECT format_type('numeric'::regtype, 786438), 'integer[]'::regtype, 'varchar'::regtype::oid, 'pg_catalog.int8'::regtype::oid::int`,
    `SELECT has_table_privilege('shop.orders', 'SELECT'), has_table_privilege('shop.orders', 'INSERT') AND false, has_schema_privilege('shop', 'USAGE')`,
    `SELECT pg_size_pretty(123456789::bigint), pg_size_pretty(1000::bigint), pg_size_pretty(20000::bigint)`,
    `SELECT to_regclass('shop.nope'), to_regclass('shop.orders') IS NOT NULL, to_regclass('orders') = 'shop.orders'::regclass`,
    `SELECT obj_description('shop.orders'::regclass, 'pg_class'), col_description('shop.orders'::regclass, 1)`,
    `SELECT table_name, column_name, ordinal_position, data_type, udt_name, is_nullable, numeric_precision, numeric_scale,
            character_octet_length, datetime_precision FROM information_schema.columns WHERE table_schema = 'shop' ORDER BY table_name, ordinal_position`,
    `SELECT tc.constraint_type, kcu.table_name, kcu.column_name, kcu.ordinal_position FROM information_schema.table_constraints tc
       JOIN information_schema.key_column_usage kcu USING (constraint_schema, constraint_name) WHERE tc.table_schema = 'shop' ORDER BY 2, 3`,
    `SELECT table_schema, table_name, table_type FROM information_schema.tables WHERE table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2`,
    `SELECT current_schemas(false), current_schema(), current_schema, pg_table_is_visible('shop.orders'::regclass), pg_table_is_visible('models.by_status'::regclass)`,
    `SELECT c.relname, pg_get_indexdef(i.indexrelid), pg_get_constraintdef(con.oid), con.conkey FROM pg_index i
       JOIN pg_class c ON c.oid = i.indrelid JOIN pg_constraint con ON con.conindid = i.indexrelid
       WHERE c.relnamespace = 'shop'::regnamespace ORDER BY 1`,
    `SELECT t.typname, t.typlen, t.typtype, t.typcategory, t.typelem, t.typarray, t.typinput = 'array_in'::regproc AS is_array, t.typdelim
       FROM pg_type t WHERE t.oid IN (16, 20, 23, 25, 1009, 1700, 1184, 2950, 3802, 114) ORDER BY t.oid`,
    `SELECT setting FROM pg_settings WHERE name IN ('max_index_keys', 'max_identifier_length', 'server_encoding') ORDER BY name`,
    `SELECT e.extname FROM pg_extension e WHERE e.extname = 'timescaledb'`,
  ];

  it.each(EXTRA.map((sql) => [sql.replace(/\s+/g, ' ').slice(0, 70), sql] as const))('%s ... answers as Postgres does', async (_name, sql) => {
    await pgc.query('SET search_path TO shop');
    try {
      const e: CorpusEntry = { id: 'extra', client: 'test', sql, protocol: 'simple' };
      const s = session({ searchPath: ['shop'] });
      const t = translatePostgresQuery(sql, s);
      if (t.readsCatalog) await refreshPgCatalog(conn);
      const r = await conn.runAndReadAll(t.sql);
      const types = r.columnTypes();
      const ours = { columns: r.columnNames(), rows: r.getRows().map((row) => row.map((v, i) => (v === null ? null : codecFor(types[i]).text(v)))) };
      const theirs = await onPostgres(e, '0');
      expect(ours.columns).toEqual(theirs.columns);
      expect(ours.rows.map((row) => row.map((v) => (v !== null && sluiceNames.has(v) ? sluiceNames.get(v) : v))))
        .toEqual(theirs.rows.map((row) => row.map((v) => (v !== null && pgNames.has(v) ? pgNames.get(v) : v))));
    } finally {
      await pgc.query('RESET search_path');
    }
  });

  it('follows schema changes once refreshed', async () => {
    await conn.run('CREATE TABLE shop.late (x INTEGER)');
    try {
      const sql = translatePostgresSql(`SELECT relname FROM pg_class WHERE relname = 'late'`, session());
      expect(await refreshPgCatalog(conn)).toBe(true);
      expect((await conn.runAndReadAll(sql)).getRows()).toEqual([['late']]);
      expect(await refreshPgCatalog(conn)).toBe(false);
    } finally {
      await conn.run('DROP TABLE shop.late');
      await refreshPgCatalog(conn);
    }
  });

  it('resolves and prints reg* values the Postgres way', async () => {
    const s = session({ searchPath: ['shop'] });
    const one = async (sql: string): Promise<unknown[]> => (await conn.runAndReadAll(translatePostgresSql(sql, s))).getRows()[0];
    const [oid] = await one(`SELECT 'shop.orders'::regclass::oid`);
    expect(await one(`SELECT '${oid}'::regclass, 'orders'::regclass::text, 'int4'::regtype, 'integer[]'::regtype::oid, 'pg_catalog.pg_class'::regclass::oid`))
      .toEqual(['orders', 'orders', 'integer', 1007n, 1259n]);
    expect(await one(`SELECT c.oid::regclass FROM pg_class c WHERE c.relname = 'by_status'`)).toEqual(['models.by_status']);
    await expect(conn.runAndReadAll(translatePostgresSql(`SELECT 'nope'::regclass`, s))).rejects.toThrow(/relation "nope" does not exist/);
    expect(await one(`SELECT format('%I.%I %s %L %%', 'shop', 'Odd Name', NULL, 'it''s')`)).toEqual([`shop."Odd Name"  'it''s' %`]);
    expect(await one(`SELECT 'abc' ~ 'b', 'abc' !~ '^b', 'ABC' ~* 'b', 2 = ANY('{1,2}'), 3 <> ALL(ARRAY[1,2])`)).toEqual([true, true, true, true, true]);
  });

  it('reports an unknown setting as Postgres does', () => {
    try {
      translatePostgresSql(`SELECT current_setting('nope')`, session());
      expect.unreachable();
    } catch (e) {
      expect(isSluiceError(e, 'SLUICE_QUERY_INVALID')).toBe(true);
    }
  });
});
