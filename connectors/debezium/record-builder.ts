import type { SchemaPart, SourcePosition } from '../../core/change-record.js';
import type { CsvBatchWriter } from '../../core/csv-batch-writer.js';
import { UNAVAILABLE_VALUE } from '../../core/envelope.js';
import { SluiceError } from '../../core/errors.js';
import { TransactionBuilder } from '../../core/transaction-builder.js';
import type { JsonObject } from './json-text.js';
import { FieldError, messageError } from './message-error.js';
import type { ChangeEvent, DecodedMessage, KafkaCoordinates, SourceTable, TombstoneMessage } from './message-types.js';
import { type ReplicaNaming, replicaNameOf } from './source-info.js';
import { type ResolvedShape, type TableShape, TableShapes } from './table-shapes.js';
import { ValueError } from './value-text.js';

export interface RecordBuilderOptions extends ReplicaNaming {
  /** The Sluice source the records belong to (the replica schema). */
  readonly source: string;
  /** Overrides the native naming rule (see replicaNameOf). */
  readonly replicaName?: (t: SourceTable) => string;
  /** Debezium's `unavailable.value.placeholder` for unchanged TOASTed values, if configured otherwise. */
  readonly unavailableValue?: string;
  /**
   * What a tombstone (null value) means. 'skip' (default): Debezium follows each delete event
   * with one, for log compaction; the delete already did the work. 'delete': the topic carries
   * ExtractNewRecordState output with its default `delete.tombstone.handling.mode=tombstone`,
   * where the tombstone is the only sign of a delete.
   */
  readonly tombstones?: 'skip' | 'delete';
  /** Replicas the store holds: a truncate of a table not seen in this session is only written for these. */
  readonly storedTables?: ReadonlySet<string>;
  /**
   * Shapes the store holds (DuckDbStore.tableInfos()): schemaless inference carries on from
   * them instead of guessing afresh, and tombstone deletes can be written for them.
   */
  readonly storedSchemas?: ReadonlyMap<string, SchemaPart>;
}

/** How far into one topic-partition a record goes: commit `nextOffset` once the record is applied. */
export interface KafkaOffsetRange {
  readonly topic: string;
  readonly partition: number;
  readonly firstOffset: string;
  readonly lastOffset: string;
  readonly nextOffset: string;
}

export interface BuiltRecord {
  /** The encoded log record; null when the messages changed no table (heartbeats, tombstones...). */
  readonly record: Buffer | null;
  /** The position written into the record: the caller's, else the last event's source position. */
  readonly position: SourcePosition | undefined;
  /** Every topic-partition the messages came from, in first-seen order. */
  readonly offsets: readonly KafkaOffsetRange[];
  readonly messages: number;
  /** Change events written (a truncate counts as one). */
  readonly changes: number;
  /**
   * Events left out because they have nothing to act on: truncates and (schemaless) deletes of a
   * table this session never saw and the store does not hold, tombstones of unknown tables.
   */
  readonly skipped: number;
}

type Texts = (string | null)[];

/**
 * Turns decoded Debezium messages into Sluice log records, through the same TransactionBuilder
 * the native connectors use: a schema part when a table is first seen or changes shape, then its
 * rows as `op,<values>` CSV in canonical text. Messages are added in order; `finish()` encodes
 * everything added since the last finish as one record, so the caller chooses the grouping (a
 * consumer batch, or one source transaction using `ChangeEvent.transactionId` or the transaction
 * topic's BEGIN/END).
 *
 * `add()` is all-or-nothing per message: a bad message throws SLUICE_DEBEZIUM_MESSAGE and leaves
 * nothing of itself behind, so the caller may skip it and go on.
 */
export class DebeziumRecordBuilder {
  private readonly tx: TransactionBuilder;
  private readonly shapes: TableShapes;
  private readonly placeholder: string;
  private readonly placeholderBase64: string;
  /** Topic -> replica, for tombstones, which name no table themselves. */
  private readonly topicTables = new Map<string, string>();
  private readonly ranges = new Map<string, { topic: string; partition: number; first: bigint; last: bigint }>();
  private position: SourcePosition | undefined;
  private messages = 0;
  private changes = 0;
  private skipped = 0;

  constructor(private readonly options: RecordBuilderOptions) {
    this.tx = new TransactionBuilder(options.source);
    this.shapes = new TableShapes(options.storedSchemas);
    this.placeholder = options.unavailableValue ?? UNAVAILABLE_VALUE;
    this.placeholderBase64 = Buffer.from(this.placeholder, 'utf8').toString('base64');
  }

  /** Messages added since the last finish. */
  get pending(): number {
    return this.messages;
  }

  /** Bytes of row data collected so far: a caller can finish early to bound record size. */
  get byteLength(): number {
    return this.tx.byteLength;
  }

  replicaName(t: SourceTable): string {
    return this.options.replicaName?.(t) ?? replicaNameOf(t, this.options);
  }

  add(m: DecodedMessage): void {
    if (m.kind === 'change') this.change(m);
    else if (m.kind === 'tombstone') this.tombstone(m);
    this.track(m.at);
  }

  /** Encodes what was added since the last finish; null if nothing was. */
  finish(position?: SourcePosition): BuiltRecord | null {
    if (this.messages === 0) return null;
    const pos = position ?? this.position;
    const out: BuiltRecord = {
      record: this.tx.finish(pos),
      position: pos,
      offsets: [...this.ranges.values()].map((r) => ({
        topic: r.topic,
        partition: r.partition,
        firstOffset: r.first.toString(),
        lastOffset: r.last.toString(),
        nextOffset: (r.last + 1n).toString(),
      })),
      messages: this.messages,
      changes: this.changes,
      skipped: this.skipped,
    };
    this.reset();
    return out;
  }

  /** Forgets what was added since the last finish (table shapes stay: the store may have them). */
  discard(): void {
    this.tx.discard();
    this.reset();
  }

  private reset(): void {
    this.ranges.clear();
    this.position = undefined;
    this.messages = this.changes = this.skipped = 0;
  }

  private track(at: KafkaCoordinates): void {
    const k = `${at.topic}\u0000${at.partition}`;
    const offset = BigInt(at.offset);
    const r = this.ranges.get(k);
    if (!r) this.ranges.set(k, { topic: at.topic, partition: at.partition, first: offset, last: offset });
    else r.last = offset > r.last ? offset : r.last;
    this.messages++;
  }

  private known(table: string): boolean {
    return this.shapes.get(table) !== undefined || (this.options.storedTables?.has(table) ?? false);
  }

  private change(e: ChangeEvent): void {
    const table = this.replicaName(e.table);
    if (this.topicTables.get(e.at.topic) !== table) this.topicTables.set(e.at.topic, table);
    if (e.op === 't') {
      // Nothing to empty in a table the store never had; a DELETE on it would fail the whole apply.
      if (!this.known(table)) {
        this.skipped++;
        return;
      }
      this.tx.truncate(table);
      this.changes++;
      this.remember(e);
      return;
    }
    if (!e.rowSchema && !e.after && !this.shapes.get(table)) {
      // Without a schema a delete's before image may hold just the key: it cannot tell the
      // table's columns, and a shape guessed from it would drop the others from the replica.
      if (this.options.storedTables?.has(table)) {
        throw messageError(e.at, `${e.root}before`, `a delete for ${table}, whose columns are unknown without schemas: pass the store's shapes (storedSchemas)`);
      }
      this.skipped++;
      return;
    }
    let resolved: ResolvedShape;
    try {
      resolved = this.shapes.resolve(e, table);
    } catch (err) {
      throw this.wrap(e.at, err, e.root);
    }
    const rows = this.rowsOf(e, resolved.shape);
    // Everything below only copies text that was checked above.
    resolved.commit();
    if (resolved.changed) this.tx.schema(resolved.changed);
    if (rows.patch) {
      const w = this.tx.patch(table, rows.patch.unchanged, rows.patch.key.join('\u0000'));
      writeRow(w, 'u', rows.patch.texts, rows.patch.key);
    } else {
      const w = this.tx.rows(table);
      for (const [op, texts] of rows.plain) writeRow(w, op, texts);
    }
    this.changes++;
    this.remember(e);
  }

  private remember(e: ChangeEvent): void {
    if (e.position) this.position = e.position;
  }

  private wrap(at: KafkaCoordinates, err: unknown, root: string): SluiceError {
    if (err instanceof SluiceError) return err;
    if (err instanceof FieldError) return messageError(at, err.field === 'key' ? 'key' : `${root}${err.field}`, err.message, err);
    if (err instanceof ValueError) return messageError(at, root || 'value', err.message, err);
    return messageError(at, root || 'value', err instanceof Error ? err.message : String(err), err);
  }

  /** Canonical texts of an image's values, parallel to the shape's columns; `fill` supplies missing key values. */
  private texts(e: ChangeEvent, shape: TableShape, image: JsonObject, which: string, fill: JsonObject | null, unchanged?: Set<number>): Texts {
    return shape.plans.map((p, i) => {
      const name = p.spec.name;
      let v = image[name];
      let from = which;
      if ((v === undefined || v === null) && fill && p.spec.key && fill[name] !== undefined) {
        v = fill[name];
        from = 'key';
      }
      if (v === undefined || v === null || unchanged?.has(i)) return null;
      if (this.isPlaceholder(v, p.spec.conversion)) return null;
      try {
        return p.write(v);
      } catch (err) {
        const field = from === 'key' ? `key.${e.root}${name}` : `${e.root}${from}.${name}`;
        throw messageError(e.at, field, err instanceof Error ? err.message : String(err), err);
      }
    });
  }

  private isPlaceholder(v: unknown, conversion: string): boolean {
    return v === this.placeholder || (conversion === 'bytea-hex' && v === this.placeholderBase64);
  }

  private rowsOf(e: ChangeEvent, shape: TableShape): { plain: [string, Texts][]; patch?: undefined } | { plain: []; patch: { unchanged: number[]; texts: Texts; key: Texts } } {
    const label = `${e.table.schema}.${e.table.table}`;
    const need = (image: JsonObject | null, which: 'before' | 'after', why: string): JsonObject => {
      if (!image) throw messageError(e.at, `${e.root}${which}`, why);
      return image;
    };
    const full = (image: JsonObject | null): image is JsonObject => image !== null && shape.plans.every((p) => p.spec.name in image);
    const keyOf = (t: Texts): Texts => shape.keyIdx.map((i) => t[i]);
    const keyed = shape.part.identity === 'key';

    if (e.op === 'c' || e.op === 'r') return { plain: [[e.op, this.texts(e, shape, need(e.after, 'after', `missing for a '${e.op}' event`), 'after', e.key)]] };

    if (e.op === 'd') {
      if (!keyed) {
        if (!full(e.before)) throw messageError(e.at, `${e.root}before`, `a delete from ${label}, which has no key, needs the whole old row (REPLICA IDENTITY FULL)`);
        return { plain: [['d', this.texts(e, shape, e.before, 'before', null)]] };
      }
      const t = this.texts(e, shape, e.before ?? {}, 'before', e.key);
      if (keyOf(t).some((k) => k === null)) throw messageError(e.at, `${e.root}before`, `a delete from ${label} without its key values`);
      return { plain: [['d', t]] };
    }

    // An update.
    const after = need(e.after, 'after', "missing for a 'u' event");
    if (!keyed) {
      if (!full(e.before)) throw messageError(e.at, `${e.root}before`, `an update of ${label}, which has no key, needs the whole old row (REPLICA IDENTITY FULL)`);
      return { plain: [['b', this.texts(e, shape, e.before, 'before', null)], ['u', this.texts(e, shape, after, 'after', null)]] };
    }
    const unchanged = shape.plans.flatMap((p, i) => (this.isPlaceholder(after[p.spec.name], p.spec.conversion) ? [i] : []));
    if (unchanged.length > 0 && !full(e.before)) {
      // TOASTed values Postgres did not send: the store keeps what it has for those columns.
      const set = new Set(unchanged);
      const texts = this.texts(e, shape, after, 'after', e.key, set);
      const old = e.before ? keyOf(this.texts(e, shape, e.before, 'before', e.key)) : keyOf(texts);
      return { plain: [], patch: { unchanged, texts, key: old.some((k) => k === null) ? keyOf(texts) : old } };
    }
    if (!full(e.before)) return { plain: [['u', this.texts(e, shape, after, 'after', e.key)]] };
    const prev = this.texts(e, shape, e.before, 'before', null);
    const next = this.texts(e, shape, after, 'after', e.key);
    // With the whole old row at hand, a value left out as unchanged is the old one.
    for (const i of unchanged) next[i] = prev[i];
    const a = keyOf(prev);
    const b = keyOf(next);
    // A new key is another row (Debezium itself sends delete + create for that): as the native connectors write it.
    if (a.some((k, i) => k !== b[i])) return { plain: [['d', prev], ['c', next]] };
    return { plain: [['b', prev], ['u', next]] };
  }

  private tombstone(m: TombstoneMessage): void {
    if (this.options.tombstones !== 'delete' || !m.key) return;
    // Tombstones carry no source block: the topic says which table.
    const table = this.topicTables.get(m.at.topic) ?? this.storedTableOfTopic(m.at.topic);
    const shape = table === undefined ? undefined : this.shapes.get(table);
    if (table === undefined || !shape || shape.keyIdx.length === 0) {
      this.skipped++;
      return;
    }
    const key = m.key;
    const texts: Texts = shape.plans.map((p) => {
      const v = p.spec.key ? key[p.spec.name] : undefined;
      if (v === undefined || v === null) return null;
      try {
        return p.write(v);
      } catch (err) {
        throw messageError(m.at, `key.${p.spec.name}`, err instanceof Error ? err.message : String(err), err);
      }
    });
    if (shape.keyIdx.some((i) => texts[i] === null)) throw messageError(m.at, 'key', `a tombstone for ${table} without all its key columns`);
    writeRow(this.tx.rows(table), 'd', texts);
    this.changes++;
  }

  /** A stored table whose source name matches the topic's default form `<prefix>.<schema>.<table>`. */
  private storedTableOfTopic(topic: string): string | undefined {
    const parts = topic.split('.');
    const name = parts[parts.length - 1];
    const schema = parts.length >= 2 ? parts[parts.length - 2] : undefined;
    for (const [table, part] of this.options.storedSchemas ?? []) {
      if (part.sourceTable === name && (schema === undefined || part.sourceSchema === schema)) return table;
    }
    return undefined;
  }
}

function writeRow(w: CsvBatchWriter, op: string, texts: Texts, extra: Texts = []): void {
  w.beginRow(op);
  for (const t of texts) t === null ? w.nullField() : w.textField(t);
  for (const t of extra) t === null ? w.nullField() : w.textField(t);
  w.endRow();
}

