/**
 * What the log carries: Debezium change events, batched. A 'changes' record holds one whole
 * source transaction (or one snapshot chunk) as parts, one part per run of changes to a table.
 *
 * The rows of a part are not objects: they are packed as RFC 4180 CSV, one line per event,
 * `op,<column values in table order>`, each value in its source's canonical text form. That
 * keeps the hot path to byte copies on the way in, and lets DuckDB's native CSV reader do all
 * type parsing on the way out. `toEnvelopes()` (envelope.ts) turns a part back into
 * Debezium's `{before, after, source, op, ts_ms}` shape for consumers that want it.
 *
 * Encoding: [u32 BE header length][header JSON][body bytes].
 */

/** 'b' is a before image (REPLICA IDENTITY FULL) that precedes its 'u'. */
export type ChangeOp = 'c' | 'u' | 'd' | 'r' | 'b';

export interface ColumnSpec {
  readonly name: string;
  /** Source type as the source names it (e.g. `numeric(12,2)`, `timestamptz`, `int4[]`). */
  readonly sourceType: string;
  /** DuckDB type of the replica column. */
  readonly storeType: string;
  /** How the text value becomes the store type (see olap/stage-sql.ts). */
  readonly conversion: ValueConversion;
  readonly key: boolean;
  /**
   * The column's constant default, as text, when the source has one: rows that existed before
   * the column was added show it, as they do in the source.
   */
  readonly default?: string;
  /**
   * Postgres attribute number. A rename keeps it, so the store can tell a renamed column from a
   * dropped one plus a new one (pgoutput sends names only).
   */
  readonly attnum?: number;
}

export type ValueConversion = 'cast' | 'bytea-hex' | 'pg-array' | 'interval' | 'text';

export interface SourcePosition {
  /**
   * Where the source is after this transaction: Postgres' commit end LSN (`0/16B3748`), or the
   * MySQL binlog coordinates after the commit (`mariadb-bin.000003:4567`).
   */
  readonly lsn: string;
  /** MySQL/MariaDB GTID of the transaction, when the server has one. */
  readonly gtid?: string;
  readonly txId?: number;
  /** Source commit time, ms since epoch. */
  readonly tsMs: number;
}

/** Changes to one table, in source order, as CSV lines `op,<values>`. */
export interface RowsPart {
  readonly kind: 'rows';
  readonly table: string;
  readonly rows: number;
  readonly bytes: number;
}

/**
 * Updates whose unchanged TOASTed values were not sent: the columns at the `unchanged`
 * indexes must keep what the store has. At most one row per key in a part.
 */
export interface PatchPart {
  readonly kind: 'patch';
  readonly table: string;
  readonly rows: number;
  readonly bytes: number;
  readonly unchanged: readonly number[];
}

export interface TruncatePart {
  readonly kind: 'truncate';
  readonly table: string;
  readonly bytes: 0;
}

/** The table's shape from here on (first sight, or a change of columns or types). */
export interface SchemaPart {
  readonly kind: 'schema';
  readonly table: string;
  /** Debezium's connector name: `postgresql`, `mysql`, or (from Debezium topics) `mariadb`, `sqlserver`... */
  readonly connector: 'postgresql' | 'mysql' | (string & {});
  readonly sourceDb: string;
  readonly sourceSchema: string;
  readonly sourceTable: string;
  readonly columns: readonly ColumnSpec[];
  /** 'key': upsert by key columns. 'full': no key, rows are a multiset (REPLICA IDENTITY FULL). */
  readonly identity: 'key' | 'full';
  readonly bytes: 0;
}

export type ChangePart = RowsPart | PatchPart | TruncatePart | SchemaPart;

/**
 * Marks a record as one piece of a source transaction too big to hold in memory whole. Pieces
 * follow each other in the log with nothing in between; the last one carries the position.
 * A run of pieces that something else interrupts (the connector restarted mid-transaction and
 * its source sends the transaction again) is abandoned: consumers apply a run only once its
 * last piece has arrived, and drop it otherwise. Records without it are whole transactions,
 * which is also how logs written before pieces existed read.
 */
export interface PieceInfo {
  /** Shared by the pieces of one transaction. */
  readonly txn: string;
  /** 0 for the first piece, then consecutive. */
  readonly seq: number;
  readonly last: boolean;
  /** Source commit time when the connector knows it before the commit (Postgres does). */
  readonly tsMs?: number;
}

/**
 * One whole source transaction (or a piece of one, see PieceInfo), or one chunk of a snapshot.
 * A record is written and checksummed as a unit, so the log never holds half a record, and the
 * store applies a transaction in one store transaction (together with others) so no query sees
 * half of one either.
 */
export interface ChangesHeader {
  readonly kind: 'changes';
  readonly source: string;
  /** Snapshot rows ('r') are plain inserts into tables the snapshot emptied. */
  readonly snapshot: boolean;
  /** Where the source is once this record is applied; absent for snapshot chunks. */
  readonly position?: SourcePosition;
  /** When the connector captured it, ms since epoch (Debezium's top-level ts_ms). */
  readonly capturedMs: number;
  readonly parts: readonly ChangePart[];
  readonly piece?: PieceInfo;
}

/** A (re)started snapshot: everything the store holds for these tables is replaced. */
export interface SnapshotBeginHeader {
  readonly kind: 'snapshot-begin';
  readonly source: string;
  readonly tables: readonly string[];
  /** Slot consistent point: streaming starts after it. */
  readonly lsn: string;
}

export interface SnapshotEndHeader {
  readonly kind: 'snapshot-end';
  readonly source: string;
  /** Where the source resumes streaming. */
  readonly position: SourcePosition;
  /**
   * For a snapshot of tables added to a running source: the position each table was copied at.
   * The stream resumes earlier, for the other tables, and must drop these tables' changes from
   * transactions that committed at or before their fence: the copy already has them.
   */
  readonly fences?: Readonly<Record<string, string>>;
}

export type RecordHeader = ChangesHeader | SnapshotBeginHeader | SnapshotEndHeader;

export interface ChangeRecord<H extends RecordHeader = RecordHeader> {
  readonly header: H;
  /** Concatenated part bodies for 'changes'; empty otherwise. */
  readonly body: Buffer;
}

export function encodeRecord(header: RecordHeader, bodies: readonly Buffer[] = []): Buffer {
  const h = Buffer.from(JSON.stringify(header), 'utf8');
  let size = 4 + h.length;
  for (const b of bodies) size += b.length;
  const out = Buffer.allocUnsafe(size);
  out.writeUInt32BE(h.length, 0);
  let at = 4 + h.copy(out, 4);
  for (const b of bodies) at += b.copy(out, at);
  return out;
}

export function decodeRecord(payload: Buffer): ChangeRecord {
  const len = payload.readUInt32BE(0);
  const header = JSON.parse(payload.toString('utf8', 4, 4 + len)) as RecordHeader;
  return { header, body: payload.subarray(4 + len) };
}

/** The source position a record leaves the source at, if it carries one (snapshot chunks do not). */
export function positionOf(h: RecordHeader): SourcePosition | null {
  if (h.kind === 'snapshot-end') return h.position;
  if (h.kind === 'changes' && h.position) return h.position;
  return null;
}

/** The piece a record is, if it is one (see PieceInfo). */
export function pieceOf(h: RecordHeader): PieceInfo | null {
  return h.kind === 'changes' && h.piece ? h.piece : null;
}
