import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { print } from './bench-util.js';
import { benchDashboards } from './dashboard-bench.js';
import { benchModels } from './models-bench.js';
import { benchMysql } from './mysql-bench.js';
import { benchPostgres } from './postgres-bench.js';

/**
 * `npm run bench [-- --rows N --changes N --rate N --seconds N --runs N --only postgres|mysql|models|dashboards]`: generates its
 * own data in the local databases, runs Sluice in this process and prints what it measured. `--rows` and `--seconds`
 * default to 1,000,000 and 20, except for dashboards: 5,000,000 rows and 10 s of load; `--runs` (30) is per dashboard query.
 */
const { values } = parseArgs({
  options: {
    'pg-url': { type: 'string', default: process.env.SLUICE_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres' },
    'mysql-url': { type: 'string', default: process.env.SLUICE_BENCH_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test' },
    only: { type: 'string' },
    rows: { type: 'string' },
    changes: { type: 'string', default: '300000' },
    rate: { type: 'string', default: '10000' },
    seconds: { type: 'string' },
    runs: { type: 'string', default: '30' },
    'data-dir': { type: 'string', default: './data/bench' },
    keep: { type: 'boolean', default: false },
  },
});

const options = {
  pgUrl: values['pg-url']!,
  mysqlUrl: values['mysql-url']!,
  rows: Number(values.rows ?? 1_000_000),
  changes: Number(values.changes),
  steadyRate: Number(values.rate),
  steadySeconds: Number(values.seconds ?? 20),
  dataDir: resolve(values['data-dir']!),
  keep: values.keep!,
};

print(`sluice bench: node ${process.version}, ${(await import('node:os')).cpus().length} cores`);
// `--only postgres|mysql|models|dashboards` runs one of the benchmarks.
if (!values.only || values.only === 'postgres') await benchPostgres(options);
if (!values.only || values.only === 'mysql') await benchMysql(options);
if (!values.only || values.only === 'models') await benchModels(options);
if (!values.only || values.only === 'dashboards') {
  await benchDashboards({ ...options, rows: Number(values.rows ?? 5_000_000), steadySeconds: Number(values.seconds ?? 10), runs: Number(values.runs) });
}
process.exit(0);
