import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, statfsSync } from 'node:fs';
import { appendFile, open, readdir, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeRecord } from '../core/change-record.js';
import { isSluiceError } from '../core/errors.js';
import { EmbeddedLog } from '../core/log/embedded-log.js';
import { HEADER_BYTES, Segment } from '../core/log/segment.js';
import { connectPg, dropDatabase, freshDatabase, waitFor } from './helpers/postgres.js';
import { SluiceProcess } from './helpers/sluice-process.js';

/**
 * The disk under Sluice fills up: the log's and the store's own tmpfs mounts are filled with a
 * filler file, so their writes fail with ENOSPC for real. Sluice must stay up, say so with
 * SLUICE_DISK_FULL, keep nothing half-written, and carry on by itself once the filler is gone.
 */

const DB = 'sluice_t_diskfull';
const SOURCE = 'diskfull';
const MB = 1024 * 1024;
// DuckDB's default checkpoint_threshold: a commit that takes the WAL past it checkpoints.
const DUCKDB_CHECKPOINT_WAL = 16 * MB;

const root = mkdtempSync(join(tmpdir(), 'sluice-diskfull-'));
const mounts: string[] = [];

function mountTmpfs(dir: string, size: string): void {
  mkdirSync(dir, { recursive: true });
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir]);
  mounts.push(dir);
}

function freeBytes(dir: string): number {
  const s = statfsSync(dir);
  return s.bavail * s.bsize;
}

/** Takes all the free space of `dir`'s filesystem but `leave` bytes; returns the filler's path. */
async function fill(dir: string, leave = 0): Promise<string> {
  const path = join(dir, `filler-${Date.now()}`);
  const f = await open(path, 'w');
  try {
    let want = Math.max(0, freeBytes(dir) - leave);
    const chunk = Buffer.alloc(MB, 0xaa);
    for (let size = MB; size >= 512 && want > 0; ) {
      try {
        const n = Math.min(size, want);
        const { bytesWritten } = await f.write(chunk, 0, n);
        want -= bytesWritten;
        if (bytesWritten < n) size = Math.floor(size / 2);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
        size = Math.floor(size / 2);
      }
    }
  } finally {
    await f.close();
  }
  return path;
}

afterAll(() => {
  for (const m of mounts.reverse()) {
    try {
      execFileSync('umount', ['-l', m]);
    } catch {
      // Best effort: a mount that will not go leaves only an empty tmpfs behind.
    }
  }
  rmSync(root, { recursive: true, force: true });
});

describe('the disk under the log fills up (EmbeddedLog alone)', () => {
  it('refuses appends with SLUICE_DISK_FULL, keeps no byte of them, and takes appends again once space is freed', async () => {
    const dir = join(root, 'unit');
    mountTmpfs(dir, '2m');
    const logDir = join(dir, 'log');
    const log = await EmbeddedLog.open({ dir: logDir, segmentBytes: 256 * 1024 });
    const filler = await fill(dir, 600 * 1024);
    const payload = (i: number): Buffer => Buffer.alloc(10_000 + (i % 7) * 1000, i & 0xff);
    let appended = 0;
    let refused: unknown = null;
    let failedAt = -1;
    for (let i = 0; i < 1000 && !refused; i++) {
      await log.append([payload(i), payload(i + 1000)]).then(
        () => (appended += 2),
        (e: unknown) => ((refused = e), (failedAt = i)),
      );
    }
    // The error a person can act on: what, where, and that it passes.
    expect(isSluiceError(refused, 'SLUICE_DISK_FULL'), String(refused)).toBe(true);
    const err = refused as Error & { retriable: boolean };
    expect(err.retriable).toBe(true);
    expect(err.message).toContain(logDir);
    expect(err.message).toContain('no space left');
    expect(log.writeError?.code).toBe('SLUICE_DISK_FULL');
    expect(log.endOffset).toBe(appended);

    // Still full: refused again, still nothing half-written.
    await expect(log.append([payload(failedAt), payload(failedAt + 1000)])).rejects.toMatchObject({ code: 'SLUICE_DISK_FULL' });

    // On disk the segments end exactly where the last whole record does: a torn record would
    // otherwise sit at the end, waiting for the next open (or append) to trip over it.
    const sizes = await segmentSizes(logDir);
    let expectedBytes = 0;
    for (let i = 0; i < appended / 2; i++) expectedBytes += 2 * HEADER_BYTES + payload(i).length + payload(i + 1000).length;
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(expectedBytes);

    // Space returns: the same log object takes appends again, no reopen needed.
    rmSync(filler);
    const at = await log.append([payload(7777)]);
    expect(at).toBe(appended);
    expect(log.writeError).toBeNull();
    await log.close();

    // What a kill between a partial write and its cut would leave: the start of a record. The
    // next open must cut it off, not read it back.
    const names = (await readdir(logDir)).filter((n) => n.endsWith('.log')).sort();
    const frame = Segment.encode([payload(8888)]);
    await appendFile(join(logDir, names[names.length - 1]), frame.subarray(0, frame.length - 100));
    const warnings: string[] = [];
    const again = await EmbeddedLog.open({ dir: logDir, logger: { warn: (_o, msg) => warnings.push(msg) } });
    try {
      expect(warnings).toHaveLength(1);
      expect(again.endOffset).toBe(appended + 1);
      expect(await again.append([payload(9999)])).toBe(appended + 1);
      const read: Buffer[] = [];
      for (let o = 0; o < again.endOffset; ) {
        const page = await again.read(o);
        read.push(...page.map((r) => r.payload));
        o += page.length;
      }
      for (let i = 0; i < appended / 2; i++) {
        expect(read[2 * i].equals(payload(i))).toBe(true);
        expect(read[2 * i + 1].equals(payload(i + 1000))).toBe(true);
      }
      expect(read[appended].equals(payload(7777))).toBe(true);
      expect(read[appended + 1].equals(payload(9999))).toBe(true);
    } finally {
      await again.close();
    }
  });
});

async function segmentSizes(dir: string): Promise<number[]> {
  const names = (await readdir(dir)).filter((n) => n.endsWith('.log')).sort();
  return Promise.all(names.map(async (n) => (await stat(join(dir, n))).size));
}

interface SourceStatus {
  state: string;
  lastError: { code: string; message: string } | null;
  log: { endOffset: number; appliedOffset: number };
}

describe('the disk fills up under a running `sluice run`', () => {
  const logMount = join(root, 'log');
  const storeMount = join(root, 'store');
  const storePath = join(storeMount, 'store.duckdb');
  let url = '';
  let src: pg.Client;
  let sluice: SluiceProcess;
  const fillers: string[] = [];

  beforeAll(async () => {
    // Separate mounts, so the log and the store can each be the one that is full.
    mountTmpfs(logMount, '128m');
    mountTmpfs(storeMount, '64m');
    url = await freshDatabase(DB);
    src = await connectPg(url);
    await src.query(`CREATE TABLE items (id bigserial PRIMARY KEY, v text NOT NULL, n int NOT NULL)`);
    // No key: a change applied twice would show up as an extra row.
    await src.query(`CREATE TABLE events (kind text NOT NULL, seq bigint NOT NULL); ALTER TABLE events REPLICA IDENTITY FULL; CREATE SEQUENCE event_seq`);
    await src.query(`CREATE TABLE pad (id bigserial PRIMARY KEY, payload text NOT NULL)`);
    await src.query(`INSERT INTO items (v, n) SELECT 'seed' || g, g FROM generate_series(1, 2000) g`);
    sluice = await SluiceProcess.configure(join(root, 'sluice.json'), {
      sources: [{ name: SOURCE, kind: 'postgres', url, tables: ['items', 'events', 'pad'] }],
      log: { kind: 'embedded', dir: logMount, segmentBytes: 1024 * 1024 },
      store: { path: storePath },
      logging: { level: 'info' },
    });
  });

  afterAll(async () => {
    await sluice?.kill('SIGKILL');
    await src?.end().catch(() => undefined);
    await dropDatabase(DB).catch(() => undefined);
  });

  async function status(): Promise<SourceStatus> {
    const s = await sluice.status<SourceStatus>();
    expect(s).toBeDefined();
    return s!;
  }

  const query = (sql: string): Promise<unknown[][]> => sluice.query(sql);

  /** A source transaction of every kind of change, on the keyed and the key-less table. */
  async function mixedTransaction(): Promise<void> {
    await src.query(`BEGIN;
      INSERT INTO items (v, n) SELECT 'i' || g, g FROM generate_series(1, 30) g;
      UPDATE items SET n = n + 1, v = v || '+' WHERE id IN (SELECT id FROM items ORDER BY random() LIMIT 10);
      DELETE FROM items WHERE id IN (SELECT id FROM items ORDER BY random() LIMIT 3);
      INSERT INTO events (kind, seq) SELECT 'ins', nextval('event_seq') FROM generate_series(1, 5);
      UPDATE events SET kind = 'upd' WHERE seq IN (SELECT seq FROM events WHERE kind = 'ins' ORDER BY random() LIMIT 2);
      DELETE FROM events WHERE seq IN (SELECT seq FROM events WHERE kind <> 'mark' ORDER BY random() LIMIT 1);
      COMMIT`);
  }

  /** About `bytes` of new rows in one transaction: what makes the store's WAL grow. */
  async function bulkTransaction(bytes: number): Promise<void> {
    await src.query(`INSERT INTO pad (payload) SELECT md5(g::text || random()::text) || repeat('p', 468) FROM generate_series(1, ${Math.ceil(bytes / 500)}) g`);
  }

  /** Commits a marker row and waits until the replica has it: everything before it is applied. */
  async function mark(): Promise<string> {
    const { rows } = await src.query(`INSERT INTO events (kind, seq) VALUES ('mark', nextval('event_seq')) RETURNING seq::text`);
    return rows[0].seq as string;
  }

  async function caughtUp(timeoutMs = 60_000): Promise<void> {
    const seq = await mark();
    await waitFor(`replica to apply mark ${seq}`, async () => (await query(`SELECT count(*) FROM ${SOURCE}.events WHERE kind = 'mark' AND seq = ${seq}`).catch(() => [[0]]))[0][0] === 1, timeoutMs)
      .catch((e: Error) => {
        throw new Error(`${e.message}\n${sluice.stderr.slice(-4000)}`);
      });
  }

  /** Row for row against the source: keyed tables by key, the key-less one counted per row. */
  async function expectReplicaEqualsSource(): Promise<void> {
    await caughtUp();
    const sorted = (rows: unknown[][]): string[] => rows.map((r) => JSON.stringify(r)).sort();
    const pgRows = async (sql: string): Promise<unknown[][]> => (await src.query({ text: sql, rowMode: 'array' })).rows;
    const items = `SELECT id::VARCHAR, v, n::VARCHAR FROM items`;
    const events = `SELECT kind, seq::VARCHAR, count(*)::VARCHAR FROM events GROUP BY kind, seq`;
    const pad = `SELECT count(*)::VARCHAR, coalesce(sum(length(payload)), 0)::VARCHAR, coalesce(max(id), 0)::VARCHAR FROM pad`;
    const fromStore = {
      items: sorted(await query(items.replace('FROM items', `FROM ${SOURCE}.items`))),
      events: sorted(await query(events.replace('FROM events', `FROM ${SOURCE}.events`))),
      pad: await query(pad.replace('FROM pad', `FROM ${SOURCE}.pad`)),
    };
    const fromSource = { items: sorted(await pgRows(items)), events: sorted(await pgRows(events)), pad: await pgRows(pad) };
    expect(fromStore.items.length).toBe(fromSource.items.length);
    expect(fromStore.items).toEqual(fromSource.items);
    // A doubled change to the key-less table shows up here as a count of 2.
    expect(fromStore.events).toEqual(fromSource.events);
    expect(fromStore.pad).toEqual(fromSource.pad);
  }

  async function waitForDiskFull(path: string, write: () => Promise<void>): Promise<SourceStatus> {
    let last: SourceStatus | null = null;
    await waitFor(`SLUICE_DISK_FULL naming ${path}`, async () => {
      await write();
      last = await status();
      return last.lastError?.code === 'SLUICE_DISK_FULL' && last.lastError.message.includes(path);
    }, 120_000).catch((e: Error) => {
      throw new Error(`${e.message}; last status ${JSON.stringify(last)}\n${sluice.stderr.slice(-4000)}`);
    });
    return last!;
  }

  function logged(): { msg?: string; err?: { code?: string } }[] {
    return sluice.stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { msg?: string; err?: { code?: string } });
  }

  function loggedCodes(): string[] {
    return logged().flatMap((l) => (l.err?.code ? [l.err.code] : []));
  }

  function expectAlive(): void {
    expect(sluice.child?.exitCode).toBeNull();
    expect(sluice.child?.signalCode).toBeNull();
  }

  it('streams, and with the log disk full stays up, reports it, and resumes by itself once space returns', async () => {
    sluice.start();
    await waitFor('streaming', async () => (await status().catch(() => null))?.state === 'streaming', 60_000);
    for (let i = 0; i < 20; i++) await mixedTransaction();
    await expectReplicaEqualsSource();

    fillers.push(await fill(logMount));
    const s = await waitForDiskFull(logMount, mixedTransaction);
    expect(s.lastError!.message).toContain('no space left');
    for (let i = 0; i < 10; i++) await mixedTransaction();
    // Up, and answering: queries read the store, which the full log disk does not touch.
    expectAlive();
    expect(await query(`SELECT count(*) > 0 FROM ${SOURCE}.items`)).toEqual([[true]]);
    expect(loggedCodes()).toContain('SLUICE_DISK_FULL');

    rmSync(fillers.pop()!);
    await expectReplicaEqualsSource();
    expectAlive();
    expect((await status()).lastError).toBeNull();
  }, 240_000);

  it('with the store disk full (a failed checkpoint included) stays up, reports it, and resumes by itself', async () => {
    // Brings the store's WAL close below the size at which a commit checkpoints, so that with
    // the disk then nearly full a commit still fits in the WAL but its checkpoint does not.
    const wal = `${storePath}.wal`;
    const walSize = (): number => (existsSync(wal) ? statSync(wal).size : 0);
    for (let i = 0; i < 200 && !(walSize() > DUCKDB_CHECKPOINT_WAL - 5 * MB && walSize() < DUCKDB_CHECKPOINT_WAL - 3 * MB); i++) {
      await bulkTransaction(walSize() < DUCKDB_CHECKPOINT_WAL - 8 * MB ? 2 * MB : 300_000);
      await caughtUp();
    }
    const before = walSize();
    expect(before).toBeGreaterThan(DUCKDB_CHECKPOINT_WAL - 5 * MB);

    // Then batches of about 100 KB, one at a time: the commit that takes the WAL past the
    // threshold is written to the WAL, and the checkpoint after it fails. DuckDB reports that
    // durable commit as failed; applying it again would double its rows in `events`.
    fillers.push(await fill(storeMount, DUCKDB_CHECKPOINT_WAL - before + 2 * MB));
    const s = await waitForDiskFull(storeMount, async () => {
      await bulkTransaction(100_000);
      await mixedTransaction();
      const seq = await mark();
      await waitFor('the store to apply or refuse a batch', async () => {
        if ((await status()).lastError?.code === 'SLUICE_DISK_FULL') return true;
        return (await query(`SELECT count(*) FROM ${SOURCE}.events WHERE kind = 'mark' AND seq = ${seq}`).catch(() => [[0]]))[0][0] === 1;
      }, 60_000);
    });
    expect(s.lastError!.message).toContain('no space left');
    expect(s.lastError!.message).toContain(storePath);
    for (let i = 0; i < 5; i++) await mixedTransaction();
    expectAlive();
    // DuckDB gives up on a database whose checkpoint failed; the store attaches it again, and
    // queries answer again while the disk is still full.
    await waitFor('queries to answer on a full store disk', async () => (await query(`SELECT count(*) > 0 FROM ${SOURCE}.items`).catch(() => null))?.[0]?.[0] === true, 60_000);
    expect(loggedCodes()).toContain('SLUICE_DISK_FULL');
    expect(logged().some((l) => l.msg === 'DuckDB gave up on the store after a failed write; attached it again')).toBe(true);

    rmSync(fillers.pop()!);
    await expectReplicaEqualsSource();
    expectAlive();
    expect((await status()).lastError).toBeNull();
  }, 300_000);

  it('killed (SIGKILL) while both disks are full, restarted once space returns: no corruption, replica equals source', async () => {
    fillers.push(await fill(logMount), await fill(storeMount));
    await waitForDiskFull(logMount, mixedTransaction);
    for (let i = 0; i < 10; i++) await mixedTransaction();
    await sluice.kill('SIGKILL');
    for (let i = 0; i < 10; i++) await mixedTransaction();
    while (fillers.length) rmSync(fillers.pop()!);

    sluice.start();
    await waitFor('streaming', async () => (await status().catch(() => null))?.state === 'streaming', 60_000);
    await expectReplicaEqualsSource();
    await sluice.kill('SIGTERM');

    // The log holds every transaction once, in commit order, and reads back clean to its end.
    const log = await EmbeddedLog.open({ dir: join(logMount, SOURCE) });
    try {
      const positions: bigint[] = [];
      for (let at = log.startOffset; at < log.endOffset; ) {
        const records = await log.read(at);
        for (const r of records) {
          const h = decodeRecord(r.payload).header;
          if (h.kind === 'changes' && h.position) positions.push(lsn(h.position.lsn));
        }
        at = records[records.length - 1].offset + 1;
      }
      expect(positions.length).toBeGreaterThan(50);
      for (let i = 1; i < positions.length; i++) expect(positions[i] > positions[i - 1]).toBe(true);
    } finally {
      await log.close();
    }
  }, 240_000);
});

function lsn(s: string): bigint {
  const [hi, lo] = s.split('/');
  return (BigInt(`0x${hi}`) << 32n) | BigInt(`0x${lo}`);
}
