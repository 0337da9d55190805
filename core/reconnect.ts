import type { Logger } from 'pino';
import { type ErrorCode, SluiceError, messageOf } from './errors.js';
import type { StreamCallbacks } from './source-tracker.js';

/** Doubling delays between reconnects, back to the start once the stream made progress. */
export class Backoff {
  private delay: number;

  constructor(private readonly initialMs = 200, private readonly maxMs = 10_000) {
    this.delay = initialMs;
  }

  get nextMs(): number {
    return this.delay;
  }

  reset(): void {
    this.delay = this.initialMs;
  }

  async wait(): Promise<void> {
    await new Promise((r) => setTimeout(r, this.delay));
    this.delay = Math.min(this.delay * 2, this.maxMs);
  }
}

/**
 * A stream's connection ended with `failure`: what retrying cannot fix is thrown; anything else
 * is reported (state 'reconnecting', with the error) and the caller reconnects after its backoff.
 */
export function reportInterruption(failure: unknown, code: ErrorCode, what: string, cb: StreamCallbacks, logger: Logger, backoff: Backoff): void {
  if (failure instanceof SluiceError && !failure.retriable) throw failure;
  const err = failure instanceof SluiceError ? failure : new SluiceError(code, `${what}: ${messageOf(failure)}`, { cause: failure });
  cb.onError(err);
  cb.onState('reconnecting');
  logger.warn({ err: err.message, retryInMs: backoff.nextMs }, `${what}; reconnecting`);
}
