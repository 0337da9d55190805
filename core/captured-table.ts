import type { ColumnSpec, SchemaPart } from './change-record.js';

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
