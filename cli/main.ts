#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { loadConfigFile } from '../core/config.js';
import { isSluiceError, messageOf } from '../core/errors.js';
import { createLogger } from '../core/logger.js';
import { CliError } from './api-client.js';
import { runDemo } from './demo.js';
import { queryCommand } from './query-command.js';
import { SluiceApp } from './sluice-app.js';
import { SnapshotProgressReporter } from './snapshot-progress.js';
import { statusCommand } from './status-command.js';

const USAGE = `Usage:
  sluice run --config <file>     capture the configured sources and serve queries
  sluice demo [--pg-url <url>] [--port <n>]
                                 demo schema + a trickle of orders in local Postgres, captured live
  sluice status [--api <url>]    sources (state, position, lag, snapshot progress, errors),
                                 tables (rows, lag, last commit) and models of a running Sluice
  sluice query "<sql>" [--api <url>] [--format table|csv|json] [--max-rows <n>]
                                 run one read-only query; prints an aligned table by default
  sluice help                    this text

--api defaults to $SLUICE_API or http://127.0.0.1:8080.
`;

function fail(message: string, code = 1): never {
  process.stderr.write(`sluice: ${message}\n`);
  process.exit(code);
}

/** Resolves on the first SIGINT/SIGTERM. */
function untilSignal(): Promise<string> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
}

async function run(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { config: { type: 'string', short: 'c' } }, strict: true });
  if (!values.config) fail('run needs --config <file>\n\n' + USAGE, 2);
  const config = loadConfigFile(values.config);
  // A progress bar only for a person watching: stderr is a terminal that can erase a line.
  // Anywhere else (CI, systemd, a pipe) progress is a log line every few seconds.
  const tty = process.stderr.isTTY === true && process.env.TERM !== 'dumb';
  let app: SluiceApp | null = null;
  const progress = new SnapshotProgressReporter(
    () => app?.sourceStatuses() ?? [],
    (fields, msg) => logger.info(fields, msg),
    tty ? process.stderr : null,
  );
  const logger = tty ? createLogger(config.logging.level, progress.logWriter()) : createLogger(config.logging.level);
  app = new SluiceApp(config, logger);
  // Started before the app: the snapshot begins inside start(), while the API comes up.
  progress.start();
  try {
    await app.start();
    const signal = await untilSignal();
    progress.stop();
    logger.info({ signal }, 'shutting down');
    await app.stop();
  } finally {
    progress.stop();
  }
}

async function main(): Promise<void> {
  const [command, ...rest] = process.argv.slice(2);
  switch (command) {
    case 'run':
      return run(rest);
    case 'demo':
      return runDemo(rest, untilSignal);
    case 'status':
      return statusCommand(rest, (s) => process.stdout.write(s));
    case 'query':
      return queryCommand(rest, (s) => process.stdout.write(s));
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return;
    default:
      fail(`unknown command "${command}"\n\n${USAGE}`, 2);
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    if (e instanceof CliError) fail(e.code ? `${e.code}: ${e.message}` : e.message, e.exitCode);
    // parseArgs' own errors (unknown option, missing value) are usage errors.
    if ((e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) fail(`${messageOf(e)}\n\n${USAGE}`, 2);
    fail(isSluiceError(e) ? `${e.code}: ${e.message}` : messageOf(e));
  },
);
