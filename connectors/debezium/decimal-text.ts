/**
 * Kafka Connect's Decimal travels as the unscaled value's big-endian two's-complement bytes
 * (java.math.BigInteger.toByteArray), base64 in JSON, with the scale in the schema (Decimal) or
 * beside the bytes (Debezium's VariableScaleDecimal). Turned into exact decimal text here:
 * never through a double.
 */

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Bytes of standard, padded base64 (what the JSON converter writes); null when it is not that. */
export function base64Bytes(s: string): Buffer | null {
  return BASE64.test(s) ? Buffer.from(s, 'base64') : null;
}

export function unscaledValue(bytes: Buffer): bigint {
  if (bytes.length === 0) return 0n;
  const n = BigInt(`0x${bytes.toString('hex')}`);
  // The first bit is the sign: subtract 2^(8 * length) for negatives.
  return bytes[0] & 0x80 ? n - (1n << BigInt(bytes.length * 8)) : n;
}

/** `unscaled * 10^-scale` as plain decimal text: `-12.50`, `0.001`, `1200` for scale -2. */
export function decimalText(unscaled: bigint, scale: number): string {
  const neg = unscaled < 0n;
  let digits = (neg ? -unscaled : unscaled).toString();
  if (scale <= 0) return (neg ? '-' : '') + digits + (unscaled === 0n ? '' : '0'.repeat(-scale));
  digits = digits.padStart(scale + 1, '0');
  const point = digits.length - scale;
  return `${neg ? '-' : ''}${digits.slice(0, point)}.${digits.slice(point)}`;
}

/** Exact decimal text of a plain JSON number literal (`decimal.format=NUMERIC`). */
export const DECIMAL_LITERAL = /^-?\d+(\.\d+)?([eE][-+]?\d+)?$/;
