import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { type ChangesHeader, decodeRecord } from '../core/change-record.js';
import { parseCsv } from '../core/envelope.js';
import { TransactionBuilder } from '../core/transaction-builder.js';
import { PgoutputDecoder } from '../connectors/postgres/pgoutput-decoder.js';
import type { CapturedTable } from '../core/captured-table.js';
import { TypeCatalog } from '../connectors/postgres/type-catalog.js';

/** Captured from Postgres 15 by test/fixtures/capture-pgoutput.ts. */
const messages = (JSON.parse(readFileSync(new URL('./fixtures/pgoutput.json', import.meta.url), 'utf8')) as { hex: string }[]).map((m) =>
  Buffer.from(m.hex, 'hex'),
);

const types = TypeCatalog.of([
  [23, 'integer', 0],
  [25, 'text', 0],
  [1700, 'numeric', 0],
  [1009, 'text[]', 25],
]);
const items: CapturedTable = {
  connector: 'postgresql', database: 'db', schema: 'public', name: 'items', replicaName: 'items', identity: 'key', keyColumns: ['id'],
  columns: [],
};

function decodeAll(): { header: ChangesHeader; parts: { kind: string; rows: (string | null)[][] }[] }[] {
  const builder = new TransactionBuilder('fx');
  const decoder = new PgoutputDecoder(new Map([['public.items', items]]), types, builder);
  const out = [];
  for (const m of messages) {
    const txn = decoder.decode(m);
    if (!txn?.record) continue;
    const rec = decodeRecord(txn.record);
    const header = rec.header as ChangesHeader;
    let at = 0;
    const parts = header.parts.map((p) => {
      const body = rec.body.subarray(at, at + p.bytes);
      at += p.bytes;
      return { kind: p.kind, rows: p.bytes ? parseCsv(body) : [] };
    });
    out.push({ header, parts });
  }
  return out;
}

describe('pgoutput decoder (captured bytes)', () => {
  const txns = decodeAll();

  it('yields one record per transaction with its commit position', () => {
    expect(txns).toHaveLength(3);
    for (const t of txns) {
      expect(t.header.position?.lsn).toMatch(/^[0-9A-F]+\/[0-9A-F]+$/);
      expect(t.header.position?.txId).toBeGreaterThan(0);
      expect(t.header.position?.tsMs).toBeGreaterThan(Date.parse('2020-01-01'));
    }
  });

  it('describes the table first, with Postgres types mapped for the store', () => {
    const schema = txns[0].header.parts[0];
    expect(schema).toMatchObject({ kind: 'schema', table: 'items', identity: 'key' });
    if (schema.kind !== 'schema') throw new Error('expected a schema part');
    expect(schema.columns.map((c) => [c.name, c.sourceType, c.storeType, c.key])).toEqual([
      ['id', 'integer', 'INTEGER', true],
      ['name', 'text', 'VARCHAR', false],
      ['price', 'numeric(8,2)', 'DECIMAL(8,2)', false],
      ['tags', 'text[]', 'VARCHAR[]', false],
      ['doc', 'text', 'VARCHAR', false],
    ]);
  });

  it('copies values byte for byte, quoting, NULLs and arrays included', () => {
    const rows = txns[0].parts[1].rows;
    expect(rows[0]).toEqual(['c', '1', 'say "hi", ok', '9.99', '["a","b c",null]', null]);
    expect(rows[1].slice(0, 5)).toEqual(['c', '2', null, '0.50', null]);
    expect(rows[1][5]).toBe('x'.repeat(10000));
  });

  it('turns an update without its unchanged TOASTed value into a patch, and a key change into delete + create', () => {
    const [patch, moves] = txns[1].parts;
    expect(patch.kind).toBe('patch');
    expect(txns[1].header.parts[0]).toMatchObject({ kind: 'patch', unchanged: [4] });
    // All columns, the left-out one NULL, then the old key.
    expect(patch.rows).toEqual([['u', '2', 'renamed', '0.50', null, null, '2']]);
    expect(moves.kind).toBe('rows');
    expect(moves.rows.map((r) => [r[0], r[1]])).toEqual([['d', '1'], ['c', '3'], ['d', '3']]);
  });

  it('passes truncate on', () => {
    expect(txns[2].parts.map((p) => p.kind)).toEqual(['truncate']);
  });
});
