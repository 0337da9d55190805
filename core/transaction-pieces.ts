import { type ChangeRecord, decodeRecord, pieceOf } from './change-record.js';
import { SluiceError } from './errors.js';
import type { ChangeLog } from './log/change-log.js';

export interface PieceChunk {
  /** Pieces to apply, in log order (none while dropping an orphaned run). */
  readonly records: readonly ChangeRecord[];
  /**
   * 'more': the transaction goes on in later chunks; 'done': its last piece is in `records`;
   * 'abandoned': the run was interrupted, whatever was applied of it must be rolled back.
   */
  readonly end: 'more' | 'done' | 'abandoned';
  /** Where the log continues: after these records, or at the record that interrupted the run. */
  readonly nextOffset: number;
}

/**
 * Reads one transaction written as pieces (see PieceInfo), from its first piece on, a chunk of
 * at most about `maxBytes` at a time, so applying it never holds it whole. Waits for pieces that
 * are not in the log yet. A run that does not start with piece 0 is the tail of an abandoned one:
 * it is read through and reported abandoned with nothing to apply.
 */
export class PieceReader {
  private at: number;
  private txn: string | null = null;
  private seq = 0;
  private orphan = false;

  constructor(
    private readonly log: ChangeLog,
    from: number,
    private readonly maxBytes: number,
    private readonly signal: AbortSignal,
  ) {
    this.at = from;
  }

  async next(): Promise<PieceChunk> {
    for (;;) {
      await this.log.waitFor(this.at, this.signal);
      if (this.signal.aborted) throw new SluiceError('SLUICE_PIPELINE_STOPPED', 'stopped while a transaction was being applied in pieces');
      const raw = await this.log.read(this.at, this.maxBytes);
      const records: ChangeRecord[] = [];
      for (const r of raw) {
        const record = decodeRecord(r.payload);
        const piece = pieceOf(record.header);
        const first = this.txn === null;
        const continues = piece !== null && (first || (piece.txn === this.txn && piece.seq === this.seq && piece.seq > 0));
        if (!continues) return { records: [], end: 'abandoned', nextOffset: r.offset };
        if (first) {
          this.txn = piece.txn;
          this.orphan = piece.seq !== 0;
        }
        this.seq = piece.seq + 1;
        this.at = r.offset + 1;
        if (!this.orphan) records.push(record);
        if (piece.last) return this.orphan ? { records: [], end: 'abandoned', nextOffset: this.at } : { records, end: 'done', nextOffset: this.at };
      }
      if (records.length > 0) return { records, end: 'more', nextOffset: this.at };
    }
  }
}

/** Index of the first record that is a piece, or -1. */
export function firstPieceIndex(records: readonly ChangeRecord[]): number {
  return records.findIndex((r) => pieceOf(r.header) !== null);
}
