import { randomBytes } from 'node:crypto';
import {
  type ChangePart,
  type ChangesHeader,
  type PieceInfo,
  type SchemaPart,
  type SourcePosition,
  encodeRecord,
} from './change-record.js';
import { CsvBatchWriter } from './csv-batch-writer.js';

const EMPTY = Buffer.alloc(0);

/**
 * Encoded rows past which a transaction goes to the log as pieces (see PieceInfo). A piece is
 * held about four times on its way out (writer buffer, part body, record, log frame), so this
 * stays small; 32 MB measured ~160 MB more peak memory than 8 MB on a 400 MB transaction.
 */
export const DEFAULT_PIECE_BYTES = 8 * 1024 * 1024;

interface OpenPart {
  readonly kind: 'rows' | 'patch';
  readonly unchanged: readonly number[];
  /** Keys already in an open patch part: a second update of the same key starts a new part. */
  readonly keys: Set<string> | null;
}

/**
 * Collects one source transaction's changes into parts and encodes it as one log record, or,
 * once it grows past `pieceBytes`, as several (`cut` whenever it is `full`, `finish` at the
 * commit): memory holds at most about one piece, whatever the transaction's size.
 * Writers are kept per table across transactions, so a steady stream of small transactions
 * does not allocate a fresh buffer per table per transaction.
 */
export class TransactionBuilder {
  private readonly writers = new Map<string, CsvBatchWriter>();
  private readonly open = new Map<string, OpenPart>();
  private readonly parts: ChangePart[] = [];
  /** Parallel to `parts`: a part without rows has an empty body. */
  private readonly bodies: Buffer[] = [];
  private bytes = 0;
  /** Set once the current transaction has had a piece cut off. */
  private txn: string | null = null;
  private seq = 0;

  constructor(
    readonly source: string,
    private readonly pieceBytes = DEFAULT_PIECE_BYTES,
  ) {}

  get byteLength(): number {
    let n = this.bytes;
    for (const table of this.open.keys()) n += this.writer(table).byteLength;
    return n;
  }

  get isEmpty(): boolean {
    return this.parts.length === 0 && this.open.size === 0;
  }

  private writer(table: string): CsvBatchWriter {
    let w = this.writers.get(table);
    if (!w) {
      w = new CsvBatchWriter();
      this.writers.set(table, w);
    }
    return w;
  }

  private close(table: string): void {
    const part = this.open.get(table);
    if (!part) return;
    this.open.delete(table);
    const w = this.writer(table);
    const rows = w.rows;
    const body = w.take();
    if (rows === 0) return;
    this.parts.push(
      part.kind === 'rows'
        ? { kind: 'rows', table, rows, bytes: body.length }
        : { kind: 'patch', table, rows, bytes: body.length, unchanged: part.unchanged },
    );
    this.bodies.push(body);
    this.bytes += body.length;
  }

  /** Writer for the next plain change row of `table` (caller writes one whole row). */
  rows(table: string): CsvBatchWriter {
    const part = this.open.get(table);
    if (part?.kind !== 'rows') {
      this.close(table);
      this.open.set(table, { kind: 'rows', unchanged: [], keys: null });
    }
    return this.writer(table);
  }

  /** Writer for an update that left the columns at `unchanged` out. */
  patch(table: string, unchanged: readonly number[], key: string): CsvBatchWriter {
    const part = this.open.get(table);
    const same =
      part?.kind === 'patch' &&
      part.unchanged.length === unchanged.length &&
      part.unchanged.every((c, i) => c === unchanged[i]) &&
      !part.keys!.has(key);
    if (!same) {
      this.close(table);
      this.open.set(table, { kind: 'patch', unchanged: [...unchanged], keys: new Set() });
    }
    this.open.get(table)!.keys!.add(key);
    return this.writer(table);
  }

  schema(part: SchemaPart): void {
    this.close(part.table);
    this.parts.push(part);
    this.bodies.push(EMPTY);
  }

  truncate(table: string): void {
    this.close(table);
    this.parts.push({ kind: 'truncate', table, bytes: 0 });
    this.bodies.push(EMPTY);
  }

  /**
   * Forgets everything collected for `table` in this transaction (see snapshot fences). Pieces
   * already cut off are out of reach: fences must be applied before each cut.
   */
  dropTable(table: string): void {
    this.close(table);
    for (let i = this.parts.length - 1; i >= 0; i--) {
      if (this.parts[i].table !== table) continue;
      this.bytes -= this.parts[i].bytes;
      this.parts.splice(i, 1);
      this.bodies.splice(i, 1);
    }
  }

  /** What was collected has reached `pieceBytes`: time to `cut()` a piece. */
  get full(): boolean {
    return this.byteLength >= this.pieceBytes;
  }

  /**
   * Encodes what was collected as a non-final piece of the current transaction and empties the
   * builder, which goes on collecting the same transaction; null if nothing was collected.
   */
  cut(tsMs?: number): Buffer | null {
    for (const table of [...this.open.keys()]) this.close(table);
    if (this.parts.length === 0) return null;
    this.txn ??= randomBytes(8).toString('hex');
    const record = this.encode(undefined, false, { txn: this.txn, seq: this.seq++, last: false, ...(tsMs === undefined ? {} : { tsMs }) });
    this.clearParts();
    return record;
  }

  /** Encodes what was collected as one record and starts over; null if nothing was. */
  finish(position: SourcePosition | undefined, snapshot = false): Buffer | null {
    for (const table of [...this.open.keys()]) this.close(table);
    // After pieces the final one is written even when empty: it is what completes them.
    const piece: PieceInfo | undefined = this.txn === null ? undefined : { txn: this.txn, seq: this.seq, last: true };
    if (this.parts.length === 0 && !piece) return null;
    const record = this.encode(position, snapshot, piece);
    this.discard();
    return record;
  }

  private encode(position: SourcePosition | undefined, snapshot: boolean, piece: PieceInfo | undefined): Buffer {
    const header: ChangesHeader = {
      kind: 'changes',
      source: this.source,
      snapshot,
      position,
      capturedMs: Date.now(),
      parts: [...this.parts],
      ...(piece ? { piece } : {}),
    };
    return encodeRecord(header, this.bodies);
  }

  private clearParts(): void {
    this.parts.length = 0;
    this.bodies.length = 0;
    this.bytes = 0;
  }

  /** Forgets the transaction, pieces included (a new one or a new session starts). */
  discard(): void {
    this.txn = null;
    this.seq = 0;
    this.open.clear();
    this.parts.length = 0;
    this.bodies.length = 0;
    this.bytes = 0;
    for (const w of this.writers.values()) w.reset();
  }
}
