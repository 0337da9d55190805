import { decodeRecord, positionOf } from './change-record.js';
import type { ChangeLog } from './log/change-log.js';

/**
 * Where a source resumes: the position its log's last record left it at. Null when the log is
 * empty or ends inside a snapshot, which then has to be taken (again).
 */
export async function resumePosition(log: ChangeLog): Promise<string | null> {
  if (log.endOffset <= log.startOffset) return null;
  const [last] = await log.read(log.endOffset - 1, 1);
  return positionOf(decodeRecord(last.payload).header)?.lsn ?? null;
}
