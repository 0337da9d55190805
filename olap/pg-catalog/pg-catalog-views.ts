import { literal } from '../../core/sql.js';
import { DATABASE_OID, OWNER_NAME, OWNER_OID } from './base-views.js';
import { PG_SETTINGS } from './pg-settings.js';
import { PG_SCHEMA, type RelationDef } from './relation-builder.js';

const s = PG_SCHEMA;
const HEAP_AM = 2;
const BTREE_AM = 403;
const DEFAULT_TABLESPACE = 1663;

function values(rows: readonly (readonly unknown[])[], names: string): string {
  const sql = (v: unknown): string => (v === null ? 'NULL' : typeof v === 'string' ? literal(v) : String(v));
  return `(VALUES ${rows.map((r) => `(${r.map(sql).join(', ')})`).join(', ')}) AS v(${names})`;
}

/**
 * The pg_catalog relations the emulation fills; every other relation in pg-catalog-shapes.ts
 * exists with its full column list and no rows (Sluice has no sequences, triggers, policies,
 * functions of its own, ...), which is also what Postgres shows for a database without them.
 */
export function pgCatalogViews(catalog: string): Readonly<Record<string, RelationDef>> {
  return {
    pg_namespace: {
      from: `${s}._namespaces`,
      columns: { oid: 'oid', nspname: 'nspname', nspowner: String(OWNER_OID) },
    },
    pg_class: {
      from: `${s}._relations`,
      columns: {
        oid: 'oid', relname: 'relname', relnamespace: 'nspoid', relowner: String(OWNER_OID),
        relam: `CASE relkind WHEN 'r' THEN ${HEAP_AM} WHEN 'i' THEN ${BTREE_AM} ELSE 0 END`,
        relfilenode: `CASE relkind WHEN 'v' THEN 0 ELSE oid END`, reltuples: 'reltuples',
        // An empty btree index has its metapage.
        relpages: `CASE relkind WHEN 'i' THEN 1 ELSE 0 END`,
        relhasindex: 'hasindex', relpersistence: `'p'`, relkind: 'relkind', relnatts: 'natts',
        // A Postgres view is a table with a _RETURN rule.
        relhasrules: `relkind = 'v'`, relispopulated: 'true', relreplident: `CASE relkind WHEN 'r' THEN 'd' ELSE 'n' END`,
      },
    },
    pg_attribute: {
      from: `${s}._columns AS c LEFT JOIN ${s}._types AS t ON t.oid = c.atttypid`,
      columns: {
        attrelid: 'c.attrelid', attname: 'c.attname', atttypid: 'c.atttypid', attstattarget: '-1', attlen: 't.typlen',
        attnum: 'c.attnum', attndims: `CASE WHEN t.typcategory = 'A' THEN 1 ELSE 0 END`, attcacheoff: '-1',
        atttypmod: 'c.atttypmod', attbyval: 't.typbyval', attalign: 't.typalign', attstorage: 't.typstorage',
        attcompression: `''`, attnotnull: 'c.attnotnull', atthasdef: 'c.attdefault IS NOT NULL', attidentity: `''`,
        attgenerated: `''`, attislocal: 'true', attcollation: 't.typcollation',
      },
      orderBy: 'c.attrelid, c.attnum',
    },
    pg_type: {
      from: `${s}._types`,
      columns: {
        oid: 'oid', typname: 'typname', typnamespace: '11', typowner: String(OWNER_OID), typlen: 'typlen', typbyval: 'typbyval',
        typtype: 'typtype', typcategory: 'typcategory', typispreferred: 'typispreferred', typisdefined: 'true',
        typdelim: 'typdelim', typrelid: '0', typsubscript: `CASE WHEN typcategory = 'A' AND typlen = -1 THEN 'array_subscript_handler' ELSE '-' END`,
        typelem: 'typelem', typarray: 'typarray', typinput: 'typinput', typoutput: 'typoutput', typreceive: 'typreceive',
        typsend: 'typsend', typmodin: `'-'`, typmodout: `'-'`, typanalyze: `'-'`, typalign: 'typalign', typstorage: 'typstorage',
        typnotnull: 'false', typbasetype: '0', typtypmod: '-1', typndims: '0', typcollation: 'typcollation',
      },
    },
    pg_index: {
      from: `${s}._keys`,
      columns: {
        indexrelid: 'indexrelid', indrelid: 'relid', indnatts: 'len(attnums)', indnkeyatts: 'len(attnums)', indisunique: 'true',
        indnullsnotdistinct: 'false', indisprimary: 'true', indimmediate: 'true', indisvalid: 'true', indisready: 'true',
        indislive: 'true', indkey: 'attnums', indcollation: 'list_transform(attnums, x -> 0)',
        indclass: 'list_transform(attnums, x -> 0)', indoption: 'list_transform(attnums, x -> 0)',
      },
    },
    pg_constraint: {
      from: `${s}._keys`,
      columns: {
        oid: 'conoid', conname: 'conname', connamespace: 'nspoid', contype: `'p'`, condeferrable: 'false', condeferred: 'false',
        convalidated: 'true', conrelid: 'relid', conindid: 'indexrelid', confupdtype: `' '`, confdeltype: `' '`,
        confmatchtype: `' '`, conislocal: 'true', connoinherit: 'true', conkey: 'attnums',
      },
    },
    pg_attrdef: {
      from: `${s}._table_columns WHERE attdefault IS NOT NULL`,
      columns: { oid: `${s}._oid('d', CAST(attrelid AS VARCHAR), attname)`, adrelid: 'attrelid', adnum: 'attnum', adbin: 'attdefault' },
    },
    pg_description: {
      from: `${s}._descriptions`,
      columns: { objoid: 'objoid', classoid: 'classoid', objsubid: 'objsubid', description: 'description' },
    },
    pg_am: {
      from: values([[HEAP_AM, 'heap', 'heap_tableam_handler', 't'], [BTREE_AM, 'btree', 'bthandler', 'i']], 'oid, amname, amhandler, amtype'),
      columns: { oid: 'oid', amname: 'amname', amhandler: 'amhandler', amtype: 'amtype' },
    },
    pg_database: {
      from: values([[DATABASE_OID, catalog]], 'oid, datname'),
      columns: {
        oid: 'oid', datname: 'datname', datdba: String(OWNER_OID), encoding: '6', datlocprovider: `'c'`, datallowconn: 'true',
        datconnlimit: '-1', dattablespace: String(DEFAULT_TABLESPACE), datcollate: `'C.UTF-8'`, datctype: `'C.UTF-8'`,
      },
    },
    pg_tablespace: {
      from: values([[DEFAULT_TABLESPACE, 'pg_default'], [1664, 'pg_global']], 'oid, spcname'),
      columns: { oid: 'oid', spcname: 'spcname', spcowner: String(OWNER_OID) },
    },
    pg_authid: { from: values([[OWNER_OID, OWNER_NAME]], 'oid, rolname'), columns: role('oid', 'rolname') },
    pg_roles: { from: values([[OWNER_OID, OWNER_NAME]], 'oid, rolname'), columns: { ...role('oid', 'rolname'), rolpassword: `'********'` } },
    pg_user: {
      from: values([[OWNER_OID, OWNER_NAME]], 'oid, rolname'),
      columns: { usename: 'rolname', usesysid: 'oid', usecreatedb: 'false', usesuper: 'false', userepl: 'false', usebypassrls: 'false', passwd: `'********'` },
    },
    pg_settings: {
      from: values(PG_SETTINGS.map((p) => [p.name, p.setting, p.unit ?? null, p.category, p.description, p.context, p.vartype]),
        'name, setting, unit, category, short_desc, context, vartype'),
      columns: {
        name: 'name', setting: 'setting', unit: 'unit', category: 'category', short_desc: 'short_desc', context: 'context',
        vartype: 'vartype', source: `'default'`, boot_val: 'setting', reset_val: 'setting', pending_restart: 'false',
      },
    },
    pg_tables: {
      from: `${s}._relation_list WHERE relkind = 'r'`,
      columns: { schemaname: 'nspname', tablename: 'relname', tableowner: literal(OWNER_NAME), hasindexes: 'hasindex' },
    },
    pg_views: {
      from: `${s}._relation_list WHERE relkind = 'v'`,
      columns: { schemaname: 'nspname', viewname: 'relname', viewowner: literal(OWNER_NAME), definition: 'definition' },
    },
    pg_indexes: {
      from: `${s}._keys`,
      columns: { schemaname: 'nspname', tablename: 'relname', indexname: 'conname', indexdef: `${s}.pg_get_indexdef(indexrelid)` },
    },
    pg_stat_user_tables: { from: `${s}._relations WHERE relkind = 'r'`, columns: tableStats() },
    pg_stat_all_tables: { from: `${s}._relations WHERE relkind = 'r'`, columns: tableStats() },
    pg_statio_user_tables: { from: `${s}._relation_list WHERE relkind = 'r'`, columns: { relid: 'oid', schemaname: 'nspname', relname: 'relname' } },
    pg_stat_database: {
      from: values([[DATABASE_OID, catalog]], 'oid, datname'),
      columns: { datid: 'oid', datname: 'datname' },
    },
    pg_timezone_names: {
      from: 'pg_timezone_names()',
      columns: { name: 'name', abbrev: 'abbrev', utc_offset: 'utc_offset', is_dst: 'is_dst' },
    },
  };
}

function role(oid: string, name: string): Record<string, string> {
  return {
    oid, rolname: name, rolsuper: 'false', rolinherit: 'true', rolcreaterole: 'false', rolcreatedb: 'false',
    rolcanlogin: 'true', rolreplication: 'false', rolconnlimit: '-1', rolbypassrls: 'false',
  };
}

function tableStats(): Record<string, string> {
  return { relid: 'oid', schemaname: 'nspname', relname: 'relname', n_live_tup: 'CAST(reltuples AS BIGINT)' };
}
