import type mysql from 'mysql2/promise';
import type pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { runCrashScenario } from './helpers/crash.js';
import { connectMysqlTest, dropMysqlDatabase, freshMysqlDatabase } from './helpers/mysql.js';
import { connectPg, dropDatabase, freshDatabase } from './helpers/postgres.js';

function lsn(s: string): bigint {
  const [hi, lo] = s.split('/');
  return (BigInt(`0x${hi}`) << 32n) | BigInt(`0x${lo}`);
}

/** Runs `step` until stopped; counts the transactions. */
function loop(step: () => Promise<unknown>): { stop(): Promise<number> } {
  let stopped = false;
  let txns = 0;
  const done = (async () => {
    while (!stopped) {
      await step();
      txns++;
    }
  })();
  return { stop: async () => ((stopped = true), await done, txns) };
}

describe('kill -9 and restart: nothing lost, nothing doubled', () => {
  afterAll(async () => {
    await dropDatabase('sluice_t_crash');
    await dropMysqlDatabase('sluice_t_crash_my');
  });

  it('Postgres', async () => {
    const url = await freshDatabase('sluice_t_crash');
    const src: pg.Client = await connectPg(url);
    await src.query(`CREATE TABLE ledger (id bigserial PRIMARY KEY, acct int NOT NULL, amount numeric(12,2) NOT NULL, note text)`);
    await src.query(`INSERT INTO ledger (acct, amount, note) SELECT g % 100, g / 100.0, 'seed' FROM generate_series(1, 300000) g`);
    // No key: a change applied twice would show up as an extra row.
    await src.query(`CREATE TABLE events (kind text NOT NULL, seq bigint NOT NULL); ALTER TABLE events REPLICA IDENTITY FULL; CREATE SEQUENCE event_seq`);
    const writerClient = await connectPg(url);
    await runCrashScenario({
      source: { name: 'crash', kind: 'postgres', url, tables: ['ledger', 'events'] },
      kills: 10,
      snapshotKills: 3,
      startWriter: async () => loop(async () => {
        const r = Math.random();
        if (r < 0.4) {
          await writerClient.query(`BEGIN; INSERT INTO ledger (acct, amount, note) SELECT (random() * 100)::int, round((random() * 1000)::numeric, 2), 'n' || g FROM generate_series(1, 20) g;
            INSERT INTO events (kind, seq) SELECT 'ins', nextval('event_seq') FROM generate_series(1, 5); COMMIT`);
        } else if (r < 0.8) {
          await writerClient.query(`BEGIN; UPDATE ledger SET amount = amount + 1, note = note || '+' WHERE id IN (SELECT id FROM ledger ORDER BY random() LIMIT 10);
            INSERT INTO events (kind, seq) VALUES ('upd', nextval('event_seq')); COMMIT`);
        } else {
          await writerClient.query(`BEGIN; DELETE FROM ledger WHERE id IN (SELECT id FROM ledger ORDER BY random() LIMIT 5);
            DELETE FROM events WHERE seq IN (SELECT seq FROM events ORDER BY random() LIMIT 2); COMMIT`);
        }
      }),
      sentinel: async () => void (await src.query(`INSERT INTO events (kind, seq) VALUES ('sentinel', -1)`)),
      // Acknowledged to Postgres can never be ahead of what the store committed.
      afterKill: async (storeLsn) => {
        const slot = await src.query(`SELECT confirmed_flush_lsn::text AS f FROM pg_replication_slots WHERE slot_name = 'sluice_crash'`);
        if (slot.rows[0] && storeLsn) expect(lsn(slot.rows[0].f)).toBeLessThanOrEqual(lsn(storeLsn) + 1n);
      },
      expected: async () => ({
        ledger: (await src.query({ text: `SELECT id::text, acct::text, amount::text, note FROM ledger`, rowMode: 'array' })).rows,
        events: (await src.query({ text: `SELECT kind, seq::text, count(*)::text FROM events GROUP BY kind, seq`, rowMode: 'array' })).rows,
      }),
    });
    await writerClient.end();
    await src.end();
  }, 240_000);

  it('MySQL/MariaDB', async () => {
    const url = await freshMysqlDatabase('sluice_t_crash_my');
    const src: mysql.Connection = await connectMysqlTest('sluice_t_crash_my');
    await src.query(`CREATE TABLE ledger (id bigint AUTO_INCREMENT PRIMARY KEY, acct int NOT NULL, amount decimal(12,2) NOT NULL, note varchar(200))`);
    await src.query(`INSERT INTO ledger (acct, amount, note) SELECT seq % 100, seq / 100, 'seed' FROM seq_1_to_300000`);
    await src.query(`CREATE TABLE events (kind varchar(10) NOT NULL, seq bigint NOT NULL)`);
    const w = await connectMysqlTest('sluice_t_crash_my');
    let seq = 0;
    await runCrashScenario({
      source: { name: 'crashmy', kind: 'mysql', url, tables: ['ledger', 'events'] },
      kills: 8,
      snapshotKills: 3,
      startWriter: async () => loop(async () => {
        const r = Math.random();
        if (r < 0.4) {
          await w.query(`START TRANSACTION; INSERT INTO ledger (acct, amount, note) SELECT FLOOR(RAND() * 100), ROUND(RAND() * 1000, 2), CONCAT('n', seq) FROM seq_1_to_20;
            INSERT INTO events (kind, seq) VALUES ('ins', ${++seq}), ('ins', ${++seq}); COMMIT`);
        } else if (r < 0.8) {
          await w.query(`START TRANSACTION; UPDATE ledger SET amount = amount + 1, note = CONCAT(note, '+') ORDER BY RAND() LIMIT 10;
            INSERT INTO events (kind, seq) VALUES ('upd', ${++seq}); COMMIT`);
        } else {
          await w.query(`START TRANSACTION; DELETE FROM ledger ORDER BY RAND() LIMIT 5; DELETE FROM events ORDER BY RAND() LIMIT 2; COMMIT`);
        }
      }),
      sentinel: async () => void (await src.query(`INSERT INTO events (kind, seq) VALUES ('sentinel', -1)`)),
      expected: async () => {
        const [ledger] = await src.query({ sql: `SELECT CAST(id AS CHAR), CAST(acct AS CHAR), CAST(amount AS CHAR), note FROM ledger`, rowsAsArray: true });
        const [events] = await src.query({ sql: `SELECT kind, CAST(seq AS CHAR), CAST(count(*) AS CHAR) FROM events GROUP BY kind, seq`, rowsAsArray: true });
        return { ledger: ledger as string[][], events: events as string[][] };
      },
    });
    await w.end();
    await src.end();
  }, 240_000);
});
