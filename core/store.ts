import type { ChangeRecord, SourcePosition } from './change-record.js';
import type { PieceChunk } from './transaction-pieces.js';

export interface Checkpoint {
  /** Next log offset to apply. */
  readonly logOffset: number;
  readonly position: SourcePosition | null;
  readonly snapshotting: boolean;
}

/**
 * What the pipeline needs from the store: apply decoded log records and record how far it got,
 * atomically. Implementations must make `apply` all-or-nothing, including the checkpoint.
 */
export interface ReplicaStore {
  checkpoint(source: string): Promise<Checkpoint | null>;
  /** Applies `records` and sets the source's checkpoint to `nextOffset`, in ONE transaction. */
  apply(source: string, records: readonly ChangeRecord[], nextOffset: number): Promise<void>;
  /**
   * Applies one transaction written as pieces, chunk by chunk from `open()`'s reader, in ONE
   * transaction that commits with the checkpoint once the last piece is applied; an abandoned
   * run is rolled back and the checkpoint moves past it. `open` gives a fresh reader from the
   * first piece for each attempt. Resolves with the offset the checkpoint moved to and whether
   * the transaction was applied.
   */
  applyPieces(source: string, open: () => { next(): Promise<PieceChunk> }): Promise<{ nextOffset: number; applied: boolean }>;
}
