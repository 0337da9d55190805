import { SluiceError } from '../../core/errors.js';
import type { BackendWriter } from './backend-writer.js';

const NUMERIC_POS = 0x0000;
const NUMERIC_NEG = 0x4000;
const NUMERIC_NAN = -0x4000; // 0xC000 as the signed int16 the wire carries

/**
 * Writes a decimal string as Postgres's binary numeric: base-10000 digits grouped around the
 * decimal point, a weight (position of the first group), a sign and the display scale.
 */
export function numericBinary(w: BackendWriter, text: string): void {
  if (text === 'NaN') {
    w.cellHeader(8);
    w.int16(0), w.int16(0), w.int16(NUMERIC_NAN), w.int16(0);
    return;
  }
  const m = /^(-?)(\d*)(?:\.(\d*))?$/.exec(text);
  if (!m) throw new SluiceError('SLUICE_PGWIRE_UNSUPPORTED', `cannot send ${JSON.stringify(text)} as binary numeric`);
  const negative = m[1] === '-';
  const intPart = m[2].replace(/^0+/, '');
  const fracPart = m[3] ?? '';
  const dscale = fracPart.length;
  const intPadded = intPart.padStart(Math.ceil(intPart.length / 4) * 4, '0');
  const fracPadded = fracPart.padEnd(Math.ceil(fracPart.length / 4) * 4, '0');
  const groups: number[] = [];
  for (let i = 0; i < intPadded.length; i += 4) groups.push(Number(intPadded.slice(i, i + 4)));
  for (let i = 0; i < fracPadded.length; i += 4) groups.push(Number(fracPadded.slice(i, i + 4)));
  let weight = intPadded.length / 4 - 1;
  // Postgres strips leading and trailing zero groups; the weight follows the first kept group.
  let first = 0;
  while (first < groups.length && groups[first] === 0) first++, weight--;
  let last = groups.length;
  while (last > first && groups[last - 1] === 0) last--;
  const digits = groups.slice(first, last);
  if (digits.length === 0) weight = 0;
  w.cellHeader(8 + digits.length * 2);
  w.int16(digits.length);
  w.int16(weight);
  w.int16(digits.length === 0 ? NUMERIC_POS : negative ? NUMERIC_NEG : NUMERIC_POS);
  w.int16(dscale);
  for (const d of digits) w.int16(d);
}
