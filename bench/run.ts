import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { print } from './bench-util.js';
import { benchPostgres } from './postgres-bench.js';

/**
 * `npm run bench [-- --rows N --changes N --rate N --seconds N]`: generates its own data in the
 * local databases, runs Sluice in this process and prints what it measured.
 */
const { values } = parseArgs({
  options: {
    'pg-url': { type: 'string', default: process.env.SLUICE_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres' },
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
  rows: Number(values.rows),
  changes: Number(values.changes),
  steadyRate: Number(values.rate),
  steadySeconds: Number(values.seconds),
  dataDir: resolve(values['data-dir']!),
  keep: values.keep!,
};

print(`sluice bench: node ${process.version}, ${(await import('node:os')).cpus().length} cores`);
await benchPostgres(options);
process.exit(0);
