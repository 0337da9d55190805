/**
 * Debezium's temporal encodings (days, ms/µs/ns since the epoch or since midnight, ISO strings)
 * as the text DuckDB parses. Arithmetic is on BigInt: nanosecond timestamps do not fit a double,
 * and dates far from the epoch (or before year 1) must not go through JS Date.
 */
import { civilFromDays } from '../../core/civil-date.js';

const US_PER_DAY = 86_400_000_000n;

function pad(n: number | bigint, width = 2): string {
  return String(n).padStart(width, '0');
}

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q;
}

/** `YYYY-MM-DD`, or DuckDB's `YYYY-MM-DD (BC)` for years before 1 (year 0 is 1 BC). */
export function dateText(days: number): string {
  const { year: y, month: m, day: d } = civilFromDays(days);
  return y > 0 ? `${pad(y, 4)}-${pad(m)}-${pad(d)}` : `${pad(1 - y, 4)}-${pad(m)}-${pad(d)} (BC)`;
}

function fraction(us: bigint): string {
  return us === 0n ? '' : `.${pad(us, 6).replace(/0+$/, '')}`;
}

/** `HH:MM:SS[.ffffff]` of microseconds since midnight (24:00:00 included, as DuckDB allows). */
export function timeOfDayText(micros: bigint): string {
  const s = micros / 1_000_000n;
  return `${pad(s / 3600n)}:${pad((s / 60n) % 60n)}:${pad(s % 60n)}${fraction(micros % 1_000_000n)}`;
}

/** `YYYY-MM-DD HH:MM:SS[.ffffff]` of microseconds since the epoch, a wall-clock time (no zone). */
export function timestampText(micros: bigint): string {
  const days = floorDiv(micros, US_PER_DAY);
  return `${dateText(Number(days))} ${timeOfDayText(micros - days * US_PER_DAY)}`;
}

/** A duration in microseconds as `[-]H:MM:SS[.ffffff]`, hours unbounded, which DuckDB reads as an INTERVAL. */
export function durationText(micros: bigint): string {
  const neg = micros < 0n;
  const a = neg ? -micros : micros;
  const s = a / 1_000_000n;
  return `${neg ? '-' : ''}${pad(s / 3600n)}:${pad((s / 60n) % 60n)}:${pad(s % 60n)}${fraction(a % 1_000_000n)}`;
}

/** Microseconds of a value in `unit`; nanoseconds are floored to the microsecond DuckDB keeps. */
export function toMicros(v: bigint, unit: 'ms' | 'us' | 'ns'): bigint {
  if (unit === 'ms') return v * 1000n;
  if (unit === 'ns') return floorDiv(v, 1000n);
  return v;
}

/**
 * Postgres' ±infinity timestamps: Debezium passes on the JDBC driver's sentinels (its docs:
 * 9223372036825200000 and -9223372036832400000), or Long.MAX/MIN_VALUE in nanoseconds mode.
 */
export function infinityOf(raw: bigint): 'infinity' | '-infinity' | null {
  if (raw === 9223372036825200000n || raw === 9223372036854775807n) return 'infinity';
  if (raw === -9223372036832400000n || raw === -9223372036854775808n) return '-infinity';
  return null;
}

const ISO_DURATION = /^([-+])?P(?:([-+]?\d+(?:\.\d+)?)Y)?(?:([-+]?\d+(?:\.\d+)?)M)?(?:([-+]?\d+(?:\.\d+)?)W)?(?:([-+]?\d+(?:\.\d+)?)D)?(?:T(?:([-+]?\d+(?:\.\d+)?)H)?(?:([-+]?\d+(?:\.\d+)?)M)?(?:([-+]?\d+(?:\.\d+)?)S)?)?$/;
const UNITS = ['years', 'months', 'weeks', 'days', 'hours', 'minutes', 'seconds'];

/**
 * An ISO 8601 duration (`io.debezium.time.Interval`: `P1Y2M3DT4H5M6.78S`, components may be
 * negative) in words DuckDB's INTERVAL cast reads (`1 years 2 months ... 6.78 seconds`).
 * Null when the text is not such a duration.
 */
export function isoDurationText(s: string): string | null {
  const m = ISO_DURATION.exec(s);
  if (!m || s === 'P' || s.endsWith('T')) return null;
  const sign = m[1] === '-' ? -1 : 1;
  const parts: string[] = [];
  UNITS.forEach((unit, i) => {
    const v = m[i + 2];
    if (v === undefined) return;
    let text = v.replace(/^\+/, '');
    if (sign < 0) text = text.startsWith('-') ? text.slice(1) : `-${text}`;
    parts.push(`${text} ${unit}`);
  });
  return parts.length > 0 ? parts.join(' ') : '0 seconds';
}
