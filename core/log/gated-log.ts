import type { SluiceError } from '../errors.js';
import type { BacklogGate } from './backlog-gate.js';
import type { ChangeLog, LogRecord } from './change-log.js';

/**
 * A source's view of its log: appends wait for room under the backlog bound (see BacklogGate);
 * everything else is the log itself. Only the writing side gets this view.
 */
export class GatedLog implements ChangeLog {
  constructor(
    private readonly log: ChangeLog,
    private readonly gate: BacklogGate,
  ) {}

  get writeError(): SluiceError | null {
    return this.log.writeError ?? null;
  }

  get startOffset(): number {
    return this.log.startOffset;
  }

  get endOffset(): number {
    return this.log.endOffset;
  }

  async append(payloads: readonly Buffer[]): Promise<number> {
    await this.gate.room();
    const first = await this.log.append(payloads);
    let bytes = 0;
    for (const p of payloads) bytes += p.length;
    this.gate.appended(first + payloads.length, bytes);
    return first;
  }

  read(fromOffset: number, maxBytes?: number): Promise<LogRecord[]> {
    return this.log.read(fromOffset, maxBytes);
  }

  waitFor(offset: number, signal?: AbortSignal): Promise<void> {
    return this.log.waitFor(offset, signal);
  }

  enforceRetention(keepFrom?: number): Promise<number> {
    return this.log.enforceRetention(keepFrom);
  }

  sizeBytes(): number {
    return this.log.sizeBytes();
  }

  close(): Promise<void> {
    return this.log.close();
  }
}
