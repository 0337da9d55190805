import mysql from 'mysql2/promise';
import { SluiceError, messageOf } from '../../core/errors.js';

export interface MysqlTarget {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  readonly database: string;
}

export function parseMysqlUrl(url: string): MysqlTarget {
  const u = new URL(url);
  return {
    host: u.hostname,
    port: Number(u.port || 3306),
    user: decodeURIComponent(u.username || 'root'),
    password: decodeURIComponent(u.password),
    database: decodeURIComponent(u.pathname.slice(1)),
  };
}

export function redactMysqlUrl(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@/]*@/, '//$1:***@');
}

/**
 * Options under which values come back in the forms the store parses, for queries and for
 * zongji's binlog decoding alike: dates as strings (no JS Date, no local time zone), TIMESTAMP
 * rendered in UTC, DECIMAL and big integers as exact strings, JSON as text.
 */
export function connectionOptions(t: MysqlTarget): mysql.ConnectionOptions {
  return {
    ...t,
    dateStrings: true,
    timezone: 'Z',
    supportBigNumbers: true,
    bigNumberStrings: true,
    decimalNumbers: false,
    jsonStrings: true,
    multipleStatements: false,
  };
}

export async function connectMysql(url: string): Promise<mysql.Connection> {
  let conn: mysql.Connection;
  try {
    conn = await mysql.createConnection(connectionOptions(parseMysqlUrl(url)));
  } catch (e) {
    throw new SluiceError('SLUICE_MYSQL_CONNECT', `cannot connect to MySQL at ${redactMysqlUrl(url)}: ${messageOf(e)}`, { cause: e });
  }
  conn.on('error', () => undefined);
  await conn.query(`SET time_zone = '+00:00'`);
  return conn;
}

/** `mariadb-bin.000003:4567`: a binlog coordinate that sorts as the binlog does. */
export function formatBinlogPosition(file: string, pos: number): string {
  return `${file}:${pos}`;
}

export function parseBinlogPosition(s: string): { file: string; pos: number } {
  const at = s.lastIndexOf(':');
  return { file: s.slice(0, at), pos: Number(s.slice(at + 1)) };
}

export function compareBinlogPositions(a: string, b: string): number {
  const x = parseBinlogPosition(a);
  const y = parseBinlogPosition(b);
  const fx = Number(x.file.slice(x.file.lastIndexOf('.') + 1));
  const fy = Number(y.file.slice(y.file.lastIndexOf('.') + 1));
  return fx !== fy ? fx - fy : x.pos - y.pos;
}
