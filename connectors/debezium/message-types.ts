import type { SourcePosition } from '../../core/change-record.js';
import type { ConnectSchema } from './connect-schema.js';
import type { JsonObject } from './json-text.js';

/** One Kafka message as a consumer hands it over (kafkajs gives offsets as strings). */
export interface KafkaMessage {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string | number | bigint;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
}

/** Where a message sits in Kafka: what a consumer records as its resume position. */
export interface KafkaCoordinates {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
}

/** The table a change belongs to, as the source names it. */
export interface SourceTable {
  /** Debezium's connector name: `postgresql`, `mysql`, `mariadb`, ... */
  readonly connector: string;
  readonly database: string;
  /** Postgres schema; for MySQL/MariaDB the database again (as the native connector has it). */
  readonly schema: string;
  readonly table: string;
}

export type ChangeOpLetter = 'c' | 'u' | 'd' | 'r' | 't';

export interface ChangeEvent {
  readonly kind: 'change';
  readonly at: KafkaCoordinates;
  readonly op: ChangeOpLetter;
  readonly table: SourceTable;
  readonly before: JsonObject | null;
  readonly after: JsonObject | null;
  /** The message key's payload: the row's key columns (null for keyless tables and truncates). */
  readonly key: JsonObject | null;
  /** Schema of `before`/`after` (null when the converter ran with `schemas.enable=false`). */
  readonly rowSchema: ConnectSchema | null;
  readonly keySchema: ConnectSchema | null;
  /** The source position the `source` block gives, when the connector has one Sluice knows. */
  readonly position: SourcePosition | null;
  /**
   * Identifies the source transaction: the transaction metadata's id when enabled, else the
   * Postgres txId or the MySQL GTID. Null when unknown; consecutive events with the same
   * non-null value belong to one transaction.
   */
  readonly transactionId: string | null;
  readonly snapshot: boolean;
  /** Debezium's top-level ts_ms: when the connector processed the event. */
  readonly capturedMs: number | null;
  /** Written by ExtractNewRecordState (a flat row) rather than as an envelope. */
  readonly unwrapped: boolean;
  /** Prefix of this event's field paths in error messages: `payload.` under the schema wrapper. */
  readonly root: string;
}

/** A null value: Debezium's tombstone after a delete, for log compaction. */
export interface TombstoneMessage {
  readonly kind: 'tombstone';
  readonly at: KafkaCoordinates;
  readonly key: JsonObject | null;
}

/** A BEGIN or END of the transaction metadata topic (`provide.transaction.metadata=true`). */
export interface TransactionMessage {
  readonly kind: 'transaction';
  readonly at: KafkaCoordinates;
  readonly status: 'BEGIN' | 'END';
  readonly id: string;
  readonly tsMs: number | null;
  /** END only: the events the transaction produced, in all and per table (`<schema>.<table>`). */
  readonly eventCount: number | null;
  readonly dataCollections: readonly { readonly dataCollection: string; readonly eventCount: number }[] | null;
}

/** Messages that carry no row changes; the caller only moves its offsets past them. */
export interface IgnorableMessage {
  readonly kind: 'heartbeat' | 'schema-change' | 'message' | 'notification';
  readonly at: KafkaCoordinates;
}

export type DecodedMessage = ChangeEvent | TombstoneMessage | TransactionMessage | IgnorableMessage;
