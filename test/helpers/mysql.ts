import mysql from 'mysql2/promise';

export const MYSQL_URL = process.env.SLUICE_TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test';

export function mysqlDatabaseUrl(db: string): string {
  const u = new URL(MYSQL_URL);
  u.pathname = `/${db}`;
  return u.toString();
}

export async function connectMysqlTest(db?: string): Promise<mysql.Connection> {
  const u = new URL(MYSQL_URL);
  const c = await mysql.createConnection({
    host: u.hostname, port: Number(u.port || 3306), user: decodeURIComponent(u.username || 'root'), password: decodeURIComponent(u.password),
    database: db ?? u.pathname.slice(1), multipleStatements: true, dateStrings: true, jsonStrings: true, supportBigNumbers: true, bigNumberStrings: true,
  });
  c.on('error', () => undefined);
  await c.query(`SET time_zone = '+00:00'`);
  return c;
}

export async function freshMysqlDatabase(db: string): Promise<string> {
  const c = await connectMysqlTest();
  await c.query(`DROP DATABASE IF EXISTS \`${db}\``);
  await c.query(`CREATE DATABASE \`${db}\``);
  await c.end();
  return mysqlDatabaseUrl(db);
}

export async function dropMysqlDatabase(db: string): Promise<void> {
  const c = await connectMysqlTest();
  await c.query(`DROP DATABASE IF EXISTS \`${db}\``);
  await c.end();
}
