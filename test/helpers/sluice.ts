import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SluiceApp } from '../../cli/sluice-app.js';
import { validateConfig } from '../../core/config.js';
import { createLogger } from '../../core/logger.js';
import { expect } from 'vitest';
import { waitFor } from './postgres.js';

export interface TestSluice {
  readonly app: SluiceApp;
  readonly http: string;
  /** The Postgres-protocol port. */
  readonly pgPort: number;
  readonly dataDir: string;
  query(sql: string): Promise<unknown[][]>;
  stop(): Promise<void>;
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `sluice-${prefix}-`));
}

/**
 * Sluice in this process, on an ephemeral port, with its data in `dataDir`. With `logTo`, every
 * log line at every level goes there.
 */
export async function startSluice(source: Record<string, unknown>, dataDir = tempDir('t'), extra: Record<string, unknown> = {}, logTo?: { write(line: string): unknown }): Promise<TestSluice> {
  const config = validateConfig({
    ...extra,
    sources: [source],
    log: { kind: 'embedded', dir: join(dataDir, 'log') },
    store: { path: join(dataDir, 'store.duckdb'), ...(extra.store as object | undefined) },
    api: { port: 0, pgPort: 0, ...(extra.api as object | undefined) },
    logging: { level: process.env.SLUICE_TEST_LOG ?? 'silent' },
  });
  const app = new SluiceApp(config, logTo ? createLogger('trace', logTo) : createLogger(config.logging.level));
  await app.start();
  const http = app.address!.http;
  return {
    app,
    http,
    pgPort: app.address!.pgPort!,
    dataDir,
    async query(sql: string) {
      const res = await fetch(`${http}/v1/query`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ sql }) });
      const body = (await res.json()) as { rows?: unknown[][]; error?: { message: string } };
      if (!res.ok) throw new Error(`query failed (${res.status}): ${body.error?.message}`);
      return body.rows!;
    },
    stop: () => app.stop(),
  };
}

/**
 * Waits until the replica's rows (`sql` through the API) equal `expected`, then asserts it,
 * reporting the first differing row rather than a diff of thousands.
 */
export async function expectReplicaRows(sl: TestSluice, sql: string, expected: unknown[][]): Promise<void> {
  let actual: unknown[][] = [];
  await waitFor('replica to match the source', async () => {
    actual = await sl.query(sql);
    return JSON.stringify(actual) === JSON.stringify(expected);
  }, 20_000).catch(() => undefined);
  expect(actual.length).toBe(expected.length);
  const i = actual.findIndex((row, n) => JSON.stringify(row) !== JSON.stringify(expected[n]));
  expect(i === -1 ? null : actual[i]).toEqual(i === -1 ? null : expected[i]);
}
