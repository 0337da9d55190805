/**
 * Wide integers and decimals read from raw little-endian words. A BigInt per value is costly
 * in a hot loop, so values that fit in a double's 53 bits are read as numbers and only the
 * rest take the BigInt path; both give the same digits.
 */

const TWO_32 = 4294967296;
const HI_SAFE = 2097152; // 2^21: |hi| below this keeps hi * 2^32 + lo within 2^53

/** Signed 64-bit value at word pair `w` (lo, hi) as a number when exact, else null. */
export function int64Number(words: Uint32Array, w: number): number | null {
  const hi = words[w + 1] | 0;
  if (hi >= -HI_SAFE && hi < HI_SAFE) {
    const v = hi * TWO_32 + words[w];
    if (Number.isSafeInteger(v)) return v;
  }
  return null;
}

export function uint64Number(words: Uint32Array, w: number): number | null {
  const hi = words[w + 1];
  return hi < HI_SAFE ? hi * TWO_32 + words[w] : null;
}

export function int64Big(words: Uint32Array, w: number): bigint {
  return (BigInt(words[w + 1] | 0) << 32n) | BigInt(words[w]);
}

export function uint64Big(words: Uint32Array, w: number): bigint {
  return (BigInt(words[w + 1]) << 32n) | BigInt(words[w]);
}

/** Signed 128-bit value at words w..w+3, as DuckDB stores HUGEINT and wide DECIMAL. */
export function int128Big(words: Uint32Array, w: number): bigint {
  return (BigInt(words[w + 3] | 0) << 96n) | (BigInt(words[w + 2]) << 64n) | (BigInt(words[w + 1]) << 32n) | BigInt(words[w]);
}

export function uint128Big(words: Uint32Array, w: number): bigint {
  return (BigInt(words[w + 3]) << 96n) | (BigInt(words[w + 2]) << 64n) | (BigInt(words[w + 1]) << 32n) | BigInt(words[w]);
}

/** Digits of a signed 64-bit value. */
export function int64Text(words: Uint32Array, w: number): string {
  const n = int64Number(words, w);
  return n !== null ? String(n) : String(int64Big(words, w));
}

export function uint64Text(words: Uint32Array, w: number): string {
  const n = uint64Number(words, w);
  return n !== null ? String(n) : String(uint64Big(words, w));
}

/** A 128-bit value whose upper half only repeats the sign of the lower one fits in 64 bits. */
export function int128Text(words: Uint32Array, w: number): string {
  const signWord = (words[w + 1] | 0) < 0 ? 0xffffffff : 0;
  if (words[w + 2] === signWord && words[w + 3] === signWord) return int64Text(words, w);
  return String(int128Big(words, w));
}

const POW10 = Array.from({ length: 16 }, (_, i) => 10 ** i);
/** Zero-padded fraction digits for the common scales 1-3 (money has 2). */
const FRACTION_DIGITS = [[], ...[1, 2, 3].map((scale) => Array.from({ length: 10 ** scale }, (_, i) => String(i).padStart(scale, '0')))];

/** DuckDB's text for an unscaled decimal: `-0.0500` for -500 at scale 4. */
export function decimalText(unscaled: number | bigint, scale: number): string {
  if (scale === 0) return String(unscaled);
  if (typeof unscaled === 'number' && scale < POW10.length) {
    // Exact: |unscaled| < 2^53, so the division and remainder are exact in doubles.
    const abs = unscaled < 0 ? -unscaled : unscaled;
    const whole = Math.floor(abs / POW10[scale]);
    const rest = abs - whole * POW10[scale];
    const fraction = scale <= 3 ? FRACTION_DIGITS[scale][rest] : String(rest).padStart(scale, '0');
    return (unscaled < 0 ? '-' : '') + whole + '.' + fraction;
  }
  const negative = unscaled < 0;
  let digits = String(negative ? -unscaled : unscaled);
  if (digits.length <= scale) digits = '0'.repeat(scale + 1 - digits.length) + digits;
  const cut = digits.length - scale;
  return (negative ? '-' : '') + digits.slice(0, cut) + '.' + digits.slice(cut);
}

/** DuckDB stores DECIMAL(p,s) in 2, 4, 8 or 16 bytes depending on p. */
export function decimalStorageBytes(precision: number): 2 | 4 | 8 | 16 {
  return precision <= 4 ? 2 : precision <= 9 ? 4 : precision <= 18 ? 8 : 16;
}

/**
 * The shortest text that reads back as the same float32 (`0.1`, not the double expansion
 * `0.10000000149011612`), as DuckDB prints FLOAT.
 */
export function float32Text(v: number): string {
  if (!Number.isFinite(v) || v === 0) return String(v);
  for (let p = 1; p <= 9; p++) {
    const s = Number(v.toPrecision(p));
    if (Math.fround(s) === v) return String(s);
  }
  return String(v);
}
