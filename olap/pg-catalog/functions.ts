import { literal } from '../../core/sql.js';
import { OWNER_NAME, OWNER_OID } from './base-views.js';
import { INFORMATION_SCHEMA_SHAPES } from './information-schema-shapes.js';
import { PG_CATALOG_SHAPES } from './pg-catalog-shapes.js';
import { pgVersionString } from './pg-settings.js';
import { INFO_SCHEMA, PG_SCHEMA } from './relation-builder.js';

const s = PG_SCHEMA;

/** Keywords quote_ident quotes: Postgres 15's reserved, type/function-name and column-name keywords. */
const RESERVED = `all analyse analyze and any array as asc asymmetric authorization between bigint binary bit boolean both case cast char
character check coalesce collate collation column concurrently constraint create cross current_catalog current_date current_role
current_schema current_time current_timestamp current_user dec decimal default deferrable desc distinct do else end except exists
extract false fetch float for foreign freeze from full grant greatest group grouping having ilike in initially inner inout int integer
intersect interval into is isnull join lateral leading least left like limit localtime localtimestamp national natural nchar none
normalize not notnull null nullif numeric offset on only or order out outer overlaps overlay placing position precision primary real
references returning right row select session_user setof similar smallint some substring symmetric table tablesample then
time timestamp to trailing treat trim true union unique user using values varchar variadic verbose when where window with xmlattributes
xmlconcat xmlelement xmlexists xmlforest xmlnamespaces xmlparse xmlpi xmlroot xmlserialize xmltable`.split(/\s+/);

/**
 * Postgres' catalog functions as DuckDB macros. The translator calls them fully qualified, and
 * passes what only the session knows (the search path, as a list) as an extra argument, since
 * a macro cannot see session state. Macro bodies bind in the caller's context, so everything
 * they name is qualified too. Order matters: a macro must exist before one that calls it.
 */
export function functionStatements(duckdbVersion: string, startedAt: Date): string[] {
  // `name(a), (a, b)`: one overload per parameter list, all with the same body.
  const m = (sig: string, body: string): string => {
    const name = sig.slice(0, sig.indexOf('('));
    return over(name, sig.slice(name.length).split(/(?<=\)),\s*/).map((l): [string, string] => [l, body]));
  };
  // Overloads with bodies of their own: one statement, as CREATE OR REPLACE replaces them all.
  const over = (name: string, lists: readonly (readonly [params: string, body: string])[]): string =>
    `CREATE OR REPLACE MACRO ${s}.${name}${lists.map(([l, b]) => `${l} AS ${b}`).join(', ')}`;
  const quoted = (x: string): string => `${s}.quote_ident(${x})`;
  const indexdef = (col: string): string => `(SELECT CASE WHEN ${col} IS NULL OR ${col} = 0 THEN 'CREATE UNIQUE INDEX ' || ${quoted('k.conname')}
      || ' ON ' || ${quoted('k.nspname')} || '.' || ${quoted('k.relname')} || ' USING btree ('
      || array_to_string(list_transform(k.attnames, a -> ${quoted('a')}), ', ') || ')' ELSE ${quoted(`k.attnames[${col}]`)} END
    FROM ${s}._keys AS k WHERE k.indexrelid = i)`;
  const description = (catalog: string): string => `(SELECT d.description FROM ${s}._descriptions AS d WHERE d.objoid = o AND d.objsubid = 0
    AND (${catalog} IS NULL OR d.classoid = (SELECT r.oid FROM ${s}._system_relations AS r
      WHERE r.relname = ${s}.parse_ident(${catalog})[-1] AND r.nspname = 'pg_catalog')))`;
  return [
    `CREATE OR REPLACE TABLE ${s}._system_relations AS SELECT * FROM ${systemRelations()}`,
    m('version()', literal(pgVersionString(duckdbVersion))),
    // Quoted unless a plain lower-case name that is not a keyword, as Postgres' quote_ident.
    // The keywords as one string searched once: a list of them would be copied into every
    // expression quote_ident is expanded into, and DuckDB plans big expressions slowly.
    m('quote_ident(x)', `CASE WHEN x IS NULL THEN NULL WHEN regexp_full_match(x, '[a-z_][a-z0-9_$]*')
      AND strpos(${literal(` ${RESERVED.join(' ')} `)}, ' ' || x || ' ') = 0 THEN x ELSE '"' || replace(x, '"', '""') || '"' END`),
    m('parse_ident(x), (x, strict)', `list_transform(regexp_extract_all(x, '"(?:[^"]|"")*"|[^."\\s]+'),
      p -> CASE WHEN starts_with(p, '"') THEN replace(p[2:-2], '""', '"') ELSE lower(p) END)`),
    m('format_type(t, tm)', `CASE WHEN t IS NULL THEN NULL WHEN t = 0 THEN '-' ELSE coalesce((SELECT CASE
        WHEN tm IS NULL OR tm < 0 THEN f.format_name
        WHEN f.format_base = 1700 THEN 'numeric(' || (((tm - 4) >> 16) & 65535) || ',' || ((tm - 4) & 65535) || ')' || f.format_suffix
        WHEN f.format_base IN (1042, 1043) THEN f.format_base_name || '(' || (tm - 4) || ')' || f.format_suffix
        WHEN f.format_base IN (1560, 1562) THEN f.format_base_name || '(' || tm || ')' || f.format_suffix
        WHEN f.format_base IN (1083, 1114) THEN replace(f.format_base_name, ' without', '(' || tm || ') without') || f.format_suffix
        WHEN f.format_base IN (1184, 1266) THEN replace(f.format_base_name, ' with', '(' || tm || ') with') || f.format_suffix
        ELSE f.format_name END FROM ${s}._types AS f WHERE f.oid = t), '???') END`),
    m('pg_get_userbyid(r)', `CASE WHEN r = ${OWNER_OID} THEN ${literal(OWNER_NAME)} ELSE 'unknown (OID=' || r || ')' END`),
    // reg* input: a number is an oid as it is; a name is looked up along the search path.
    m('_regclass_in(x, path)', `CASE WHEN x IS NULL THEN NULL WHEN regexp_full_match(trim(x), '[0-9]+') THEN CAST(trim(x) AS BIGINT)
      ELSE coalesce(${s}.to_regclass(x, path), error('relation "' || x || '" does not exist')) END`),
    // One aggregate over user and system relations (cheaper per row than ORDER BY ... LIMIT 1):
    // pg_catalog first, as Postgres searches it first, then the path in order.
    m('to_regclass(x, path)', `(SELECT arg_min(r.oid, r.rank) FROM (
        SELECT oid, nspname, relname, coalesce(list_position(path, nspname), 1000) AS rank FROM ${s}._relation_list
        UNION ALL SELECT oid, nspname, relname, CASE nspname WHEN 'pg_catalog' THEN 0 ELSE 1000 END FROM ${s}._system_relations) AS r
      WHERE r.relname = ${s}.parse_ident(x)[-1]
        AND CASE WHEN len(${s}.parse_ident(x)) > 1 THEN r.nspname = ${s}.parse_ident(x)[-2] ELSE r.rank < 1000 END)`),
    m('_regclass_out(x, path)', `CASE WHEN x IS NULL THEN NULL WHEN x = 0 THEN '-' ELSE coalesce(
      (SELECT CASE WHEN list_contains(path, r.nspname) THEN ${quoted('r.relname')} ELSE ${quoted('r.nspname')} || '.' || ${quoted('r.relname')} END
        FROM ${s}._relation_list AS r WHERE r.oid = x),
      (SELECT CASE WHEN r.nspname = 'pg_catalog' THEN r.relname ELSE r.nspname || '.' || r.relname END FROM ${s}._system_relations AS r WHERE r.oid = x),
      CAST(x AS VARCHAR)) END`),
    m('to_regtype(x)', `(SELECT CASE WHEN q.n <> q.base THEN t.typarray ELSE t.oid END
      FROM (SELECT n, regexp_replace(n, '(\\[\\])+$', '') AS base FROM (SELECT regexp_replace(regexp_replace(lower(trim(x)),
              '^pg_catalog\\.|"', '', 'g'), '\\s*\\([0-9, ]*\\)', '') AS n)) AS q, ${s}._types AS t
      WHERE t.typname = q.base OR t.format_name = q.base OR q.base || '=' || t.typname IN ('int=int4', 'decimal=numeric', 'char=bpchar',
        'character=bpchar', 'timestamp without time zone=timestamp', 'time without time zone=time')
      ORDER BY t.typname = q.base DESC LIMIT 1)`),
    m('_regtype_in(x)', `CASE WHEN x IS NULL THEN NULL WHEN regexp_full_match(trim(x), '[0-9]+') THEN CAST(trim(x) AS BIGINT)
      ELSE coalesce(${s}.to_regtype(x), error('type "' || x || '" does not exist')) END`),
    m('_regtype_out(x)', `CASE WHEN x IS NULL THEN NULL WHEN x = 0 THEN '-' ELSE coalesce((SELECT format_name FROM ${s}._types WHERE oid = x), CAST(x AS VARCHAR)) END`),
    // regproc is kept as the function's name (see type-map.ts): input drops schema and arguments.
    m('_regproc_in(x)', `${s}.parse_ident(regexp_replace(x, '\\(.*$', ''))[-1]`),
    m('_regproc_out(x)', `CASE WHEN x IS NULL THEN NULL WHEN CAST(x AS VARCHAR) = '0' THEN '-' ELSE CAST(x AS VARCHAR) END`),
    m('to_regnamespace(x)', `(SELECT oid FROM ${s}._namespaces WHERE nspname = ${s}.parse_ident(x)[1])`),
    m('_regnamespace_in(x)', `CASE WHEN x IS NULL THEN NULL WHEN regexp_full_match(trim(x), '[0-9]+') THEN CAST(trim(x) AS BIGINT)
      ELSE coalesce(${s}.to_regnamespace(x), error('schema "' || x || '" does not exist')) END`),
    m('_regnamespace_out(x)', `CASE WHEN x IS NULL THEN NULL WHEN x = 0 THEN '-' ELSE coalesce((SELECT ${quoted('nspname')} FROM ${s}._namespaces WHERE oid = x), CAST(x AS VARCHAR)) END`),
    m('to_regrole(x)', `CASE WHEN ${s}.parse_ident(x)[1] = ${literal(OWNER_NAME)} THEN ${OWNER_OID} END`),
    m('_regrole_in(x)', `CASE WHEN x IS NULL THEN NULL WHEN regexp_full_match(trim(x), '[0-9]+') THEN CAST(trim(x) AS BIGINT)
      ELSE coalesce(${s}.to_regrole(x), error('role "' || x || '" does not exist')) END`),
    m('_regrole_out(x)', `CASE WHEN x IS NULL THEN NULL WHEN x = 0 THEN '-' WHEN x = ${OWNER_OID} THEN ${literal(OWNER_NAME)} ELSE CAST(x AS VARCHAR) END`),
    m('to_regproc(x)', `${s}._regproc_in(x)`),
    m('_current_schema(path)', `(SELECT nspname FROM ${s}._namespaces WHERE list_contains(path, nspname) AND NOT system
      ORDER BY list_position(path, nspname) LIMIT 1)`),
    m('pg_table_is_visible(x, path)', `coalesce((SELECT list_contains(path, nspname) FROM ${s}._relation_list WHERE oid = x), x < 16384)`),
    m('pg_type_is_visible(x, path)', `EXISTS (SELECT 1 FROM ${s}._types WHERE oid = x)`),
    m('pg_function_is_visible(x, path)', 'true'),
    m('pg_get_expr(e, rel), (e, rel, pretty)', 'CAST(e AS VARCHAR)'),
    over('pg_get_indexdef', [['(i)', indexdef('0')], ['(i, col, pretty)', indexdef('col')]]),
    m('pg_get_constraintdef(c), (c, pretty)', `(SELECT 'PRIMARY KEY (' || array_to_string(list_transform(k.attnames, a -> ${quoted('a')}), ', ') || ')'
        FROM ${s}._keys AS k WHERE k.conoid = c)`),
    m('pg_get_viewdef(v), (v, pretty)', `(SELECT definition FROM ${s}._relation_list WHERE oid = v AND relkind = 'v')`),
    over('obj_description', [['(o)', description('NULL')], ['(o, catalog)', description('catalog')]]),
    m('col_description(rel, n)', `(SELECT d.description FROM ${s}._descriptions AS d WHERE d.objoid = rel AND d.classoid = 1259 AND d.objsubid = n)`),
    m('shobj_description(o, catalog)', 'CAST(NULL AS VARCHAR)'),
    m('pg_encoding_to_char(e)', `CASE e WHEN 6 THEN 'UTF8' WHEN 0 THEN 'SQL_ASCII' ELSE '' END`),
    m('pg_char_to_encoding(e)', `CASE upper(e) WHEN 'UTF8' THEN 6 WHEN 'SQL_ASCII' THEN 0 ELSE -1 END`),
    m('pg_client_encoding()', `'UTF8'`),
    m('getdatabaseencoding()', `'UTF8'`),
    // Read-only: SELECT on relations, USAGE on schemas, CONNECT on the database, nothing else.
    m('has_table_privilege(a, p), (u, a, p)', `regexp_matches(upper(p), 'SELECT')`),
    m('has_any_column_privilege(a, p), (u, a, p)', `regexp_matches(upper(p), 'SELECT')`),
    m('has_column_privilege(a, c, p), (u, a, c, p)', `regexp_matches(upper(p), 'SELECT')`),
    m('has_schema_privilege(a, p), (u, a, p)', `regexp_matches(upper(p), 'USAGE')`),
    m('has_database_privilege(a, p), (u, a, p)', `regexp_matches(upper(p), 'CONNECT')`),
    m('has_sequence_privilege(a, p), (u, a, p)', `regexp_matches(upper(p), 'SELECT|USAGE')`),
    m('has_function_privilege(a, p), (u, a, p)', `regexp_matches(upper(p), 'EXECUTE')`),
    m('pg_has_role(r, p), (u, r, p)', 'true'),
    m('pg_is_in_recovery()', 'false'),
    m('pg_relation_size(r), (r, fork)', 'CAST(0 AS BIGINT)'),
    m('pg_total_relation_size(r)', 'CAST(0 AS BIGINT)'),
    m('pg_table_size(r)', 'CAST(0 AS BIGINT)'),
    m('pg_indexes_size(r)', 'CAST(0 AS BIGINT)'),
    m('pg_database_size(d)', 'CAST(0 AS BIGINT)'),
    // Postgres' pg_size_pretty: bytes below 10 kB, then kB/MB/GB/TB rounded half up.
    m('pg_size_pretty(b)', `CASE WHEN b IS NULL THEN NULL WHEN abs(b) < 10240 THEN b || ' bytes'
      WHEN abs(b >> 9) < 20479 THEN (((b >> 9) + 1) // 2) || ' kB'
      WHEN abs(b >> 19) < 20479 THEN (((b >> 19) + 1) // 2) || ' MB'
      WHEN abs(b >> 29) < 20479 THEN (((b >> 29) + 1) // 2) || ' GB'
      ELSE (((b >> 39) + 1) // 2) || ' TB' END`),
    m('pg_backend_pid()', '0'),
    m('pg_postmaster_start_time()', `CAST(${literal(startedAt.toISOString())} AS TIMESTAMPTZ)`),
    m('pg_conf_load_time()', `CAST(${literal(startedAt.toISOString())} AS TIMESTAMPTZ)`),
    m('inet_server_addr()', 'CAST(NULL AS VARCHAR)'),
    m('inet_server_port()', 'CAST(NULL AS INTEGER)'),
    m('inet_client_addr()', 'CAST(NULL AS VARCHAR)'),
    m('txid_current()', 'CAST(1 AS BIGINT)'),
    m('set_config(n, v, l)', 'v'),
    // Postgres arrays know their bounds; DuckDB lists start at 1 and are one-dimensional here.
    m('array_lower(a, d)', 'CASE WHEN a IS NULL OR len(a) = 0 OR d <> 1 THEN NULL ELSE 1 END'),
    m('array_upper(a, d)', 'CASE WHEN a IS NULL OR len(a) = 0 OR d <> 1 THEN NULL ELSE len(a) END'),
    m('pg_get_function_result(f)', 'CAST(NULL AS VARCHAR)'),
    m('pg_get_function_arguments(f)', 'CAST(NULL AS VARCHAR)'),
    m('pg_get_function_identity_arguments(f)', 'CAST(NULL AS VARCHAR)'),
    m('pg_get_serial_sequence(t, c)', 'CAST(NULL AS VARCHAR)'),
    m('pg_get_statisticsobjdef_columns(o)', 'CAST(NULL AS VARCHAR)'),
    m('pg_get_partkeydef(o)', 'CAST(NULL AS VARCHAR)'),
    m('pg_get_partition_constraintdef(o)', 'CAST(NULL AS VARCHAR)'),
    m('pg_get_triggerdef(o), (o, pretty)', 'CAST(NULL AS VARCHAR)'),
    m('pg_get_ruledef(o), (o, pretty)', 'CAST(NULL AS VARCHAR)'),
    m('pg_relation_is_publishable(r)', 'false'),
    m('pg_terminate_backend(p), (p, timeout)', 'false'),
    m('pg_cancel_backend(p)', 'false'),
    m('_format_arg(spec, a)', `CASE spec WHEN '%s' THEN coalesce(CAST(a AS VARCHAR), '') WHEN '%I' THEN ${quoted('CAST(a AS VARCHAR)')}
      WHEN '%L' THEN coalesce('''' || replace(CAST(a AS VARCHAR), '''', '''''') || '''', 'NULL') ELSE '' END`),
    formatMacro(),
    m('pg_tablespace_location(t)', `''`),
    m('row_security_active(t)', 'false'),
    // information_schema._pg_expandarray: each element with its 1-based position, as rows.
    `CREATE OR REPLACE MACRO ${INFO_SCHEMA}._pg_expandarray(a) AS unnest(list_transform(generate_series(1, len(a)), i -> {'x': a[i], 'n': i}))`,
  ];
}

/**
 * Postgres' format(): `%s` text (NULL as ''), `%I` identifier, `%L` literal, `%%` a percent
 * sign (DuckDB's own format() uses `{}`). One overload per argument count, as macros are not
 * variadic: the format is split at its placeholders and the pieces interleaved with the
 * converted arguments.
 */
function formatMacro(): string {
  // Plain expressions, no subquery: a macro's argument is substituted wherever it is used, and
  // format() is often the argument of another macro (`format('%I.%I', ...)::regclass`).
  const f = `replace(fmt, '%%', chr(1))`;
  const piece = (i: number): string => `coalesce(string_split_regex(${f}, '%[sIL]')[${i}], '')`;
  const spec = (i: number): string => `regexp_extract_all(${f}, '%[sIL]')[${i}]`;
  const overloads: string[] = [];
  for (let n = 0; n <= 8; n++) {
    const args = Array.from({ length: n }, (_, i) => `a${i + 1}`);
    const parts = [piece(1)];
    args.forEach((a, i) => parts.push(`${s}._format_arg(${spec(i + 1)}, ${a})`, piece(i + 2)));
    overloads.push(`(${['fmt', ...args].join(', ')}) AS replace(${parts.join(' || ')}, chr(1), '%')`);
  }
  return `CREATE OR REPLACE MACRO ${s}.format${overloads.join(', ')}`;
}

/** Catalog functions that take the session's search path as an extra, last argument. */
export const PATH_FUNCTIONS: ReadonlySet<string> = new Set(['to_regclass', 'pg_table_is_visible', 'pg_type_is_visible', 'pg_function_is_visible']);

/** Names of the Postgres functions the emulation provides (internal helpers start with `_`). */
export const PG_FUNCTIONS: ReadonlySet<string> = new Set(
  functionStatements('', new Date(0)).map((sql) => /^CREATE OR REPLACE MACRO \S+\.(\w+)/.exec(sql)?.[1] ?? '_').filter((n) => !n.startsWith('_')),
);

/** Macros over the emulated relations, created after them. */
export function lateFunctionStatements(): string[] {
  return [`CREATE OR REPLACE MACRO ${s}._current_setting(n) AS (SELECT setting FROM ${s}.pg_settings WHERE lower(name) = lower(n))`];
}

/** Postgres' own relations by name, with the oids `'pg_catalog.pg_class'::regclass` gives. */
function systemRelations(): string {
  const rows = [
    ...Object.entries(PG_CATALOG_SHAPES).map(([name, [oid]]) => `(${oid}, 'pg_catalog', ${literal(name)})`),
    ...Object.entries(INFORMATION_SCHEMA_SHAPES).map(([name, [oid]]) => `(${oid}, 'information_schema', ${literal(name)})`),
  ];
  return `(VALUES ${rows.join(', ')}) AS v(oid, nspname, relname)`;
}
