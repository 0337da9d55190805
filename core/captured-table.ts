import { type ColumnSpec, type SchemaPart, encodeRecord } from './change-record.js';

/** A source table as a connector captures it, whatever the source. */
export interface CapturedTable {
  readonly connector: 'postgresql' | 'mysql';
  readonly database: string;
  readonly schema: string;
  readonly name: string;
  /** Name of the replica inside the source's schema in the store. */
  readonly replicaName: string;
  readonly identity: 'key' | 'full';
  readonly keyColumns: readonly string[];
  readonly columns: readonly ColumnSpec[];
}

export function schemaPartOf(t: CapturedTable, columns: readonly ColumnSpec[] = t.columns): SchemaPart {
  return {
    kind: 'schema',
    table: t.replicaName,
    connector: t.connector,
    sourceDb: t.database,
    sourceSchema: t.schema,
    sourceTable: t.name,
    columns,
    identity: t.identity,
    bytes: 0,
  };
}

/** The record a snapshot opens each table's copy with: the table's shape. */
export function snapshotSchemaRecord(source: string, t: CapturedTable): Buffer {
  return encodeRecord({ kind: 'changes', source, snapshot: true, capturedMs: Date.now(), parts: [schemaPartOf(t)] });
}

/** One chunk of a table's copy: `rows` CSV lines `r,<values>`. */
export function snapshotRowsRecord(source: string, t: CapturedTable, rows: number, body: Buffer): Buffer {
  return encodeRecord(
    { kind: 'changes', source, snapshot: true, capturedMs: Date.now(), parts: [{ kind: 'rows', table: t.replicaName, rows, bytes: body.length }] },
    [body],
  );
}
