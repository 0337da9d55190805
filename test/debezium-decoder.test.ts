import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ChangesHeader, type ColumnSpec, type SchemaPart, decodeRecord } from '../core/change-record.js';
import { parseCsv, toEnvelopes } from '../core/envelope.js';
import { isSluiceError } from '../core/errors.js';
import { createLogger } from '../core/logger.js';
import { DuckDbStore } from '../olap/duckdb-store.js';
import { DebeziumBatchDecoder } from '../connectors/debezium/debezium-batch-decoder.js';
import { type JsonObject, type JsonValue, parseJson, stringifyJson } from '../connectors/debezium/json-text.js';
import { DebeziumDecoder } from '../connectors/debezium/message-decoder.js';
import type { ChangeEvent, DecodedMessage, KafkaMessage } from '../connectors/debezium/message-types.js';
import { DebeziumRecordBuilder, type RecordBuilderOptions } from '../connectors/debezium/record-builder.js';
import { tempDir } from './helpers/sluice.js';

/** Debezium's own documented messages (see test/fixtures/debezium/README.md). */
interface Fixture {
  readonly doc: string;
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly key: JsonValue;
  readonly value: JsonValue;
}

function load(name: string): Fixture {
  // Read exactly: ts_ns and 2^53+1 must survive, so not JSON.parse.
  return parseJson(readFileSync(new URL(`./fixtures/debezium/${name}.json`, import.meta.url), 'utf8')) as unknown as Fixture;
}

/** A deep copy that keeps exact numbers (structuredClone would turn them into plain objects). */
function clone<T extends JsonValue>(v: T): T {
  return parseJson(stringifyJson(v)) as T;
}

function message(f: Fixture, overrides: Partial<{ key: JsonValue; value: JsonValue; offset: number; topic: string }> = {}): KafkaMessage {
  const key = 'key' in overrides ? overrides.key! : f.key;
  const value = 'value' in overrides ? overrides.value! : f.value;
  return {
    topic: overrides.topic ?? f.topic,
    partition: f.partition,
    offset: String(overrides.offset ?? f.offset),
    key: key === null ? null : Buffer.from(stringifyJson(key)),
    value: value === null ? null : Buffer.from(stringifyJson(value)),
  };
}

function fixture(name: string): KafkaMessage {
  return message(load(name));
}

interface Part {
  readonly kind: string;
  readonly table: string;
  readonly rows: (string | null)[][];
  readonly schema?: SchemaPart;
  readonly unchanged?: readonly number[];
}

function partsOf(record: Buffer): { header: ChangesHeader; parts: Part[] } {
  const rec = decodeRecord(record);
  const header = rec.header as ChangesHeader;
  let at = 0;
  const parts = header.parts.map((p) => {
    const body = rec.body.subarray(at, at + p.bytes);
    at += p.bytes;
    return {
      kind: p.kind,
      table: p.table,
      rows: p.bytes ? parseCsv(body) : [],
      ...(p.kind === 'schema' ? { schema: p } : {}),
      ...(p.kind === 'patch' ? { unchanged: p.unchanged } : {}),
    };
  });
  return { header, parts };
}

/** Decodes fixtures with one decoder and one builder into one record. */
function build(messages: KafkaMessage[], options: Partial<RecordBuilderOptions> = {}): { record: Buffer; parts: Part[]; header: ChangesHeader } {
  const decoder = new DebeziumDecoder();
  const builder = new DebeziumRecordBuilder({ source: 'dbz', ...options });
  for (const m of messages) builder.add(decoder.decode(m));
  const built = builder.finish();
  expect(built?.record).toBeTruthy();
  return { record: built!.record!, ...partsOf(built!.record!) };
}

const col = (name: string, sourceType: string, storeType: string, conversion: ColumnSpec['conversion'], key = false): ColumnSpec => ({
  name,
  sourceType,
  storeType,
  conversion,
  key,
});

const CUSTOMERS_SCHEMA: ColumnSpec[] = [
  col('id', 'int32', 'INTEGER', 'cast', true),
  col('first_name', 'string', 'VARCHAR', 'text'),
  col('last_name', 'string', 'VARCHAR', 'text'),
  col('email', 'string', 'VARCHAR', 'text'),
];

const CUSTOMERS_INFERRED: ColumnSpec[] = [
  col('id', 'json:integer', 'BIGINT', 'cast', true),
  col('first_name', 'json:string', 'VARCHAR', 'text'),
  col('last_name', 'json:string', 'VARCHAR', 'text'),
  col('email', 'json:string', 'VARCHAR', 'text'),
];

describe('decoding the documented messages', () => {
  const decoder = new DebeziumDecoder();

  it.each([
    ['pg-create', 'c'],
    ['pg-create-no-schema', 'c'],
    ['pg-update', 'u'],
    ['pg-update-no-schema', 'u'],
    ['pg-delete', 'd'],
    ['pg-delete-no-schema', 'd'],
    ['pg-truncate', 't'],
    ['pg-truncate-no-schema', 't'],
    ['mysql-create', 'c'],
    ['mysql-create-no-schema', 'c'],
    ['mysql-update', 'u'],
    ['mysql-update-no-schema', 'u'],
    ['mysql-delete', 'd'],
    ['mysql-delete-no-schema', 'd'],
    ['mysql-truncate', 't'],
    ['mysql-truncate-no-schema', 't'],
  ])('%s is a change event with op %s', (name, op) => {
    const m = decoder.decode(fixture(name));
    expect(m.kind).toBe('change');
    expect((m as ChangeEvent).op).toBe(op);
    expect((m as ChangeEvent).rowSchema !== null).toBe(!name.endsWith('no-schema'));
  });

  it('classifies tombstones, schema changes and transaction markers', () => {
    expect(decoder.decode(fixture('pg-tombstone'))).toEqual({ kind: 'tombstone', at: { topic: 'PostgreSQL_server.public.customers', partition: 0, offset: '3' }, key: { id: '1' } });
    expect(decoder.decode(fixture('mysql-tombstone'))).toMatchObject({ kind: 'tombstone', key: { id: 1004 } });
    expect(decoder.decode(fixture('mysql-schema-change'))).toEqual({ kind: 'schema-change', at: { topic: 'mysql', partition: 0, offset: '0' } });
    expect(decoder.decode(fixture('pg-transaction-begin'))).toEqual({
      kind: 'transaction',
      at: { topic: 'PostgreSQL_server.transaction', partition: 0, offset: '0' },
      status: 'BEGIN',
      id: '571:53195829',
      tsMs: 1486500577125,
      eventCount: null,
      dataCollections: null,
    });
    expect(decoder.decode(fixture('mysql-transaction-end'))).toMatchObject({
      kind: 'transaction',
      status: 'END',
      id: '0e4d5dcd-a33b-11ea-80f1-02010a22a99e:10',
      eventCount: 2,
      dataCollections: [
        { dataCollection: 's1.a', eventCount: 1 },
        { dataCollection: 's2.a', eventCount: 1 },
      ],
    });
  });

  it('recognises heartbeats with and without the schema wrapper', () => {
    // Debezium's heartbeat schemas (debezium-connector-common SchemaFactory): key {serverName}, value {ts_ms}.
    const value = { schema: { type: 'struct', name: 'io.debezium.connector.common.Heartbeat', fields: [{ type: 'int64', optional: false, field: 'ts_ms' }] }, payload: { ts_ms: 1559033904863 } };
    const at = { topic: '__debezium-heartbeat.PostgreSQL_server', partition: 0, offset: 9 };
    expect(decoder.decode({ ...at, key: Buffer.from('{"serverName":"PostgreSQL_server"}'), value: Buffer.from(JSON.stringify(value)) }).kind).toBe('heartbeat');
    expect(decoder.decode({ ...at, topic: 'other', key: null, value: Buffer.from('{"ts_ms":1559033904863}') }).kind).toBe('heartbeat');
  });

  it("maps the source block to the table, Sluice's source position and the transaction", () => {
    const pg = decoder.decode(fixture('pg-create')) as ChangeEvent;
    expect(pg.table).toEqual({ connector: 'postgresql', database: 'postgres', schema: 'public', table: 'customers' });
    // lsn 24023128 is 0x16E9058: written as Postgres writes LSNs.
    expect(pg.position).toEqual({ lsn: '0/16E9058', txId: 555, tsMs: 1559033904863 });
    expect(pg.transactionId).toBe('555');
    expect(pg.snapshot).toBe(true);
    expect(pg.capturedMs).toBe(1559033904863);
    expect(pg.at).toEqual({ topic: 'PostgreSQL_server.public.customers', partition: 0, offset: '0' });
    expect(pg.key).toEqual({ id: '1' });

    const my = decoder.decode(fixture('mysql-update')) as ChangeEvent;
    expect(my.table).toEqual({ connector: 'mysql', database: 'inventory', schema: 'inventory', table: 'customers' });
    expect(my.position).toEqual({ lsn: 'mysql-bin.000003:484', tsMs: 1465581029100 });
    expect(my.transactionId).toBeNull();
    expect(my.snapshot).toBe(false);

    const typed = decoder.decode(fixture('mysql-types-constructed')) as ChangeEvent;
    expect(typed.position).toEqual({ lsn: 'mysql-bin.000003:1154', tsMs: 1465491411000, gtid: '3E11FA47-71CA-11E1-9E33-C80AA9429562:23' });
    expect(typed.transactionId).toBe('3E11FA47-71CA-11E1-9E33-C80AA9429562:23');
  });

  it('shares one normalised schema among messages with the same schema', () => {
    const d = new DebeziumDecoder();
    const a = d.decode(fixture('pg-create')) as ChangeEvent;
    const b = d.decode(fixture('pg-update')) as ChangeEvent;
    expect(a.rowSchema).toBe(b.rowSchema);
    expect(a.rowSchema!.fields.map((f) => `${f.field}:${f.type}`)).toEqual(['id:int32', 'first_name:string', 'last_name:string', 'email:string']);
    // The Postgres key example's {"name", "schema": {"type": "INT32", "optional": "false"}} form.
    expect(a.keySchema!.fields).toMatchObject([{ field: 'id', type: 'int32', optional: false }]);
  });
});

describe('column specs and canonical text', () => {
  it('writes the Postgres create, update and delete (schemas on) as the native connector would', () => {
    const { parts, header } = build(['pg-create', 'pg-update', 'pg-delete', 'pg-tombstone'].map(fixture));
    expect(parts.map((p) => p.kind)).toEqual(['schema', 'rows']);
    expect(parts[0].schema).toEqual({
      kind: 'schema',
      table: 'customers',
      connector: 'postgresql',
      sourceDb: 'postgres',
      sourceSchema: 'public',
      sourceTable: 'customers',
      columns: CUSTOMERS_SCHEMA,
      identity: 'key',
      bytes: 0,
    });
    expect(parts[1].rows).toEqual([
      ['c', '1', 'Anne', 'Kretchmar', 'annek@noanswer.org'],
      // REPLICA IDENTITY DEFAULT: the before image is the key only, so no 'b' row.
      ['u', '1', 'Anne Marie', 'Kretchmar', 'annek@noanswer.org'],
      ['d', '1', null, null, null],
    ]);
    expect(header.position).toEqual({ lsn: '0/2C5E2F8', txId: 556, tsMs: 1559033904863 });
    expect(header.source).toBe('dbz');
    expect(header.snapshot).toBe(false);
  });

  it('writes the MySQL events with their full before images', () => {
    const { parts } = build(['mysql-create', 'mysql-update', 'mysql-delete'].map(fixture), { defaultDatabase: 'inventory' });
    expect(parts[0].schema).toMatchObject({ table: 'customers', connector: 'mysql', sourceDb: 'inventory', sourceSchema: 'inventory', columns: CUSTOMERS_SCHEMA });
    expect(parts[1].rows).toEqual([
      ['c', '1004', 'Anne', 'Kretchmar', 'annek@noanswer.org'],
      ['b', '1004', 'Anne', 'Kretchmar', 'annek@noanswer.org'],
      ['u', '1004', 'Anne Marie', 'Kretchmar', 'annek@noanswer.org'],
      ['d', '1004', 'Anne Marie', 'Kretchmar', 'annek@noanswer.org'],
    ]);
  });

  it('names replicas as the native connectors do', () => {
    expect(build([fixture('mysql-create')]).parts[0].table).toBe('inventory_customers');
    expect(build([fixture('mysql-create')], { defaultDatabase: 'inventory' }).parts[0].table).toBe('customers');
    const other = load('pg-create');
    const value = clone(other.value) as JsonObject;
    ((value.payload as JsonObject).source as JsonObject).schema = 'Sales';
    expect(build([message(other, { value })]).parts[0].table).toBe('sales_customers');
    expect(build([message(other, { value })], { replicaName: (t) => `x_${t.table}` }).parts[0].table).toBe('x_customers');
  });

  it('infers types without schemas and documents what JSON shows', () => {
    const { parts } = build(['pg-create-no-schema', 'pg-update-no-schema', 'pg-delete-no-schema'].map(fixture));
    expect(parts[0].schema!.columns).toEqual(CUSTOMERS_INFERRED);
    expect(parts[1].rows).toEqual([
      ['c', '1', 'Anne', 'Kretchmar', 'annek@noanswer.org'],
      ['u', '1', 'Anne Marie', 'Kretchmar', 'annek@noanswer.org'],
      ['d', '1', null, null, null],
    ]);
    const my = build(['mysql-create-no-schema', 'mysql-update-no-schema', 'mysql-delete-no-schema'].map(fixture));
    expect(my.parts[0].schema!.columns).toEqual(CUSTOMERS_INFERRED);
    expect(my.parts[1].rows.map((r) => r[0])).toEqual(['c', 'b', 'u', 'd']);
  });

  it('maps every Connect type of the Postgres type sample', () => {
    const { parts } = build([fixture('pg-types-constructed')]);
    const spec = parts[0].schema!;
    expect(spec.columns.map((c) => [c.name, c.sourceType, c.storeType, c.conversion])).toEqual([
      ['id', 'int32', 'INTEGER', 'cast'],
      ['big', 'int64', 'BIGINT', 'cast'],
      ['price', 'org.apache.kafka.connect.data.Decimal', 'DECIMAL(10,2)', 'cast'],
      ['refund', 'org.apache.kafka.connect.data.Decimal', 'DECIMAL(10,2)', 'cast'],
      ['amount', 'io.debezium.data.VariableScaleDecimal', 'DECIMAL(38,10)', 'cast'],
      ['created', 'io.debezium.time.MicroTimestamp', 'TIMESTAMP', 'cast'],
      ['created_ms', 'io.debezium.time.Timestamp', 'TIMESTAMP', 'cast'],
      ['day', 'io.debezium.time.Date', 'DATE', 'cast'],
      ['at_time', 'io.debezium.time.MicroTime', 'TIME', 'cast'],
      ['created_tz', 'io.debezium.time.ZonedTimestamp', 'TIMESTAMPTZ', 'cast'],
      ['at_time_tz', 'io.debezium.time.ZonedTime', 'TIMETZ', 'cast'],
      ['wait', 'io.debezium.time.MicroDuration', 'INTERVAL', 'interval'],
      ['wait_iso', 'io.debezium.time.Interval', 'INTERVAL', 'interval'],
      ['attrs', 'io.debezium.data.Json', 'JSON', 'cast'],
      ['uid', 'io.debezium.data.Uuid', 'UUID', 'cast'],
      ['mood', 'io.debezium.data.Enum', 'VARCHAR', 'text'],
      ['flags', 'io.debezium.data.Bits', 'VARCHAR', 'text'],
      ['raw', 'bytes', 'BLOB', 'bytea-hex'],
      ['active', 'boolean', 'BOOLEAN', 'cast'],
      ['ratio', 'float32', 'FLOAT', 'cast'],
      ['score', 'float64', 'DOUBLE', 'cast'],
      ['tags', 'array<string>', 'VARCHAR[]', 'pg-array'],
      ['nums', 'array<int32>', 'INTEGER[]', 'pg-array'],
      ['note', 'string', 'VARCHAR', 'text'],
      ['empty', 'string', 'VARCHAR', 'text'],
      ['shape', 'io.debezium.data.geometry.Geometry', 'JSON', 'cast'],
      ['until', 'io.debezium.time.MicroTimestamp', 'TIMESTAMP', 'cast'],
    ]);
    expect(spec.columns.filter((c) => c.key).map((c) => c.name)).toEqual(['id']);
    expect(parts[1].rows).toEqual([
      [
        'c',
        '7',
        '9007199254740993',
        '12345.67',
        '-0.05',
        '123456789012345.678',
        '2018-06-20 15:13:16.945104',
        '2018-06-20 15:13:16.945',
        '2018-06-20',
        '15:13:16.945104',
        '2018-06-20T15:13:16.945104Z',
        '15:13:16.945104+00',
        '26:00:00',
        '1 years 2 months 3 days 4 hours 5 minutes 6.78 seconds',
        '{"key" : "val"}',
        '6ba7b810-9dad-11d1-80b4-00c04fd430c8',
        'happy',
        '101',
        '\\xdeadbeef',
        'true',
        '1.5',
        'NaN',
        '["a","b,\\"c\\"",null]',
        '[1,null,3]',
        null,
        '',
        '{"wkb":"AQEAAAAAAAAAAADwPwAAAAAAAABA","srid":4326}',
        'infinity',
      ],
    ]);
  });

  it('maps the MySQL type sample, following the native MySQL connector where types differ', () => {
    const { parts } = build([fixture('mysql-types-constructed')], { defaultDatabase: 'inventory' });
    expect(parts[0].schema!.columns.map((c) => `${c.name} ${c.storeType} ${c.conversion}`)).toEqual([
      'id INTEGER cast',
      'happened TIMESTAMP cast',
      'stamped TIMESTAMPTZ cast',
      'day DATE cast',
      // TIME is a duration in MySQL: INTERVAL, as connectors/mysql/type-map.ts has it.
      'duration INTERVAL interval',
      'yr SMALLINT cast',
      'price DECIMAL(10,2) cast',
      // Wider than DuckDB's 38 digits: exact text, as the native connectors do.
      'huge VARCHAR text',
      'size VARCHAR text',
      'opts VARCHAR text',
      'mask UBIGINT cast',
      'doc JSON cast',
      'tiny TINYINT cast',
      'small SMALLINT cast',
      'yes BOOLEAN cast',
      'f FLOAT cast',
      'd DOUBLE cast',
      'name VARCHAR text',
    ]);
    expect(parts[1].rows[0]).toEqual([
      'c',
      '1005',
      '2018-06-20 06:37:03',
      '2018-06-20T13:37:03Z',
      '2018-06-20',
      '12:34:56.5',
      '2024',
      '12345.67',
      '12345678901234567890123456789012345678.90',
      'M',
      'a,c',
      '513',
      '{"a": [1, 2]}',
      '-128',
      '32767',
      'false',
      '1.25',
      'Infinity',
      'Zoë "Z" O\'Neil, Jr.\nline 2',
    ]);
  });
});

describe('table shapes over time', () => {
  /** The Postgres create event with `middle_name` added after first_name (the MySQL schema-change example's DDL). */
  function withMiddleName(offset: number, middle: JsonValue, storeAs: 'string' | 'int32' = 'string'): KafkaMessage {
    const f = load('pg-create');
    const value = clone(f.value) as JsonObject;
    const schema = value.schema as JsonObject;
    for (const side of (schema.fields as JsonObject[]).slice(0, 2)) {
      (side.fields as JsonObject[]).splice(2, 0, { type: storeAs, optional: true, field: 'middle_name' });
    }
    const payload = value.payload as JsonObject;
    const after = payload.after as JsonObject;
    payload.after = { id: after.id, first_name: after.first_name, middle_name: middle, last_name: after.last_name, email: after.email };
    return message(f, { value, offset });
  }

  it('puts a schema part ahead of the rows on first sight and on every change of columns or types, and only then', () => {
    const { parts } = build([fixture('pg-create'), fixture('pg-update'), withMiddleName(5, 'Marie'), withMiddleName(6, 'M.'), withMiddleName(7, 42, 'int32')]);
    expect(parts.map((p) => p.kind)).toEqual(['schema', 'rows', 'schema', 'rows', 'schema', 'rows']);
    expect(parts[2].schema!.columns.map((c) => c.name)).toEqual(['id', 'first_name', 'middle_name', 'last_name', 'email']);
    expect(parts[3].rows).toEqual([
      ['c', '1', 'Anne', 'Marie', 'Kretchmar', 'annek@noanswer.org'],
      ['c', '1', 'Anne', 'M.', 'Kretchmar', 'annek@noanswer.org'],
    ]);
    expect(parts[4].schema!.columns[2]).toEqual(col('middle_name', 'int32', 'INTEGER', 'cast'));
  });

  it('sends the schema again in a new session (the store ignores an unchanged one)', () => {
    const decoder = new DebeziumDecoder();
    const builder = new DebeziumRecordBuilder({ source: 'dbz' });
    builder.add(decoder.decode(fixture('pg-create')));
    builder.finish();
    builder.add(decoder.decode(fixture('pg-update')));
    expect(partsOf(builder.finish()!.record!).parts.map((p) => p.kind)).toEqual(['rows']);
    const again = new DebeziumRecordBuilder({ source: 'dbz' });
    again.add(decoder.decode(fixture('pg-update')));
    expect(partsOf(again.finish()!.record!).parts.map((p) => p.kind)).toEqual(['schema', 'rows']);
  });

  it('widens inferred types as values arrive, and drops columns the after image no longer has', () => {
    const base = load('pg-create-no-schema');
    const row = (offset: number, after: JsonObject): KafkaMessage => {
      const payload = clone(base.value) as JsonObject;
      payload.after = after;
      return message(base, { value: payload, key: { id: after.id ?? 1 }, offset });
    };
    const { parts } = build([
      row(1, { id: 1, score: null, n: 1 }),
      row(2, { id: 2, score: 3, n: 2 }),
      row(3, { id: 3, score: 3.5, n: 'x' }),
      row(4, { id: 4, score: 4 }),
    ]);
    const shapes = parts.filter((p) => p.schema).map((p) => p.schema!.columns.map((c) => `${c.name}:${c.storeType}`).join(' '));
    expect(shapes).toEqual(['id:BIGINT score:VARCHAR n:BIGINT', 'id:BIGINT score:BIGINT n:BIGINT', 'id:BIGINT score:DOUBLE n:VARCHAR', 'id:BIGINT score:DOUBLE']);
    expect(parts.filter((p) => p.kind === 'rows').flatMap((p) => p.rows)).toEqual([
      ['c', '1', null, '1'],
      ['c', '2', '3', '2'],
      ['c', '3', '3.5', 'x'],
      ['c', '4', '4'],
    ]);
  });

  it('continues inference from the shapes the store has', () => {
    const stored = build([fixture('pg-create-no-schema')]).parts[0].schema!;
    const decoder = new DebeziumDecoder();
    const builder = new DebeziumRecordBuilder({ source: 'dbz', storedSchemas: new Map([['customers', stored]]) });
    // A delete's before image (the key only) is enough once the columns are known.
    builder.add(decoder.decode(fixture('pg-delete-no-schema')));
    const { parts } = partsOf(builder.finish()!.record!);
    expect(parts[0].schema!.columns).toEqual(CUSTOMERS_INFERRED);
    expect(parts[1].rows).toEqual([['d', '1', null, null, null]]);
  });

  it('never guesses a table from a delete alone, nor truncates a table nobody has', () => {
    const decoder = new DebeziumDecoder();
    const builder = new DebeziumRecordBuilder({ source: 'dbz' });
    builder.add(decoder.decode(fixture('pg-delete-no-schema')));
    builder.add(decoder.decode(fixture('pg-truncate')));
    const built = builder.finish()!;
    expect(built.record).toBeNull();
    expect(built.skipped).toBe(2);
    const stored = new DebeziumRecordBuilder({ source: 'dbz', storedTables: new Set(['customers']) });
    stored.add(decoder.decode(fixture('pg-truncate-no-schema')));
    expect(partsOf(stored.finish()!.record!).parts).toEqual([{ kind: 'truncate', table: 'customers', rows: [] }]);
    expect(() => stored.add(decoder.decode(fixture('pg-delete-no-schema')))).toThrow(/storedSchemas/);
  });
});

describe('the record builder', () => {
  it('reports the Kafka offsets each record covers, including messages that change nothing', () => {
    const decoder = new DebeziumDecoder();
    const builder = new DebeziumRecordBuilder({ source: 'dbz' });
    for (const name of ['pg-create', 'pg-update', 'pg-delete', 'pg-tombstone', 'pg-transaction-begin', 'pg-transaction-end']) builder.add(decoder.decode(fixture(name)));
    const built = builder.finish()!;
    expect(built.offsets).toEqual([
      { topic: 'PostgreSQL_server.public.customers', partition: 0, firstOffset: '0', lastOffset: '3', nextOffset: '4' },
      { topic: 'PostgreSQL_server.transaction', partition: 0, firstOffset: '0', lastOffset: '1', nextOffset: '2' },
    ]);
    expect(built).toMatchObject({ messages: 6, changes: 3, skipped: 0, position: { lsn: '0/2C5E2F8', txId: 556, tsMs: 1559033904863 } });
    expect(builder.finish()).toBeNull();
    builder.add(decoder.decode(fixture('pg-transaction-begin')));
    expect(builder.finish()).toMatchObject({ record: null, messages: 1 });
  });

  it("writes the caller's position when given one", () => {
    const decoder = new DebeziumDecoder();
    const builder = new DebeziumRecordBuilder({ source: 'dbz' });
    builder.add(decoder.decode(fixture('pg-create')));
    const built = builder.finish({ lsn: 'kafka:PostgreSQL_server.public.customers/0=1', tsMs: 5 })!;
    expect(partsOf(built.record!).header.position).toEqual({ lsn: 'kafka:PostgreSQL_server.public.customers/0=1', tsMs: 5 });
  });

  it('keeps what the store has for TOASTed values Postgres did not send (a patch part)', () => {
    const f = load('pg-update');
    const value = clone(f.value) as JsonObject;
    ((value.payload as JsonObject).after as JsonObject).email = '__debezium_unavailable_value';
    const { parts } = build([fixture('pg-create'), message(f, { value })]);
    expect(parts.map((p) => p.kind)).toEqual(['schema', 'rows', 'patch']);
    expect(parts[2].unchanged).toEqual([3]);
    // The row, then the old key: how the store's patch reader expects it.
    expect(parts[2].rows).toEqual([['u', '1', 'Anne Marie', 'Kretchmar', null, '1']]);
  });

  it('writes a key change in a full-image update as delete + create', () => {
    const f = load('mysql-update');
    const value = clone(f.value) as JsonObject;
    ((value.payload as JsonObject).after as JsonObject).id = 2004;
    const { parts } = build([message(f, { value })]);
    expect(parts[1].rows.map((r) => r.slice(0, 2))).toEqual([
      ['d', '1004'],
      ['c', '2004'],
    ]);
  });

  it('gives back Debezium envelopes through core/envelope.ts', () => {
    const { record } = build(['mysql-create', 'mysql-update'].map(fixture), { defaultDatabase: 'inventory' });
    const envelopes = toEnvelopes(decodeRecord(record), new Map());
    expect(envelopes.map((e) => [e.op, e.before?.first_name ?? null, e.after?.first_name ?? null, e.source.connector, e.source.lsn])).toEqual([
      ['c', null, 'Anne', 'mysql', 'mysql-bin.000003:484'],
      ['u', 'Anne', 'Anne Marie', 'mysql', 'mysql-bin.000003:484'],
    ]);
  });
});

describe('bad input', () => {
  const decoder = new DebeziumDecoder();

  function fails(m: KafkaMessage, pattern: RegExp): void {
    let error: unknown;
    try {
      new DebeziumRecordBuilder({ source: 'dbz' }).add(decoder.decode(m));
    } catch (e) {
      error = e;
    }
    expect(isSluiceError(error, 'SLUICE_DEBEZIUM_MESSAGE')).toBe(true);
    expect((error as Error).message).toMatch(pattern);
    expect((error as { retriable: boolean }).retriable).toBe(false);
  }

  function mutate(name: string, edit: (payload: JsonObject) => void): KafkaMessage {
    const f = load(name);
    const value = clone(f.value) as JsonObject;
    edit(value.payload as JsonObject);
    return message(f, { value });
  }

  it('names the message and the field at fault', () => {
    const at = { topic: 't.public.x', partition: 3, offset: '77' };
    fails({ ...at, key: null, value: Buffer.from('{"op": "c", "after": {') }, /^Debezium message t\.public\.x\/3@77: value: not JSON .*JsonConverter/);
    fails({ ...at, key: Buffer.from('"abc"'), value: null }, /t\.public\.x\/3@77: key: expected the row's key as a JSON object/);
    fails({ ...at, key: null, value: Buffer.from('{"id": 1, "name": "x"}') }, /3@77: value: not a Debezium change event .*ExtractNewRecordState/);
    fails({ ...at, key: null, value: Buffer.from('[1,2]') }, /3@77: value: expected a JSON object/);
    fails(mutate('pg-create', (p) => (p.op = 'x')), /customers\/0@0: payload\.op: unknown operation "x"/);
    fails(mutate('pg-create', (p) => (p.after = 5)), /payload\.after: expected a row object or null, got 5/);
    fails(mutate('pg-create', (p) => (p.after = null)), /payload\.after: missing for a 'c' event/);
    fails(mutate('pg-create', (p) => ((p.after as JsonObject).id = 'seven')), /payload\.after\.id: expected an int32, got "seven"/);
    fails(mutate('pg-create', (p) => ((p.after as JsonObject).id = 2147483648)), /payload\.after\.id: 2147483648 is out of the int32 range/);
    fails(mutate('pg-create', (p) => ((p.after as JsonObject).email = { a: 1 })), /payload\.after\.email: expected a string/);
    fails(mutate('pg-types-constructed', (p) => ((p.after as JsonObject).price = 'not base64!')), /type_samples\/0@10: payload\.after\.price: expected a Decimal as base64 bytes/);
    fails(mutate('pg-types-constructed', (p) => ((p.after as JsonObject).attrs = '{oops')), /payload\.after\.attrs: expected a JSON document/);
    fails(mutate('pg-types-constructed', (p) => ((p.after as JsonObject).created_tz = 'yesterday')), /payload\.after\.created_tz: expected an ISO timestamp with offset/);
    fails(mutate('pg-types-constructed', (p) => ((p.after as JsonObject).at_time = -1)), /payload\.after\.at_time: -1 µs is not a time of day/);
    fails(mutate('pg-types-constructed', (p) => ((p.after as JsonObject).wait_iso = 'soon')), /payload\.after\.wait_iso: expected an ISO 8601 duration/);
    fails(mutate('pg-types-constructed', (p) => ((p.after as JsonObject).nums = 3)), /payload\.after\.nums: expected an array/);
    const f = load('pg-create');
    const badSchema = clone(f.value) as JsonObject;
    ((badSchema.schema as JsonObject).fields as JsonObject[])[1] = { type: 'struct', fields: [{ type: 'decimal', field: 'x' }], field: 'after' };
    fails(message(f, { value: badSchema }), /schema\.fields\[1\]\.fields\[0\]\.type: unknown Kafka Connect type "decimal"/);
  });

  it('refuses updates and deletes of keyless tables that lack the whole old row', () => {
    fails(message(load('pg-update'), { key: null }), /payload\.before: an update of public\.customers, which has no key, needs the whole old row/);
  });

  it('leaves nothing of a bad message behind, so the caller can skip it and go on', () => {
    const builder = new DebeziumRecordBuilder({ source: 'dbz' });
    builder.add(decoder.decode(fixture('pg-create')));
    expect(() => builder.add(decoder.decode(mutate('pg-update', (p) => ((p.after as JsonObject).id = 'x'))))).toThrow();
    builder.add(decoder.decode(fixture('pg-delete')));
    const { parts } = partsOf(builder.finish()!.record!);
    expect(parts[1].rows.map((r) => r[0])).toEqual(['c', 'd']);
  });
});

describe('unwrapped rows (ExtractNewRecordState)', () => {
  const decoder = new DebeziumDecoder({ unwrapped: true, connector: 'postgresql' });
  const at = { topic: 'PostgreSQL_server.public.things', partition: 0 };

  it('reads flattened rows, __deleted rewrites and added metadata fields', () => {
    // The row of event-flattening.adoc's `delete.tombstone.handling.mode=rewrite` example.
    const rewritten = decoder.decode({ ...at, offset: 2, key: Buffer.from('{"pk": 2}'), value: Buffer.from('{"pk": 2, "cola": null, "__deleted": "true"}') }) as ChangeEvent;
    expect(rewritten).toMatchObject({ op: 'd', before: { pk: 2, cola: null }, after: null, unwrapped: true, table: { schema: 'public', table: 'things' } });
    const withMeta = decoder.decode({
      ...at,
      offset: 1,
      key: Buffer.from('{"pk": 2}'),
      value: Buffer.from('{"pk": 2, "cola": "x", "__op": "c", "__table": "things", "__lsn": 24023128, "__source_ts_ms": 1559033904863}'),
    }) as ChangeEvent;
    expect(withMeta).toMatchObject({ op: 'c', after: { pk: 2, cola: 'x' }, position: { lsn: '0/16E9058', tsMs: 1559033904863 } });
  });

  it('applies tombstones as deletes when asked to (the SMT default drops delete events)', () => {
    const builder = new DebeziumRecordBuilder({ source: 'dbz', tombstones: 'delete' });
    builder.add(decoder.decode({ ...at, offset: 1, key: Buffer.from('{"pk": 2}'), value: Buffer.from('{"pk": 2, "cola": "x"}') }));
    builder.add(decoder.decode({ ...at, offset: 2, key: Buffer.from('{"pk": 2}'), value: null }));
    const { parts } = partsOf(builder.finish()!.record!);
    expect(parts[0].schema!.columns.map((c) => `${c.name}:${c.storeType}${c.key ? '*' : ''}`)).toEqual(['pk:BIGINT*', 'cola:VARCHAR']);
    expect(parts[1].rows).toEqual([
      ['c', '2', 'x'],
      ['d', '2', null],
    ]);
  });
});

describe('the batch decoder the debezium-kafka source calls', () => {
  it('turns one Kafka batch into one record carrying the given position', () => {
    const batch = new DebeziumBatchDecoder('dbz', { defaultDatabase: 'inventory' });
    const fx = ['mysql-create', 'mysql-update', 'mysql-delete', 'mysql-tombstone'].map(load);
    const messages = fx.map((f) => {
      const m = message(f);
      return { offset: m.offset, key: m.key, value: m.value };
    });
    const records = batch.decode('mysql-server-1.inventory.customers', 0, messages, { lsn: '{"mysql-server-1.inventory.customers":{"0":3}}', tsMs: 1 });
    expect(records).toHaveLength(1);
    const { header, parts } = partsOf(records[0]);
    expect(header.position).toEqual({ lsn: '{"mysql-server-1.inventory.customers":{"0":3}}', tsMs: 1 });
    expect(parts.map((p) => `${p.kind}:${p.table}`)).toEqual(['schema:customers', 'rows:customers']);
    expect(batch.last?.offsets).toEqual([{ topic: 'mysql-server-1.inventory.customers', partition: 0, firstOffset: '0', lastOffset: '3', nextOffset: '4' }]);
    expect(batch.decode('mysql-server-1.transaction', 0, [{ offset: '0', key: null, value: Buffer.from('{"status":"BEGIN","id":"x","ts_ms":1}') }])).toEqual([]);
  });

  it('learns what the store holds after construction', () => {
    const batch = new DebeziumBatchDecoder('dbz');
    const truncate = message(load('pg-truncate'));
    expect(batch.decode(truncate.topic, 0, [truncate])).toEqual([]);
    expect(batch.last?.skipped).toBe(1);
    batch.setStored(new Set(['customers']));
    expect(partsOf(batch.decode(truncate.topic, 0, [truncate])[0]).parts.map((p) => p.kind)).toEqual(['truncate']);
  });

  it('skips bad messages only when told to', () => {
    const good = message(load('mysql-create'));
    const bad = { offset: '1', key: null, value: Buffer.from('not json') };
    const strict = new DebeziumBatchDecoder('dbz');
    expect(() => strict.decode('t', 0, [good, bad])).toThrow(/t\/0@1: value: not JSON/);
    const seen: string[] = [];
    const lenient = new DebeziumBatchDecoder('dbz', { onInvalid: (e) => (seen.push(e.message), 'skip') });
    expect(lenient.decode('t', 0, [good, bad])).toHaveLength(1);
    expect(seen).toHaveLength(1);
  });
});

describe('end to end: into a DuckDB store and back', () => {
  let store: DuckDbStore;
  let offset = 0;

  beforeAll(async () => {
    store = await DuckDbStore.open({ path: join(tempDir('debezium'), 'store.duckdb'), logger: createLogger('silent') });
  });
  afterAll(async () => {
    await store?.close();
  });

  async function apply(source: string, builder: DebeziumRecordBuilder, decoder: DebeziumDecoder, messages: KafkaMessage[]): Promise<void> {
    for (const m of messages) builder.add(decoder.decode(m));
    const built = builder.finish();
    if (built?.record) await store.apply(source, [decodeRecord(built.record)], ++offset);
  }

  async function rows(sql: string): Promise<unknown[][]> {
    const conn = await store.connect();
    try {
      return (await conn.runAndReadAll(sql)).getRows();
    } finally {
      conn.closeSync();
    }
  }

  it('applies the Postgres events: insert, update by key, delete, truncate', async () => {
    const decoder = new DebeziumDecoder();
    const builder = new DebeziumRecordBuilder({ source: 'pgdbz' });
    await apply('pgdbz', builder, decoder, [fixture('pg-create')]);
    expect(await rows('SELECT id, first_name, last_name, email FROM pgdbz.customers')).toEqual([[1, 'Anne', 'Kretchmar', 'annek@noanswer.org']]);
    await apply('pgdbz', builder, decoder, [fixture('pg-update')]);
    expect(await rows('SELECT id, first_name FROM pgdbz.customers')).toEqual([[1, 'Anne Marie']]);
    await apply('pgdbz', builder, decoder, [fixture('pg-delete'), fixture('pg-tombstone')]);
    expect(await rows('SELECT count(*)::INTEGER FROM pgdbz.customers')).toEqual([[0]]);
    await apply('pgdbz', builder, decoder, [fixture('pg-create'), fixture('pg-truncate')]);
    expect(await rows('SELECT count(*)::INTEGER FROM pgdbz.customers')).toEqual([[0]]);
    const cp = await store.checkpoint('pgdbz');
    expect(cp?.position).toEqual({ lsn: '0/2C5E2F8', txId: 556, tsMs: 1559033904863 });
  });

  it('applies the MySQL events without schemas, after a restart that knows only what the store has', async () => {
    const decoder = new DebeziumDecoder();
    await apply('mydbz', new DebeziumRecordBuilder({ source: 'mydbz', defaultDatabase: 'inventory' }), decoder, [fixture('mysql-create-no-schema'), fixture('mysql-update-no-schema')]);
    expect(await rows('SELECT id, first_name, last_name FROM mydbz.customers')).toEqual([[1004n, 'Anne Marie', 'Kretchmar']]);
    const stored = new Map((await store.tableInfos()).filter((t) => t.source === 'mydbz').map((t) => [t.table, t.spec]));
    const restarted = new DebeziumRecordBuilder({ source: 'mydbz', defaultDatabase: 'inventory', storedSchemas: stored, storedTables: new Set(stored.keys()) });
    await apply('mydbz', restarted, decoder, [fixture('mysql-delete-no-schema'), fixture('mysql-tombstone')]);
    expect(await rows('SELECT count(*)::INTEGER FROM mydbz.customers')).toEqual([[0]]);
  });

  it('keeps every Postgres type exact', async () => {
    await apply('pgdbz', new DebeziumRecordBuilder({ source: 'pgdbz' }), new DebeziumDecoder(), [fixture('pg-types-constructed')]);
    const [row] = await rows(`SELECT id::VARCHAR, big::VARCHAR, price::VARCHAR, refund::VARCHAR, amount::VARCHAR, created::VARCHAR, created_ms::VARCHAR,
        day::VARCHAR, at_time::VARCHAR, created_tz::VARCHAR, at_time_tz::VARCHAR, wait::VARCHAR, wait_iso::VARCHAR, attrs->>'key', uid::VARCHAR,
        mood, flags, hex(raw), active::VARCHAR, ratio::VARCHAR, isnan(score)::VARCHAR, tags::VARCHAR, len(tags)::VARCHAR, nums::VARCHAR, note, empty,
        shape->>'wkb', until::VARCHAR FROM pgdbz.type_samples`);
    expect(row).toEqual([
      '7',
      '9007199254740993',
      '12345.67',
      '-0.05',
      '123456789012345.6780000000',
      '2018-06-20 15:13:16.945104',
      '2018-06-20 15:13:16.945',
      '2018-06-20',
      '15:13:16.945104',
      '2018-06-20 15:13:16.945104+00',
      '15:13:16.945104+00',
      '26:00:00',
      '1 year 2 months 3 days 04:05:06.78',
      'val',
      '6ba7b810-9dad-11d1-80b4-00c04fd430c8',
      'happy',
      '101',
      'DEADBEEF',
      'true',
      '1.5',
      'true',
      `[a, 'b,"c"', NULL]`,
      '3',
      '[1, NULL, 3]',
      null,
      '',
      'AQEAAAAAAAAAAADwPwAAAAAAAABA',
      'infinity',
    ]);
    expect(await rows(`SELECT tags[2] FROM pgdbz.type_samples`)).toEqual([['b,"c"']]);
  });

  it('keeps every MySQL type exact', async () => {
    await apply('mydbz', new DebeziumRecordBuilder({ source: 'mydbz', defaultDatabase: 'inventory' }), new DebeziumDecoder(), [fixture('mysql-types-constructed')]);
    const [row] = await rows(`SELECT happened::VARCHAR, stamped::VARCHAR, day::VARCHAR, duration::VARCHAR, yr::VARCHAR, price::VARCHAR, huge, size, opts,
        mask::VARCHAR, doc->>'$.a[1]', tiny::VARCHAR, small::VARCHAR, yes::VARCHAR, f::VARCHAR, d::VARCHAR, name FROM mydbz.type_samples`);
    expect(row).toEqual([
      '2018-06-20 06:37:03',
      '2018-06-20 13:37:03+00',
      '2018-06-20',
      '12:34:56.5',
      '2024',
      '12345.67',
      '12345678901234567890123456789012345678.90',
      'M',
      'a,c',
      '513',
      '2',
      '-128',
      '32767',
      'false',
      '1.25',
      'inf',
      'Zoë "Z" O\'Neil, Jr.\nline 2',
    ]);
  });

  it('follows schema changes in place and keeps TOASTed values the source did not resend', async () => {
    const decoder = new DebeziumDecoder();
    const builder = new DebeziumRecordBuilder({ source: 'evo' });
    await apply('evo', builder, decoder, [fixture('pg-create')]);
    const f = load('pg-create');
    const value = clone(f.value) as JsonObject;
    for (const side of ((value.schema as JsonObject).fields as JsonObject[]).slice(0, 2)) {
      (side.fields as JsonObject[]).push({ type: 'bytes', optional: true, name: 'org.apache.kafka.connect.data.Decimal', version: 1, parameters: { scale: '2', 'connect.decimal.precision': '8' }, field: 'balance' });
    }
    const payload = value.payload as JsonObject;
    payload.op = 'u';
    payload.after = { ...(payload.after as JsonObject), first_name: 'Anne Marie', balance: 'AQ==' };
    await apply('evo', builder, decoder, [message(f, { value, offset: 1 })]);
    expect(await rows('SELECT id, first_name, balance::VARCHAR FROM evo.customers')).toEqual([[1, 'Anne Marie', '0.01']]);
    payload.after = { ...(payload.after as JsonObject), email: '__debezium_unavailable_value', balance: '__debezium_unavailable_value', first_name: 'Anne' };
    await apply('evo', builder, decoder, [message(f, { value, offset: 2 })]);
    expect(await rows('SELECT first_name, email, balance::VARCHAR FROM evo.customers')).toEqual([['Anne', 'annek@noanswer.org', '0.01']]);
  });
});

/** Type-only check that the union narrows as a consumer would use it. */
export function describeMessage(m: DecodedMessage): string {
  switch (m.kind) {
    case 'change':
      return `${m.op} ${m.table.table}`;
    case 'transaction':
      return `${m.status} ${m.id}`;
    default:
      return m.kind;
  }
}

describe('exact JSON and Debezium encodings', () => {
  it('keeps numbers a double cannot hold as their text, and reads like JSON.parse otherwise', () => {
    const v = parseJson('{"a": 9007199254740991, "b": 9007199254740993, "c": 1.10, "d": -0, "e": 1e400, "s": "x\\"\\u00e9\\n", "__proto__": 1, "n": [true, null]}') as JsonObject;
    expect(v.a).toBe(9007199254740991);
    expect(stringifyJson(v.b)).toBe('9007199254740993');
    expect(stringifyJson(v.c)).toBe('1.10');
    expect(stringifyJson(v.e)).toBe('1e400');
    expect(v.s).toBe('x"é\n');
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
    expect(Object.keys(v)).toContain('__proto__');
    expect(v.n).toEqual([true, null]);
    for (const bad of ['{"a":1,}', '[1 2]', '"abc', '01', '{"a" 1}', 'nul', '{"a":"\\q"}', '1 2']) expect(() => parseJson(bad)).toThrow(/at character/);
  });

  it('reads the converter wrapper however it is laid out, and a row with a "schema" column as a row', () => {
    const decoder = new DebeziumDecoder();
    const f = load('pg-create');
    const compact = decoder.decode(message(f)) as ChangeEvent;
    const again = decoder.decode(message(f)) as ChangeEvent;
    const pretty = decoder.decode({ ...message(f), value: Buffer.from(JSON.stringify(JSON.parse(stringifyJson(f.value)), null, 2)) }) as ChangeEvent;
    const reversed = decoder.decode({ ...message(f), value: Buffer.from(`{"payload":${stringifyJson((f.value as JsonObject).payload)},"schema":${stringifyJson((f.value as JsonObject).schema)}}`) }) as ChangeEvent;
    for (const e of [again, pretty, reversed]) {
      expect(e.after).toEqual(compact.after);
      expect(e.rowSchema).toEqual(compact.rowSchema);
    }
    // Shared by schema text: the same text gives the very same object, whatever the payload's layout.
    expect(again.rowSchema).toBe(compact.rowSchema);
    expect(reversed.rowSchema).toBe(compact.rowSchema);
    // The same schema followed by something other than the payload is not taken for the wrapper.
    const odd = Buffer.from(`{"schema":${stringifyJson((f.value as JsonObject).schema)},"payload":{"op":"c","source":null,"after":{"id":2}},"extra":1}`);
    expect(() => decoder.decode({ ...message(f), value: odd })).toThrow(/not a Debezium change event/);
    const row = new DebeziumDecoder({ unwrapped: true }).decode({ topic: 'p.public.docs', partition: 0, offset: 0, key: null, value: Buffer.from('{"schema": "v2", "id": 1}') }) as ChangeEvent;
    expect(row.after).toEqual({ schema: 'v2', id: 1 });
  });

  it('turns Debezium temporal values into DuckDB text, before 1970 and before year 1 too', async () => {
    const { dateText, timestampText, timeOfDayText, durationText, toMicros, isoDurationText, infinityOf } = await import('../connectors/debezium/temporal-text.js');
    expect(dateText(0)).toBe('1970-01-01');
    expect(dateText(-1)).toBe('1969-12-31');
    expect(dateText(11016)).toBe('2000-02-29');
    expect(dateText(-719162)).toBe('0001-01-01');
    expect(dateText(-719163)).toBe('0001-12-31 (BC)');
    expect(dateText(2932896)).toBe('9999-12-31');
    expect(timestampText(-1n)).toBe('1969-12-31 23:59:59.999999');
    expect(timestampText(toMicros(-1n, 'ns'))).toBe('1969-12-31 23:59:59.999999');
    expect(timestampText(toMicros(1529507596945104999n, 'ns'))).toBe('2018-06-20 15:13:16.945104');
    expect(timeOfDayText(86_400_000_000n)).toBe('24:00:00');
    expect(durationText(-3_600_500_000n)).toBe('-01:00:00.5');
    expect(durationText(3_020_399_000_000n)).toBe('838:59:59');
    expect(isoDurationText('P-1Y-2M3DT-4H-5M-6.78S')).toBe('-1 years -2 months 3 days -4 hours -5 minutes -6.78 seconds');
    expect(isoDurationText('PT0S')).toBe('0 seconds');
    expect(isoDurationText('-P1D')).toBe('-1 days');
    expect(isoDurationText('P')).toBeNull();
    expect(infinityOf(-9223372036832400000n)).toBe('-infinity');
  });

  it('turns Decimal bytes into exact decimal text', async () => {
    const { decimalText, unscaledValue, base64Bytes } = await import('../connectors/debezium/decimal-text.js');
    const text = (b64: string, scale: number) => decimalText(unscaledValue(base64Bytes(b64)!), scale);
    expect(text('EtaH', 2)).toBe('12345.67');
    expect(text('+w==', 2)).toBe('-0.05');
    expect(text('AA==', 3)).toBe('0.000');
    expect(text('', 0)).toBe('0');
    expect(text('gA==', 0)).toBe('-128');
    expect(text('AIA=', 0)).toBe('128');
    expect(text('Bw==', -2)).toBe('700');
    expect(text('A6DJIHXA2/O4rLxfls4/CtI=', 2)).toBe('12345678901234567890123456789012345678.90');
    expect(base64Bytes('EtaH!')).toBeNull();
  });
});
