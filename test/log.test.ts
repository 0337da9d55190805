import { describe, it, expect, afterEach } from 'vitest';
import { spawn } from 'node:child_process';
import { appendFile, mkdtemp, open, readdir, readFile, rm, stat, truncate, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EmbeddedLog, type EmbeddedLogOptions } from '../core/log/embedded-log.js';
import { isSluiceError } from '../core/errors.js';
import { payloadFor } from './fixtures/crash-payload.js';

const here = dirname(fileURLToPath(import.meta.url));
const dirs: string[] = [];
const logs: EmbeddedLog[] = [];

afterEach(async () => {
  await Promise.all(logs.splice(0).map((l) => l.close().catch(() => undefined)));
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'sluice-log-'));
  dirs.push(d);
  return d;
}

async function openLog(options: EmbeddedLogOptions): Promise<EmbeddedLog> {
  const log = await EmbeddedLog.open(options);
  logs.push(log);
  return log;
}

function recordWarnings(): { warnings: { obj: object; msg: string }[]; logger: EmbeddedLogOptions['logger'] } {
  const warnings: { obj: object; msg: string }[] = [];
  return { warnings, logger: { warn: (obj, msg) => warnings.push({ obj, msg }) } };
}

const text = (s: string): Buffer => Buffer.from(s);
const fixed = (i: number, size = 100): Buffer => Buffer.alloc(size, i & 0xff);

async function segmentFiles(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((n) => n.endsWith('.log')).sort();
}

async function readAll(log: EmbeddedLog, from = log.startOffset): Promise<{ offset: number; payload: Buffer }[]> {
  const out: { offset: number; payload: Buffer }[] = [];
  let at = from;
  while (at < log.endOffset) {
    const page = await log.read(at, 64 * 1024);
    out.push(...page);
    at += page.length;
  }
  return out;
}

async function expectCode(p: Promise<unknown>, code: string): Promise<unknown> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(isSluiceError(err), `expected a SluiceError ${code}, got ${String(err)}`).toBe(true);
  expect((err as { code: string }).code).toBe(code);
  return err;
}

describe('EmbeddedLog basics', () => {
  it('round-trips appends with dense offsets', async () => {
    const log = await openLog({ dir: await tempDir() });
    expect(log.startOffset).toBe(0);
    expect(log.endOffset).toBe(0);
    expect(await log.read(0)).toEqual([]);
    expect(await log.append([text('a'), text('bb')])).toBe(0);
    expect(await log.append([text('ccc')])).toBe(2);
    expect(await log.append([])).toBe(3);
    expect(log.endOffset).toBe(3);
    const recs = await log.read(0);
    expect(recs.map((r) => [r.offset, r.payload.toString()])).toEqual([
      [0, 'a'],
      [1, 'bb'],
      [2, 'ccc'],
    ]);
    expect(log.sizeBytes()).toBe(3 * 8 + 6);
  });

  it('reads from the middle, returns [] at the end and rejects offsets outside the log', async () => {
    const log = await openLog({ dir: await tempDir() });
    await log.append(Array.from({ length: 10 }, (_, i) => text(`r${i}`)));
    const recs = await log.read(6);
    expect(recs.map((r) => r.offset)).toEqual([6, 7, 8, 9]);
    expect(recs[0].payload.toString()).toBe('r6');
    expect(await log.read(10)).toEqual([]);
    await expectCode(log.read(11), 'SLUICE_LOG_OFFSET_OUT_OF_RANGE');
    await expectCode(log.read(-1), 'SLUICE_LOG_OFFSET_OUT_OF_RANGE');
  });

  it('pages by maxBytes and always returns at least one record', async () => {
    const log = await openLog({ dir: await tempDir() });
    await log.append(Array.from({ length: 10 }, (_, i) => fixed(i)));
    const page = await log.read(0, 250);
    expect(page.map((r) => r.offset)).toEqual([0, 1]);
    expect((await log.read(3, 10)).map((r) => r.offset)).toEqual([3]);
    const seen: number[] = [];
    for (let at = 0; at < log.endOffset; ) {
      const p = await log.read(at, 300);
      expect(p.length).toBeGreaterThan(0);
      expect(p.length).toBeLessThanOrEqual(3);
      for (const r of p) {
        expect(r.payload.equals(fixed(r.offset))).toBe(true);
        seen.push(r.offset);
      }
      at += p.length;
    }
    expect(seen).toEqual([...Array(10).keys()]);
  });

  it('serialises concurrent appends in call order', async () => {
    const log = await openLog({ dir: await tempDir() });
    const firsts = await Promise.all(Array.from({ length: 20 }, (_, i) => log.append([text(`x${i}`), text(`y${i}`)])));
    expect(firsts).toEqual(Array.from({ length: 20 }, (_, i) => i * 2));
    const recs = await log.read(0);
    expect(recs.map((r) => r.payload.toString())).toEqual(Array.from({ length: 20 }, (_, i) => [`x${i}`, `y${i}`]).flat());
  });

  it('copies payloads at call time and rejects empty payloads', async () => {
    const log = await openLog({ dir: await tempDir() });
    const buf = text('before');
    const p = log.append([buf]);
    buf.write('AFTER!');
    await p;
    expect((await log.read(0))[0].payload.toString()).toBe('before');
    await expectCode(log.append([text('ok'), Buffer.alloc(0)]), 'SLUICE_LOG_RECORD_INVALID');
    expect(log.endOffset).toBe(1);
  });

  it('rejects invalid options', async () => {
    await expectCode(EmbeddedLog.open({ dir: await tempDir(), segmentBytes: 0 }), 'SLUICE_CONFIG_INVALID');
    await expectCode(EmbeddedLog.open({ dir: await tempDir(), fsync: 'sometimes' as never }), 'SLUICE_CONFIG_INVALID');
  });

  it('throws SLUICE_LOG_CLOSED after close', async () => {
    const log = await openLog({ dir: await tempDir() });
    await log.append([text('a')]);
    await log.close();
    await log.close();
    await expectCode(log.append([text('b')]), 'SLUICE_LOG_CLOSED');
    await expectCode(log.read(0), 'SLUICE_LOG_CLOSED');
    await expectCode(log.waitFor(5), 'SLUICE_LOG_CLOSED');
    await expectCode(log.enforceRetention(), 'SLUICE_LOG_CLOSED');
    expect(() => log.sizeBytes()).toThrow(/closed/);
  });
});

describe('EmbeddedLog segments', () => {
  it('rolls segments and reads across their boundaries', async () => {
    const dir = await tempDir();
    const log = await openLog({ dir, segmentBytes: 1000 });
    for (let i = 0; i < 50; i++) expect(await log.append([fixed(i)])).toBe(i);
    const files = await segmentFiles(dir);
    expect(files.length).toBeGreaterThan(5);
    expect(files[0]).toBe('00000000000000000000.log');
    expect(files[1]).toBe('00000000000000000009.log');
    for (const f of files) expect((await stat(join(dir, f))).size).toBeLessThanOrEqual(1000);
    const all = await log.read(0, 1 << 20);
    expect(all.map((r) => r.offset)).toEqual([...Array(50).keys()]);
    for (const r of all) expect(r.payload.equals(fixed(r.offset))).toBe(true);
    const mid = await log.read(7, 500);
    expect(mid.map((r) => r.offset)).toEqual([7, 8, 9, 10, 11]);
  });

  it('keeps records and offsets across close and reopen', async () => {
    const dir = await tempDir();
    const log = await openLog({ dir, segmentBytes: 1000 });
    for (let i = 0; i < 30; i++) await log.append([fixed(i), fixed(i + 100)]);
    await log.close();
    const again = await openLog({ dir, segmentBytes: 1000 });
    expect(again.startOffset).toBe(0);
    expect(again.endOffset).toBe(60);
    expect(await again.append([text('next')])).toBe(60);
    const all = await readAll(again);
    expect(all.length).toBe(61);
    expect(all[59].payload.equals(fixed(129))).toBe(true);
    expect(all[60].payload.toString()).toBe('next');
  });

  it('works with the interval and never fsync policies', async () => {
    for (const fsync of ['interval', 'never'] as const) {
      const dir = await tempDir();
      const log = await openLog({ dir, fsync, fsyncIntervalMs: 10, segmentBytes: 500 });
      for (let i = 0; i < 20; i++) await log.append([fixed(i)]);
      await new Promise((r) => setTimeout(r, 30));
      await log.close();
      const again = await openLog({ dir });
      expect(again.endOffset).toBe(20);
      expect((await readAll(again)).every((r) => r.payload.equals(fixed(r.offset)))).toBe(true);
    }
  });
});

describe('EmbeddedLog recovery', () => {
  async function writeAndClose(dir: string, count: number, segmentBytes?: number): Promise<void> {
    const log = await openLog({ dir, segmentBytes });
    // One append per record: a segment only rolls between appends.
    for (let i = 0; i < count; i++) await log.append([fixed(i)]);
    await log.close();
  }

  it('drops garbage appended after the last record', async () => {
    const dir = await tempDir();
    await writeAndClose(dir, 5);
    const file = join(dir, '00000000000000000000.log');
    await appendFile(file, Buffer.from([0, 0, 0, 50, 1, 2, 3, 4, 9, 9, 9]));
    const { warnings, logger } = recordWarnings();
    const log = await openLog({ dir, logger });
    expect(log.endOffset).toBe(5);
    expect(warnings).toHaveLength(1);
    expect(warnings[0].obj).toMatchObject({ file, position: 5 * 108, reason: 'short payload', droppedBytes: 11 });
    expect((await stat(file)).size).toBe(5 * 108);
    expect(await log.append([text('after')])).toBe(5);
    const all = await readAll(log);
    expect(all.map((r) => r.offset)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(all[5].payload.toString()).toBe('after');
  });

  it('drops a record cut off mid-payload or mid-header', async () => {
    for (const cut of [108 * 3 + 50, 108 * 3 + 5]) {
      const dir = await tempDir();
      await writeAndClose(dir, 4);
      await truncate(join(dir, '00000000000000000000.log'), cut);
      const { warnings, logger } = recordWarnings();
      const log = await openLog({ dir, logger });
      expect(log.endOffset).toBe(3);
      expect(warnings[0].obj).toMatchObject({ position: 108 * 3 });
      expect((await readAll(log)).every((r) => r.payload.equals(fixed(r.offset)))).toBe(true);
      expect(await log.append([text('x'), text('y')])).toBe(3);
      await log.close();
      const again = await openLog({ dir });
      expect(again.endOffset).toBe(5);
      expect((await again.read(3)).map((r) => r.payload.toString())).toEqual(['x', 'y']);
    }
  });

  it('truncates a last record whose crc does not match', async () => {
    const dir = await tempDir();
    await writeAndClose(dir, 4);
    const file = join(dir, '00000000000000000000.log');
    const bytes = await readFile(file);
    bytes[bytes.length - 1] ^= 0xff;
    await writeFile(file, bytes);
    const { warnings, logger } = recordWarnings();
    const log = await openLog({ dir, logger });
    expect(log.endOffset).toBe(3);
    expect(warnings[0].obj).toMatchObject({ reason: 'crc mismatch', position: 108 * 3 });
    expect(await log.append([fixed(3)])).toBe(3);
  });

  it('refuses to open when a segment other than the last is corrupt', async () => {
    const dir = await tempDir();
    await writeAndClose(dir, 20, 500);
    const files = await segmentFiles(dir);
    expect(files.length).toBeGreaterThan(2);
    const handle = await open(join(dir, files[1]), 'r+');
    await handle.write(Buffer.from([0xde, 0xad]), 0, 2, 108 + 20);
    await handle.close();
    const err = await expectCode(EmbeddedLog.open({ dir }), 'SLUICE_LOG_CORRUPT');
    expect((err as Error).message).toContain(files[1]);
    expect((err as Error).message).toContain('byte 108');
  });

  it('refuses to open when a segment is missing from the middle', async () => {
    const dir = await tempDir();
    await writeAndClose(dir, 20, 500);
    const files = await segmentFiles(dir);
    await rm(join(dir, files[1]));
    await expectCode(EmbeddedLog.open({ dir }), 'SLUICE_LOG_CORRUPT');
  });

  it('survives SIGKILL of a writer appending with fsync always', async () => {
    const dir = await tempDir();
    const script = join(here, 'fixtures', 'crash-writer.ts');
    let ackedTotal = 0;
    for (let round = 0; round < 2; round++) {
      const child = spawn(process.execPath, ['--import', 'tsx', script, dir], {
        cwd: join(here, '..'),
        stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      });
      let stderr = '';
      child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
      let acked = 0;
      const exited = new Promise<NodeJS.Signals | number | null>((resolve) => child.on('exit', (code, signal) => resolve(signal ?? code)));
      await new Promise<void>((resolve, reject) => {
        child.on('message', (m: { acked: number }) => {
          acked = Math.max(acked, m.acked);
          resolve();
        });
        void exited.then((how) => reject(new Error(`writer exited early (${String(how)}): ${stderr}`)));
      });
      await new Promise((r) => setTimeout(r, 300));
      child.kill('SIGKILL');
      expect(await exited).toBe('SIGKILL');
      expect(acked).toBeGreaterThan(ackedTotal);
      ackedTotal = acked;

      const log = await openLog({ dir });
      // Everything acknowledged must be there; records written but not yet acknowledged may be too.
      expect(log.endOffset).toBeGreaterThanOrEqual(acked);
      expect(log.startOffset).toBe(0);
      const all = await readAll(log);
      expect(all.length).toBe(log.endOffset);
      all.forEach((r, i) => {
        expect(r.offset).toBe(i);
        if (!r.payload.equals(payloadFor(i))) throw new Error(`record ${i} damaged`);
      });
      await log.close();
    }
    expect((await segmentFiles(dir)).length).toBeGreaterThan(1);
  });
});

describe('EmbeddedLog retention', () => {
  it('drops old segments by size, moving startOffset', async () => {
    const dir = await tempDir();
    const log = await openLog({ dir, segmentBytes: 1000, retentionBytes: 2500 });
    for (let i = 0; i < 50; i++) await log.append([fixed(i)]);
    const before = await segmentFiles(dir);
    const dropped = await log.enforceRetention();
    expect(dropped).toBeGreaterThan(0);
    expect(log.startOffset).toBe(dropped);
    expect(log.sizeBytes()).toBeLessThanOrEqual(2500);
    const after = await segmentFiles(dir);
    expect(after.length).toBeLessThan(before.length);
    expect(after[0]).toBe(String(dropped).padStart(20, '0') + '.log');
    await expectCode(log.read(dropped - 1), 'SLUICE_LOG_OFFSET_OUT_OF_RANGE');
    const rest = await readAll(log);
    expect(rest[0].offset).toBe(dropped);
    expect(rest.length).toBe(50 - dropped);
    expect(await log.enforceRetention()).toBe(0);
    await log.close();
    const again = await openLog({ dir });
    expect(again.startOffset).toBe(dropped);
    expect(again.endOffset).toBe(50);
  });

  it('drops segments whose newest record is older than retentionMs, never the active one', async () => {
    const dir = await tempDir();
    const log = await openLog({ dir, segmentBytes: 500, retentionMs: 60_000 });
    for (let i = 0; i < 20; i++) await log.append([fixed(i)]);
    const files = await segmentFiles(dir);
    const old = new Date(Date.now() - 3_600_000);
    for (const f of files) await utimes(join(dir, f), old, old);
    await utimes(join(dir, files[2]), new Date(), new Date());
    expect(await log.enforceRetention()).toBe(8);
    expect(log.startOffset).toBe(8);
    expect(await segmentFiles(dir)).toEqual(files.slice(2));

    const keep = await openLog({ dir: await tempDir(), segmentBytes: 500, retentionMs: 0 });
    for (let i = 0; i < 6; i++) await keep.append([fixed(i)]);
    await new Promise((r) => setTimeout(r, 5));
    expect(await keep.enforceRetention()).toBe(4);
    expect(keep.startOffset).toBe(4);
    expect(keep.endOffset).toBe(6);
  });

  it('never drops a segment holding records a consumer has yet to read', async () => {
    const dir = await tempDir();
    const log = await openLog({ dir, segmentBytes: 1000, retentionBytes: 1 });
    for (let i = 0; i < 50; i++) await log.append([fixed(i)]);
    // The consumer has applied up to offset 10 (exclusive): offset 10 must stay readable.
    const dropped = await log.enforceRetention(10);
    expect(dropped).toBeGreaterThan(0);
    expect(log.startOffset).toBeLessThanOrEqual(10);
    expect((await log.read(10, 1))[0].offset).toBe(10);
    expect(await log.enforceRetention(10)).toBe(0);
    await log.close();
  });
});

describe('EmbeddedLog waitFor', () => {
  it('resolves at once for existing records and after an append otherwise', async () => {
    const log = await openLog({ dir: await tempDir() });
    await log.append([text('a')]);
    await log.waitFor(0);
    let done = false;
    const waiting = log.waitFor(2).then(() => (done = true));
    await log.append([text('b')]);
    await new Promise((r) => setTimeout(r, 10));
    expect(done).toBe(false);
    await log.append([text('c')]);
    await waiting;
    expect(done).toBe(true);
  });

  it('resolves on abort and rejects on close', async () => {
    const log = await openLog({ dir: await tempDir() });
    const ac = new AbortController();
    const aborted = log.waitFor(0, ac.signal);
    ac.abort();
    await aborted;
    expect(log.endOffset).toBe(0);
    const pending = expectCode(log.waitFor(0), 'SLUICE_LOG_CLOSED');
    await log.close();
    await pending;
  });
});
