import type { SchemaPart, SourcePosition } from '../../core/change-record.js';
import { type SluiceError, isSluiceError } from '../../core/errors.js';
import { DebeziumDecoder, type DecoderOptions } from './message-decoder.js';
import { type BuiltRecord, DebeziumRecordBuilder, type RecordBuilderOptions } from './record-builder.js';

/** A message as a Kafka client hands it over (kafkajs' shape, without depending on kafkajs). */
export interface RawKafkaMessage {
  readonly offset: string;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
}

export interface BatchDecoderOptions extends Omit<RecordBuilderOptions, 'source'>, DecoderOptions {
  /**
   * Called with the error of a message Sluice cannot read (SLUICE_DEBEZIUM_MESSAGE, naming the
   * message and field). 'skip' leaves it out and goes on; 'fail' (the default, also without a
   * callback) throws, and nothing of the batch is kept.
   */
  readonly onInvalid?: (error: SluiceError) => 'skip' | 'fail';
}

/**
 * The decoding layer for the debezium-kafka source: one Kafka batch (of one topic-partition) in,
 * the log records to append out. Decoding is pure (no Kafka client here): the caller owns the
 * consumer and offsets and passes the position the record should carry.
 */
export class DebeziumBatchDecoder {
  private readonly decoder: DebeziumDecoder;
  private builder: DebeziumRecordBuilder;
  /** Details of the last batch decoded: offsets covered, counts (for status and metrics). */
  last: BuiltRecord | null = null;

  constructor(private readonly source: string, private readonly options: BatchDecoderOptions = {}) {
    this.decoder = new DebeziumDecoder(options);
    this.builder = new DebeziumRecordBuilder({ ...options, source });
  }

  /**
   * What the store holds for this source, once known (ChangeSource.start's `storedTables`, and
   * for topics without schemas the shapes from DuckDbStore.tableInfos() of this source). Call it
   * between batches: table shapes are sent again with the next batch, which the store ignores
   * when they did not change.
   */
  setStored(tables: ReadonlySet<string>, schemas?: ReadonlyMap<string, SchemaPart>): void {
    this.builder = new DebeziumRecordBuilder({ ...this.options, source: this.source, storedTables: tables, ...(schemas ? { storedSchemas: schemas } : {}) });
  }

  /**
   * The batch as log records: one record holding every change of the batch (tables in message
   * order), or none when the batch changed nothing (heartbeats, tombstones, transaction markers).
   * `position` goes into the record's header; without it the last event's source position does.
   */
  decode(topic: string, partition: number, messages: readonly RawKafkaMessage[], position?: SourcePosition): Buffer[] {
    try {
      for (const m of messages) {
        try {
          this.builder.add(this.decoder.decode({ topic, partition, offset: m.offset, key: m.key ?? null, value: m.value ?? null }));
        } catch (e) {
          if (isSluiceError(e, 'SLUICE_DEBEZIUM_MESSAGE') && this.options.onInvalid?.(e) === 'skip') continue;
          throw e;
        }
      }
      this.last = this.builder.finish(position);
      return this.last?.record ? [this.last.record] : [];
    } catch (e) {
      this.builder.discard();
      throw e;
    }
  }
}

export { DebeziumDecoder, DebeziumRecordBuilder };
export type { BuiltRecord, DecoderOptions, RecordBuilderOptions };
export type { KafkaOffsetRange } from './record-builder.js';
export type { ChangeEvent, DecodedMessage, KafkaCoordinates, KafkaMessage, SourceTable, TransactionMessage } from './message-types.js';
export { replicaNameOf } from './source-info.js';
