import { type ConnectSchema, SchemaShapeError, fieldOf, readConnectSchema } from './connect-schema.js';
import { type JsonObject, type JsonValue, JsonSyntaxError, isJsonObject, parseConverterJson, parseJson, stringifyJson } from './json-text.js';
import { messageError } from './message-error.js';
import type { ChangeEvent, ChangeOpLetter, DecodedMessage, KafkaCoordinates, KafkaMessage, TransactionMessage } from './message-types.js';
import { isSnapshot, millisOf, sourcePositionOf, sourceTableOf, transactionIdOf } from './source-info.js';
import { unwrappedEvent } from './unwrapped-row.js';

export interface DecoderOptions {
  /**
   * Accept flat rows written through Debezium's ExtractNewRecordState SMT (`__op`, `__deleted`,
   * `__table`... when configured). Off by default: a message that is neither an envelope nor a
   * known Debezium message is then an error rather than a guess.
   */
  readonly unwrapped?: boolean;
  /** Connector of unwrapped rows that do not say (`add.fields=source.connector` absent). */
  readonly connector?: string;
}

/** One side of a message (key or value) as the JSON converter wrote it: with or without the schema wrapper. */
interface Side {
  /** The wrapper's schema as its JSON text (`null` when it says null); undefined without the wrapper. */
  readonly schemaText: string | undefined;
  readonly payload: JsonValue;
  /** Prefix of field paths in error messages: `payload.` when wrapped. */
  readonly root: string;
}

const OPS = new Set(['c', 'u', 'd', 'r', 't']);
const SCHEMA_CACHE_LIMIT = 1000;
/** Tables (key and value schemas) one consumer batch typically interleaves. */
const RECENT_SCHEMAS = 16;
const SCHEMA_PREFIX = Buffer.from('{"schema":');
const PAYLOAD_INFIX = Buffer.from(',"payload":');

/**
 * Turns Kafka messages written by Debezium's JsonConverter into decoded messages. Schemas are
 * normalised once per distinct schema (cached by their JSON text), so events of a table with an
 * unchanged schema share one ConnectSchema object and the record builder can compare by identity.
 */
export class DebeziumDecoder {
  /** Per schema path (value, key), normalised schemas by their JSON text. */
  private readonly schemas = new Map<string, Map<string, ConnectSchema | null>>();
  private cached = 0;
  /** The schemas of the latest messages, most recent first, as bytes and text (see side()). */
  private readonly recent: { bytes: Buffer; text: string }[] = [];

  constructor(private readonly options: DecoderOptions = {}) {}

  decode(msg: KafkaMessage): DecodedMessage {
    const at: KafkaCoordinates = { topic: msg.topic, partition: msg.partition, offset: String(msg.offset) };
    const key = msg.key && msg.key.length > 0 ? this.side(at, msg.key, 'key') : null;
    if (key && key.payload !== null && !isJsonObject(key.payload)) {
      throw messageError(at, key.root ? 'key.payload' : 'key', `expected the row's key as a JSON object, got ${brief(key.payload)}`);
    }
    const keyPayload = key && isJsonObject(key.payload) ? key.payload : null;
    const value = msg.value ? this.side(at, msg.value, 'value') : null;
    if (!value || value.payload === null) return { kind: 'tombstone', at, key: keyPayload };
    const p = value.payload;
    if (!isJsonObject(p)) throw messageError(at, value.root ? 'value.payload' : 'value', `expected a JSON object, got ${brief(p)}`);
    if (typeof p.op === 'string' && ('source' in p || 'before' in p || 'after' in p)) {
      if (p.op === 'm') return { kind: 'message', at };
      return this.change(at, p, value, key, keyPayload);
    }
    if ((p.status === 'BEGIN' || p.status === 'END') && 'id' in p) return transaction(at, p, value.root);
    const schemaName = schemaNameOf(value.schemaText);
    if ('ddl' in p || 'tableChanges' in p || schemaName.endsWith('.SchemaChangeValue')) return { kind: 'schema-change', at };
    if (schemaName.endsWith('.Heartbeat') || msg.topic.startsWith('__debezium-heartbeat') || isOnly(p, ['ts_ms'])) return { kind: 'heartbeat', at };
    if (schemaName.endsWith('.Notification') || ('aggregate_type' in p && 'type' in p && 'id' in p)) return { kind: 'notification', at };
    if (this.options.unwrapped) {
      const rowSchema = this.schemaOf(at, value.schemaText, 'schema', { as: 'flattened', from: withoutMetadata });
      const keySchema = key ? this.schemaOf(at, key.schemaText, 'key.schema') : null;
      return unwrappedEvent(at, p, rowSchema, keyPayload, keySchema, value.root, this.options.connector ?? 'postgresql');
    }
    throw messageError(
      at,
      value.root ? 'value.payload' : 'value',
      'not a Debezium change event (no op and source): if this topic carries rows flattened by ExtractNewRecordState, enable unwrapped rows',
    );
  }

  private side(at: KafkaCoordinates, buf: Buffer, which: 'key' | 'value'): Side {
    try {
      const fast = this.knownSchemaSide(buf);
      if (fast) return fast;
      const doc = parseConverterJson(buf.toString('utf8'));
      if (doc.wrapped && doc.schemaText !== undefined && doc.schemaText.length > 4) this.remember(doc.schemaText);
      return doc.wrapped ? { schemaText: doc.schemaText, payload: doc.value, root: 'payload.' } : { schemaText: undefined, payload: doc.value, root: '' };
    } catch (e) {
      if (e instanceof JsonSyntaxError) {
        throw messageError(at, which, `not JSON (${e.message}); Sluice reads topics written with Kafka Connect's JsonConverter`, e);
      }
      throw e;
    }
  }

  /**
   * The JSON converter writes `{"schema":<schema>,"payload":<payload>}` compactly, and a topic
   * repeats one schema in every message: comparing the bytes after `{"schema":` with the
   * schemas seen lately (memcmp) finds it without reading a character of it. A schema is an
   * object, which ends where its braces balance, so a whole match is exactly the schema. Any
   * other layout takes the general path.
   */
  private knownSchemaSide(buf: Buffer): Side | null {
    if (buf.length < SCHEMA_PREFIX.length || buf.compare(SCHEMA_PREFIX, 0, SCHEMA_PREFIX.length, 0, SCHEMA_PREFIX.length) !== 0) return null;
    const from = SCHEMA_PREFIX.length;
    for (const known of this.recent) {
      const end = from + known.bytes.length;
      if (end + PAYLOAD_INFIX.length >= buf.length || buf.compare(known.bytes, 0, known.bytes.length, from, end) !== 0) continue;
      if (buf.compare(PAYLOAD_INFIX, 0, PAYLOAD_INFIX.length, end, end + PAYLOAD_INFIX.length) !== 0 || buf[buf.length - 1] !== 0x7d) return null;
      let payload: JsonValue;
      try {
        payload = parseJson(buf.toString('utf8', end + PAYLOAD_INFIX.length, buf.length - 1));
      } catch {
        // More than a payload follows (or bad JSON): the general path reads it, or says what is wrong.
        return null;
      }
      if (this.recent[0] !== known) this.remember(known.text);
      return { schemaText: known.text, payload, root: 'payload.' };
    }
    return null;
  }

  private remember(text: string): void {
    const i = this.recent.findIndex((r) => r.text === text);
    const entry = i >= 0 ? this.recent.splice(i, 1)[0] : { bytes: Buffer.from(text, 'utf8'), text };
    this.recent.unshift(entry);
    if (this.recent.length > RECENT_SCHEMAS) this.recent.pop();
  }

  /**
   * The normalised schema of a wrapper's schema text (after `pick`), shared by all messages with
   * the same schema: the text is the cache key, so a schema is only parsed the first time.
   */
  private schemaOf(at: KafkaCoordinates, text: string | undefined, path: string, pick?: { as: string; from: (s: ConnectSchema) => ConnectSchema | null }): ConnectSchema | null {
    if (text === undefined || text === 'null') return null;
    const cacheAs = pick ? `${path}/${pick.as}` : path;
    let byText = this.schemas.get(cacheAs);
    if (!byText) this.schemas.set(cacheAs, (byText = new Map()));
    const hit = byText.get(text);
    if (hit !== undefined) return hit;
    let s: ConnectSchema | null;
    try {
      const raw = parseJson(text);
      if (raw === null) return null;
      const full = readConnectSchema(raw, path);
      s = pick ? pick.from(full) : full;
    } catch (e) {
      if (e instanceof SchemaShapeError) throw messageError(at, e.path, e.message, e);
      if (e instanceof JsonSyntaxError) throw messageError(at, path, `not JSON (${e.message})`, e);
      throw e;
    }
    // Schemas change rarely; a bound keeps a topic with ever-changing ones from growing the cache without end.
    if (++this.cached > SCHEMA_CACHE_LIMIT) {
      this.schemas.clear();
      this.cached = 1;
      this.schemas.set(cacheAs, (byText = new Map()));
    }
    byText.set(text, s);
    return s;
  }

  private change(at: KafkaCoordinates, p: JsonObject, value: Side, key: Side | null, keyPayload: JsonObject | null): ChangeEvent {
    const root = value.root;
    const op = p.op as string;
    if (!OPS.has(op)) throw messageError(at, `${root}op`, `unknown operation ${JSON.stringify(op)} (expected c, u, d, r or t)`);
    const source = p.source ?? null;
    if (source !== null && !isJsonObject(source)) throw messageError(at, `${root}source`, `expected an object, got ${brief(source)}`);
    const image = (name: 'before' | 'after'): JsonObject | null => {
      const v = p[name] ?? null;
      if (v !== null && !isJsonObject(v)) throw messageError(at, `${root}${name}`, `expected a row object or null, got ${brief(v)}`);
      return v;
    };
    const table = sourceTableOf(source, at.topic, this.options.connector ?? 'postgresql');
    // The envelope's before/after fields share the table's row schema.
    const rowSchema = this.schemaOf(at, value.schemaText, 'schema', { as: 'row', from: rowOfEnvelope });
    return {
      kind: 'change',
      at,
      op: op as ChangeOpLetter,
      table,
      before: image('before'),
      after: image('after'),
      key: keyPayload,
      rowSchema,
      keySchema: key ? this.schemaOf(at, key.schemaText, 'key.schema') : null,
      position: sourcePositionOf(source, table.connector),
      transactionId: transactionIdOf(p, source, table.connector),
      snapshot: isSnapshot(source),
      capturedMs: millisOf(p.ts_ms),
      unwrapped: false,
      root,
    };
  }
}

function transaction(at: KafkaCoordinates, p: JsonObject, root: string): TransactionMessage {
  const collections = Array.isArray(p.data_collections)
    ? p.data_collections.map((c, i) => {
        if (!isJsonObject(c) || typeof c.data_collection !== 'string') {
          throw messageError(at, `${root}data_collections[${i}]`, 'expected {data_collection, event_count}');
        }
        return { dataCollection: c.data_collection, eventCount: millisOf(c.event_count) ?? 0 };
      })
    : null;
  return {
    kind: 'transaction',
    at,
    status: p.status as 'BEGIN' | 'END',
    id: typeof p.id === 'string' ? p.id : stringifyJson(p.id ?? null),
    tsMs: millisOf(p.ts_ms),
    eventCount: millisOf(p.event_count),
    dataCollections: collections,
  };
}

function rowOfEnvelope(s: ConnectSchema): ConnectSchema {
  const row = fieldOf(s, 'after') ?? fieldOf(s, 'before');
  if (!row || row.type !== 'struct') throw new SchemaShapeError('schema.fields', 'the envelope schema has no before/after struct');
  return row;
}

/** The flattened row's schema without the SMT's metadata fields. */
function withoutMetadata(s: ConnectSchema): ConnectSchema {
  return { ...s, fields: s.fields.filter((f) => !f.field.startsWith('__')) };
}

/** The schema's name (Heartbeat, Notification...); only asked of the rare messages that are not changes. */
function schemaNameOf(text: string | undefined): string {
  if (!text) return '';
  try {
    const raw = parseJson(text);
    return isJsonObject(raw) && typeof raw.name === 'string' ? raw.name : '';
  } catch {
    return '';
  }
}

function isOnly(o: JsonObject, keys: readonly string[]): boolean {
  const own = Object.keys(o);
  return own.length === keys.length && keys.every((k) => k in o);
}

function brief(v: JsonValue): string {
  const s = stringifyJson(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}
