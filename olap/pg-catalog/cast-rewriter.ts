import { type TypeName, operandStart, parseTypeName } from './expression-bounds.js';
import { VECTOR_COLUMNS } from './name-rewriter.js';
import { pgArrayLiteralToList } from './pg-array-literal.js';
import { PG_SCHEMA } from './relation-builder.js';
import type { RewriteContext } from './rewrite-context.js';
import { searchPathSql } from './session.js';
import { type Token, isPunct, isWord } from './sql-tokenizer.js';

/**
 * Object-reference types. A value of one is an oid that Postgres prints as the object's name
 * and reads from a name: in DuckDB it stays an oid (BIGINT) and the name is produced or
 * resolved explicitly, with the session's search path where Postgres would use it.
 */
interface RegType {
  readonly input: string;
  readonly output: string;
  readonly usesPath: boolean;
}

const REG_TYPES: Readonly<Record<string, RegType>> = {
  regclass: { input: '_regclass_in', output: '_regclass_out', usesPath: true },
  regtype: { input: '_regtype_in', output: '_regtype_out', usesPath: false },
  regnamespace: { input: '_regnamespace_in', output: '_regnamespace_out', usesPath: false },
  regrole: { input: '_regrole_in', output: '_regrole_out', usesPath: false },
};
/** Function references are kept as names throughout (see type-map.ts). */
const REG_PROC = new Set(['regproc', 'regprocedure']);
const INTEGERS = new Set(['oid', 'int', 'int2', 'int4', 'int8', 'integer', 'bigint', 'smallint']);
const TEXTS = new Set(['text', 'varchar', 'character varying', 'name', 'bpchar', 'char', 'character', '"char"']);

/** Postgres types DuckDB lacks, by what stands in for them (see type-map.ts for catalog columns). */
const TYPE_MAP: Readonly<Record<string, string>> = {
  oid: 'BIGINT', xid: 'BIGINT', xid8: 'BIGINT', cid: 'BIGINT', int2vector: 'SMALLINT[]', oidvector: 'BIGINT[]', jsonb: 'JSON',
  name: 'VARCHAR', '"char"': 'VARCHAR', bpchar: 'VARCHAR', pg_node_tree: 'VARCHAR', aclitem: 'VARCHAR', inet: 'VARCHAR', cidr: 'VARCHAR',
  macaddr: 'VARCHAR', pg_lsn: 'VARCHAR', tid: 'VARCHAR', regconfig: 'VARCHAR', regdictionary: 'VARCHAR', regoper: 'VARCHAR',
  regoperator: 'VARCHAR', regcollation: 'VARCHAR', unknown: 'VARCHAR', cstring: 'VARCHAR', xml: 'VARCHAR', citext: 'VARCHAR',
  tsvector: 'VARCHAR', tsquery: 'VARCHAR', anyarray: 'VARCHAR', anyelement: 'VARCHAR', pg_ndistinct: 'VARCHAR',
  pg_dependencies: 'VARCHAR', pg_mcv_list: 'VARCHAR', regproc: 'VARCHAR', regprocedure: 'VARCHAR',
  regclass: 'BIGINT', regtype: 'BIGINT', regnamespace: 'BIGINT', regrole: 'BIGINT',
};

/** Calls that yield text, so a cast of them to a reg type resolves a name. */
const TEXT_FUNCTIONS = new Set(['quote_ident', 'format', 'concat', 'concat_ws', 'lower', 'upper', 'trim', 'btrim', 'replace', 'quote_literal']);

/** Words after which a select-list expression ends. */
const ITEM_END = new Set(['as', 'from', 'into', 'union', 'intersect', 'except', 'end', 'when', 'else', 'where', 'group', 'having', 'order', 'limit', 'offset', 'window', 'fetch', 'for']);

/**
 * `CAST(e AS t)` with a type that needs translating becomes `(e)::t`, so the `::` rewrite
 * below handles both spellings.
 */
export function rewriteCastSyntax(ctx: RewriteContext): void {
  const t = ctx.tokens;
  for (let i = 0; i < t.length; i++) {
    if (!isWord(t[i], 'cast') || !isPunct(t[i + 1], '(')) continue;
    const close = ctx.st.partner[i + 1];
    let as = -1;
    for (let j = i + 2; j < close; j++) if (isWord(t[j], 'as') && ctx.st.enclosing[j] === i + 1) as = j;
    if (as < 0) continue;
    const type = parseTypeName(t, as + 1);
    if (type.end !== close - 1 || !needsRewrite(type)) continue;
    ctx.edits.replace(i, i + 1, '((');
    ctx.edits.replace(as, as, ')::');
  }
}

function needsRewrite(type: TypeName): boolean {
  return type.schema !== null || TYPE_MAP[type.name] !== undefined;
}

/** Rewrites every `::` chain: Postgres-only types, reg* semantics, array literals. */
export function rewriteCasts(ctx: RewriteContext): void {
  const t = ctx.tokens;
  for (let i = 0; i < t.length; i++) {
    if (!isPunct(t[i], '::') || i === 0) continue;
    const start = operandStart(ctx.st, i - 1);
    const casts: TypeName[] = [];
    let j = i;
    while (isPunct(t[j], '::')) {
      const type = parseTypeName(t, j + 1);
      casts.push(type);
      j = type.end + 1;
    }
    rewriteChain(ctx, start, i - 1, casts);
    i = j - 1;
  }
}

function rewriteChain(ctx: RewriteContext, start: number, operandLast: number, casts: readonly TypeName[]): void {
  const t = ctx.tokens;
  const path = searchPathSql(ctx.session);
  let textual = isTextual(ctx, start, operandLast);
  /** A reg type whose oid value is still to be shown as a name if the chain ends here. */
  let pending: RegType | null = null;
  let last = operandLast;
  // Wrap levels for rewrites of the same tokens: a name printed (1) outside the conversion
  // that produced the oid (2); result column aliases (0) outside both.
  const display = (reg: RegType, upTo: number): void => {
    ctx.edits.wrap(start, upTo, `${PG_SCHEMA}.${reg.output}(`, reg.usesPath ? `, ${path})` : ')', 1);
  };
  for (const cast of casts) {
    const castAt = cast.start - 1;
    const reg = cast.arrayDims === 0 ? REG_TYPES[cast.name] : undefined;
    ctx.catalog ||= reg !== undefined || REG_PROC.has(cast.name);
    if (reg) {
      if (textual) {
        const arg = start === operandLast && t[start].kind === 'string' ? '' : 'CAST(';
        ctx.edits.wrap(start, cast.end, `${PG_SCHEMA}.${reg.input}(${arg}`, '', 2);
        ctx.edits.replace(castAt, cast.end, `${arg ? ' AS VARCHAR)' : ''}${reg.usesPath ? `, ${path}` : ''})`);
      } else {
        ctx.edits.replace(castAt, cast.end, '');
      }
      pending = reg;
      textual = false;
    } else if (cast.arrayDims === 0 && REG_PROC.has(cast.name)) {
      const fn = textual ? '_regproc_in' : '_regproc_out';
      ctx.edits.wrap(start, cast.end, `${PG_SCHEMA}.${fn}(CAST(`, '', 2);
      ctx.edits.replace(castAt, cast.end, ' AS VARCHAR))');
      pending = null;
      textual = true;
    } else {
      if (pending && !INTEGERS.has(cast.name)) display(pending, last);
      pending = null;
      textual = TEXTS.has(cast.name) && cast.arrayDims === 0;
      const literalList = cast.arrayDims > 0 && start === operandLast && t[start].kind === 'string' ? pgArrayLiteralToList(t[start].value) : null;
      if (literalList) ctx.edits.replace(start, start, literalList);
      const mapped = duckType(cast);
      if (mapped !== null) ctx.edits.replace(cast.start, cast.end, mapped);
      // int2vector/oidvector print as `1 2` in Postgres (SQLAlchemy splits that on spaces).
      if (textual && last === operandLast && isVectorColumn(t, start, operandLast)) ctx.edits.wrap(start, operandLast, 'array_to_string(', ", ' ')", 2);
    }
    last = cast.end;
  }
  if (pending && isDisplayed(ctx, start, last)) display(pending, last);
}

/** The DuckDB spelling of a cast's type, or null when DuckDB reads it as written. */
function duckType(type: TypeName): string | null {
  const mapped = TYPE_MAP[type.name];
  if (mapped === undefined && type.schema === null) return null;
  const base = mapped ?? type.name + type.modifiers;
  return base + '[]'.repeat(type.arrayDims);
}

function isVectorColumn(t: readonly Token[], start: number, end: number): boolean {
  const last = t[end];
  return (last.kind === 'ident' || last.kind === 'quoted-ident') && VECTOR_COLUMNS.has(last.value) && (start === end || isPunct(t[end - 1], '.'));
}

/** Whether the operand is text (a name to resolve) rather than an oid. */
function isTextual(ctx: RewriteContext, start: number, end: number): boolean {
  const t = ctx.tokens;
  while (isPunct(t[start], '(') && ctx.st.partner[start] === end && end - start > 1) {
    start++;
    end--;
  }
  if (start === end) return t[start].kind === 'string' || t[start].kind === 'param';
  if (t[start].kind === 'ident' && isPunct(t[start + 1], '(') && TEXT_FUNCTIONS.has(t[start].value)) return true;
  if (isPunct(t[start], '(') && ctx.st.partner[start] === end) {
    for (let j = start + 1; j < end; j++) if (t[j].text === '||' && ctx.st.enclosing[j] === start) return true;
  }
  return false;
}

/**
 * Whether a reg-typed value stands alone in a select list, where Postgres prints it as a name.
 * Anywhere else (comparisons, function arguments, ORDER BY) it behaves as the oid it is.
 */
function isDisplayed(ctx: RewriteContext, start: number, end: number): boolean {
  const t = ctx.tokens;
  if (ctx.st.clause[start] !== 'select' || !ctx.st.inQueryLevel(start)) return false;
  const prev = t[start - 1];
  const next = t[end + 1];
  // `(x::regclass)`: shown if the parenthesised expression is.
  if (isPunct(prev, '(') && isPunct(next, ')') && ctx.st.partner[start - 1] === end + 1) {
    return ctx.st.levelKind.get(start - 1) === 'expr' && isDisplayed(ctx, start - 1, end + 1);
  }
  const prevOk = isWord(prev, 'select', 'distinct', 'all', 'then', 'else') || isPunct(prev, ',');
  const nextOk = next === undefined || isPunct(next, ',', ')', ';') || isWord(next, ...ITEM_END) || isAlias(next);
  return prevOk && nextOk;
}

function isAlias(t: Token): boolean {
  return t.kind === 'quoted-ident' || (t.kind === 'ident' && !ITEM_END.has(t.value) && !['and', 'or', 'is', 'in', 'not', 'like', 'ilike', 'between'].includes(t.value));
}
