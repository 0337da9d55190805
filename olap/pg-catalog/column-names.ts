import { ident } from '../../core/sql.js';
import { operandStart, parseTypeName } from './expression-bounds.js';
import type { RewriteContext } from './rewrite-context.js';
import type { SqlStructure } from './sql-structure.js';
import { type Token, isPunct, isWord } from './sql-tokenizer.js';

/** Words that end a select list at the query's own level. */
const LIST_END = new Set(['from', 'into', 'where', 'group', 'having', 'window', 'order', 'limit', 'offset', 'fetch', 'for', 'union', 'intersect', 'except']);
/** Words that are not aliases when they end a select item. */
const KEYWORDS = new Set([...LIST_END, 'within', 'filter', 'over', 'null', 'true', 'false', 'end', 'and', 'or', 'not', 'is', 'in', 'like', 'ilike', 'between', 'distinct', 'all', 'as', 'desc', 'asc', 'else', 'then', 'when', 'case', 'array', 'select']);
/** SQL-standard functions written without parentheses: Postgres names their column after them. */
const VALUE_FUNCTIONS = new Set(['current_user', 'session_user', 'current_role', 'user', 'current_catalog', 'current_schema', 'current_date', 'current_time', 'current_timestamp', 'localtime', 'localtimestamp']);
/** Postgres' internal names of SQL-standard type names, which name a cast's column. */
const TYPE_NAMES: Readonly<Record<string, string>> = {
  int: 'int4', integer: 'int4', smallint: 'int2', bigint: 'int8', real: 'float4', float: 'float8', 'double precision': 'float8',
  boolean: 'bool', 'character varying': 'varchar', character: 'bpchar', char: 'bpchar', decimal: 'numeric', dec: 'numeric',
  'timestamp without time zone': 'timestamp', 'timestamp with time zone': 'timestamptz', 'time without time zone': 'time',
  'time with time zone': 'timetz', 'bit varying': 'varbit', '"char"': 'char',
};

interface Figured {
  readonly name: string;
  /** Postgres' FigureColname strength: 0 nothing, 1 a fallback (type, CASE), 2 a real name. */
  readonly strength: number;
}

const NONE: Figured = { name: '?column?', strength: 0 };

/**
 * Gives the statement's result columns the names Postgres would (FigureColname in
 * parse_target.c): DuckDB names an unaliased expression after its text
 * (`memory.pg_compat.format_type(a.atttypid, a.atttypmod)`), Postgres after the function
 * (`format_type`); and Postgres folds unquoted aliases to lower case (`AS TABLE_NAME` is
 * `table_name`), DuckDB keeps them as written. Only the outermost select list names columns.
 */
export function nameResultColumns(ctx: RewriteContext): void {
  const t = ctx.tokens;
  const st = ctx.st;
  const select = t.findIndex((tok, i) => isWord(tok, 'select') && st.enclosing[i] === -1);
  if (select < 0) return;
  for (const [a, b] of selectItems(st, select)) {
    // `*`, `t.*` and DuckDB's COLUMNS(...) stand for several columns, named by what they expand to.
    if (a > b || t[a].text === '*' || t[b].text === '*' || isWord(t[a], 'columns', 'unpack') || (isPunct(t[a + 1], '.') && t[a + 2]?.text === '*')) continue;
    const aliasAt = aliasOf(t, a, b);
    if (aliasAt >= 0) {
      const alias = t[aliasAt];
      if (alias.kind === 'ident' && alias.text !== alias.value) ctx.edits.replace(aliasAt, aliasAt, ident(alias.value));
      continue;
    }
    // A plain column reference is named alike by both.
    if (isPlainColumn(t, a, b)) continue;
    ctx.edits.wrap(a, b, '', ` AS ${ident(figure(st, a, b).name)}`, 0);
  }
}

/** The [first, last] token ranges of the items of the select list after `select`. */
function selectItems(st: SqlStructure, select: number): [number, number][] {
  const t = st.tokens;
  const level = st.enclosing[select];
  let i = select + 1;
  if (isWord(t[i], 'all')) i++;
  else if (isWord(t[i], 'distinct')) {
    i++;
    if (isWord(t[i], 'on') && isPunct(t[i + 1], '(')) i = st.partner[i + 1] + 1;
  }
  const items: [number, number][] = [];
  let start = i;
  for (; i <= t.length; i++) {
    const tok = t[i];
    const atLevel = tok !== undefined && st.enclosing[i] === level;
    // The list ends at its query's closing parenthesis, not at a call's inside it.
    // GROUP and ORDER end it only as GROUP BY and ORDER BY (not `WITHIN GROUP (...)`).
    const clauseWord = isWord(tok, ...LIST_END) && (!isWord(tok, 'group', 'order') || isWord(t[i + 1], 'by'));
    const ends = tok === undefined || (isPunct(tok, ')') && st.partner[i] === level) || (atLevel && (isPunct(tok, ';') || clauseWord));
    if (ends || (atLevel && isPunct(tok, ','))) {
      items.push([start, i - 1]);
      start = i + 1;
      if (ends) break;
    }
  }
  return items;
}

function aliasOf(t: readonly Token[], a: number, b: number): number {
  if (b > a && isWord(t[b - 1], 'as')) return b;
  if (b === a) return -1;
  const last = t[b];
  const prev = t[b - 1];
  if (!(last.kind === 'quoted-ident' || (last.kind === 'ident' && !KEYWORDS.has(last.value)))) return -1;
  // A bare alias follows a complete expression: `count(*) n`, `a.b c`, `'x' y`.
  const prevEnds = ['string', 'number', 'param', 'quoted-ident'].includes(prev.kind) || isPunct(prev, ')', ']')
    || (prev.kind === 'ident' && (!KEYWORDS.has(prev.value) || ['null', 'true', 'false', 'end'].includes(prev.value)));
  return prevEnds && !castTypeEndsAt(t, a, b) ? b : -1;
}

/** Whether token `b` is the end of a cast's type name (`x::double precision`), not an alias. */
function castTypeEndsAt(t: readonly Token[], a: number, b: number): boolean {
  for (let c = b - 1; c >= a; c--) {
    if (isPunct(t[c], '::')) return parseTypeName(t, c + 1).end === b;
  }
  return false;
}

function isPlainColumn(t: readonly Token[], a: number, b: number): boolean {
  for (let i = a; i <= b; i++) {
    const tok = t[i];
    const want = (i - a) % 2 === 0;
    if (want ? !(tok.kind === 'quoted-ident' || (tok.kind === 'ident' && !VALUE_FUNCTIONS.has(tok.value) && !KEYWORDS.has(tok.value))) : !isPunct(tok, '.')) return false;
  }
  return (b - a) % 2 === 0;
}

/** Postgres' FigureColnameInternal over the tokens of one expression. */
function figure(st: SqlStructure, a: number, b: number): Figured {
  const t = st.tokens;
  if (a > b) return NONE;
  const top = topLevel(st, a, b);
  // Trailing COLLATE x: named after the expression.
  for (let c = b - 1; c > a; c--) {
    if (isWord(t[c], 'collate') && top(c) && (c + 1 === b || (c + 3 === b && isPunct(t[c + 2], '.')))) return figure(st, a, c - 1);
  }
  // The whole expression cast (`x::a::b`, not `y = x::a`): the operand's name if it has a good
  // one, else the last type's.
  for (let c = a + 1; c <= b; c++) {
    if (!isPunct(t[c], '::') || !top(c)) continue;
    if (operandStart(st, c - 1) !== a) break;
    let type = parseTypeName(t, c + 1);
    while (isPunct(t[type.end + 1], '::') && type.end < b) type = parseTypeName(t, type.end + 2);
    if (type.end !== b) break;
    const inner = figure(st, a, c - 1);
    if (inner.strength > 1) return inner;
    return { name: TYPE_NAMES[type.name] ?? type.name.replace(/^"|"$/g, ''), strength: 1 };
  }
  const first = t[a];
  if (isPunct(first, '(') && st.partner[a] === b) {
    if (isWord(t[a + 1], 'select', 'with', 'values')) return subqueryName(st, a);
    return figure(st, a + 1, b - 1);
  }
  if (isWord(first, 'case') && isWord(t[b], 'end')) {
    // Named after its ELSE result when that has a name of its own (`CASE ... ELSE c.x END` is x).
    let e = b - 1;
    while (e > a && !(isWord(t[e], 'else') && st.enclosing[e] === st.enclosing[a] && !nestedCase(t, e, a))) e--;
    const fallback = e > a ? figure(st, e + 1, b - 1) : NONE;
    return fallback.strength > 1 ? fallback : { name: 'case', strength: 1 };
  }
  if (isWord(first, 'array')) return { name: 'array', strength: 2 };
  if (isWord(first, 'exists') && isPunct(t[a + 1], '(')) return { name: 'exists', strength: 2 };
  if (isWord(first, 'row') && isPunct(t[a + 1], '(')) return { name: 'row', strength: 2 };
  if (a === b) {
    if (first.kind === 'quoted-ident') return { name: first.value, strength: 2 };
    if (first.kind === 'ident' && !['null', 'true', 'false'].includes(first.value)) return { name: first.value, strength: 2 };
    return NONE;
  }
  // Typed literal: `interval '1 day'`.
  if (b === a + 1 && first.kind === 'ident' && t[b].kind === 'string') return { name: TYPE_NAMES[first.value] ?? first.value, strength: 1 };
  // Subscripts name nothing: `x[1]` is x's name; a field selection names the field.
  if (isPunct(t[b], ']')) return figure(st, a, st.partner[b] - 1);
  if (isPunct(t[b - 1], '.') && b - 1 > a && isPunct(t[b - 2], ')')) return { name: t[b].value, strength: 2 };
  // A dotted name.
  if (isPlainColumn(t, a, b)) return { name: t[b].value, strength: 2 };
  // A function call, possibly qualified, possibly with FILTER/OVER after it.
  let n = a;
  while ((t[n].kind === 'ident' || t[n].kind === 'quoted-ident') && isPunct(t[n + 1], '.')) n += 2;
  if ((t[n].kind === 'ident' || t[n].kind === 'quoted-ident') && isPunct(t[n + 1], '(')) {
    let end = st.partner[n + 1];
    if (isWord(t[end + 1], 'within') && isPunct(t[end + 3], '(')) end = st.partner[end + 3];
    if (isWord(t[end + 1], 'filter') && isPunct(t[end + 2], '(')) end = st.partner[end + 2];
    if (isWord(t[end + 1], 'over')) end = isPunct(t[end + 2], '(') ? st.partner[end + 2] : end + 2;
    if (end === b) return { name: t[n].value, strength: 2 };
  }
  return NONE;
}

/** Whether a token of [a, b] is outside any parentheses and CASE ... END within it. */
function topLevel(st: SqlStructure, a: number, b: number): (i: number) => boolean {
  const t = st.tokens;
  const outside = new Set<number>();
  let depth = 0;
  for (let i = a; i <= b; i++) {
    if (isWord(t[i], 'case')) depth++;
    if (depth === 0 && st.enclosing[i] === st.enclosing[a]) outside.add(i);
    if (isWord(t[i], 'end') && depth > 0) depth--;
  }
  return (i) => outside.has(i);
}

/** Whether the ELSE at `at` belongs to a CASE nested in the one starting at `start`. */
function nestedCase(t: readonly Token[], at: number, start: number): boolean {
  let depth = 0;
  for (let i = start + 1; i < at; i++) {
    if (isWord(t[i], 'case')) depth++;
    else if (isWord(t[i], 'end')) depth--;
  }
  return depth > 0;
}

/** A scalar subquery is named after its own (first) column. */
function subqueryName(st: SqlStructure, open: number): Figured {
  const t = st.tokens;
  let select = open + 1;
  while (select < st.partner[open] && !(isWord(t[select], 'select') && st.enclosing[select] === open)) select++;
  const [item] = selectItems(st, select);
  if (!item) return NONE;
  const [a, b] = item;
  const alias = aliasOf(t, a, b);
  if (alias >= 0) return { name: t[alias].value, strength: 2 };
  const f = figure(st, a, b);
  return { name: f.name, strength: 2 };
}
