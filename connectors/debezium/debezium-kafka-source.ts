import type { Consumer, EachBatchPayload } from 'kafkajs';
import type { Logger } from 'pino';
import type { SchemaPart, SourcePosition } from '../../core/change-record.js';
import type { DebeziumKafkaSourceConfig } from '../../core/config.js';
import { SluiceError, messageOf } from '../../core/errors.js';
import { assertReachable, kafkaClient } from '../../core/kafka/kafka-client.js';
import type { ChangeLog } from '../../core/log/change-log.js';
import { resumePosition } from '../../core/resume-position.js';
import type { ChangeSource, SourceStatus } from '../../core/source.js';
import { SourceTracker } from '../../core/source-tracker.js';
import { DebeziumBatchDecoder } from './debezium-batch-decoder.js';
import { KafkaOffsets } from './kafka-offsets.js';

/**
 * Ingests the topics a Debezium connector writes (JSON converter, with or without schemas) into
 * the log, exactly like a native connector: each Kafka batch of one partition becomes change
 * records appended in one go, carrying the offsets read so far as their source position. On
 * start the consumer is placed at the offsets of the log's last record, so the store (which
 * replays the log from its own checkpoint) never misses or doubles an event, whatever the
 * consumer group says. The group's offsets are committed only after the store has committed,
 * for monitoring tools. Appending is awaited inside the batch handler: a slow store slows the
 * consumer, nothing piles up in memory.
 */
export class DebeziumKafkaSource implements ChangeSource {
  readonly name: string;
  private readonly tracker: SourceTracker;
  private consumer: Consumer | null = null;
  private offsets = new KafkaOffsets();
  private readonly decoder: DebeziumBatchDecoder;

  constructor(
    private readonly config: DebeziumKafkaSourceConfig,
    private readonly log: ChangeLog,
    private readonly logger: Logger,
  ) {
    this.name = config.name;
    this.tracker = new SourceTracker(config.name, 'debezium-kafka', logger);
    this.decoder = new DebeziumBatchDecoder(config.name);
  }

  /** Topics without schemas are typed by the shapes the store holds. */
  async start(stored: ReadonlyMap<string, SchemaPart>): Promise<void> {
    this.decoder.setStored(new Set(stored.keys()), stored);
    const kafka = kafkaClient(this.config, this.logger);
    await assertReachable(this.config, this.logger, `source "${this.name}"`);
    this.offsets = KafkaOffsets.parse(await resumePosition(this.log));
    const consumer = kafka.consumer({ groupId: this.config.group ?? `sluice-${this.name}`, readUncommitted: false, allowAutoTopicCreation: false });
    this.consumer = consumer;
    consumer.on(consumer.events.CRASH, (e) => {
      const err = new SluiceError('SLUICE_KAFKA_UNREACHABLE', `source "${this.name}": the Kafka consumer failed: ${messageOf(e.payload.error)}`, { cause: e.payload.error });
      this.tracker.onError(err);
      // kafkajs restarts the consumer itself with backoff when the error is retriable.
      this.tracker.onState(e.payload.restart ? 'reconnecting' : 'failed');
      this.logger.warn({ err: e.payload.error, restart: e.payload.restart }, 'kafka consumer crashed');
    });
    consumer.on(consumer.events.GROUP_JOIN, (e) => {
      this.tracker.onState('streaming');
      // Where the log says, not where the group was: seek each assigned partition.
      for (const [topic, partitions] of Object.entries(e.payload.memberAssignment)) {
        for (const partition of partitions) {
          const at = this.offsets.resumeAt(topic, partition);
          if (at !== undefined) consumer.seek({ topic, partition, offset: String(at) });
        }
      }
    });
    await consumer.connect();
    for (const topic of this.config.topics) await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({ autoCommit: false, eachBatchAutoResolve: true, eachBatch: (b) => this.onBatch(b) });
  }

  private async onBatch({ batch, isRunning, isStale }: EachBatchPayload): Promise<void> {
    if (!isRunning() || isStale() || batch.messages.length === 0) return;
    const resumeAt = this.offsets.resumeAt(batch.topic, batch.partition);
    const messages = batch.messages.filter((m) => resumeAt === undefined || Number(m.offset) >= resumeAt);
    if (messages.length === 0) return;
    const after = this.offsets.advanced(batch.topic, batch.partition, Number(messages[messages.length - 1].offset));
    const position: SourcePosition = { lsn: after.toString(), tsMs: Date.now() };
    let payloads: Buffer[];
    try {
      payloads = this.decoder.decode(batch.topic, batch.partition, messages, position);
    } catch (e) {
      // A message Sluice cannot read is not skipped (that would lose a change): the source stops
      // on it, saying which message and field, and the rest of the process goes on.
      this.tracker.fail(e, 'SLUICE_DEBEZIUM_MESSAGE');
      void this.consumer?.stop();
      return;
    }
    // A failed append throws: kafkajs retries the batch, and the offsets have not moved.
    if (payloads.length > 0) await this.log.append(payloads);
    this.offsets = after;
    this.tracker.onLogged(position.lsn);
  }

  committed(position: SourcePosition): void {
    this.tracker.acknowledged = position.lsn;
    this.consumer?.commitOffsets(KafkaOffsets.parse(position.lsn).entries()).catch((e) => this.logger.debug({ err: e }, 'committing group offsets failed (monitoring only)'));
  }

  status(): SourceStatus {
    return this.tracker.status();
  }

  async stop(): Promise<void> {
    await this.consumer?.disconnect().catch(() => undefined);
    this.consumer = null;
    this.tracker.onState('stopped');
  }
}
