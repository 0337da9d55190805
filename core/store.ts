import type { ChangeRecord, SourcePosition } from './change-record.js';

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
}
