import type { SourceStatus } from '../core/source.js';
import { compact, duration } from './figures.js';

/** What one progress line shows: all snapshotting sources added up. */
export interface ProgressFigures {
  readonly sources: readonly string[];
  readonly tablesDone: number;
  readonly tablesTotal: number;
  readonly rows: number;
  /** The databases' estimate; null when unknown (no bar, no ETA then). */
  readonly rowsTotal: number | null;
  /** Null until there are two samples to compute it from. */
  readonly rowsPerSec: number | null;
}

/** Seconds left at the current rate, or null when there is no total or no rate yet. */
export function etaSeconds(f: ProgressFigures): number | null {
  if (f.rowsTotal === null || !f.rowsPerSec || f.rowsPerSec <= 0) return null;
  return Math.max(0, f.rowsTotal - f.rows) / f.rowsPerSec;
}

/**
 * The single progress line, at most `columns` wide:
 * `snapshot shop 1/3 tables [#######.........] 41% 1.20M/2.90M rows 815k rows/s ETA 2.1s`.
 * The total is an estimate, so the bar stops at 99% until the source reports it is done and
 * the total grows to the rows copied if the estimate was low.
 */
export function renderProgressLine(f: ProgressFigures, columns = 80): string {
  const total = f.rowsTotal === null ? null : Math.max(f.rowsTotal, f.rows);
  const fraction = total ? Math.min(0.99, f.rows / total) : null;
  const eta = etaSeconds({ ...f, rowsTotal: total });
  const head = `snapshot ${f.sources.join(',')} ${f.tablesDone}/${f.tablesTotal} tables`;
  const tail = [
    fraction === null ? null : `${Math.floor(fraction * 100)}%`,
    total === null ? `${compact(f.rows)} rows` : `${compact(f.rows)}/${compact(total)} rows`,
    f.rowsPerSec === null ? null : `${compact(f.rowsPerSec)} rows/s`,
    eta === null ? null : `ETA ${duration(eta * 1000)}`,
  ].filter((p) => p !== null).join(' ');
  const room = columns - 1 - head.length - tail.length - 4; // one column kept free: no wrap at the edge
  let line = `${head} ${tail}`;
  if (fraction !== null && room >= 10) {
    const width = Math.min(30, room);
    const filled = Math.round(fraction * width);
    line = `${head} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${tail}`;
  }
  return line.length > columns - 1 ? line.slice(0, Math.max(0, columns - 1)) : line;
}

/** Rows per second over the last few seconds of samples: steady enough to read, quick to follow a change. */
export class RateMeter {
  private samples: { t: number; rows: number }[] = [];

  constructor(private readonly windowMs = 5000) {}

  sample(rows: number, t: number): number | null {
    // A smaller count means a new snapshot began: start over.
    if (this.samples.length && rows < this.samples[this.samples.length - 1].rows) this.samples = [];
    this.samples.push({ t, rows });
    while (this.samples.length > 2 && t - this.samples[1].t >= this.windowMs) this.samples.shift();
    const first = this.samples[0];
    return t > first.t ? ((rows - first.rows) * 1000) / (t - first.t) : null;
  }
}

/** Where the bar is drawn; process.stderr when it is a terminal. */
export interface BarTerminal {
  write(s: string): unknown;
  readonly columns?: number;
}

/** Erases the current terminal line: back to column 0, clear to its end. */
const CLEAR = '\r\x1b[K';

/**
 * Watches the sources' snapshot progress while `sluice run` runs. On a terminal it keeps one
 * progress line at the bottom of stderr, redrawn a few times a second; elsewhere (CI, systemd,
 * a pipe) it writes a plain `snapshot progress` log line every few seconds instead, so logs stay
 * one JSON object per line.
 *
 * Log lines on a terminal go through `logWriter()`, which clears the bar, writes the line and
 * draws the bar again, so the two never mix on one line.
 */
export class SnapshotProgressReporter {
  private timer: NodeJS.Timeout | null = null;
  private readonly meters = new Map<string, RateMeter>();
  private bar = '';
  /** When the last progress log line was written; null while no snapshot runs. */
  private lastLogMs: number | null = null;

  constructor(
    private readonly statuses: () => readonly SourceStatus[],
    /** Writes one info log line (the logger itself may write through logWriter()). */
    private readonly log: (fields: object, msg: string) => void,
    private readonly terminal: BarTerminal | null,
    private readonly o: { intervalMs?: number; logEveryMs?: number; now?: () => number } = {},
  ) {}

  start(): void {
    const interval = this.o.intervalMs ?? (this.terminal ? 250 : 1000);
    this.timer = setInterval(() => this.tick(), interval);
    // Progress must never keep the process alive on its own.
    this.timer.unref();
  }

  /** Stops and wipes the bar, so whatever is written next starts on a clean line. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.draw('');
  }

  /** A pino destination for a terminal: log lines are written above the bar. */
  logWriter(): { write(line: string): void } {
    return {
      write: (line: string) => {
        if (!this.terminal || !this.bar) return void (this.terminal ?? process.stderr).write(line);
        this.terminal.write(CLEAR + line + this.bar);
      },
    };
  }

  /** One round: sample every snapshotting source, then draw the bar or maybe log a line. */
  tick(): void {
    const now = (this.o.now ?? Date.now)();
    const running = this.statuses().filter((s) => s.state === 'snapshotting' && s.snapshot);
    for (const name of this.meters.keys()) if (!running.some((s) => s.name === name)) this.meters.delete(name);
    const per = running.map((s) => {
      let meter = this.meters.get(s.name);
      if (!meter) this.meters.set(s.name, (meter = new RateMeter()));
      return { s, snap: s.snapshot!, rate: meter.sample(s.snapshot!.rows, now) };
    });
    if (this.terminal) {
      if (!per.length) return this.draw('');
      const rates = per.map((p) => p.rate);
      this.draw(renderProgressLine({
        sources: per.map((p) => p.s.name),
        tablesDone: per.reduce((n, p) => n + p.snap.tablesDone, 0),
        tablesTotal: per.reduce((n, p) => n + p.snap.tablesTotal, 0),
        rows: per.reduce((n, p) => n + p.snap.rows, 0),
        rowsTotal: per.some((p) => p.snap.rowsTotal === null) ? null : per.reduce((n, p) => n + p.snap.rowsTotal!, 0),
        rowsPerSec: rates.some((r) => r === null) ? null : rates.reduce((n: number, r) => n + r!, 0),
      }, this.terminal.columns ?? 80));
      return;
    }
    if (!per.length) {
      this.lastLogMs = null;
      return;
    }
    // The first round of a snapshot only starts the clock: the connector logged its start.
    if (this.lastLogMs === null) this.lastLogMs = now;
    if (now - this.lastLogMs < (this.o.logEveryMs ?? 5000)) return;
    this.lastLogMs = now;
    for (const { s, snap, rate } of per) {
      const eta = etaSeconds({ sources: [s.name], ...snap, rowsPerSec: rate });
      this.log({
        source: s.name,
        tablesDone: snap.tablesDone,
        tablesTotal: snap.tablesTotal,
        rows: snap.rows,
        rowsTotal: snap.rowsTotal,
        rowsPerSec: rate === null ? null : Math.round(rate),
        etaS: eta === null ? null : Math.round(eta),
      }, 'snapshot progress');
    }
  }

  private draw(line: string): void {
    if (!this.terminal || line === this.bar) return;
    this.terminal.write(line ? CLEAR + line : CLEAR);
    this.bar = line;
  }
}
