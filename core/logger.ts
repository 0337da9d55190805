import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * Structured JSON logs on stderr (stdout stays free for command output such as `sluice query`).
 * Passwords never reach a log line: URLs are redacted where they are logged, and these paths
 * are censored as a second guard.
 */
export function createLogger(level: string, destination: { write(line: string): unknown } = pino.destination(2)): Logger {
  return pino(
    {
      level,
      base: { service: 'sluice' },
      redact: { paths: ['url', '*.url', 'password', '*.password', 'config.sources[*].url'], censor: '***' },
    },
    // The CLI passes its own stderr writer on a terminal, to keep log lines off its progress bar.
    destination,
  );
}
