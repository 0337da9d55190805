import { describe, expect, it } from 'vitest';
import { type SchemaPart, encodeRecord } from '../core/change-record.js';
import { debeziumMessages } from '../core/log/kafka/debezium-topics.js';

/** What the Kafka log writes to the per-table topics: pure, so it runs without a broker. */
describe('Debezium topics written by the Kafka log', () => {
  const schema: SchemaPart = {
    kind: 'schema', table: 'orders', connector: 'postgresql', sourceDb: 'shop', sourceSchema: 'public', sourceTable: 'orders', identity: 'key', bytes: 0,
    columns: [
      { name: 'id', sourceType: 'int4', storeType: 'INTEGER', conversion: 'cast', key: true },
      { name: 'status', sourceType: 'text', storeType: 'VARCHAR', conversion: 'cast', key: false },
    ],
  };

  it('keys each event by its primary key, names topics like Debezium, and follows a delete with a tombstone', () => {
    const body = Buffer.from('c,1,new\nu,1,paid\nd,1,paid\n');
    const record = encodeRecord(
      { kind: 'changes', source: 'shop', snapshot: false, capturedMs: 5, position: { lsn: '0/10', tsMs: 4 }, parts: [schema, { kind: 'rows', table: 'orders', rows: 3, bytes: body.length }] },
      [body],
    );
    const schemas = new Map<string, SchemaPart>();
    const topics = debeziumMessages('sluice', 'shop', [record], schemas);
    expect([...topics.keys()]).toEqual(['sluice.shop.public.orders']);
    const messages = topics.get('sluice.shop.public.orders')!;
    expect(messages.map((m) => m.key)).toEqual(['{"id":1}', '{"id":1}', '{"id":1}', '{"id":1}']);
    const values = messages.map((m) => (m.value === null ? null : JSON.parse(String(m.value))));
    expect(values.map((v) => v?.op ?? null)).toEqual(['c', 'u', 'd', null]);
    expect(values[1].after).toMatchObject({ id: 1, status: 'paid' });
    expect(values[2].before).toMatchObject({ id: 1 });
    expect(values[0].source).toMatchObject({ schema: 'public', table: 'orders', lsn: '0/10' });
    // The shape learned from the record is kept for the next append.
    expect(schemas.get('orders')).toEqual(schema);
  });

  it('skips records without changes (snapshot markers)', () => {
    const marker = encodeRecord({ kind: 'snapshot-begin', source: 'shop', tables: ['orders'], lsn: '0/1' });
    expect(debeziumMessages('sluice', 'shop', [marker], new Map()).size).toBe(0);
  });
});
