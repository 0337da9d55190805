import { describe, expect, it } from 'vitest';
import { loadConfigFile, validateConfig } from '../core/config.js';
import { CsvBatchWriter } from '../core/csv-batch-writer.js';
import { CsvRowCutter } from '../core/csv-row-cutter.js';
import { parseCsv } from '../core/envelope.js';
import { pgArrayToJson } from '../connectors/postgres/pg-array.js';

describe('CSV batches', () => {
  const awkward = ['', 'plain', 'a,b', 'say "hi"', 'line\nbreak', 'crlf\r\n', '"', '""', 'ünïcødé ✓'];

  it('writes values so that they read back exactly, NULL and empty string apart', () => {
    const w = new CsvBatchWriter(8);
    for (const v of awkward) {
      w.beginRow('c');
      w.textField(v);
      w.nullField();
      w.bytesField(Buffer.from(`x${v}y`), 1, 1 + Buffer.byteLength(v));
      w.endRow();
    }
    expect(w.rows).toBe(awkward.length);
    expect(parseCsv(w.take())).toEqual(awkward.map((v) => ['c', v, null, v]));
    expect(w.byteLength).toBe(0);
  });

  it('cuts a stream into whole rows wherever the pieces break, even inside quotes', () => {
    const w = new CsvBatchWriter();
    for (let i = 0; i < 200; i++) {
      w.beginRow('r');
      w.textField(awkward[i % awkward.length] + i);
      w.endRow();
    }
    const all = w.take();
    for (const size of [1, 3, 7, 64, all.length]) {
      const cutter = new CsvRowCutter();
      const bodies: Buffer[] = [];
      let rows = 0;
      for (let at = 0; at < all.length; at += size) {
        cutter.push(all.subarray(at, at + size));
        const chunk = cutter.take();
        if (chunk) {
          bodies.push(chunk.body);
          rows += chunk.rows;
          // Every chunk stands on its own.
          expect(parseCsv(chunk.body)).toHaveLength(chunk.rows);
        }
      }
      expect(cutter.take()).toBeNull();
      expect(rows).toBe(200);
      expect(Buffer.concat(bodies).equals(all)).toBe(true);
    }
  });
});

describe('Postgres array literals', () => {
  it.each([
    ['{1,2,NULL,-3}', 'number', '[1,2,null,-3]'],
    ['{}', 'number', '[]'],
    ['{{1,2},{3,4}}', 'number', '[[1,2],[3,4]]'],
    ['{t,f,NULL}', 'boolean', '[true,false,null]'],
    ['{a,"b c","quote\\"d","NULL",NULL,"back\\\\slash"}', false, '["a","b c","quote\\"d","NULL",null,"back\\\\slash"]'],
    ['[0:1]={7,8}', 'number', '[7,8]'],
  ] as const)('%s', (literal, bare, json) => {
    expect(pgArrayToJson(literal, bare)).toBe(json);
    expect(JSON.parse(pgArrayToJson(literal, bare))).toBeDefined();
  });

  it('refuses a malformed literal with a protocol error', () => {
    expect(() => pgArrayToJson('{1,2', 'number')).toThrow(expect.objectContaining({ code: 'SLUICE_PG_PROTOCOL' }));
  });
});

describe('configuration', () => {
  const good = { sources: [{ name: 'shop', kind: 'postgres', url: 'postgres://u@h/db', tables: ['public.orders'] }] };

  it('fills defaults, resolves paths against the config folder and freezes the result', () => {
    const cfg = validateConfig(good, '/etc/sluice');
    expect(cfg.log).toMatchObject({ kind: 'embedded', dir: '/etc/sluice/data/log', fsync: 'always' });
    expect(cfg.store.path).toBe('/etc/sluice/data/store.duckdb');
    expect(cfg.api).toMatchObject({ host: '127.0.0.1', port: 8080, pgPort: 6875 });
    expect(Object.isFrozen(cfg.sources[0])).toBe(true);
  });

  it('accepts the configuration docker-compose ships', () => {
    const cfg = loadConfigFile(new URL('../deploy/sluice.compose.yaml', import.meta.url).pathname);
    expect(cfg.sources[0]).toMatchObject({ name: 'shop', kind: 'postgres' });
    expect(cfg.api.host).toBe('0.0.0.0');
    expect(cfg.log).toMatchObject({ kind: 'kafka', brokers: ['redpanda:9092'], topicPrefix: 'sluice' });
  });

  it.each([
    [{ log: { kind: 'kafka', brokers: [] } }, 'log.brokers: list at least one broker'],
    [{ log: { kind: 'kafka', brokers: ['kafka'] } }, 'log.brokers[0]: must be "host:port"'],
    [{ log: { kind: 'kafka', brokers: ['k:9092'], sasl: { mechanism: 'gssapi', username: 'u', password: 'p' } } }, 'log.sasl.mechanism'],
    [{ sources: [{ name: 'dbz', kind: 'debezium-kafka', brokers: ['k:9092'], topics: [] }] }, 'sources[0].topics: list at least one topic'],
    [{ sources: [{ ...good.sources[0], follow: true }] }, 'sources[0].follow: following needs a shared log'],
  ])('names the bad Kafka setting: %j', (patch, message) => {
    expect(() => validateConfig({ ...good, ...patch })).toThrow(message);
  });

  it.each([
    [{ sources: [{ name: 'shop', kind: 'postgres', tables: ['t'] }] }, 'sources[0].url: required'],
    [{ sources: [{ name: 'Shop!', kind: 'postgres', url: 'postgres://h/d', tables: ['t'] }] }, 'sources[0].name: must be a lower-case SQL identifier'],
    [{ sources: [{ ...good.sources[0], tables: [] }] }, 'sources[0].tables: list at least one table'],
    [{ sources: [{ ...good.sources[0], url: 'mysql://x' }] }, 'sources[0].url: must be a postgres:// URL'],
    [{ ...good, api: { port: 70000 } }, 'api.port:'],
    [{ ...good, log: { kind: 'embedded', fsync: 'sometimes' } }, 'log.fsync:'],
    [{ ...good, extra: 1 }, '(root): unknown field(s) "extra"'],
    [{ sources: [good.sources[0], good.sources[0]] }, 'sources[1].name: duplicate source name "shop"'],
    [{ sources: [{ ...good.sources[0], name: 'models' }] }, 'sources[0].name: "models" is reserved'],
    [{}, 'sources: required'],
  ])('names the bad field: %j', (raw, message) => {
    expect(() => validateConfig(raw)).toThrow(expect.objectContaining({ code: 'SLUICE_CONFIG_INVALID', message: expect.stringContaining(message) }));
  });
});
