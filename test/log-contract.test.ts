import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeRecord } from '../core/change-record.js';
import { validateConfig } from '../core/config.js';
import { createLogger } from '../core/logger.js';
import type { ChangeLog } from '../core/log/change-log.js';
import { EmbeddedLog } from '../core/log/embedded-log.js';
import { KafkaLog } from '../core/log/kafka/kafka-log.js';

/**
 * What every log must do, run against each implementation. Offsets are compared by order, not
 * by value: Kafka's offsets have gaps (a transaction's commit marker takes one), and the
 * pipeline only ever asks for "the next record at or after".
 */
interface LogFactory {
  /** Opens the log named `name`; the same name opens the same log again. */
  open(name: string): Promise<ChangeLog>;
  cleanUp(): Promise<void>;
}

const logger = createLogger(process.env.SLUICE_TEST_LOG ?? 'silent');

function embedded(): LogFactory {
  let dir: string | null = null;
  return {
    async open(name) {
      dir ??= await mkdtemp(join(tmpdir(), 'sluice-contract-'));
      return EmbeddedLog.open({ dir: join(dir, name), segmentBytes: 4096, fsync: 'always', fsyncIntervalMs: 200, retentionBytes: null, retentionMs: null, logger });
    },
    cleanUp: async () => {
      if (dir) await rm(dir, { recursive: true, force: true });
    },
  };
}

function kafka(brokers: string[]): LogFactory {
  // A fresh prefix per run: topics from earlier runs never leak into this one.
  const prefix = `sluice-contract-${randomUUID().slice(0, 8)}`;
  const config = validateConfig({ sources: [{ name: 'x', kind: 'postgres', url: 'postgres://h/d', tables: ['t'] }], log: { kind: 'kafka', brokers, topicPrefix: prefix, replicationFactor: 1 } }).log;
  return {
    open: (name) => KafkaLog.open({ config: config as never, source: name, logger, schemas: new Map() }),
    cleanUp: async () => undefined,
  };
}

/** A valid change record whose body says which one it is (the Kafka log decodes what it is given). */
function record(i: number, padding = 0): Buffer {
  return encodeRecord({ kind: 'changes', source: 'contract', snapshot: false, capturedMs: i, parts: [] }, [Buffer.alloc(padding, i & 0xff)]);
}

const capturedMs = (payload: Buffer): number => JSON.parse(payload.toString('utf8', 4, 4 + payload.readUInt32BE(0))).capturedMs;

async function readAll(log: ChangeLog, from = log.startOffset): Promise<{ offset: number; i: number }[]> {
  const out: { offset: number; i: number }[] = [];
  let next = from;
  while (next < log.endOffset) {
    const batch = await log.read(next, 64 * 1024);
    if (batch.length === 0) break;
    for (const r of batch) out.push({ offset: r.offset, i: capturedMs(r.payload) });
    next = batch[batch.length - 1].offset + 1;
  }
  return out;
}

const brokers = process.env.KAFKA_BROKERS?.split(',').filter(Boolean) ?? [];
const implementations: [string, () => LogFactory, boolean][] = [
  ['embedded log', embedded, true],
  [brokers.length ? `Kafka log at ${brokers.join(',')}` : 'Kafka log (skipped: set KAFKA_BROKERS=host:port to run; no broker on this machine)', () => kafka(brokers), brokers.length > 0],
];

for (const [name, factory, enabled] of implementations) {
  describe.runIf(enabled)(`log contract: ${name}`, () => {
    // Made when the suite runs: a skipped suite's body is still collected.
    let f: LogFactory;
    beforeAll(() => {
      f = factory();
    });
    const open: ChangeLog[] = [];
    const openLog = async (n: string): Promise<ChangeLog> => {
      const log = await f.open(n);
      open.push(log);
      return log;
    };

    afterAll(async () => {
      await Promise.all(open.map((l) => l.close().catch(() => undefined)));
      await f.cleanUp();
    });

    it('appends in order and reads back from any record', async () => {
      const log = await openLog('order');
      expect(log.endOffset).toBe(log.startOffset);
      const first = await log.append([record(1), record(2), record(3)]);
      await log.append([record(4)]);
      await log.append([record(5), record(6)]);
      const all = await readAll(log, first);
      expect(all.map((r) => r.i)).toEqual([1, 2, 3, 4, 5, 6]);
      for (let k = 1; k < all.length; k++) expect(all[k].offset).toBeGreaterThan(all[k - 1].offset);
      expect(log.endOffset).toBe(all[all.length - 1].offset + 1);
      const fromFourth = await readAll(log, all[3].offset);
      expect(fromFourth.map((r) => r.i)).toEqual([4, 5, 6]);
    });

    it('returns at least one record, and no more than about maxBytes', async () => {
      const log = await openLog('bytes');
      const first = await log.append(Array.from({ length: 20 }, (_, k) => record(k, 1000)));
      const some = await log.read(first, 3000);
      expect(some.length).toBeGreaterThanOrEqual(1);
      expect(some.length).toBeLessThan(20);
      const one = await log.read(first, 1);
      expect(one.map((r) => capturedMs(r.payload))).toEqual([0]);
    });

    it('replays the same records after a clean close and after an unclean stop', async () => {
      const a = await openLog('replay');
      await a.append([record(10), record(11)]);
      await a.close();
      const b = await openLog('replay');
      expect((await readAll(b)).map((r) => r.i)).toEqual([10, 11]);
      await b.append([record(12)]);
      // No close: as if the process died right after the append resolved.
      const c = await openLog('replay');
      expect((await readAll(c)).map((r) => r.i)).toEqual([10, 11, 12]);
    });

    it('wakes a reader waiting at the end when a record arrives, and lets an abort end the wait', async () => {
      const log = await openLog('wait');
      const end = log.endOffset;
      let woke = false;
      const waiting = log.waitFor(end).then(() => (woke = true));
      await new Promise((r) => setTimeout(r, 50));
      expect(woke).toBe(false);
      await log.append([record(20)]);
      await waiting;
      expect(woke).toBe(true);
      const ac = new AbortController();
      const aborted = log.waitFor(log.endOffset + 5, ac.signal);
      ac.abort();
      await aborted;
    });

    it('never drops a record at or after the offset a consumer has yet to read', async () => {
      const log = await openLog('retention');
      const first = await log.append(Array.from({ length: 50 }, (_, k) => record(k, 500)));
      const all = await readAll(log, first);
      const keepFrom = all[30].offset;
      await log.enforceRetention(keepFrom);
      expect(log.startOffset).toBeLessThanOrEqual(keepFrom);
      expect((await readAll(log, keepFrom)).map((r) => r.i)).toEqual(all.slice(30).map((r) => r.i));
    });
  });
}
