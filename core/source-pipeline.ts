import type { Logger } from 'pino';
import { type ChangeRecord, type SourcePosition, decodeRecord, positionOf } from './change-record.js';
import { type ErrorCode, SluiceError, messageOf } from './errors.js';
import type { ChangeLog } from './log/change-log.js';
import type { ChangeSource } from './source.js';
import type { ReplicaStore } from './store.js';
import { PieceReader, firstPieceIndex } from './transaction-pieces.js';
import type { BacklogGate } from './log/backlog-gate.js';

/** Told after each store commit: what it held and when it became visible to queries. */
export type AppliedListener = (records: readonly ChangeRecord[], visibleAtMs: number, applyMs: number) => void;

export interface PipelineStats {
  readonly appliedOffset: number;
  readonly logEndOffset: number;
  readonly lastBatchMs: number;
  readonly lastBatchRecords: number;
  readonly appliedRecords: number;
  readonly error: string | null;
  /** Registered code of `error` (SLUICE_DISK_FULL when the store's disk is full). */
  readonly errorCode: ErrorCode | null;
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
  private stats: PipelineStats = { appliedOffset: 0, logEndOffset: 0, lastBatchMs: 0, lastBatchRecords: 0, appliedRecords: 0, error: null, errorCode: null };
  private readonly appliedListeners = new Set<AppliedListener>();
  // Set by a failed apply: the store may have committed it after all (DuckDB can report a commit
  // as failed when only the checkpoint after it failed), so the next round starts from the
  // store's own checkpoint, not from what this loop believes.
  private resync = false;

  constructor(
    private readonly source: ChangeSource,
    private readonly log: ChangeLog,
    private readonly store: ReplicaStore,
    private readonly logger: Logger,
    private readonly maxBatchBytes: number,
    /** Told how far the pipeline has read, so the source's appends keep within the backlog bound. */
    private readonly gate?: BacklogGate,
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
        if (this.resync) await this.resyncWithStore();
        await this.log.waitFor(this.offset, signal);
        if (signal.aborted) break;
        const raw = await this.log.read(this.offset, this.maxBatchBytes);
        if (raw.length === 0) continue;
        let records: ChangeRecord[] = raw.map((r) => decodeRecord(r.payload));
        let next = raw[raw.length - 1].offset + 1;
        const started = performance.now();
        const pieceAt = firstPieceIndex(records);
        if (pieceAt === 0) ({ records, next } = await this.applyPieces(signal));
        else {
          // A transaction in pieces gets a store transaction of its own, so an abandoned one can
          // be rolled back without what came before it.
          if (pieceAt > 0) [records, next] = [records.slice(0, pieceAt), raw[pieceAt].offset];
          await this.store.apply(this.source.name, records, next);
        }
        this.offset = next;
        this.gate?.consumedThrough(next);
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
          errorCode: null,
        };
        backoff = 100;
        if (Date.now() - this.retainedAt > RETENTION_EVERY_MS) {
          this.retainedAt = Date.now();
          // Only what the store has committed may go: the log is what a restart replays.
          await this.log.enforceRetention(this.offset);
        }
      } catch (e) {
        if (signal.aborted) break;
        this.stats = { ...this.stats, error: messageOf(e), errorCode: e instanceof SluiceError ? e.code : 'SLUICE_INTERNAL' };
        this.resync = true;
        this.logger.error({ err: e, source: this.source.name, offset: this.offset }, 'applying the log failed; retrying');
        await sleep(backoff, signal);
        backoff = Math.min(backoff * 2, 10_000);
      }
    }
  }

  /**
   * Applies the transaction in pieces that starts at the current offset, a chunk at a time; of
   * its records only the headers are kept, for the listeners.
   */
  private async applyPieces(signal: AbortSignal): Promise<{ records: ChangeRecord[]; next: number }> {
    const from = this.offset;
    let seen: ChangeRecord[] = [];
    const { nextOffset, applied } = await this.store.applyPieces(this.source.name, () => {
      seen = [];
      const reader = new PieceReader(this.log, from, this.maxBatchBytes, signal);
      return {
        next: async () => {
          const chunk = await reader.next();
          // A transaction bigger than the backlog bound must not wait on its own last piece.
          this.gate?.consumedThrough(chunk.nextOffset);
          for (const r of chunk.records) seen.push({ header: r.header, body: NO_BODY });
          return chunk;
        },
      };
    });
    return { records: applied ? seen : [], next: nextOffset };
  }

  private async resyncWithStore(): Promise<void> {
    const cp = await this.store.checkpoint(this.source.name);
    const offset = Math.max(cp?.logOffset ?? 0, this.log.startOffset);
    if (offset !== this.offset) {
      this.logger.warn({ source: this.source.name, from: this.offset, to: offset }, 'the store committed a batch it reported as failed; going on after it');
      // That batch did apply: its failure no longer describes the pipeline, and with nothing
      // more in the log no later batch would clear it.
      this.stats = { ...this.stats, error: null, errorCode: null };
    }
    this.offset = offset;
    this.gate?.consumedThrough(offset);
    if (cp?.position) {
      this.position = cp.position;
      this.source.committed(cp.position);
    }
    this.resync = false;
  }

  async stop(): Promise<void> {
    this.gate?.release();
    this.abort.abort();
    await this.loop;
  }
}

const RETENTION_EVERY_MS = 60_000;
const NO_BODY = Buffer.alloc(0);

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
