import type pg from 'pg';
import type { CapturedTable } from '../../core/captured-table.js';
import { SluiceError } from '../../core/errors.js';
import type { ColumnAttribute, TypeCatalog } from './type-catalog.js';

export function splitTableName(spec: string): { schema: string; name: string } {
  const dot = spec.indexOf('.');
  return dot < 0 ? { schema: 'public', name: spec } : { schema: spec.slice(0, dot), name: spec.slice(dot + 1) };
}

/** `public.orders` is `orders`; tables of other schemas keep their schema as a prefix. */
export function replicaNameFor(schema: string, name: string): string {
  return (schema === 'public' ? name : `${schema}_${name}`).toLowerCase();
}

/**
 * Which columns identify a row, following the table's REPLICA IDENTITY: what pgoutput sends
 * as the old key of updates and deletes. With FULL identity and no primary key rows have no
 * identity of their own and the replica treats them as a multiset.
 */
export async function describeTable(client: pg.Client, spec: string, types: TypeCatalog): Promise<CapturedTable> {
  const { schema, name } = splitTableName(spec);
  const { rows } = await client.query<{ db: string; oid: number; ident: string; pk: string[] | null; idx: string[] | null }>(
    `SELECT current_database() AS db, c.oid::int AS oid, c.relreplident AS ident,
       (SELECT array_agg(a.attname::text ORDER BY array_position(i.indkey::int2[], a.attnum))
          FROM pg_index i JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = ANY(i.indkey)
         WHERE i.indrelid = c.oid AND i.indisprimary) AS pk,
       (SELECT array_agg(a.attname::text ORDER BY array_position(i.indkey::int2[], a.attnum))
          FROM pg_index i JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = ANY(i.indkey)
         WHERE i.indrelid = c.oid AND i.indisreplident) AS idx
     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p')`,
    [schema, name],
  );
  const row = rows[0];
  if (!row) throw new SluiceError('SLUICE_PG_TABLE_MISSING', `table ${schema}.${name} does not exist (or is not a table)`);

  let identity: 'key' | 'full' = 'key';
  let keyColumns: string[];
  switch (row.ident) {
    case 'd':
      if (!row.pk) throw noIdentity(schema, name, 'has no primary key and REPLICA IDENTITY DEFAULT');
      keyColumns = row.pk;
      break;
    case 'i':
      keyColumns = row.idx ?? [];
      break;
    case 'f':
      keyColumns = row.pk ?? [];
      if (!row.pk) identity = 'full';
      break;
    default:
      throw noIdentity(schema, name, 'has REPLICA IDENTITY NOTHING');
  }

  const cols = await readAttributes(client, row.oid);
  const columns = cols.map((c) => types.column(c.attname, c.atttypid, c.atttypmod, keyColumns.includes(c.attname), c));
  return { connector: 'postgresql', database: row.db, schema, name, replicaName: replicaNameFor(schema, name), identity, keyColumns, columns };
}

export interface AttributeRow extends ColumnAttribute {
  readonly attname: string;
  readonly atttypid: number;
  readonly atttypmod: number;
}

/**
 * The live columns of a table, in attnum order. The missing value comes back as its element's
 * text (the array literal's only element), which is what a replica column is cast from.
 */
export async function readAttributes(client: pg.Client, oid: number): Promise<AttributeRow[]> {
  const { rows } = await client.query<AttributeRow>(
    `SELECT attname, atttypid::int AS atttypid, atttypmod, attnum::int AS attnum,
            CASE WHEN atthasmissing THEN (attmissingval::text::text[])[1] END AS missing
       FROM pg_attribute WHERE attrelid = $1 AND attnum > 0 AND NOT attisdropped ORDER BY attnum`,
    [oid],
  );
  return rows;
}

function noIdentity(schema: string, name: string, why: string): SluiceError {
  return new SluiceError(
    'SLUICE_PG_NO_REPLICA_IDENTITY',
    `table ${schema}.${name} ${why}: its updates and deletes cannot be matched to rows. ` +
      `Add a primary key, or run ALTER TABLE ${schema}.${name} REPLICA IDENTITY FULL`,
  );
}
