import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { print } from './bench-util.js';
import { benchModels } from './models-bench.js';
import { benchMysql } from './mysql-bench.js';
import { benchPostgres } from './postgres-bench.js';

/**
 * `npm run bench [-- --rows N --changes N --rate N --seconds N --only postgres|mysql|models]`: generates its own data in the
 * local databases, runs Sluice in this process and prints what it measured.
 */
const { values } = parseArgs({
  options: {
    'pg-url': { type: 'string', default: process.env.SLUICE_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres' },
    'mysql-url': { type: 'string', default: process.env.SLUICE_BENCH_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test' },
    only: { type: 'string' },
    rows: { type: 'string', default: '1000000' },
    changes: { type: 'string', default: '300000' },
    rate: { type: 'string', default: '10000' },
    seconds: { type: 'string', default: '20' },
    'data-dir': { type: 'string', default: './data/bench' },
    keep: { type: 'boolean', default: false },
  },
});

const options = {
  pgUrl: values['pg-url']!,
  mysqlUrl: values['mysql-url']!,
  rows: Number(values.rows),
  changes: Number(values.changes),
  steadyRate: Number(values.rate),
  steadySeconds: Number(values.seconds),
  dataDir: resolve(values['data-dir']!),
  keep: values.keep!,
};

print(`sluice bench: node ${process.version}, ${(await import('node:os')).cpus().length} cores`);
// `--only postgres|mysql|models` runs one of the benchmarks.
if (!values.only || values.only === 'postgres') await benchPostgres(options);
if (!values.only || values.only === 'mysql') await benchMysql(options);
if (!values.only || values.only === 'models') await benchModels(options);
process.exit(0);
