import { decodeRecord } from './change-record.js';
import type { ChangeLog } from './log/change-log.js';
import type { TransactionBuilder } from './transaction-builder.js';

/** Orders two source positions of one source kind (LSNs, binlog coordinates). */
export type ComparePositions = (a: string, b: string) => number;

/**
 * Tables copied while the source kept its older resume position (tables added to a running
 * source): each has the position its copy was taken at, and the stream drops its changes from
 * transactions that committed at or before that position, since the copy already holds them
 * (see SnapshotEndHeader.fences). A fence is gone once the stream passes it.
 */
export class SnapshotFences {
  private readonly fences = new Map<string, string>();

  constructor(private readonly compare: ComparePositions) {}

  /**
   * The fences of the latest snapshot of added tables that the log has not streamed past: a
   * restart between that snapshot and its fence positions must keep dropping those tables'
   * older changes. Reads the tail of the log only; fences lie just behind it.
   */
  static async pending(log: ChangeLog, compare: ComparePositions): Promise<SnapshotFences> {
    const out = new SnapshotFences(compare);
    const from = Math.max(log.startOffset, log.endOffset - 10_000);
    let latest: string | null = null;
    for (let at = from; at < log.endOffset; ) {
      const records = await log.read(at);
      for (const r of records) {
        const h = decodeRecord(r.payload).header;
        if (h.kind === 'snapshot-end' && h.fences) {
          out.fences.clear();
          for (const [t, p] of Object.entries(h.fences)) out.fences.set(t, p);
        }
        if (h.kind === 'changes' && h.position) latest = h.position.lsn;
      }
      at = records[records.length - 1].offset + 1;
    }
    for (const [t, p] of out.fences) if (latest && compare(latest, p) > 0) out.fences.delete(t);
    return out;
  }

  set(table: string, position: string): void {
    this.fences.set(table, position);
  }

  /** Called with each transaction's commit position before it is finished. */
  apply(position: string, builder: TransactionBuilder): void {
    for (const [table, fence] of this.fences) {
      if (this.compare(position, fence) <= 0) builder.dropTable(table);
      else this.fences.delete(table);
    }
  }
}
