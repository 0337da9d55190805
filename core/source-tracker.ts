import type { Logger } from 'pino';
import { type ErrorCode, SluiceError, messageOf } from './errors.js';
import type { SnapshotProgress, SourceState, SourceStatus } from './source.js';

/** What a connector's stream reports as it goes. */
export interface StreamCallbacks {
  onState(state: SourceState): void;
  onLogged(position: string): void;
  onError(e: SluiceError): void;
}

/**
 * The status every source keeps the same way: state, last logged and acknowledged positions,
 * snapshot progress, and the error that explains a 'reconnecting' or 'failed' state.
 */
export class SourceTracker implements StreamCallbacks {
  state: SourceState = 'starting';
  error: SluiceError | null = null;
  lastLogged: string | null = null;
  acknowledged: string | null = null;
  snapshot: SnapshotProgress | null = null;

  constructor(
    private readonly name: string,
    private readonly kind: string,
    private readonly logger: Logger,
  ) {}

  onState(state: SourceState): void {
    this.state = state;
    if (state === 'streaming') this.error = null;
  }

  onLogged(position: string): void {
    this.lastLogged = position;
  }

  onError(e: SluiceError): void {
    this.error = e;
  }

  /**
   * Starts a snapshot's progress count; the object is updated in place by the copy, which also
   * fills `rowsTotal` once it has read the tables' row estimates (null until then, or unknown).
   */
  startSnapshot(tablesTotal: number): SnapshotProgress {
    this.state = 'snapshotting';
    this.snapshot = { tablesDone: 0, tablesTotal, rows: 0, rowsTotal: null };
    return this.snapshot;
  }

  /** The source stopped for good: anything not already coded is reported under `code`. */
  fail(e: unknown, code: ErrorCode): void {
    this.state = 'failed';
    this.error = e instanceof SluiceError ? e : new SluiceError(code, messageOf(e), { cause: e });
    this.logger.error({ err: e }, 'source failed');
  }

  status(): SourceStatus {
    return {
      name: this.name,
      kind: this.kind,
      state: this.state,
      position: this.lastLogged,
      acknowledged: this.acknowledged,
      error: this.error ? { code: this.error.code, message: this.error.message } : null,
      snapshot: this.snapshot ? { ...this.snapshot } : null,
    };
  }
}
