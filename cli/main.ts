#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { loadConfigFile } from '../core/config.js';
import { isSluiceError, messageOf } from '../core/errors.js';
import { createLogger } from '../core/logger.js';
import { runDemo } from './demo.js';
import { SluiceApp } from './sluice-app.js';

const USAGE = `Usage:
  sluice run --config <file>     capture the configured sources and serve queries
  sluice demo [--pg-url <url>] [--port <n>]
                                 demo schema + a trickle of orders in local Postgres, captured live
  sluice help                    this text
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
  const logger = createLogger(config.logging.level);
  const app = new SluiceApp(config, logger);
  await app.start();
  const signal = await untilSignal();
  logger.info({ signal }, 'shutting down');
  await app.stop();
}

async function main(): Promise<void> {
  const [command, ...rest] = process.argv.slice(2);
  switch (command) {
    case 'run':
      return run(rest);
    case 'demo':
      return runDemo(rest, untilSignal);
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
  (e: unknown) => fail(isSluiceError(e) ? `${e.code}: ${e.message}` : messageOf(e)),
);
