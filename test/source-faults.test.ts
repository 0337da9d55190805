import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type mysql from 'mysql2/promise';
import type pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeRecord, pieceOf } from '../core/change-record.js';
import { EmbeddedLog } from '../core/log/embedded-log.js';
import { connectMysqlTest, dropMysqlDatabase, freshMysqlDatabase } from './helpers/mysql.js';
import { PG_ADMIN_URL, connectPg, dropDatabase, freshDatabase, waitFor } from './helpers/postgres.js';
import { type TestSluice, startSluice } from './helpers/sluice.js';
import { TcpProxy } from './helpers/tcp-proxy.js';

const run = promisify(execFile);

const PG_DB = 'sluice_t_faults';
const MY_DB = 'sluice_t_faults_my';
const SEED_ROWS = 50_000;
const BIG_ROWS = 50_000;
/**
 * Makes a big transaction's rows over 8 MB (TransactionBuilder's DEFAULT_PIECE_BYTES), so it
 * reaches the log in pieces, and a cut can fall after a piece was logged but before its commit.
 */
const PAD = ' '.padEnd(200, 'x');

// ---------------------------------------------------------------------------------------------
// The servers. Other test files use them too: a restart keeps them down only briefly, and the
// afterAll below brings them back whatever happened.

async function postgresAccepts(): Promise<boolean> {
  const c = await connectPg(PG_ADMIN_URL).catch(() => null);
  if (!c) return false;
  const ok = await c.query('SELECT 1').then(() => true, () => false);
  await c.end().catch(() => undefined);
  return ok;
}

/** Walsender pids serving `db`: the replication connections of the Sluice under test. */
async function walsenders(db: string): Promise<number[]> {
  const c = await connectPg(PG_ADMIN_URL);
  try {
    const r = await c.query(`SELECT pid FROM pg_stat_activity WHERE backend_type = 'walsender' AND datname = $1`, [db]);
    return r.rows.map((x) => x.pid as number);
  } finally {
    await c.end();
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * A fast restart. Its shutdown waits until every logical replication client has confirmed all
 * WAL it was sent, so a client that never confirms exactly that holds the server down forever.
 * Other test files' Sluices may legitimately be unable to confirm (a full disk, say), so the wait
 * is bounded, then the server is stopped at once; but if a walsender of `db` (ours) was still
 * there, ours was holding the shutdown, which is the failure reported.
 */
async function restartPostgres(db: string): Promise<void> {
  const ours = await walsenders(db);
  const cluster = ['--skip-systemctl-redirect', '15', 'main'];
  let heldBy: number[] = [];
  try {
    await run('pg_ctlcluster', [...cluster, 'stop', '-m', 'fast', '--', '-t', '30']);
  } catch {
    heldBy = ours.filter(alive);
    await run('pg_ctlcluster', [...cluster, 'stop', '-m', 'immediate']).catch(() => undefined);
  }
  await run('pg_ctlcluster', [...cluster, 'start']).catch(() => undefined);
  await waitFor('Postgres to accept connections', postgresAccepts, 60_000);
  expect(heldBy, 'walsenders of the Sluice under test still holding a fast shutdown').toEqual([]);
}

async function ensurePostgresUp(): Promise<void> {
  if (await waitFor('Postgres to accept connections', postgresAccepts, 20_000).catch(() => false)) return;
  const cluster = ['--skip-systemctl-redirect', '15', 'main'];
  // Still shutting down (a fast shutdown waiting for a replication client): finish it now.
  await run('pg_ctlcluster', [...cluster, 'stop', '-m', 'immediate']).catch(() => undefined);
  await run('pg_ctlcluster', [...cluster, 'start']).catch(() => undefined);
  await waitFor('Postgres to accept connections', postgresAccepts, 60_000);
}

const MARIADBD = '/usr/sbin/mariadbd';

async function mariadbRunning(): Promise<boolean> {
  return run('start-stop-daemon', ['--status', '--exec', MARIADBD]).then(() => true, () => false);
}

async function mariadbAccepts(): Promise<boolean> {
  return run('mariadb-admin', ['-h127.0.0.1', '-uroot', 'ping']).then(() => true, () => false);
}

async function startMariadb(): Promise<void> {
  // Same start as scripts/prepare-services.sh; --oknodo would do nothing while the old process is still exiting.
  await waitFor('MariaDB to exit', async () => !(await mariadbRunning()), 60_000);
  await run('install', ['-d', '-o', 'mysql', '-g', 'mysql', '-m', '0755', '/run/mysqld']);
  await run('start-stop-daemon', ['--start', '--oknodo', '--background', '--exec', MARIADBD]);
  await waitFor('MariaDB to accept connections', mariadbAccepts, 60_000);
}

async function restartMariadb(): Promise<void> {
  await run('mariadb-admin', ['-h127.0.0.1', '-uroot', 'shutdown']).catch(() => run('start-stop-daemon', ['--stop', '--oknodo', '--exec', MARIADBD]));
  await startMariadb();
}

async function ensureMariadbUp(): Promise<void> {
  if (await mariadbAccepts()) return;
  if (await mariadbRunning()) {
    await waitFor('MariaDB to accept connections', mariadbAccepts, 60_000).catch(() => undefined);
    if (await mariadbAccepts()) return;
  }
  await startMariadb();
}

// ---------------------------------------------------------------------------------------------
// What each engine provides to the scenarios.

interface Client {
  exec(sql: string): Promise<void>;
  rows(sql: string): Promise<string[][]>;
  end(): Promise<void>;
}

interface Engine {
  readonly kind: 'postgres' | 'mysql';
  readonly url: string;
  connect(): Promise<Client>;
  /** A small transaction of random shape over both tables. `seq` numbers its `events` rows. */
  small(c: Client, seq: () => number): Promise<void>;
  /** One transaction touching `BIG_ROWS` rows of `ledger`, plus one `events` row. */
  big(c: Client, n: number, seq: number): Promise<void>;
  readonly sourceLedger: string;
  readonly sourceEvents: string;
}

function pgEngine(url: string): Engine {
  return {
    kind: 'postgres',
    url,
    async connect() {
      const c: pg.Client = await connectPg(url);
      return {
        exec: async (sql) => void (await c.query(sql)),
        rows: async (sql) => (await c.query({ text: sql, rowMode: 'array' })).rows as string[][],
        end: () => c.end().catch(() => undefined),
      };
    },
    async small(c, seq) {
      const r = Math.random();
      const ids = Array.from({ length: 10 }, () => 1 + Math.floor(Math.random() * SEED_ROWS)).join(',');
      if (r < 0.4) {
        await c.exec(`BEGIN; INSERT INTO ledger (acct, amount, note) SELECT (random() * 100)::int, round((random() * 1000)::numeric, 2), 'n' || g FROM generate_series(1, 20) g;
          INSERT INTO events (kind, seq) VALUES ('ins', ${seq()}), ('ins', ${seq()}); COMMIT`);
      } else if (r < 0.8) {
        await c.exec(`BEGIN; UPDATE ledger SET amount = amount + 1, note = note || '+' WHERE id IN (${ids});
          INSERT INTO events (kind, seq) VALUES ('upd', ${seq()}); COMMIT`);
      } else {
        await c.exec(`BEGIN; DELETE FROM ledger WHERE id IN (${ids.split(',').slice(0, 3).join(',')});
          DELETE FROM events WHERE seq IN (SELECT seq FROM events ORDER BY random() LIMIT 2); COMMIT`);
      }
    },
    async big(c, n, seq) {
      // Alternately rewrites every seeded row and appends as many new ones.
      const body = n % 2 === 0
        ? `UPDATE ledger SET amount = amount + 1, note = 'big${n} ' || id || '${PAD}' WHERE id <= ${BIG_ROWS}`
        : `INSERT INTO ledger (acct, amount, note) SELECT g % 100, g / 10.0, 'big${n} ' || g || '${PAD}' FROM generate_series(1, ${BIG_ROWS}) g`;
      await c.exec(`BEGIN; ${body}; INSERT INTO events (kind, seq) VALUES ('big', ${seq}); COMMIT`);
    },
    sourceLedger: `SELECT id::text, acct::text, amount::text, note FROM ledger`,
    sourceEvents: `SELECT kind, seq::text, count(*)::text FROM events GROUP BY kind, seq`,
  };
}

function myEngine(url: string, db: string): Engine {
  return {
    kind: 'mysql',
    url,
    async connect() {
      const c: mysql.Connection = await connectMysqlTest(db);
      return {
        exec: async (sql) => void (await c.query(sql)),
        rows: async (sql) => ((await c.query({ sql, rowsAsArray: true }))[0] as unknown[][]).map((r) => r.map((v) => (v === null ? null : String(v))) as string[]),
        end: () => c.end().catch(() => undefined),
      };
    },
    async small(c, seq) {
      const r = Math.random();
      const ids = Array.from({ length: 10 }, () => 1 + Math.floor(Math.random() * SEED_ROWS)).join(',');
      if (r < 0.4) {
        await c.exec(`START TRANSACTION; INSERT INTO ledger (acct, amount, note) SELECT FLOOR(RAND() * 100), ROUND(RAND() * 1000, 2), CONCAT('n', seq) FROM seq_1_to_20;
          INSERT INTO events (kind, seq) VALUES ('ins', ${seq()}), ('ins', ${seq()}); COMMIT`);
      } else if (r < 0.8) {
        await c.exec(`START TRANSACTION; UPDATE ledger SET amount = amount + 1, note = CONCAT(note, '+') WHERE id IN (${ids});
          INSERT INTO events (kind, seq) VALUES ('upd', ${seq()}); COMMIT`);
      } else {
        await c.exec(`START TRANSACTION; DELETE FROM ledger WHERE id IN (${ids.split(',').slice(0, 3).join(',')});
          DELETE FROM events ORDER BY RAND() LIMIT 2; COMMIT`);
      }
    },
    async big(c, n, seq) {
      const body = n % 2 === 0
        ? `UPDATE ledger SET amount = amount + 1, note = CONCAT('big${n} ', id, '${PAD}') WHERE id <= ${BIG_ROWS}`
        : `INSERT INTO ledger (acct, amount, note) SELECT seq % 100, seq / 10, CONCAT('big${n} ', seq, '${PAD}') FROM seq_1_to_${BIG_ROWS}`;
      await c.exec(`START TRANSACTION; ${body}; INSERT INTO events (kind, seq) VALUES ('big', ${seq}); COMMIT`);
    },
    sourceLedger: `SELECT CAST(id AS CHAR), CAST(acct AS CHAR), CAST(amount AS CHAR), note FROM ledger`,
    sourceEvents: `SELECT kind, CAST(seq AS CHAR), CAST(count(*) AS CHAR) FROM events GROUP BY kind, seq`,
  };
}

async function createTables(e: Engine): Promise<void> {
  const c = await e.connect();
  if (e.kind === 'postgres') {
    await c.exec(`CREATE TABLE ledger (id bigserial PRIMARY KEY, acct int NOT NULL, amount numeric(12,2) NOT NULL, note text)`);
    await c.exec(`INSERT INTO ledger (acct, amount, note) SELECT g % 100, g / 100.0, 'seed' FROM generate_series(1, ${SEED_ROWS}) g`);
    // No key: a change applied twice shows up as an extra row.
    await c.exec(`CREATE TABLE events (kind text NOT NULL, seq bigint NOT NULL); ALTER TABLE events REPLICA IDENTITY FULL`);
  } else {
    await c.exec(`CREATE TABLE ledger (id bigint AUTO_INCREMENT PRIMARY KEY, acct int NOT NULL, amount decimal(12,2) NOT NULL, note varchar(400))`);
    await c.exec(`INSERT INTO ledger (acct, amount, note) SELECT seq % 100, seq / 100, 'seed' FROM seq_1_to_${SEED_ROWS}`);
    await c.exec(`CREATE TABLE events (kind varchar(10) NOT NULL, seq bigint NOT NULL)`);
  }
  await c.end();
}

// ---------------------------------------------------------------------------------------------
// Load, and the end-of-scenario checks.

/**
 * Commits small transactions until stopped. A server restart breaks its connection: it
 * reconnects and goes on (whether the interrupted commit happened does not matter, the check
 * compares with what the source holds).
 */
function startWriter(e: Engine, seq: () => number): { stop(): Promise<{ committed: number; failed: number }> } {
  let stopped = false;
  let committed = 0;
  let failed = 0;
  const done = (async () => {
    let c: Client | null = null;
    while (!stopped) {
      try {
        c ??= await e.connect();
        await e.small(c, seq);
        committed++;
      } catch {
        failed++;
        await c?.end();
        c = null;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    await c?.end();
  })();
  return { stop: async () => ((stopped = true), await done, { committed, failed }) };
}

interface Status {
  state: string;
  error: { code: string; message: string } | null;
  /** The log's, the store's or the source's error, whichever explains a problem now. */
  lastError?: { code: string; message: string } | null;
}

async function sourceStatus(sl: TestSluice): Promise<Status> {
  const res = await fetch(`${sl.http}/v1/sources`);
  return ((await res.json()) as { sources: Status[] }).sources[0];
}

/** Every state the source reports, in order, as its tracker sets it. */
function recordStates(sl: TestSluice): string[] {
  const tracker = (sl.app as unknown as { runtimes: { source: { tracker: { onState(s: string): void } } }[] }).runtimes[0].source.tracker;
  const states: string[] = [];
  const onState = tracker.onState.bind(tracker);
  tracker.onState = (s: string) => {
    if (states[states.length - 1] !== s) states.push(s);
    onState(s);
  };
  return states;
}

function sorted(rows: unknown[][]): string[] {
  return rows.map((r) => JSON.stringify(r)).sort();
}

function expectSameRows(what: string, actual: unknown[][], expected: unknown[][]): void {
  const a = sorted(actual);
  const x = sorted(expected);
  const ax = new Set(x);
  const xa = new Set(a);
  // The first few rows that differ, rather than a diff of 100k rows.
  const extra = a.filter((r) => !ax.has(r)).slice(0, 5);
  const missing = x.filter((r) => !xa.has(r)).slice(0, 5);
  expect({ what, rows: a.length, extra, missing }).toEqual({ what, rows: x.length, extra: [], missing: [] });
  expect(a).toEqual(x);
}

/**
 * After the load stopped: a sentinel row marks the end, and once the replica has it (changes
 * apply in commit order) the replica must equal the source row for row, with no row of the
 * key-less table doubled, and the source must be back to streaming with no error.
 */
async function expectCaughtUp(e: Engine, sl: TestSluice, source: string, sentinel: number): Promise<void> {
  const c = await e.connect();
  try {
    await c.exec(`INSERT INTO events (kind, seq) VALUES ('sentinel', ${sentinel})`);
    await waitFor('the replica to reach the sentinel', async () => {
      const rows = await sl.query(`SELECT count(*) FROM ${source}.events WHERE seq = ${sentinel}`);
      return Number(rows[0][0]) > 0;
    }, 120_000).catch(async (err: Error) => {
      throw new Error(`${err.message}; source status: ${JSON.stringify(await sourceStatus(sl))}`);
    });
    const ledger = await sl.query(`SELECT id::VARCHAR, acct::VARCHAR, amount::VARCHAR, note FROM ${source}.ledger`);
    expectSameRows('ledger', ledger, await c.rows(e.sourceLedger));
    const events = await sl.query(`SELECT kind, seq::VARCHAR, count(*)::VARCHAR FROM ${source}.events GROUP BY kind, seq`);
    expectSameRows('events, counted per row', events, await c.rows(e.sourceEvents));
  } finally {
    await c.end();
  }
  const status = await waitFor('the source to report streaming', async () => {
    const s = await sourceStatus(sl);
    return s.state === 'streaming' && s;
  }, 60_000).catch(async () => sourceStatus(sl));
  expect({ state: status.state, error: status.error, lastError: status.lastError ?? null }).toEqual({ state: 'streaming', error: null, lastError: null });
}

async function startCapture(e: Engine, source: string, url: string, extra: Record<string, unknown> = {}): Promise<TestSluice> {
  const sl = await startSluice({ name: source, kind: e.kind, url, tables: ['ledger', 'events'], ...extra }, undefined, { api: { maxRows: 10_000_000 } });
  await waitFor('the snapshot to finish', async () => (await sourceStatus(sl)).state === 'streaming', 120_000);
  return sl;
}

/**
 * The server restarts twice while Sluice streams, each time right after a big transaction
 * committed (so its changes are on their way) and while the writer keeps committing.
 */
async function restartScenario(e: Engine, source: string, restart: () => Promise<void>): Promise<void> {
  await createTables(e);
  const sl = await startCapture(e, source, e.url);
  const states = recordStates(sl);
  let seq = 0;
  const next = (): number => ++seq;
  const writer = startWriter(e, next);
  try {
    for (let i = 0; i < 2; i++) {
      const c = await e.connect();
      await e.big(c, i, next());
      await c.end();
      await restart();
      // Seen as an interruption and back to streaming before the next restart, or two restarts
      // could pass for one.
      await waitFor('the source to notice the restart and stream again', async () =>
        states.filter((s) => s === 'reconnecting').length > i && (await sourceStatus(sl)).state === 'streaming', 120_000);
    }
    const w = await writer.stop();
    expect(w.committed).toBeGreaterThan(10);
    await expectCaughtUp(e, sl, source, -1);
  } finally {
    await writer.stop();
    await sl.stop();
  }
}

/** Piece runs in the log: how many were completed, and how many a cut left without their last piece. */
async function pieceRuns(dir: string): Promise<{ completed: number; abandoned: number }> {
  const log = await EmbeddedLog.open({ dir });
  let completed = 0;
  let abandoned = 0;
  // The run in progress: its transaction and the piece that should come next.
  let open: { txn: string; seq: number } | null = null;
  try {
    for (let at = log.startOffset; at < log.endOffset; ) {
      const records = await log.read(at);
      for (const r of records) {
        const piece = pieceOf(decodeRecord(r.payload).header);
        if (open && (piece?.txn !== open.txn || piece.seq !== open.seq)) abandoned++;
        open = piece && !piece.last ? { txn: piece.txn, seq: piece.seq + 1 } : null;
        if (piece?.last) completed++;
      }
      at = records[records.length - 1].offset + 1;
    }
  } finally {
    await log.close();
  }
  return { completed, abandoned };
}

/**
 * Every connection from Sluice to the source is cut partway through the bytes of a big
 * transaction and again partway through its sending again, for two big transactions, while
 * the writer keeps committing directly to the source. The cut points are fractions of a big
 * transaction's size on the wire, measured first.
 */
async function cutScenario(e: Engine, source: string): Promise<void> {
  await createTables(e);
  const target = new URL(e.url);
  const proxy = await TcpProxy.start(target.hostname, Number(target.port));
  let sl: TestSluice | null = null;
  let seq = 0;
  const next = (): number => ++seq;
  const writer = startWriter(e, next);
  try {
    sl = await startCapture(e, source, proxy.url(e.url));
    const states = recordStates(sl);
    const big = async (n: number): Promise<number> => {
      const marker = next();
      const c = await e.connect();
      await e.big(c, n, marker);
      await c.end();
      return marker;
    };
    // Measured on an insert, the smaller shape on either engine.
    const before = proxy.bytesDown;
    const marker = await big(1);
    await waitFor('the first big transaction to be applied', async () => Number((await sl!.query(`SELECT count(*) FROM ${source}.events WHERE seq = ${marker}`))[0][0]) > 0, 120_000);
    const size = proxy.bytesDown - before;
    // Per round: an insert, then an update (twice the bytes), each cut twice. The second cut is
    // armed the moment the first falls, so it falls inside the transaction's sending again, late
    // enough that a piece of it is in the log already.
    const rounds = [{ n: 3, first: 0.15, second: 0.9 }, { n: 2, first: 0.4, second: 0.95 }];
    for (const r of rounds) {
      const accepted = proxy.accepted;
      let cut = false;
      const cuts = proxy.cutAfter(Math.round(size * r.first))
        .then(() => proxy.cutAfter(Math.round(size * r.second)))
        .then(() => (cut = true));
      await big(r.n);
      await waitFor('the proxy to cut the connections twice', async () => cut, 120_000);
      await cuts;
      await waitFor('Sluice to reconnect through the proxy', async () => proxy.accepted > accepted + 1, 120_000);
    }
    const w = await writer.stop();
    expect(w.failed).toBe(0);
    expect(w.committed).toBeGreaterThan(10);
    await expectCaughtUp(e, sl, source, -1);
    expect(proxy.cuts).toBe(2 * rounds.length);
    expect(states.filter((s) => s === 'reconnecting').length).toBeGreaterThanOrEqual(2 * rounds.length);
    const { dataDir } = sl;
    await sl.stop();
    sl = null;
    const runs = await pieceRuns(join(dataDir, 'log', source));
    // The big transactions did go to the log in pieces, and some cut stranded a piece there.
    expect(runs.completed).toBe(1 + rounds.length);
    expect(runs.abandoned).toBeGreaterThanOrEqual(1);
  } finally {
    await writer.stop();
    await sl?.stop();
    await proxy.close();
  }
}

/**
 * Every connection from Sluice to the source stalls (open, but nothing passes either way) while
 * the writer keeps committing directly to the source: Sluice must notice the silence by itself,
 * report it and reconnect, and once the proxy forwards again catch up with no change lost or
 * doubled.
 */
async function stallScenario(e: Engine, source: string): Promise<void> {
  await createTables(e);
  const target = new URL(e.url);
  const proxy = await TcpProxy.start(target.hostname, Number(target.port));
  let sl: TestSluice | null = null;
  let seq = 0;
  const writer = startWriter(e, () => ++seq);
  try {
    sl = await startCapture(e, source, proxy.url(e.url), { stallTimeoutMs: 3000 });
    const states = recordStates(sl);
    const code = e.kind === 'postgres' ? 'SLUICE_PG_STREAM' : 'SLUICE_MYSQL_STREAM';
    // Past what the snapshot copied: the stream itself is carrying the writer's commits.
    const streamedPast = seq;
    await waitFor('changes to stream through the proxy', async () => Number((await sl!.query(`SELECT coalesce(max(seq), 0) FROM ${source}.events`))[0][0]) > streamedPast, 120_000);
    proxy.stall();
    // Nothing closes the connection: only Sluice's own stall detection can end it.
    const stalled = await waitFor('the source to report the stall', async () => {
      const s = await sourceStatus(sl!);
      return s.state === 'reconnecting' && s.error?.code === code && /no message from/.test(s.error.message) && s;
    }, 60_000).catch(async (err: Error) => {
      throw new Error(`${err.message}; source status: ${JSON.stringify(await sourceStatus(sl!))}`);
    });
    expect(stalled.error?.code).toBe(code);
    const accepted = proxy.accepted;
    proxy.unstall();
    await waitFor('Sluice to reconnect through the proxy and stream again', async () =>
      proxy.accepted > accepted && (await sourceStatus(sl!)).state === 'streaming', 120_000);
    const w = await writer.stop();
    expect(w.failed).toBe(0);
    expect(w.committed).toBeGreaterThan(10);
    await expectCaughtUp(e, sl, source, -1);
    expect(states).toContain('reconnecting');
  } finally {
    // A connection still stalled would hold Sluice's stop forever (a close is not forwarded).
    proxy.cut();
    await writer.stop();
    await sl?.stop();
    await proxy.close();
  }
}

// ---------------------------------------------------------------------------------------------

describe('source faults: a restarted server, a cut connection, a stalled connection', () => {
  afterAll(async () => {
    await ensurePostgresUp();
    await ensureMariadbUp();
    await dropDatabase(PG_DB).catch(() => undefined);
    await dropMysqlDatabase(MY_DB).catch(() => undefined);
  }, 180_000);

  describe('Postgres', () => {
    it('survives the server restarting mid-stream', async () => {
      try {
        await restartScenario(pgEngine(await freshDatabase(PG_DB)), 'faults_pgr', () => restartPostgres(PG_DB));
      } finally {
        await ensurePostgresUp();
      }
    }, 600_000);

    it('survives its connections being cut mid-transaction', async () => {
      await cutScenario(pgEngine(await freshDatabase(PG_DB)), 'faults_pgc');
    }, 600_000);

    it('notices a stalled connection and reconnects', async () => {
      await stallScenario(pgEngine(await freshDatabase(PG_DB)), 'faults_pgs');
    }, 600_000);
  });

  describe('MariaDB', () => {
    it('survives the server restarting mid-stream', async () => {
      try {
        await restartScenario(myEngine(await freshMysqlDatabase(MY_DB), MY_DB), 'faults_myr', restartMariadb);
      } finally {
        await ensureMariadbUp();
      }
    }, 600_000);

    it('survives its connections being cut mid-transaction', async () => {
      await cutScenario(myEngine(await freshMysqlDatabase(MY_DB), MY_DB), 'faults_myc');
    }, 600_000);

    it('notices a stalled connection and reconnects', async () => {
      await stallScenario(myEngine(await freshMysqlDatabase(MY_DB), MY_DB), 'faults_mys');
    }, 600_000);
  });

});
