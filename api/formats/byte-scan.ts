/**
 * Scans of raw text bytes for the few ASCII characters a format must escape or quote. UTF-8
 * never uses ASCII bytes inside a multi-byte character, so the bytes answer for the text, and
 * one scan of a chunk's strings usually spares a check per value.
 */
export function byteTable(flagged: (byte: number) => boolean): Uint8Array {
  return Uint8Array.from({ length: 256 }, (_, b) => (flagged(b) ? 1 : 0));
}

/** Whether any byte is flagged in `table` (see byteTable). */
export function hasFlaggedByte(bytes: Uint8Array, table: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) if (table[bytes[i]] !== 0) return true;
  return false;
}
