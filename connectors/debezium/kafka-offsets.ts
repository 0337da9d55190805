import { SluiceError } from '../../core/errors.js';

/**
 * Where a Debezium-topic source stands: the next Kafka offset to read per topic-partition. It
 * travels as the log records' source position (`lsn`), so the log's last record says where to
 * resume and the store, not Kafka's group offsets, decides what was applied.
 */
export class KafkaOffsets {
  private readonly next = new Map<string, number>();

  static parse(lsn: string | null): KafkaOffsets {
    const o = new KafkaOffsets();
    if (!lsn) return o;
    let parsed: unknown;
    try {
      parsed = JSON.parse(lsn);
    } catch {
      throw new SluiceError('SLUICE_LOG_RECORD_INVALID', `the log's last position is not a Kafka offset map: ${lsn.slice(0, 80)}`);
    }
    for (const [k, v] of Object.entries(parsed as Record<string, unknown>)) if (typeof v === 'number') o.next.set(k, v);
    return o;
  }

  /** The offset to resume a partition at, or undefined for one never read. */
  resumeAt(topic: string, partition: number): number | undefined {
    return this.next.get(`${topic}/${partition}`);
  }

  /** These offsets with every offset up to `lastOffset` of a partition read. */
  advanced(topic: string, partition: number, lastOffset: number): KafkaOffsets {
    const o = new KafkaOffsets();
    for (const [k, v] of this.next) o.next.set(k, v);
    o.next.set(`${topic}/${partition}`, lastOffset + 1);
    return o;
  }

  /** Every partition with the offset to read next, as kafkajs commits them. */
  entries(): { topic: string; partition: number; offset: string }[] {
    return [...this.next].map(([k, offset]) => {
      const at = k.lastIndexOf('/');
      return { topic: k.slice(0, at), partition: Number(k.slice(at + 1)), offset: String(offset) };
    });
  }

  toString(): string {
    return JSON.stringify(Object.fromEntries(this.next));
  }
}
