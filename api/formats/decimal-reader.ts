import { decimalStorageBytes, decimalText, int128Big, int64Big, int64Number } from './numeric-text.js';
import { type RawVector, view } from './raw-vector.js';

/**
 * The exact text of each DECIMAL(p,s) value of a vector, from the unscaled integers DuckDB
 * stores (16, 32, 64 or 128 bits wide depending on p).
 */
export class DecimalReader {
  readonly width: 2 | 4 | 8 | 16;
  private readonly small: Int16Array | Int32Array | null;
  private readonly words: Uint32Array | null;

  constructor(raw: RawVector, precision: number, private readonly scale: number) {
    this.width = decimalStorageBytes(precision);
    const bytes = raw.bytes(this.width);
    this.small = this.width === 2 ? view(Int16Array, bytes, raw.rows) : this.width === 4 ? view(Int32Array, bytes, raw.rows) : null;
    this.words = this.small ? null : view(Uint32Array, bytes, (raw.rows * this.width) / 4);
  }

  text(row: number): string {
    if (this.small) return decimalText(this.small[row], this.scale);
    const words = this.words!;
    const w = (row * this.width) / 4;
    if (this.width === 16) {
      // Most values of a wide decimal (Postgres' unconstrained numeric) still fit in 64 bits.
      const signWord = (words[w + 1] | 0) < 0 ? 0xffffffff : 0;
      if (words[w + 2] !== signWord || words[w + 3] !== signWord) return decimalText(int128Big(words, w), this.scale);
    }
    const n = int64Number(words, w);
    return decimalText(n !== null ? n : int64Big(words, w), this.scale);
  }
}
