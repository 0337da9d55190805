/** Numbers and durations as people read them in a terminal line. */

/** 1234567 -> "1,234,567"; non-numbers (a BIGINT the API sent as digits) pass through. */
export function grouped(n: unknown): string {
  if (typeof n === 'number' && Number.isFinite(n)) return Math.round(n).toLocaleString('en-US');
  if (typeof n === 'string' && /^-?\d+$/.test(n)) return BigInt(n).toLocaleString('en-US');
  return n === null || n === undefined ? '-' : String(n);
}

/** 950 -> "950", 12345 -> "12.3k", 2900000 -> "2.90M": short enough for a progress line. */
export function compact(n: number): string {
  const a = Math.abs(n);
  if (a < 10_000) return String(Math.round(n));
  if (a < 1_000_000) return `${(n / 1000).toFixed(a < 100_000 ? 1 : 0)}k`;
  if (a < 1_000_000_000) return `${(n / 1_000_000).toFixed(2)}M`;
  return `${(n / 1_000_000_000).toFixed(2)}G`;
}

/** Milliseconds of lag or a remaining time: "0s", "850ms", "12.3s", "4m05s", "2h03m". */
export function duration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '-';
  if (ms === 0) return '0s';
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = ms / 1000;
  if (s < 60) return `${s < 10 ? s.toFixed(1) : Math.round(s)}s`;
  const whole = Math.round(s);
  if (whole < 3600) return `${Math.floor(whole / 60)}m${String(whole % 60).padStart(2, '0')}s`;
  return `${Math.floor(whole / 3600)}h${String(Math.floor((whole % 3600) / 60)).padStart(2, '0')}m`;
}

/** An ISO timestamp as its age ("3.2s ago"), which is what freshness means to a reader. */
export function ago(iso: unknown, now = Date.now()): string {
  if (typeof iso !== 'string') return '-';
  const t = Date.parse(iso);
  return Number.isNaN(t) ? iso : `${duration(Math.max(0, now - t))} ago`;
}
