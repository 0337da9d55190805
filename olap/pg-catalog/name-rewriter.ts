import { SluiceError } from '../../core/errors.js';
import { ident, literal } from '../../core/sql.js';
import { PATH_FUNCTIONS, PG_FUNCTIONS } from './functions.js';
import { INFORMATION_SCHEMA_SHAPES } from './information-schema-shapes.js';
import { PG_CATALOG_SHAPES } from './pg-catalog-shapes.js';
import { pgSetting } from './pg-settings.js';
import { INFO_SCHEMA, PG_SCHEMA } from './relation-builder.js';
import type { RewriteContext } from './rewrite-context.js';
import { searchPathOf, searchPathSql } from './session.js';
import { type Token, isName, isPunct, isWord } from './sql-tokenizer.js';

const isNameToken = (t: Token | undefined): boolean => t !== undefined && (t.kind === 'ident' || t.kind === 'quoted-ident');

/**
 * int2vector and oidvector columns of the emulated catalog: Postgres numbers their elements
 * from 0, DuckDB lists from 1, so subscripts and bounds of these columns are shifted.
 */
export const VECTOR_COLUMNS: ReadonlySet<string> = new Set([
  'indkey', 'indclass', 'indcollation', 'indoption', 'proargtypes', 'stxkeys', 'partattrs', 'partclass', 'partcollation',
]);

/** Set-returning functions whose single result column Postgres names after the FROM alias. */
const SCALAR_SRFS = new Set(['unnest', 'generate_series', 'generate_subscripts', 'regexp_split_to_table', 'string_to_table']);

/** Postgres functions DuckDB has under another name. */
const RENAMED: Readonly<Record<string, string>> = {
  json_build_object: 'json_object', jsonb_build_object: 'json_object', json_build_array: 'json_array', jsonb_build_array: 'json_array',
  row_to_json: 'to_json', array_to_json: 'to_json', to_jsonb: 'to_json', json_agg: 'json_group_array', jsonb_agg: 'json_group_array',
  json_object_agg: 'json_group_object', jsonb_object_agg: 'json_group_object',
};

/**
 * Postgres scalar functions clients put in FROM as a one-row relation (Grafana splits the
 * search path so); any other function there is left alone, as DuckDB's table functions are.
 */
const SCALARS_IN_FROM = new Set(['string_to_array', 'regexp_split_to_array', 'array_append', 'array_prepend', 'array_cat', 'array_remove']);

/** SQL-standard functions written without parentheses. */
const USER_WORDS = new Set(['current_user', 'session_user', 'current_role', 'user']);

/**
 * Points names at the emulation: pg_catalog and information_schema relations and functions
 * (qualified or not), session functions to the session's values; strips `pg_catalog.` from
 * builtins DuckDB has under the same name.
 */
export function rewriteNames(ctx: RewriteContext): void {
  const t = ctx.tokens;
  for (let i = 0; i < t.length; i++) {
    const tok = t[i];
    if (!isNameToken(tok) || isPunct(t[i - 1], '.') || isPunct(t[i - 1], '::')) continue;
    // Qualified: pg_catalog.x, information_schema.x.
    if (isPunct(t[i + 1], '.') && isNameToken(t[i + 2])) {
      const name = t[i + 2].value;
      const pg = isName(tok, 'pg_catalog');
      const info = isName(tok, 'information_schema');
      if (!pg && !info) continue;
      if (isPunct(t[i + 3], '.')) {
        // `pg_catalog.pg_class.relname` (SQLAlchemy writes columns so): the relation is in
        // FROM under its own name, which is how DuckDB knows it.
        if (pg ? PG_CATALOG_SHAPES[name] : INFORMATION_SCHEMA_SHAPES[name]) ctx.edits.replace(i, i + 1, '');
      } else if (pg && isPunct(t[i + 3], '(')) {
        if (!rewriteCall(ctx, i, i + 2)) ctx.edits.replace(i, i + 1, '');
      } else if (pg && PG_CATALOG_SHAPES[name]) {
        relation(ctx, i, i + 2, PG_SCHEMA);
      } else if (info && (INFORMATION_SCHEMA_SHAPES[name] || name === '_pg_expandarray')) {
        relation(ctx, i, i + 2, INFO_SCHEMA);
      }
      i += 2;
      continue;
    }
    if (isPunct(t[i + 1], '.')) continue;
    if (isPunct(t[i + 1], '(')) {
      if (!isWord(t[i - 1], 'as')) rewriteCall(ctx, i, i);
      continue;
    }
    if (PG_CATALOG_SHAPES[tok.value] && tok.value.startsWith('pg_')) {
      // An unqualified catalog relation, where a relation is named (not a column "pg_class").
      if (ctx.st.clause[i] === 'from' && (isWord(t[i - 1], 'from', 'join') || isPunct(t[i - 1], ','))) relation(ctx, i, i, PG_SCHEMA);
    } else if (tok.kind === 'ident' && !isWord(t[i - 1], 'as')) {
      const s = ctx.session;
      if (USER_WORDS.has(tok.value)) ctx.edits.replace(i, i, literal(s.user));
      else if (tok.value === 'current_catalog') ctx.edits.replace(i, i, literal(s.database));
      else if (tok.value === 'current_schema') {
        ctx.edits.replace(i, i, `${PG_SCHEMA}._current_schema(${searchPathSql(s)})`);
        ctx.catalog = true;
      }
    }
  }
}

function relation(ctx: RewriteContext, from: number, to: number, schema: string): void {
  ctx.edits.replace(from, to, `${schema}.${/^[a-z_][a-z0-9_]*$/.test(ctx.tokens[to].value) ? ctx.tokens[to].value : ident(ctx.tokens[to].value)}`);
  ctx.catalog = true;
}

/**
 * A call of `name(` where the name spans tokens `from`..`nameAt`. Returns whether it was
 * rewritten; if not, the caller may still drop a `pg_catalog.` qualifier.
 */
function rewriteCall(ctx: RewriteContext, from: number, nameAt: number): boolean {
  const t = ctx.tokens;
  const name = t[nameAt].value;
  const open = nameAt + 1;
  const close = ctx.st.partner[open];
  const s = ctx.session;
  const noArgs = close === open + 1;
  const set = (text: string, readsCatalog = false): true => {
    ctx.edits.replace(from, close, text);
    ctx.catalog ||= readsCatalog;
    return true;
  };
  switch (name) {
    case 'current_database':
      if (noArgs) return set(literal(s.database));
      break;
    case 'current_schema':
      // Postgres' current schema is the first schema of the path that exists.
      if (noArgs) return set(`${PG_SCHEMA}._current_schema(${searchPathSql(s)})`, true);
      break;
    case 'current_schemas': {
      // The path as a constant (it may stand where DuckDB takes no subquery, such as
      // generate_series' arguments); Postgres leaves out schemas that do not exist, which
      // matters little as clients join the names with pg_namespace.
      const list = (implicit: boolean): string => `CAST([${[...(implicit ? ['pg_catalog'] : []), ...searchPathOf(s)].map(literal).join(', ')}] AS VARCHAR[])`;
      ctx.edits.replace(from, open, '(CASE WHEN (');
      ctx.edits.replace(close, close, `) THEN ${list(true)} ELSE ${list(false)} END)`);
      return true;
    }
    case 'pg_backend_pid':
      if (noArgs && s.backendPid !== undefined) return set(String(s.backendPid));
      break;
    case 'current_setting':
      return rewriteCurrentSetting(ctx, from, open, close);
    case 'generate_series':
      // In a select list Postgres returns rows; DuckDB's scalar generate_series returns a list.
      if (ctx.st.clause[nameAt] === 'select' && ctx.st.inQueryLevel(nameAt)) ctx.edits.wrap(from, close, 'unnest(', ')');
      fromAlias(ctx, from, close);
      return false;
    case 'generate_subscripts':
      if (vectorArgument(ctx, open)) ctx.edits.wrap(from, close, '(', ' - 1)');
      fromAlias(ctx, from, close);
      return false;
  }
  if (SCALAR_SRFS.has(name)) {
    fromAlias(ctx, from, close);
    return false;
  }
  const renamed = RENAMED[name];
  if (renamed) {
    ctx.edits.replace(from, nameAt, renamed);
    return true;
  }
  if (!PG_FUNCTIONS.has(name)) {
    scalarInFrom(ctx, from, nameAt, close);
    return false;
  }
  ctx.edits.replace(from, nameAt, `${PG_SCHEMA}.${name}`);
  ctx.catalog = true;
  if (PATH_FUNCTIONS.has(name)) ctx.edits.insertBefore(close, `${noArgs ? '' : ', '}${searchPathSql(s)}`);
  if ((name === 'array_lower' || name === 'array_upper') && vectorArgument(ctx, open)) ctx.edits.wrap(from, close, '(', ' - 1)');
  return true;
}

function rewriteCurrentSetting(ctx: RewriteContext, from: number, open: number, close: number): boolean {
  const t = ctx.tokens;
  const arg = t[open + 1];
  const missingOk = isPunct(t[open + 2], ',') && isWord(t[open + 3], 'true') && close === open + 4;
  if (arg?.kind === 'string' && (close === open + 2 || (isPunct(t[open + 2], ',') && close === open + 4))) {
    const value = ctx.session.setting(arg.value) ?? pgSetting(arg.value)?.setting;
    if (value === undefined && !missingOk) {
      throw new SluiceError('SLUICE_QUERY_INVALID', `unrecognized configuration parameter "${arg.value}"`);
    }
    ctx.edits.replace(from, close, value === undefined ? 'CAST(NULL AS VARCHAR)' : literal(value));
  } else {
    ctx.edits.replace(from, open - 1, `${PG_SCHEMA}._current_setting`);
  }
  return true;
}

/** Whether a call's first argument is an int2vector/oidvector column (`i.indkey`). */
function vectorArgument(ctx: RewriteContext, open: number): boolean {
  const t = ctx.tokens;
  let j = open + 1;
  while (isNameToken(t[j]) && isPunct(t[j + 1], '.')) j += 2;
  return isNameToken(t[j]) && VECTOR_COLUMNS.has(t[j].value) && isPunct(t[j + 1], ',', ')');
}

/**
 * `FROM unnest(x) AS u`: Postgres names the single column `u` as well, DuckDB names it after
 * the function, so `u` gets the column list `(u)`.
 */
function fromAlias(ctx: RewriteContext, from: number, close: number): void {
  const t = ctx.tokens;
  if (ctx.st.clause[from] !== 'from' || !ctx.st.inQueryLevel(from)) return;
  let a = close + 1;
  if (isWord(t[a], 'as')) a++;
  const alias = t[a];
  if (!isNameToken(alias) || isPunct(t[a + 1], '(') || (alias.kind === 'ident' && NOT_ALIASES.has(alias.value))) return;
  ctx.edits.insertAfter(a, `(${alias.text})`);
}

/**
 * A scalar function in FROM (`FROM string_to_array(x, ',') s`) is one row of one column in
 * Postgres; DuckDB only takes table functions there, so it becomes `(SELECT f(...) AS s) s`.
 */
function scalarInFrom(ctx: RewriteContext, from: number, nameAt: number, close: number): void {
  const t = ctx.tokens;
  if (ctx.st.clause[from] !== 'from' || !ctx.st.inQueryLevel(from) || !SCALARS_IN_FROM.has(t[nameAt].value)) return;
  // Only where a table may stand: right after FROM, JOIN or a comma of the FROM list.
  if (!isWord(t[from - 1], 'from', 'join', 'lateral') && !isPunct(t[from - 1], ',')) return;
  let a = close + 1;
  if (isWord(t[a], 'as')) a++;
  const alias = t[a];
  const named = isNameToken(alias) && !(alias.kind === 'ident' && NOT_ALIASES.has(alias.value));
  const column = named && !isPunct(t[a + 1], '(') ? alias.text : t[nameAt].text;
  ctx.edits.wrap(from, close, '(SELECT ', ` AS ${column})${named ? '' : ` AS ${column}`}`);
}

const NOT_ALIASES = new Set(['on', 'where', 'join', 'left', 'right', 'inner', 'full', 'cross', 'natural', 'group', 'order', 'limit', 'with', 'union', 'using', 'window', 'having', 'offset', 'except', 'intersect', 'lateral']);
