import { decodeRecord, pieceOf, positionOf } from './change-record.js';
import type { ChangeLog } from './log/change-log.js';

/**
 * Where a source resumes: the position its log's last record left it at. Null when the log is
 * empty or ends inside a snapshot, which then has to be taken (again). Pieces of a transaction
 * whose last piece never made it (a crash mid-transaction) are passed over: the source sends
 * that transaction again, and the pipeline drops the dangling pieces.
 */
export async function resumePosition(log: ChangeLog): Promise<string | null> {
  let examined = log.endOffset;
  for (let at = log.endOffset - 1; at >= log.startOffset; at--) {
    const [record] = await log.read(at, 1);
    // Offsets are not dense on Kafka: a read hands out the next record at or after `at`.
    if (!record || record.offset >= examined) continue;
    examined = record.offset;
    const { header } = decodeRecord(record.payload);
    const piece = pieceOf(header);
    if (piece && !piece.last) continue;
    return positionOf(header)?.lsn ?? null;
  }
  return null;
}
