import type { SchemaPart, SourcePosition } from './change-record.js';

export type SourceState = 'starting' | 'snapshotting' | 'streaming' | 'reconnecting' | 'failed' | 'stopped';

export interface SourceStatus {
  readonly name: string;
  readonly kind: string;
  readonly state: SourceState;
  /** Last source position written to the log. */
  readonly position: string | null;
  /** Last position acknowledged to the source (only ever one the store has committed). */
  readonly acknowledged: string | null;
  readonly error: { readonly code: string; readonly message: string } | null;
  readonly snapshot: Readonly<SnapshotProgress> | null;
}

/** A snapshot's progress, updated in place by the copy. */
export interface SnapshotProgress {
  tablesDone: number;
  tablesTotal: number;
  rows: number;
  /**
   * Rows the snapshot is expected to copy: the sum of the database's per-table estimates
   * (Postgres reltuples, MySQL table_rows), so only a guide for a progress bar and an ETA.
   * Null until the estimates are read, or when the database has none.
   */
  rowsTotal: number | null;
}

/**
 * A change source: captures one database into its own log. The pipeline calls `committed`
 * after the store transaction holding a position has committed; that is the only thing a
 * source may acknowledge upstream.
 */
export interface ChangeSource {
  readonly name: string;
  /**
   * `stored`: the replicas the store already holds for this source, by replica name, with the
   * shape it holds them in (a table not among them is new).
   */
  start(stored: ReadonlyMap<string, SchemaPart>): Promise<void>;
  committed(position: SourcePosition): void;
  status(): SourceStatus;
  stop(): Promise<void>;
}
