import pg from 'pg';
import { SluiceError, messageOf } from '../../core/errors.js';

/**
 * Session settings under which Postgres prints values in the forms the store parses:
 * ISO dates in UTC, postgres-style intervals, floats that round-trip, hex bytea. The replication
 * connection gets them too, because pgoutput prints values with the walsender's settings.
 */
const SESSION_OPTIONS = [
  'DateStyle=ISO',
  'TimeZone=UTC',
  'IntervalStyle=postgres',
  'extra_float_digits=3',
  'bytea_output=hex',
].map((s) => `-c ${s}`).join(' ');

export function clientConfig(url: string, applicationName = 'sluice'): pg.ClientConfig {
  return { connectionString: url, options: SESSION_OPTIONS, application_name: applicationName };
}

/** Hides the password of a connection URL, for messages and logs. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@/]*@/, '//$1:***@');
}

export async function connect(url: string, extra: Partial<pg.ClientConfig> = {}): Promise<pg.Client> {
  const client = new pg.Client({ ...clientConfig(url), ...extra });
  try {
    await client.connect();
  } catch (e) {
    await client.end().catch(() => undefined);
    throw new SluiceError('SLUICE_PG_CONNECT', `cannot connect to Postgres at ${redactUrl(url)}: ${messageOf(e)}`, { cause: e });
  }
  // A dropped connection must surface as a query error, not an unhandled 'error' event.
  client.on('error', () => undefined);
  return client;
}

export function lsnToBigInt(lsn: string): bigint {
  const [hi, lo] = lsn.split('/');
  return (BigInt(`0x${hi}`) << 32n) | BigInt(`0x${lo}`);
}

export function compareLsn(a: string, b: string): number {
  const x = lsnToBigInt(a);
  const y = lsnToBigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}
