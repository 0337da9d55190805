const QUOTE = 0x22;
const NEWLINE = 0x0a;

/**
 * Cuts a CSV byte stream that arrives in arbitrary pieces into chunks of whole rows, counting
 * rows on the way. A newline ends a row only outside quotes; quote state is carried from piece
 * to piece.
 */
export class CsvRowCutter {
  private pieces: Buffer[] = [];
  private size = 0;
  private inQuotes = false;
  /** Bytes of `pieces` up to the end of the last complete row, and rows in them. */
  private cut = 0;
  private rows = 0;

  get bufferedBytes(): number {
    return this.size;
  }

  push(piece: Buffer): void {
    let pos = 0;
    let lastRowEnd = -1;
    // Quotes are rare and found natively; between them a plain loop over the bytes counts
    // newlines faster than an indexOf call per row would.
    for (;;) {
      const q = piece.indexOf(QUOTE, pos);
      const segEnd = q < 0 ? piece.length : q;
      if (!this.inQuotes) {
        for (let i = pos; i < segEnd; i++) {
          if (piece[i] === NEWLINE) {
            this.rows++;
            lastRowEnd = i;
          }
        }
      }
      if (q < 0) break;
      this.inQuotes = !this.inQuotes;
      pos = q + 1;
    }
    if (lastRowEnd >= 0) this.cut = this.size + lastRowEnd + 1;
    this.pieces.push(piece);
    this.size += piece.length;
  }

  /** Takes every complete row buffered so far; null if there is none. */
  take(): { body: Buffer; rows: number } | null {
    if (this.cut === 0) return null;
    const all = this.pieces.length === 1 ? this.pieces[0] : Buffer.concat(this.pieces, this.size);
    const body = all.subarray(0, this.cut);
    const rest = all.subarray(this.cut);
    const rows = this.rows;
    this.pieces = rest.length ? [rest] : [];
    this.size = rest.length;
    this.cut = 0;
    this.rows = 0;
    return { body, rows };
  }
}
