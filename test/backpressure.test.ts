import { readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeRecord, pieceOf } from '../core/change-record.js';
import { EmbeddedLog } from '../core/log/embedded-log.js';
import { connectMysqlTest, dropMysqlDatabase, freshMysqlDatabase } from './helpers/mysql.js';
import { connectPg, dropDatabase, freshDatabase, waitFor } from './helpers/postgres.js';
import { SluiceProcess } from './helpers/sluice-process.js';
import { startSluice, tempDir } from './helpers/sluice.js';

/** Rows of the one big source transaction, ~400 bytes each: ~1.2 GB of encoded rows. */
const ROWS = 3_000_000;
const PAD_CHARS = 384;
const TXN_BYTES = ROWS * PAD_CHARS;

/** Peak resident set of a live process, in bytes. */
function peakRss(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m![1]) * 1024;
}

function dirBytes(dir: string): number {
  try {
    return readdirSync(dir).reduce((n, f) => n + statSync(join(dir, f)).size, 0);
  } catch {
    return 0;
  }
}

interface Scenario {
  readonly source: Record<string, unknown> & { name: string };
  /** Commits ROWS rows into `big` in ONE source transaction. */
  bigTransaction(): Promise<void>;
  /** count(*), count(DISTINCT id), sum(length(pad)) of `big` at the source. */
  sourceFacts(): Promise<string[]>;
}

/**
 * Runs Sluice as a child process over one source transaction of ~1.2 GB, SIGKILLs it once some
 * pieces of that transaction are in the log but not the last one, restarts it, and checks:
 * the restarted process applies the transaction exactly once (the key-less table would show a
 * doubled row), no query ever sees part of it, and neither process's peak RSS comes near the
 * transaction's size.
 */
async function runScenario(s: Scenario): Promise<void> {
  const dir = tempDir('bp');
  const name = s.source.name;
  const sluice = await SluiceProcess.configure(join(dir, 'sluice.json'), {
    sources: [s.source],
    log: { kind: 'embedded', dir: join(dir, 'log') },
    store: { path: join(dir, 'store.duckdb'), memoryLimit: '128MB', threads: 2 },
    pipeline: { maxBatchBytes: 16 * 1024 * 1024 },
    logging: { level: 'warn' },
  });
  const count = (): Promise<number | null> => sluice.query(`SELECT count(*)::BIGINT FROM ${name}.big`).then((r) => Number(r[0][0]), () => null);
  try {
    const child = sluice.start();
    await waitFor('the seed rows', async () => (await count()) === 10, 60_000);
    const logDir = join(dir, 'log', name);
    const seeded = dirBytes(logDir);
    await s.bigTransaction();
    // A few pieces in, far from all of them.
    await waitFor('pieces in the log', async () => dirBytes(logDir) - seeded > 64 * 1024 * 1024, 120_000);
    const firstPeak = peakRss(child.pid!);
    await sluice.kill('SIGKILL');

    const log = await EmbeddedLog.open({ dir: logDir });
    const [tail] = await log.read(log.endOffset - 1, 1);
    const piece = pieceOf(decodeRecord(tail.payload).header);
    await log.close();
    // The crash must have come between the pieces for this test to mean anything.
    expect(piece?.last).toBe(false);

    const restarted = sluice.start();
    const seen = new Set<number>();
    await waitFor('the whole transaction', async () => {
      const n = await count();
      if (n !== null) seen.add(n);
      return n === ROWS + 10;
    }, 300_000).catch((e: Error) => {
      throw new Error(`${e.message}\n${sluice.stderr}`);
    });
    const secondPeak = peakRss(restarted.pid!);
    // Before the transaction, or all of it: never a part.
    expect([...seen].filter((n) => n !== 10 && n !== ROWS + 10)).toEqual([]);

    const facts = await sluice.query(`SELECT count(*)::VARCHAR, count(DISTINCT id)::VARCHAR, sum(length(pad))::VARCHAR FROM ${name}.big`);
    expect(facts[0]).toEqual(await s.sourceFacts());
    await sluice.kill('SIGTERM');

    // Bounded by the pieces, queues and DuckDB's memory limit, not by the transaction's size.
    process.stderr.write(`${name}: transaction ${TXN_BYTES} B, peak RSS ${firstPeak} B before the kill, ${secondPeak} B after the restart\n`);
    // The restart reads the whole transaction again (and rolls back the dangling pieces): its
    // peak is the one that covers a whole transaction going through.
    expect(firstPeak).toBeLessThan(TXN_BYTES * 0.75);
    expect(secondPeak).toBeLessThan(TXN_BYTES * 0.75);
  } finally {
    await sluice.kill('SIGKILL');
    // Gigabytes of log and store per run: left behind, repeated runs fill the disk.
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('backpressure: a transaction far bigger than a piece', () => {
  afterAll(async () => {
    await dropDatabase('sluice_t_bp');
    await dropMysqlDatabase('sluice_t_bp_my');
  });

  it('Postgres', async () => {
    const url = await freshDatabase('sluice_t_bp');
    const src = await connectPg(url);
    // No key: a row applied twice shows up as an extra row.
    await src.query(`CREATE TABLE big (id bigint NOT NULL, pad text NOT NULL); ALTER TABLE big REPLICA IDENTITY FULL`);
    await src.query(`INSERT INTO big SELECT g, repeat(md5(g::text), ${PAD_CHARS / 32}) FROM generate_series(1, 10) g`);
    await runScenario({
      source: { name: 'bp', kind: 'postgres', url, tables: ['big'] },
      bigTransaction: async () => {
        await src.query(`INSERT INTO big SELECT g, repeat(md5(g::text), ${PAD_CHARS / 32}) FROM generate_series(11, ${ROWS + 10}) g`);
      },
      sourceFacts: async () =>
        Object.values((await src.query(`SELECT count(*)::text a, count(DISTINCT id)::text b, sum(length(pad))::text c FROM big`)).rows[0]) as string[],
    });
    await src.end();
  }, 600_000);

  it('MySQL/MariaDB', async () => {
    const url = await freshMysqlDatabase('sluice_t_bp_my');
    const src = await connectMysqlTest('sluice_t_bp_my');
    await src.query(`CREATE TABLE big (id bigint NOT NULL, pad text NOT NULL)`);
    await src.query(`INSERT INTO big SELECT seq, REPEAT(MD5(seq), ${PAD_CHARS / 32}) FROM seq_1_to_10`);
    await runScenario({
      source: { name: 'bpmy', kind: 'mysql', url, tables: ['big'] },
      bigTransaction: async () => {
        await src.query(`INSERT INTO big SELECT seq, REPEAT(MD5(seq), ${PAD_CHARS / 32}) FROM seq_11_to_${ROWS + 10}`);
      },
      sourceFacts: async () => {
        const [rows] = await src.query(`SELECT CAST(count(*) AS CHAR) a, CAST(count(DISTINCT id) AS CHAR) b, CAST(sum(length(pad)) AS CHAR) c FROM big`);
        return Object.values((rows as Record<string, string>[])[0]);
      },
    });
    await src.end();
  }, 600_000);
});

describe('backpressure: a slow store', () => {
  afterAll(async () => {
    await dropDatabase('sluice_t_bp_slow');
  });

  it('holds the log to pipeline.maxBacklogBytes past what the store has read, and loses nothing', async () => {
    const url = await freshDatabase('sluice_t_bp_slow');
    const src = await connectPg(url);
    await src.query(`CREATE TABLE t (id bigint PRIMARY KEY, pad text NOT NULL)`);
    // One record per store transaction: the store applies far slower than four writers commit.
    const dir = tempDir('bpslow');
    const sl = await startSluice({ name: 'bpslow', kind: 'postgres', url, tables: ['t'] }, dir, {
      pipeline: { maxBatchBytes: 1024, maxBacklogBytes: 1024 * 1024 },
    });
    try {
      await waitFor('streaming', async () => ((await (await fetch(`${sl.http}/v1/sources`)).json()) as any).sources[0].state === 'streaming');
      let peak = 0;
      let sampling = true;
      const sampler = (async () => {
        while (sampling) {
          const s = ((await (await fetch(`${sl.http}/v1/sources`)).json()) as any).sources[0];
          peak = Math.max(peak, s.log.backlogBytes);
          await new Promise((r) => setTimeout(r, 20));
        }
      })();
      // 4 writers x 200 transactions of 100 rows of ~1 KB: ~80 MB.
      const writers = await Promise.all([0, 1, 2, 3].map(() => connectPg(url)));
      await Promise.all(writers.map(async (w, n) => {
        for (let i = 0; i < 200; i++) {
          const from = (n * 200 + i) * 100;
          await w.query(`INSERT INTO t SELECT g, repeat(md5(g::text), 32) FROM generate_series(${from + 1}, ${from + 100}) g`);
        }
        await w.end();
      }));
      const expected = (await src.query(`SELECT count(*)::text n, sum(length(pad))::text b FROM t`)).rows[0];
      let got: unknown[] = [];
      await waitFor('the store to catch up', async () => {
        got = (await sl.query(`SELECT count(*)::VARCHAR, sum(length(pad))::VARCHAR FROM bpslow.t`))[0];
        return JSON.stringify(got) === JSON.stringify([expected.n, expected.b]);
      }, 240_000).catch(() => undefined);
      sampling = false;
      await sampler;
      expect(got).toEqual([expected.n, expected.b]);
      process.stderr.write(`bpslow: ~80 MB written, log backlog peak ${peak} B with maxBacklogBytes 1 MiB\n`);
      // The store was behind (the bound mattered) ...
      expect(peak).toBeGreaterThan(1024 * 1024);
      // ... and the log stayed within it, plus what the connector had decoded before its appends
      // started waiting (at most its 16 MB pending bound) and one transaction.
      expect(peak).toBeLessThan(24 * 1024 * 1024);
    } finally {
      await sl.stop();
      rmSync(dir, { recursive: true, force: true });
      await src.end();
    }
  }, 300_000);
});
