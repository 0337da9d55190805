import type { Message } from 'kafkajs';
import { type SchemaPart, decodeRecord } from '../../change-record.js';
import { toEnvelopes } from '../../envelope.js';

/** Debezium's topic name for a table: `<prefix>.<source>.<schema>.<table>`. */
export function tableTopic(prefix: string, source: string, spec: SchemaPart): string {
  return `${prefix}.${source}.${spec.sourceSchema}.${spec.sourceTable}`;
}

/**
 * The Debezium change events of log records, grouped by table topic, as a Debezium connector
 * with the JSON converter (schemas disabled) would write them: keyed by the primary key as a
 * JSON object, the envelope as the value, and a tombstone after each delete so compacted topics
 * forget the row. Tables without a key (REPLICA IDENTITY FULL) get a null key, as in Debezium.
 * `schemas` carries each table's shape across calls; schema parts update it on the way.
 */
export function debeziumMessages(prefix: string, source: string, payloads: readonly Buffer[], schemas: Map<string, SchemaPart>): Map<string, Message[]> {
  const byTopic = new Map<string, Message[]>();
  for (const payload of payloads) {
    const events = toEnvelopes(decodeRecord(payload), schemas);
    if (events.length === 0) continue;
    // Envelopes name the source table; the shapes are keyed by replica table. One lookup per
    // record (after its schema parts have updated `schemas`), not a scan per event.
    const bySourceTable = new Map([...schemas.values()].map((spec) => [`${spec.sourceSchema}.${spec.sourceTable}`, spec]));
    for (const event of events) {
      const spec = bySourceTable.get(`${event.source.schema}.${event.source.table}`);
      if (!spec) continue;
      const topic = tableTopic(prefix, source, spec);
      const row = event.after ?? event.before;
      const keyColumns = spec.columns.filter((c) => c.key);
      const key = row && keyColumns.length ? JSON.stringify(Object.fromEntries(keyColumns.map((c) => [c.name, row[c.name]]))) : null;
      const list = byTopic.get(topic) ?? [];
      list.push({ key, value: JSON.stringify(event) });
      if (event.op === 'd' && key !== null) list.push({ key, value: null });
      byTopic.set(topic, list);
    }
  }
  return byTopic;
}
