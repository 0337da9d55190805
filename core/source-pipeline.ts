import type { Logger } from 'pino';
import { type ChangeRecord, type SourcePosition, decodeRecord, positionOf } from './change-record.js';
import { messageOf } from './errors.js';
import type { ChangeLog } from './log/change-log.js';
import type { ChangeSource } from './source.js';
import type { ReplicaStore } from './store.js';

/** Told after each store commit: what it held and when it became visible to queries. */
export type AppliedListener = (records: readonly ChangeRecord[], visibleAtMs: number, applyMs: number) => void;

export interface PipelineStats {
  readonly appliedOffset: number;
  readonly logEndOffset: number;
  readonly lastBatchMs: number;
  readonly lastBatchRecords: number;
  readonly appliedRecords: number;
  readonly error: string | null;
}

/**
 * Moves one source's log into the store:
 *   read records after the store's checkpoint
 *   -> apply them and the new checkpoint in ONE store transaction
 *   -> only then tell the source, which may acknowledge that position upstream.
 * A crash anywhere re-reads from the checkpoint the store committed, so nothing is applied
 * twice or skipped. Batches grow on their own under load: whatever the log gained while the
 * previous batch was applying goes into the next one.
 */
export class SourcePipeline {
  private offset = 0;
  private position: SourcePosition | null = null;
  private retainedAt = 0;
  private readonly abort = new AbortController();
  private loop: Promise<void> | null = null;
  private stats: PipelineStats = { appliedOffset: 0, logEndOffset: 0, lastBatchMs: 0, lastBatchRecords: 0, appliedRecords: 0, error: null };
  private readonly appliedListeners = new Set<AppliedListener>();

  constructor(
    private readonly source: ChangeSource,
    private readonly log: ChangeLog,
    private readonly store: ReplicaStore,
    private readonly logger: Logger,
    private readonly maxBatchBytes: number,
  ) {}

  async start(): Promise<void> {
    const cp = await this.store.checkpoint(this.source.name);
    this.offset = Math.max(cp?.logOffset ?? 0, this.log.startOffset);
    if (cp?.position) this.source.committed(cp.position);
    this.loop = this.run();
  }

  get appliedOffset(): number {
    return this.offset;
  }

  /** Source position of the last store commit that carried one. */
  get appliedPosition(): SourcePosition | null {
    return this.position;
  }

  status(): PipelineStats {
    return { ...this.stats, appliedOffset: this.offset, logEndOffset: this.log.endOffset };
  }

  onApplied(listener: AppliedListener): () => void {
    this.appliedListeners.add(listener);
    return () => this.appliedListeners.delete(listener);
  }

  private async run(): Promise<void> {
    const signal = this.abort.signal;
    let backoff = 100;
    while (!signal.aborted) {
      try {
        await this.log.waitFor(this.offset, signal);
        if (signal.aborted) break;
        const raw = await this.log.read(this.offset, this.maxBatchBytes);
        if (raw.length === 0) continue;
        const records: ChangeRecord[] = raw.map((r) => decodeRecord(r.payload));
        const next = raw[raw.length - 1].offset + 1;
        const started = performance.now();
        await this.store.apply(this.source.name, records, next);
        this.offset = next;
        const visibleAt = Date.now();
        const applyMs = performance.now() - started;
        for (const l of this.appliedListeners) l(records, visibleAt, applyMs);
        const position = lastPosition(records);
        if (position) {
          this.position = position;
          this.source.committed(position);
        }
        this.stats = {
          ...this.stats,
          lastBatchMs: applyMs,
          lastBatchRecords: records.length,
          appliedRecords: this.stats.appliedRecords + records.length,
          error: null,
        };
        backoff = 100;
        if (Date.now() - this.retainedAt > RETENTION_EVERY_MS) {
          this.retainedAt = Date.now();
          // Only what the store has committed may go: the log is what a restart replays.
          await this.log.enforceRetention(this.offset);
        }
      } catch (e) {
        if (signal.aborted) break;
        this.stats = { ...this.stats, error: messageOf(e) };
        this.logger.error({ err: e, source: this.source.name, offset: this.offset }, 'applying the log failed; retrying');
        await sleep(backoff, signal);
        backoff = Math.min(backoff * 2, 10_000);
      }
    }
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop;
  }
}

const RETENTION_EVERY_MS = 60_000;

function lastPosition(records: readonly ChangeRecord[]): SourcePosition | null {
  for (let i = records.length - 1; i >= 0; i--) {
    const p = positionOf(records[i].header);
    if (p) return p;
  }
  return null;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(t);
      resolve();
    }, { once: true });
  });
}
