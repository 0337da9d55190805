/** Sources' default for sources[].stallTimeoutMs. */
export const DEFAULT_STALL_TIMEOUT_MS = 60_000;

/**
 * Notices a source connection that went silent: a stalled peer (a dead NAT entry, a frozen
 * server) leaves the socket open, and nothing but a clock notices it. The connector calls
 * `heard()` on anything from the peer; `onStall` runs once when nothing came for `stallMs`.
 * Silence the connector chose (its own backpressure, `paused()`) does not count.
 */
export class StallWatchdog {
  private last = Date.now();
  private readonly timer: NodeJS.Timeout;

  constructor(
    readonly stallMs: number,
    paused: () => boolean,
    onStall: () => void,
  ) {
    this.timer = setInterval(() => {
      if (paused()) this.last = Date.now();
      else if (Date.now() - this.last >= stallMs) {
        this.stop();
        onStall();
      }
    }, Math.max(100, Math.min(1000, stallMs / 4)));
    this.timer.unref();
  }

  heard(): void {
    this.last = Date.now();
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
