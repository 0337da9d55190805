/**
 * DATE, TIME and TIMESTAMP text exactly as DuckDB casts them to VARCHAR (`2024-01-02
 * 03:04:05.5`, `0044-03-15 (BC)`, `infinity`), computed with integer arithmetic: the node API's
 * own formatting builds a BigInt and a Date per value, which dominates a large export.
 */
import { civilFromDays } from '../../core/civil-date.js';

const PAD2 = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, '0'));
const PAD3 = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'));
/** Three fraction digits without their trailing zeros: 500 -> "5", 120 -> "12". */
const TRIM3 = PAD3.map((d) => d.replace(/0+$/, ''));
const DOT_PAD3 = PAD3.map((d) => `.${d}`);
const DOT_TRIM3 = TRIM3.map((d) => `.${d}`);
/** `HH:MM:SS` by second of the day, filled as met (at most 86,401 short strings). */
const CLOCK = new Array<string | undefined>(86_401);
const DATE_INFINITY = 2147483647;
const MICROS_PER_DAY = 86_400_000_000;
const TWO_32 = 4294967296;
// DuckDB's timestamp infinities are ±(2^63 - 1): hi word 0x7fffffff / 0x80000000, lo word all ones / 1.
const TS_INF_HI = 0x7fffffff;
const TS_INF_LO = 0xffffffff;

// Values of a column come in runs of the same day (a day of timestamps, a sorted date column):
// the last day's text is kept, since the calendar arithmetic below costs more than the lookup.
let cachedDays = NaN;
let cachedText = '';

/** Days since 1970-01-01 as DuckDB prints a DATE. */
export function dateText(days: number): string {
  if (days === cachedDays) return cachedText;
  cachedText = computeDateText(days);
  cachedDays = days;
  return cachedText;
}

function computeDateText(days: number): string {
  if (days === DATE_INFINITY) return 'infinity';
  if (days === -DATE_INFINITY) return '-infinity';
  const { year, month, day } = civilFromDays(days);
  // There is no year 0: astronomical year 0 is 1 BC.
  const shown = year > 0 ? year : 1 - year;
  const y = shown < 1000 ? String(shown).padStart(4, '0') : String(shown);
  return `${y}-${PAD2[month]}-${PAD2[day]}${year > 0 ? '' : ' (BC)'}`;
}

/** Microseconds since midnight as DuckDB prints a TIME: fraction trimmed of trailing zeros. */
export function timeText(micros: number): string {
  // Every part fits in 32 bits (a day has 8.64e10 µs, a second 1e6): `| 0` keeps them small
  // integers, which index the tables much faster than doubles do.
  const seconds = (micros / 1_000_000) | 0;
  const fraction = (micros - seconds * 1_000_000) | 0;
  const clock = CLOCK[seconds] ?? (CLOCK[seconds] = clockText(seconds));
  if (fraction === 0) return clock;
  const milli = (fraction / 1000) | 0;
  const micro = fraction - milli * 1000;
  return micro === 0 ? clock + DOT_TRIM3[milli] : clock + DOT_PAD3[milli] + TRIM3[micro];
}

function clockText(seconds: number): string {
  const h = (seconds / 3600) | 0;
  const rest = seconds - h * 3600;
  const m = (rest / 60) | 0;
  return `${PAD2[h] ?? String(h)}:${PAD2[m]}:${PAD2[rest - m * 60]}`;
}

/**
 * A TIMESTAMP stored as the signed 64-bit microsecond count at word pair `w` of `words`;
 * `zone` is appended to finite values (TIMESTAMPTZ).
 */
export function timestampText(words: Uint32Array, w: number, zone = ''): string {
  const lo = words[w];
  const hi = words[w + 1] | 0;
  if (hi === TS_INF_HI && lo === TS_INF_LO) return 'infinity';
  if (hi === -TS_INF_HI - 1 && lo === 1) return '-infinity';
  let days: number;
  let micros: number;
  if (hi >= -2097152 && hi < 2097152) {
    const v = hi * TWO_32 + lo;
    days = Math.floor(v / MICROS_PER_DAY);
    micros = v - days * MICROS_PER_DAY;
  } else {
    // Beyond ±2^53 µs (about 285 years from 1970) a double is not exact: split with BigInt.
    const v = (BigInt(hi) << 32n) | BigInt(lo);
    let d = v / 86_400_000_000n;
    let rest = v - d * 86_400_000_000n;
    if (rest < 0n) {
      d -= 1n;
      rest += 86_400_000_000n;
    }
    days = Number(d);
    micros = Number(rest);
  }
  const text = datePrefix(days) + timeText(micros);
  return zone === '' ? text : text + zone;
}

/** TIMESTAMPTZ in the store's session time zone, which is fixed to UTC (see DuckDbStore.open). */
export function timestampTzText(words: Uint32Array, w: number): string {
  return timestampText(words, w, '+00');
}

let prefixDays = NaN;
let prefixText = '';

/** `<date> `, kept for the run of timestamps on the same day. */
function datePrefix(days: number): string {
  if (days !== prefixDays) {
    prefixText = `${dateText(days)} `;
    prefixDays = days;
  }
  return prefixText;
}
