import pg from 'pg';

export const PG_ADMIN_URL = process.env.SLUICE_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export function databaseUrl(db: string): string {
  const u = new URL(PG_ADMIN_URL);
  u.pathname = `/${db}`;
  return u.toString();
}

async function withAdmin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: PG_ADMIN_URL });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** A fresh database for one test file; replication slots on it are dropped first. */
export async function freshDatabase(db: string): Promise<string> {
  await dropDatabase(db);
  await withAdmin((c) => c.query(`CREATE DATABASE ${db}`));
  return databaseUrl(db);
}

export async function dropDatabase(db: string): Promise<void> {
  await withAdmin(async (c) => {
    await c.query(`SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE database = $1 AND active_pid IS NOT NULL`, [db]);
    for (let i = 0; i < 50; i++) {
      const r = await c.query(`SELECT count(*)::int n FROM pg_replication_slots WHERE database = $1 AND active`, [db]);
      if (r.rows[0].n === 0) break;
      await new Promise((res) => setTimeout(res, 100));
    }
    await c.query(`SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE database = $1`, [db]);
    await c.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
  });
}

export async function connectPg(url: string): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: url });
  // Dropping the test database ends open sessions; that is not a test failure.
  c.on('error', () => undefined);
  await c.connect();
  await c.query(`SET TimeZone = 'UTC'`);
  return c;
}

export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
