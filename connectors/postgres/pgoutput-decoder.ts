import type { ColumnSpec, SourcePosition } from '../../core/change-record.js';
import type { CsvBatchWriter } from '../../core/csv-batch-writer.js';
import { SluiceError } from '../../core/errors.js';
import type { TransactionBuilder } from '../../core/transaction-builder.js';
import { pgArrayToJson } from './pg-array.js';
import { type CapturedTable, schemaPartOf } from '../../core/captured-table.js';
import type { TypeCatalog } from './type-catalog.js';
import { isBareJsonElement } from './type-map.js';
import { AttributeBook } from './attribute-book.js';
import type { SnapshotFences } from '../../core/snapshot-fences.js';

const KIND_NULL = 0x6e; // 'n'
const KIND_UNCHANGED = 0x75; // 'u': TOASTed value not sent because it did not change
const KIND_TEXT = 0x74; // 't'

/** Scratch space for one decoded tuple: where each value's bytes sit in the message. */
class TupleSlots {
  readonly kinds: Uint8Array;
  readonly starts: Int32Array;
  readonly ends: Int32Array;
  constructor(n: number) {
    this.kinds = new Uint8Array(n);
    this.starts = new Int32Array(n);
    this.ends = new Int32Array(n);
  }
}

interface RelationState {
  readonly table: CapturedTable | null;
  readonly columns: readonly ColumnSpec[];
  readonly keyIdx: Int32Array;
  /** Per column: undefined to copy bytes, else how to turn a Postgres array literal into JSON. */
  readonly arrays: ReadonlyArray<'number' | 'boolean' | false | undefined>;
  readonly newT: TupleSlots;
  readonly oldT: TupleSlots;
}

interface RelationMessage {
  readonly oid: number;
  /** `schema.name` */
  readonly table: string;
  /** 'd' default, 'n' nothing, 'f' full, 'i' index */
  readonly identity: string;
  readonly columns: ReadonlyArray<{ readonly flags: number; readonly name: string; readonly typeOid: number; readonly typmod: number }>;
}

function shapeOf(m: RelationMessage): string {
  return JSON.stringify(m.columns.map((c) => [c.name, c.typeOid, c.typmod]));
}

export interface CommittedTransaction {
  readonly position: SourcePosition;
  /** The encoded log record, or null when the transaction touched no captured table. */
  readonly record: Buffer | null;
}

const PG_EPOCH_MS = 946_684_800_000;

function readLsn(buf: Buffer, at: number): string {
  return `${buf.readUInt32BE(at).toString(16).toUpperCase()}/${buf.readUInt32BE(at + 4).toString(16).toUpperCase()}`;
}

function readTimestampMs(buf: Buffer, at: number): number {
  return Math.floor(Number(buf.readBigInt64BE(at)) / 1000) + PG_EPOCH_MS;
}

/**
 * Decodes pgoutput (protocol version 1) messages straight into a TransactionBuilder. Values
 * stay as the bytes Postgres sent; nothing is allocated per row except for the rare paths
 * (array columns, updates that left TOASTed values out).
 */
export class PgoutputDecoder {
  private readonly relations = new Map<number, RelationState>();
  private readonly emittedSchemas = new Map<string, string>();
  /** Per source table, the columns (name, type, typmod) of its last Relation message. */
  private readonly shapes = new Map<string, string>();

  private xid = 0;
  private pos = 0;
  private open = false;

  constructor(
    private readonly tables: ReadonlyMap<string, CapturedTable>,
    private readonly types: TypeCatalog,
    private readonly builder: TransactionBuilder,
    /** Kept by the stream across reconnects; by default what the tables' specs say. */
    private readonly book = AttributeBook.of(tables.values()),
    private readonly fences?: SnapshotFences,
  ) {}

  /** Between a transaction's Begin and its Commit. */
  get inTransaction(): boolean {
    return this.open;
  }

  /** Decodes one message; returns the transaction when the message was its commit. */
  decode(buf: Buffer): CommittedTransaction | null {
    this.pos = 1;
    switch (buf[0]) {
      case 0x42 /* B */:
        this.xid = buf.readInt32BE(17);
        this.open = true;
        return null;
      case 0x43 /* C */: {
        this.open = false;
        const position = { lsn: readLsn(buf, 10), txId: this.xid, tsMs: readTimestampMs(buf, 18) };
        this.fences?.apply(position.lsn, this.builder);
        return { position, record: this.builder.finish(position) };
      }
      case 0x52 /* R */:
        this.relation(buf);
        return null;
      case 0x49 /* I */:
        this.insert(buf);
        return null;
      case 0x55 /* U */:
        this.update(buf);
        return null;
      case 0x44 /* D */:
        this.delete(buf);
        return null;
      case 0x54 /* T */:
        this.truncate(buf);
        return null;
      case 0x59 /* Y */:
      case 0x4f /* O */:
      case 0x4d /* M */:
        return null;
      default:
        throw new SluiceError('SLUICE_PG_PROTOCOL', `unknown pgoutput message '${String.fromCharCode(buf[0])}'`);
    }
  }

  private readString(buf: Buffer): string {
    const end = buf.indexOf(0, this.pos);
    const s = buf.toString('utf8', this.pos, end);
    this.pos = end + 1;
    return s;
  }

  private readRelation(buf: Buffer): RelationMessage {
    const oid = buf.readUInt32BE(1);
    this.pos = 5;
    const schema = this.readString(buf);
    const name = this.readString(buf);
    const identity = String.fromCharCode(buf[this.pos++]);
    const n = buf.readInt16BE(this.pos);
    this.pos += 2;
    const columns: Array<RelationMessage['columns'][number]> = [];
    for (let i = 0; i < n; i++) {
      const flags = buf[this.pos++];
      const col = this.readString(buf);
      columns.push({ flags, name: col, typeOid: buf.readUInt32BE(this.pos), typmod: buf.readInt32BE(this.pos + 4) });
      this.pos += 8;
    }
    return { oid, table: `${schema}.${name}`, identity, columns };
  }

  /**
   * A Relation message of a captured table whose columns differ from the last ones this session
   * saw of it (or the first of it): the stream reads the table's attributes from the catalog
   * (`learn`) before decoding it, so that renamed columns and added defaults are recognised.
   */
  catalogReadFor(buf: Buffer): { oid: number; table: string } | null {
    if (buf[0] !== 0x52 /* R */) return null;
    const m = this.readRelation(buf);
    if (!this.tables.has(m.table) || this.shapes.get(m.table) === shapeOf(m)) return null;
    return { oid: m.oid, table: m.table };
  }

  private relation(buf: Buffer): void {
    const m = this.readRelation(buf);
    const { oid } = m;
    const table = this.tables.get(m.table) ?? null;
    this.shapes.set(m.table, shapeOf(m));
    const attributes = table ? this.book.resolve(m.table, m.columns.map((c) => c.name)) : [];
    // FULL identity marks every column; the key is then the primary key, if any, by attnum.
    const fullKey = new Set(table?.columns.filter((c) => c.key).map((c) => c.attnum ?? c.name));
    const isKey = (c: RelationMessage['columns'][number], i: number): boolean =>
      !table ? false : m.identity === 'f' ? fullKey.has(attributes[i]?.attnum ?? c.name) : (c.flags & 1) === 1;
    const columns = m.columns.map((c, i) => this.types.column(c.name, c.typeOid, c.typmod, isKey(c, i), attributes[i]));
    const keyIdx = Int32Array.from(columns.flatMap((c, i) => (c.key ? [i] : [])));
    if (table && m.identity === 'f' && keyIdx.length !== fullKey.size) {
      throw new SluiceError('SLUICE_PG_NO_REPLICA_IDENTITY', `key column of ${m.table} is gone from the table`);
    }
    const n = columns.length;
    this.relations.set(oid, {
      table,
      columns,
      keyIdx,
      arrays: columns.map((c) => (c.conversion === 'pg-array' ? isBareJsonElement(c.storeType) : undefined)),
      newT: new TupleSlots(n),
      oldT: new TupleSlots(n),
    });
    if (!table) return;
    // Only what changes the replica counts; the first sight in a session is always sent.
    const signature = JSON.stringify(columns.map((c) => [c.name, c.storeType, c.key, c.attnum]));
    if (this.emittedSchemas.get(table.replicaName) !== signature) {
      this.emittedSchemas.set(table.replicaName, signature);
      this.builder.schema(schemaPartOf(table, columns));
    }
  }

  private rel(buf: Buffer): RelationState {
    const r = this.relations.get(buf.readUInt32BE(1));
    if (!r) throw new SluiceError('SLUICE_PG_PROTOCOL', 'change for a relation that was never described');
    this.pos = 5;
    return r;
  }

  private scanTuple(buf: Buffer, t: TupleSlots): void {
    let p = this.pos;
    const n = buf.readInt16BE(p);
    p += 2;
    for (let i = 0; i < n; i++) {
      const kind = buf[p++];
      t.kinds[i] = kind;
      if (kind === KIND_TEXT) {
        const len = buf.readInt32BE(p);
        t.starts[i] = p + 4;
        t.ends[i] = p + 4 + len;
        p += 4 + len;
      } else if (kind !== KIND_NULL && kind !== KIND_UNCHANGED) {
        throw new SluiceError('SLUICE_PG_PROTOCOL', `unexpected tuple value kind '${String.fromCharCode(kind)}'`);
      }
    }
    this.pos = p;
  }

  private writeValue(w: CsvBatchWriter, r: RelationState, buf: Buffer, t: TupleSlots, i: number): void {
    if (t.kinds[i] !== KIND_TEXT) return w.nullField();
    const arr = r.arrays[i];
    if (arr === undefined) w.bytesField(buf, t.starts[i], t.ends[i]);
    else w.textField(pgArrayToJson(buf.toString('utf8', t.starts[i], t.ends[i]), arr));
  }

  /** Writes a row from `t`, taking values `t` lacks (unchanged TOAST) from `fallback`. */
  private writeRow(w: CsvBatchWriter, op: string, r: RelationState, buf: Buffer, t: TupleSlots, fallback?: TupleSlots): void {
    w.beginRow(op);
    for (let i = 0; i < r.columns.length; i++) {
      const from = fallback && t.kinds[i] === KIND_UNCHANGED ? fallback : t;
      this.writeValue(w, r, buf, from, i);
    }
    w.endRow();
  }

  private insert(buf: Buffer): void {
    const r = this.rel(buf);
    if (!r.table) return;
    this.pos += 1; // 'N'
    this.scanTuple(buf, r.newT);
    this.writeRow(this.builder.rows(r.table.replicaName), 'c', r, buf, r.newT);
  }

  private delete(buf: Buffer): void {
    const r = this.rel(buf);
    if (!r.table) return;
    this.pos += 1; // 'K' (key columns only) or 'O' (whole old row)
    this.scanTuple(buf, r.oldT);
    this.writeRow(this.builder.rows(r.table.replicaName), 'd', r, buf, r.oldT);
  }

  private keyChanged(buf: Buffer, r: RelationState): boolean {
    for (const k of r.keyIdx) {
      const a = buf.subarray(r.oldT.starts[k], r.oldT.ends[k]);
      if (r.oldT.kinds[k] !== r.newT.kinds[k] || !a.equals(buf.subarray(r.newT.starts[k], r.newT.ends[k]))) return true;
    }
    return false;
  }

  private update(buf: Buffer): void {
    const r = this.rel(buf);
    if (!r.table) return;
    let oldKind = buf[this.pos];
    if (oldKind === 0x4b /* K */ || oldKind === 0x4f /* O */) {
      this.pos += 1;
      this.scanTuple(buf, r.oldT);
    } else {
      oldKind = 0;
    }
    this.pos += 1; // 'N'
    this.scanTuple(buf, r.newT);
    const table = r.table.replicaName;
    const fullOld = oldKind === 0x4f ? r.oldT : undefined;

    let unchanged: number[] | null = null;
    if (!fullOld) {
      for (let i = 0; i < r.columns.length; i++) if (r.newT.kinds[i] === KIND_UNCHANGED) (unchanged ??= []).push(i);
    }
    if (unchanged) return this.patch(buf, r, unchanged, oldKind !== 0);

    if (r.table.identity === 'full') {
      const w = this.builder.rows(table);
      this.writeRow(w, 'b', r, buf, r.oldT);
      this.writeRow(w, 'u', r, buf, r.newT, fullOld);
      return;
    }
    const w = this.builder.rows(table);
    if (oldKind !== 0 && this.keyChanged(buf, r)) {
      // A new primary key is a different row, as Debezium has it: delete, then create.
      this.writeRow(w, 'd', r, buf, r.oldT);
      this.writeRow(w, 'c', r, buf, r.newT, fullOld);
      return;
    }
    if (fullOld) this.writeRow(w, 'b', r, buf, r.oldT);
    this.writeRow(w, 'u', r, buf, r.newT, fullOld);
  }

  /**
   * An update that left unchanged TOASTed columns out, with no old row to take them from.
   * Written with the old key after the columns, so the store can update in place even when
   * the key itself changed.
   */
  private patch(buf: Buffer, r: RelationState, unchanged: number[], hasOldKey: boolean): void {
    const keyFrom = hasOldKey ? r.oldT : r.newT;
    let key = '';
    for (const k of r.keyIdx) key += buf.toString('latin1', keyFrom.starts[k], keyFrom.ends[k]) + '\u0000';
    const w = this.builder.patch(r.table!.replicaName, unchanged, key);
    w.beginRow('u');
    for (let i = 0; i < r.columns.length; i++) this.writeValue(w, r, buf, r.newT, i);
    for (const k of r.keyIdx) this.writeValue(w, r, buf, keyFrom, k);
    w.endRow();
  }

  private truncate(buf: Buffer): void {
    const n = buf.readInt32BE(1);
    for (let i = 0; i < n; i++) {
      const r = this.relations.get(buf.readUInt32BE(6 + 4 * i));
      if (r?.table) this.builder.truncate(r.table.replicaName);
    }
  }
}
