import { literal } from '../../core/sql.js';
import { PG_TYPES } from './pg-types.js';
import { PG_SCHEMA } from './relation-builder.js';
import { duckTypeModSql, duckTypeOidSql } from './type-map.js';

/** Postgres' own namespaces, with the oids Postgres gives them. */
export const PG_CATALOG_NAMESPACE = 11;
export const INFORMATION_SCHEMA_NAMESPACE = 13207;
/** The one role: Postgres' bootstrap superuser has oid 10, and everything is owned by it. */
export const OWNER_OID = 10;
export const OWNER_NAME = 'sluice';
export const DATABASE_OID = 16384;
/** The bookkeeping schema of the store, never shown to clients. */
const HIDDEN_SCHEMA = '_sluice';

/** Internal relations kept as snapshots (see catalog-snapshot.ts), each filled from its `_live_` view. */
export const SNAPSHOTS = ['_namespaces', '_key_specs', '_table_columns', '_relation_list'] as const;

/**
 * The internal relations every emulated catalog relation is built from, over DuckDB's metadata
 * of the store's catalog. Reading that metadata is the costly part (duckdb_columns() lists
 * every column of every catalog), so each `_live_x` view is copied into a table `x` that the
 * catalog reads, and re-copied only when the store's schema has changed (catalog-snapshot.ts).
 * Row counts change all the time and are read live. Oids are hashes of the object's kind and
 * name: stable across restarts (clients cache them), above Postgres' fixed oids.
 */
export function baseViewStatements(catalog: string): string[] {
  const cat = literal(catalog);
  const hidden = literal(HIDDEN_SCHEMA);
  const s = PG_SCHEMA;
  const userViews = `duckdb_views() WHERE database_name = ${cat} AND schema_name <> ${hidden} AND NOT internal AND NOT temporary`;
  return [
    `CREATE OR REPLACE MACRO ${s}._oid(kind, nsp, name) AS CAST(16384 + hash(kind, nsp, name) % 2000000000 AS BIGINT)`,
    ...typesTable(),
    // `main` is DuckDB's default schema: shown only if something was put there.
    `CREATE OR REPLACE VIEW ${s}._live_namespaces AS
      SELECT * FROM (VALUES (CAST(${PG_CATALOG_NAMESPACE} AS BIGINT), 'pg_catalog', 'system catalog schema', true),
                            (${INFORMATION_SCHEMA_NAMESPACE}, 'information_schema', NULL, true)) AS v(oid, nspname, comment, system)
      UNION ALL
      SELECT ${s}._oid('n', schema_name, ''), schema_name, comment, false FROM duckdb_schemas()
      WHERE database_name = ${cat} AND schema_name <> ${hidden}
        AND (schema_name <> 'main' OR EXISTS (SELECT 1 FROM duckdb_tables() t WHERE t.database_name = ${cat} AND t.schema_name = 'main')
                                   OR EXISTS (SELECT 1 FROM duckdb_views() v WHERE v.database_name = ${cat} AND v.schema_name = 'main' AND NOT v.internal))`,
    // Primary keys: the store's tables carry none (see DESIGN.md); each replica's spec names
    // its key columns, in order.
    `CREATE OR REPLACE VIEW ${s}._live_key_specs AS
      SELECT source AS nspname, tbl AS relname, ${s}._oid('n', source, '') AS nspoid, ${s}._oid('r', source, tbl) AS relid,
             ${s}._oid('i', source, tbl) AS indexrelid, ${s}._oid('c', source, tbl) AS conoid, tbl || '_pkey' AS conname, attnames
      FROM (SELECT source, "table" AS tbl, list_transform(list_filter(from_json(spec->'columns', '[{"name":"VARCHAR","key":"BOOLEAN"}]'),
              c -> c.key), c -> c.name) AS attnames FROM ${catalog}.${HIDDEN_SCHEMA}.tables)
      WHERE len(attnames) > 0 AND EXISTS (SELECT 1 FROM duckdb_tables() t WHERE t.database_name = ${cat} AND t.schema_name = source AND t.table_name = tbl)`,
    `CREATE OR REPLACE VIEW ${s}._live_table_columns AS
      SELECT ${s}._oid('r', c.schema_name, c.table_name) AS attrelid, c.column_name AS attname, CAST(c.column_index AS SMALLINT) AS attnum,
             c.data_type AS duck_type, ${duckTypeOidSql('c.data_type')} AS atttypid, ${duckTypeModSql('c.data_type')} AS atttypmod,
             -- A primary key's columns are NOT NULL in Postgres; the replicas do not declare it.
             NOT c.is_nullable OR coalesce(list_contains(k.attnames, c.column_name), false) AS attnotnull, c.column_default AS attdefault, c.comment
      FROM duckdb_columns() AS c LEFT JOIN ${s}._live_key_specs AS k ON k.nspname = c.schema_name AND k.relname = c.table_name
      WHERE c.database_name = ${cat} AND c.schema_name <> ${hidden}`,
    `CREATE OR REPLACE VIEW ${s}._live_relation_list AS
      SELECT ${s}._oid('r', t.schema_name, t.table_name) AS oid, ${s}._oid('n', t.schema_name, '') AS nspoid, t.schema_name AS nspname,
             t.table_name AS relname, 'r' AS relkind, t.comment, CAST(t.column_count AS SMALLINT) AS natts, NULL AS definition,
             EXISTS (SELECT 1 FROM ${s}._live_key_specs AS k WHERE k.nspname = t.schema_name AND k.relname = t.table_name) AS hasindex
      FROM duckdb_tables() AS t WHERE t.database_name = ${cat} AND t.schema_name <> ${hidden} AND NOT t.temporary
      UNION ALL
      SELECT ${s}._oid('r', schema_name, view_name), ${s}._oid('n', schema_name, ''), schema_name, view_name, 'v', comment,
             CAST(column_count AS SMALLINT), trim(regexp_replace(sql, '(?s)^CREATE VIEW .*? AS |;\\s*$', '', 'g')), false
      FROM ${userViews}
      UNION ALL
      SELECT indexrelid, nspoid, nspname, conname, 'i', NULL, CAST(len(attnames) AS SMALLINT), NULL, false FROM ${s}._live_key_specs`,
    ...SNAPSHOTS.map((name) => `CREATE OR REPLACE TABLE ${s}.${name} AS SELECT * FROM ${s}._live${name}`),
    // What the snapshots were taken from: the store's tables (their DDL: columns, types,
    // defaults), views (a replaced view is a new catalog entry with a new oid; their DDL is
    // not read, DuckDB renders it for every view of every catalog, ours included), schemas,
    // table and schema comments (not column comments: the store sets none), and the specs.
    `CREATE OR REPLACE VIEW ${s}._live_signature AS
      SELECT CAST(hash(string_agg(x, chr(1) ORDER BY x)) AS VARCHAR) AS signature FROM (
        SELECT concat_ws(chr(2), 't', schema_name, table_name, sql, comment) AS x FROM duckdb_tables() WHERE database_name = ${cat} AND NOT temporary
        UNION ALL SELECT concat_ws(chr(2), 'v', schema_name, view_name, view_oid, comment) FROM duckdb_views() WHERE database_name = ${cat} AND NOT internal AND NOT temporary
        UNION ALL SELECT concat_ws(chr(2), 's', schema_name, comment) FROM duckdb_schemas() WHERE database_name = ${cat}
        UNION ALL SELECT concat_ws(chr(2), 'k', source, "table", CAST(spec AS VARCHAR)) FROM ${catalog}.${HIDDEN_SCHEMA}.tables)`,
    `CREATE OR REPLACE TABLE ${s}._snapshot_state AS SELECT signature FROM ${s}._live_signature`,
    // Relations with their live row estimates.
    `CREATE OR REPLACE VIEW ${s}._relations AS
      SELECT r.*, coalesce(CAST(t.estimated_size AS DOUBLE), CASE r.relkind WHEN 'v' THEN -1 ELSE 0 END) AS reltuples
      FROM ${s}._relation_list AS r
      LEFT JOIN duckdb_tables() AS t ON r.relkind = 'r' AND t.database_name = ${cat} AND t.schema_name = r.nspname AND t.table_name = r.relname`,
    // Key specs with the key columns' attribute numbers.
    `CREATE OR REPLACE VIEW ${s}._keys AS
      SELECT k.nspname, k.relname, k.nspoid, k.relid, k.indexrelid, k.conoid, k.conname, k.attnames,
             list(c.attnum ORDER BY k.position) AS attnums
      FROM (SELECT *, unnest(attnames) AS attname, unnest(generate_series(1, len(attnames))) AS position FROM ${s}._key_specs) AS k
      JOIN ${s}._table_columns AS c ON c.attrelid = k.relid AND c.attname = k.attname
      GROUP BY ALL`,
    // Columns of tables and views, then those of each primary key index.
    `CREATE OR REPLACE VIEW ${s}._columns AS
      SELECT * FROM ${s}._table_columns
      UNION ALL
      SELECT k.indexrelid, c.attname, CAST(k.position AS SMALLINT), c.duck_type, c.atttypid, c.atttypmod, true, NULL, NULL
      FROM (SELECT relid, indexrelid, unnest(attnames) AS attname, unnest(generate_series(1, len(attnames))) AS position FROM ${s}._key_specs) AS k
      JOIN ${s}._table_columns AS c ON c.attrelid = k.relid AND c.attname = k.attname`,
    `CREATE OR REPLACE VIEW ${s}._descriptions AS
      SELECT oid AS objoid, 1259 AS classoid, 0 AS objsubid, comment AS description FROM ${s}._relation_list WHERE comment IS NOT NULL
      UNION ALL SELECT attrelid, 1259, attnum, comment FROM ${s}._table_columns WHERE comment IS NOT NULL
      UNION ALL SELECT oid, 2615, 0, comment FROM ${s}._namespaces WHERE comment IS NOT NULL AND NOT system`,
  ];
}

/**
 * The built-in types as a table (constant data), with what format_type needs to print a type
 * with its modifier: the element for arrays, and the `[]` to append.
 */
function typesTable(): string[] {
  const byOid = new Map(PG_TYPES.map((t) => [t.oid, t]));
  const rows = PG_TYPES.map((t) => {
    const isArray = t.category === 'A' && t.elem !== 0 && t.len === -1;
    const base = isArray ? byOid.get(t.elem)! : t;
    const v = [
      t.oid, literal(t.name), t.len, t.byval, literal(t.type), literal(t.category), t.preferred, t.elem, t.array,
      literal(t.input), literal(t.output), literal(t.receive), literal(t.send), literal(t.align), literal(t.storage),
      t.collation, literal(t.delim), literal(t.formatName), base.oid, literal(base.formatName), literal(isArray ? '[]' : ''),
    ];
    return `(${v.join(', ')})`;
  });
  return [
    `CREATE OR REPLACE TABLE ${PG_SCHEMA}._types (oid BIGINT, typname VARCHAR, typlen SMALLINT, typbyval BOOLEAN, typtype VARCHAR,
    typcategory VARCHAR, typispreferred BOOLEAN, typelem BIGINT, typarray BIGINT, typinput VARCHAR, typoutput VARCHAR,
    typreceive VARCHAR, typsend VARCHAR, typalign VARCHAR, typstorage VARCHAR, typcollation BIGINT, typdelim VARCHAR,
    format_name VARCHAR, format_base BIGINT, format_base_name VARCHAR, format_suffix VARCHAR)`,
    `INSERT INTO ${PG_SCHEMA}._types VALUES ${rows.join(',\n')}`,
  ];
}
