/**
 * How far a source's pipeline is behind the source's appends, in log payload bytes, and the wait
 * that keeps it within `maxBytes`: a connector's append waits while the backlog is over the
 * bound, its socket pause takes over, and the source database holds the changes (in a Postgres
 * slot, a MySQL binlog) instead of the log growing for as long as the store or a model is slow.
 *
 * Kept by offsets, not by reads, so that records read twice (a retried batch, pieces read again)
 * or never applied (an abandoned run of pieces) cannot skew it. Counted from this process's
 * start: a backlog an earlier run left in the log is drained, not known.
 */
export class BacklogGate {
  /** One entry per append: the offset after it and the bytes appended up to then. */
  private readonly appends: Array<{ end: number; total: number }> = [];
  private appendedTotal = 0;
  private consumedTotal = 0;
  private waiters: Array<() => void> = [];
  private released = false;

  constructor(readonly maxBytes: number) {}

  get backlogBytes(): number {
    return this.appendedTotal - this.consumedTotal;
  }

  /** Resolves once there is room for another append (at once when the backlog is within bounds). */
  async room(): Promise<void> {
    while (!this.released && this.backlogBytes > this.maxBytes) await new Promise<void>((r) => this.waiters.push(r));
  }

  /** Records up to (not including) `end` were appended, `bytes` of payload in this append. */
  appended(end: number, bytes: number): void {
    this.appendedTotal += bytes;
    this.appends.push({ end, total: this.appendedTotal });
  }

  /** The pipeline has read (and applies) everything before `offset`. */
  consumedThrough(offset: number): void {
    let i = 0;
    while (i < this.appends.length && this.appends[i].end <= offset) i++;
    if (i === 0) return;
    this.consumedTotal = this.appends[i - 1].total;
    this.appends.splice(0, i);
    if (this.backlogBytes <= this.maxBytes) this.wake();
  }

  /** At shutdown: a writer must not wait for a pipeline that is stopping. */
  release(): void {
    this.released = true;
    this.wake();
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }
}
