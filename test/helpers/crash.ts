import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { expect } from 'vitest';
import { decodeRecord } from '../../core/change-record.js';
import { EmbeddedLog } from '../../core/log/embedded-log.js';
import { waitFor } from './postgres.js';
import { SluiceProcess } from './sluice-process.js';
import { tempDir } from './sluice.js';

export interface CrashScenario {
  readonly source: Record<string, unknown> & { name: string };
  /** Starts transactions of every shape against the source; stop() returns how many ran. */
  startWriter(): Promise<{ stop(): Promise<number> }>;
  /** Commits the row `events(kind = 'sentinel', seq = -1)` after the writer stopped. */
  sentinel(): Promise<void>;
  /** Canonical rows of `ledger` and of `events` counted per row, from the source, in any order. */
  expected(): Promise<{ ledger: string[][]; events: string[][] }>;
  /** Called after each kill, with the store's committed position (if any). */
  afterKill?(storePosition: string | null): Promise<void>;
  readonly kills: number;
  /** How many of the kills come before streaming starts, so during the (restarted) snapshot. */
  readonly snapshotKills: number;
}

export async function readStore(path: string, sql: string): Promise<unknown[][]> {
  const db = await DuckDBInstance.create(path, { access_mode: 'READ_ONLY' });
  const c = await db.connect();
  try {
    return (await c.runAndReadAll(sql)).getRowsJson() as unknown[][];
  } finally {
    c.closeSync();
    db.closeSync();
  }
}

/**
 * Runs `sluice run` as a child process and SIGKILLs it `kills` times (the first `snapshotKills`
 * during the snapshot, each starting it over, the others mid-stream) while the writer keeps
 * committing; then lets it catch up and compares the store with the source: every row equal, no row of the key-less `events` table
 * doubled, and every transaction in the log once, in commit order.
 */
export async function runCrashScenario(s: CrashScenario): Promise<void> {
  const dir = tempDir('crash');
  const store = join(dir, 'store.duckdb');
  const name = s.source.name;
  const sluice = await SluiceProcess.configure(join(dir, 'sluice.json'), {
    sources: [s.source],
    log: { kind: 'embedded', dir: join(dir, 'log'), segmentBytes: 256 * 1024 },
    store: { path: store },
    logging: { level: 'warn' },
  });
  const status = (): Promise<{ state: string } | undefined> => sluice.status();
  let killedSnapshotting = 0;
  try {
    const writer = await s.startWriter();
    for (let i = 0; i < s.kills; i++) {
      sluice.start();
      // A snapshot that got through before its kill is not taken again: then this is a streaming kill.
      let state: string | undefined;
      const wanted = i < s.snapshotKills ? ['snapshotting', 'streaming'] : ['streaming'];
      await waitFor(wanted.join(' or '), async () => wanted.includes((state = (await status())?.state) ?? ''), 60_000);
      await new Promise((r) => setTimeout(r, state === 'snapshotting' ? Math.random() * 150 : 100 + Math.random() * 800));
      // Asked again at the last moment: a kill counts as one during the snapshot only if it was.
      if (state === 'snapshotting' && (await status())?.state === 'snapshotting') killedSnapshotting++;
      await sluice.kill('SIGKILL');
      const cp = await readStore(store, `SELECT json_extract_string(position, '$.lsn') FROM _sluice.checkpoints WHERE source = '${name}'`).catch(() => []);
      await s.afterKill?.(cp[0]?.[0] ? String(cp[0][0]) : null);
    }
    expect(await writer.stop()).toBeGreaterThan(20);
    // The snapshot kills must have hit a snapshot at least once for them to mean anything.
    if (s.snapshotKills > 0) expect(killedSnapshotting).toBeGreaterThan(0);

    await s.sentinel();
    sluice.start();
    await waitFor('catch-up', async () => (await sluice.query(`SELECT count(*) FROM ${name}.events WHERE seq = -1`))[0][0] === 1, 60_000).catch((e) => {
      throw new Error(`${e.message}\n${sluice.stderr}`);
    });
    await sluice.kill('SIGTERM');

    // Sorted here, the same way for both: the databases order text differently.
    const sorted = (rows: unknown[][]): string[] => rows.map((r) => JSON.stringify(r)).sort();
    const expected = await s.expected();
    const ledger = await readStore(store, `SELECT id::VARCHAR, acct::VARCHAR, amount::VARCHAR, note FROM ${name}.ledger`);
    expect(ledger.length).toBe(expected.ledger.length);
    expect(sorted(ledger)).toEqual(sorted(expected.ledger));
    const events = await readStore(store, `SELECT kind, seq::VARCHAR, count(*)::VARCHAR FROM ${name}.events GROUP BY kind, seq`);
    expect(sorted(events)).toEqual(sorted(expected.events));

    // The log holds every transaction once, in commit order.
    const log = await EmbeddedLog.open({ dir: join(dir, 'log', name) });
    const positions: string[] = [];
    for (let at = log.startOffset; at < log.endOffset; ) {
      const records = await log.read(at);
      for (const r of records) {
        const h = decodeRecord(r.payload).header;
        if (h.kind === 'snapshot-begin') positions.length = 0;
        if (h.kind === 'changes' && h.position) positions.push(h.position.lsn);
      }
      at = records[records.length - 1].offset + 1;
    }
    await log.close();
    expect(new Set(positions).size).toBe(positions.length);
  } finally {
    await sluice.kill('SIGKILL');
  }
}
