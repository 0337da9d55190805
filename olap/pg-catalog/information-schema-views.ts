import { literal } from '../../core/sql.js';
import { OWNER_NAME } from './base-views.js';
import { PG_SCHEMA, type RelationDef } from './relation-builder.js';

const s = PG_SCHEMA;

/**
 * The information_schema views the emulation fills, computed as Postgres' own definitions
 * (src/backend/catalog/information_schema.sql) compute them from pg_catalog; the other views
 * in information-schema-shapes.ts exist with no rows. Sluice is read-only, so nothing is
 * insertable or updatable; the one privilege is SELECT.
 */
export function informationSchemaViews(catalog: string): Readonly<Record<string, RelationDef>> {
  const cat = literal(catalog);
  const owner = literal(OWNER_NAME);
  const userRelations = `${s}._relation_list AS r WHERE r.relkind IN ('r', 'v')`;
  const keyColumns = `(SELECT k.*, unnest(k.attnames) AS column_name, unnest(generate_series(1, len(k.attnames))) AS position FROM ${s}._keys AS k) AS k`;
  return {
    information_schema_catalog_name: { from: `(SELECT 1)`, columns: { catalog_name: cat } },
    schemata: {
      from: `${s}._namespaces`,
      columns: { catalog_name: cat, schema_name: 'nspname', schema_owner: owner },
    },
    tables: {
      from: userRelations,
      columns: {
        table_catalog: cat, table_schema: 'r.nspname', table_name: 'r.relname',
        table_type: `CASE r.relkind WHEN 'v' THEN 'VIEW' ELSE 'BASE TABLE' END`, is_insertable_into: `'NO'`, is_typed: `'NO'`,
      },
    },
    views: {
      from: `${s}._relation_list AS r WHERE r.relkind = 'v'`,
      columns: {
        table_catalog: cat, table_schema: 'r.nspname', table_name: 'r.relname', view_definition: 'r.definition', check_option: `'NONE'`,
        is_updatable: `'NO'`, is_insertable_into: `'NO'`, is_trigger_updatable: `'NO'`, is_trigger_deletable: `'NO'`, is_trigger_insertable_into: `'NO'`,
      },
    },
    columns: {
      from: `${s}._table_columns AS c JOIN ${s}._relation_list AS r ON r.oid = c.attrelid LEFT JOIN ${s}._types AS t ON t.oid = c.atttypid`,
      columns: {
        table_catalog: cat, table_schema: 'r.nspname', table_name: 'r.relname', column_name: 'c.attname', ordinal_position: 'c.attnum',
        column_default: 'c.attdefault', is_nullable: `CASE WHEN c.attnotnull THEN 'NO' ELSE 'YES' END`,
        data_type: `CASE WHEN t.typcategory = 'A' AND t.typlen = -1 THEN 'ARRAY' ELSE t.format_name END`,
        character_maximum_length: `CASE WHEN t.oid IN (1042, 1043) AND c.atttypmod > 0 THEN c.atttypmod - 4 END`,
        character_octet_length: `CASE WHEN t.oid IN (25, 1042, 1043) THEN CASE WHEN c.atttypmod > 0 THEN (c.atttypmod - 4) * 4 ELSE 1073741824 END END`,
        numeric_precision: `CASE t.oid WHEN 21 THEN 16 WHEN 23 THEN 32 WHEN 20 THEN 64 WHEN 700 THEN 24 WHEN 701 THEN 53
          WHEN 1700 THEN CASE WHEN c.atttypmod > 0 THEN ((c.atttypmod - 4) >> 16) & 65535 END END`,
        numeric_precision_radix: `CASE WHEN t.oid IN (20, 21, 23, 700, 701) THEN 2 WHEN t.oid = 1700 THEN 10 END`,
        numeric_scale: `CASE WHEN t.oid IN (20, 21, 23) THEN 0 WHEN t.oid = 1700 AND c.atttypmod > 0 THEN (c.atttypmod - 4) & 65535 END`,
        datetime_precision: `CASE WHEN t.oid = 1082 THEN 0 WHEN t.oid IN (1083, 1114, 1184, 1186, 1266) THEN 6 END`,
        udt_catalog: cat, udt_schema: `'pg_catalog'`, udt_name: 't.typname', dtd_identifier: 'CAST(c.attnum AS VARCHAR)',
        is_self_referencing: `'NO'`, is_identity: `'NO'`, identity_cycle: `'NO'`, is_generated: `'NEVER'`, is_updatable: `'NO'`,
      },
      orderBy: 'r.nspname, r.relname, c.attnum',
    },
    table_constraints: {
      from: `${s}._keys`,
      columns: {
        constraint_catalog: cat, constraint_schema: 'nspname', constraint_name: 'conname', table_catalog: cat, table_schema: 'nspname',
        table_name: 'relname', constraint_type: `'PRIMARY KEY'`, is_deferrable: `'NO'`, initially_deferred: `'NO'`, enforced: `'YES'`,
      },
    },
    key_column_usage: {
      from: keyColumns,
      columns: {
        constraint_catalog: cat, constraint_schema: 'k.nspname', constraint_name: 'k.conname', table_catalog: cat,
        table_schema: 'k.nspname', table_name: 'k.relname', column_name: 'k.column_name', ordinal_position: 'k.position',
      },
    },
    constraint_column_usage: {
      from: keyColumns,
      columns: {
        table_catalog: cat, table_schema: 'k.nspname', table_name: 'k.relname', column_name: 'k.column_name',
        constraint_catalog: cat, constraint_schema: 'k.nspname', constraint_name: 'k.conname',
      },
    },
    constraint_table_usage: {
      from: `${s}._keys`,
      columns: {
        table_catalog: cat, table_schema: 'nspname', table_name: 'relname', constraint_catalog: cat, constraint_schema: 'nspname', constraint_name: 'conname',
      },
    },
    table_privileges: { from: userRelations, columns: selectGrant(cat, owner) },
    role_table_grants: { from: userRelations, columns: selectGrant(cat, owner) },
    enabled_roles: { from: `(SELECT 1)`, columns: { role_name: owner } },
    character_sets: {
      from: `(SELECT 1)`,
      columns: { character_set_name: `'UTF8'`, character_repertoire: `'UCS'`, form_of_use: `'UTF8'`, default_collate_catalog: cat, default_collate_schema: `'pg_catalog'`, default_collate_name: `'C.UTF-8'` },
    },
  };
}

function selectGrant(cat: string, owner: string): Record<string, string> {
  return {
    grantor: owner, grantee: `'PUBLIC'`, table_catalog: cat, table_schema: 'r.nspname', table_name: 'r.relname',
    privilege_type: `'SELECT'`, is_grantable: `'NO'`, with_hierarchy: `'NO'`,
  };
}
