import type { DuckDBDataChunk } from '@duckdb/node-api';
import duckdb from '@duckdb/node-bindings';

/**
 * One column of a result chunk as DuckDB holds it: the vector's data bytes and its validity
 * mask, read straight from DuckDB's memory without building a value object per row. The
 * views are only valid while the chunk is (until the next fetch): encoders read them
 * synchronously and copy what they keep.
 */
export class RawVector {
  /** DuckDB's validity mask (little-endian uint64 words, 1 = valid); null when every row is valid. */
  readonly validity: Uint8Array | null;

  private constructor(
    readonly vector: duckdb.Vector,
    readonly rows: number,
  ) {
    this.validity = rows === 0 ? null : duckdb.vector_get_validity(vector, Math.ceil(rows / 64) * 8);
  }

  static of(chunk: DuckDBDataChunk, column: number): RawVector {
    return new RawVector(duckdb.data_chunk_get_vector(chunk.chunk, column), chunk.rowCount);
  }

  /** The first `rows * width` data bytes (result vectors are flat: one slot per row). */
  bytes(width: number): Uint8Array {
    if (this.rows === 0) return new Uint8Array(0);
    return duckdb.vector_get_data(this.vector, this.rows * width);
  }

  isValid(row: number): boolean {
    const v = this.validity;
    return v === null || (v[row >> 3] & (1 << (row & 7))) !== 0;
  }

  /** Typed views of the data; DuckDB's buffers are aligned, the copy is only a guard. */
  int32(): Int32Array {
    return view(Int32Array, this.bytes(4), this.rows);
  }

  uint32(width: number): Uint32Array {
    return view(Uint32Array, this.bytes(width), (this.rows * width) / 4);
  }

  float64(): Float64Array {
    return view(Float64Array, this.bytes(8), this.rows);
  }

  float32(): Float32Array {
    return view(Float32Array, this.bytes(4), this.rows);
  }
}

type TypedCtor<T> = { new (buffer: ArrayBufferLike, byteOffset: number, length: number): T; BYTES_PER_ELEMENT: number };

export function view<T>(Ctor: TypedCtor<T>, bytes: Uint8Array, length: number): T {
  const aligned = bytes.byteOffset % Ctor.BYTES_PER_ELEMENT === 0 ? bytes : bytes.slice();
  return new Ctor(aligned.buffer, aligned.byteOffset, length);
}

/**
 * DuckDB's string_t (VARCHAR, BLOB, BIT): 16 bytes per row, a uint32 length, then the bytes
 * inline when they fit in 12, else a 4-byte prefix and a pointer into the chunk's string heap.
 */
export class StringSlots {
  private readonly data: Uint8Array;
  private readonly words: Uint32Array;

  constructor(readonly raw: RawVector) {
    this.data = raw.bytes(16);
    this.words = view(Uint32Array, this.data, raw.rows * 4);
  }

  /** The row's bytes: a view into the chunk (inline) or into DuckDB's string heap. */
  bytes(row: number): Uint8Array {
    const len = this.words[row * 4];
    const at = row * 16;
    if (len <= 12) return this.data.subarray(at + 4, at + 4 + len);
    return duckdb.get_data_from_pointer(this.data.buffer as ArrayBuffer, this.data.byteOffset + at + 8, len);
  }

  /**
   * Every valid row's bytes back to back, with Arrow-style offsets (row i is
   * `data[offsets[i]..offsets[i+1]]`, NULL rows empty): the layout Arrow wants, and one buffer
   * to decode or scan instead of one per row.
   */
  gather(): { offsets: Int32Array; data: Uint8Array } {
    const rows = this.raw.rows;
    const offsets = new Int32Array(rows + 1);
    let total = 0;
    for (let r = 0; r < rows; r++) {
      if (this.raw.isValid(r)) total += this.words[r * 4];
      offsets[r + 1] = total;
    }
    const out = new Uint8Array(total);
    for (let r = 0; r < rows; r++) {
      const start = offsets[r];
      const len = offsets[r + 1] - start;
      if (len === 0) continue;
      if (len <= 12) {
        const at = r * 16 + 4;
        for (let i = 0; i < len; i++) out[start + i] = this.data[at + i];
      } else {
        out.set(this.bytes(r), start);
      }
    }
    return { offsets, data: out };
  }
}
