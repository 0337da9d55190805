import type { Admin, Producer } from 'kafkajs';
import type { SchemaPart } from '../../change-record.js';
import type { KafkaLogConfig } from '../../config.js';
import { SluiceError, messageOf } from '../../errors.js';
import { assertReachable, kafkaClient } from '../../kafka/kafka-client.js';
import type { Logger } from '../../logger.js';
import type { ChangeLog, LogRecord } from '../change-log.js';
import { debeziumMessages } from './debezium-topics.js';
import { LogTopicReader } from './log-topic-reader.js';

export interface KafkaLogOptions {
  readonly config: KafkaLogConfig;
  readonly source: string;
  readonly logger: Logger;
  /** Table shapes as the store has them, so Debezium events can be written before a schema part passes. */
  readonly schemas: Map<string, SchemaPart>;
}

/**
 * The change log on Kafka. Sluice's own records (whole source transactions, the same bytes the
 * embedded log stores) go to one single-partition topic `<prefix>.<source>.log`, whose offsets
 * are the log's offsets; the same transaction's Debezium events go to the table topics
 * `<prefix>.<source>.<schema>.<table>` in the same Kafka transaction, so Debezium consumers and
 * Sluice see exactly the same committed changes. The producer is idempotent and transactional
 * (a second writer with the same source fences the first), and the reader reads committed
 * transactions only. Offsets are not dense on Kafka (each commit takes one for its marker):
 * the pipeline only ever asks for "the next record at or after", which gaps do not disturb.
 */
export class KafkaLog implements ChangeLog {
  private end: number;
  private closed = false;

  private constructor(
    private readonly o: KafkaLogOptions,
    private readonly producer: Producer,
    private readonly reader: LogTopicReader,
    private readonly topic: string,
    private readonly start: number,
    end: number,
  ) {
    this.end = end;
  }

  static async open(o: KafkaLogOptions): Promise<KafkaLog> {
    const c = o.config;
    const logger = o.logger.child({ component: 'kafka-log', source: o.source });
    const kafka = kafkaClient(c, logger);
    await assertReachable(c, logger, `log for source "${o.source}"`);
    const topic = `${c.topicPrefix}.${o.source}.log`;
    const admin = kafka.admin();
    let low = 0;
    let high = 0;
    try {
      await admin.connect();
      await ensureTopic(admin, topic, c);
      const [p] = await admin.fetchTopicOffsets(topic);
      low = Number(p.low);
      high = Number(p.high);
    } catch (e) {
      throw new SluiceError('SLUICE_KAFKA_LOG', `log topic ${topic}: ${messageOf(e)}`, { cause: e });
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
    const producer = kafka.producer({ idempotent: true, transactionalId: `sluice.${c.topicPrefix}.${o.source}`, maxInFlightRequests: 1 });
    await producer.connect();
    // The last record is what the source resumes from; the high watermark may sit past a commit
    // marker, so it is found by reading the tail.
    const reader = await LogTopicReader.open(kafka, topic, Math.max(low, high - 16), logger);
    let end = low;
    if (high > low) {
      const tail = await reader.range(Math.max(low, high - 16), high, AbortSignal.timeout(c.connectionTimeoutMs * 3));
      end = tail.length ? tail[tail.length - 1].offset + 1 : low;
    }
    logger.info({ topic, startOffset: low, endOffset: end }, 'kafka log open');
    return new KafkaLog(o, producer, reader, topic, low, end);
  }

  get startOffset(): number {
    return this.start;
  }

  get endOffset(): number {
    return Math.max(this.end, this.reader.lastSeenOffset + 1);
  }

  async append(payloads: readonly Buffer[]): Promise<number> {
    if (this.closed) throw new SluiceError('SLUICE_LOG_CLOSED', 'the log is closed');
    if (payloads.length === 0) return this.end;
    const tables = debeziumMessages(this.o.config.topicPrefix, this.o.source, payloads, this.o.schemas);
    const tx = await this.producer.transaction();
    try {
      const [meta] = await tx.send({ topic: this.topic, messages: payloads.map((value) => ({ value })) });
      if (tables.size > 0) await tx.sendBatch({ topicMessages: [...tables].map(([topic, messages]) => ({ topic, messages })) });
      await tx.commit();
      const first = Number(meta.baseOffset);
      this.end = first + payloads.length;
      return first;
    } catch (e) {
      await tx.abort().catch(() => undefined);
      throw new SluiceError('SLUICE_KAFKA_LOG', `appending to ${this.topic} failed: ${messageOf(e)}`, { cause: e });
    }
  }

  read(fromOffset: number, maxBytes = 4 * 1024 * 1024): Promise<LogRecord[]> {
    return this.reader.read(fromOffset, maxBytes);
  }

  waitFor(offset: number, signal?: AbortSignal): Promise<void> {
    return this.reader.waitFor(offset, signal);
  }

  /** Retention on Kafka is the broker's (the topic's retention.ms); nothing to do here. */
  async enforceRetention(): Promise<number> {
    return 0;
  }

  /** Not known without asking every broker for its log directories. */
  sizeBytes(): number {
    return 0;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.reader.close();
    await this.producer.disconnect().catch(() => undefined);
  }
}

async function ensureTopic(admin: Admin, topic: string, c: KafkaLogConfig): Promise<void> {
  const existing = await admin.listTopics();
  if (existing.includes(topic)) return;
  await admin.createTopics({
    waitForLeaders: true,
    topics: [{
      topic,
      numPartitions: 1,
      replicationFactor: c.replicationFactor,
      configEntries: [
        { name: 'cleanup.policy', value: 'delete' },
        { name: 'retention.ms', value: String(c.retentionMs ?? -1) },
      ],
    }],
  });
}
