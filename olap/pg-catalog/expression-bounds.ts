import type { SqlStructure } from './sql-structure.js';
import { type Token, isPunct, isWord } from './sql-tokenizer.js';

const isNameToken = (t: Token | undefined): boolean => t !== undefined && (t.kind === 'ident' || t.kind === 'quoted-ident');

/** Keywords that end an expression rather than being one. */
const NOT_OPERANDS = new Set([
  'select', 'from', 'where', 'and', 'or', 'not', 'on', 'as', 'when', 'then', 'else', 'end', 'case', 'in', 'is', 'like', 'ilike',
  'between', 'by', 'order', 'group', 'having', 'limit', 'offset', 'union', 'all', 'distinct', 'join', 'left', 'right', 'inner',
  'outer', 'full', 'cross', 'using', 'asc', 'desc', 'nulls', 'similar', 'escape', 'any', 'some', 'exists', 'with', 'values',
]);

export function isOperandWord(t: Token | undefined): boolean {
  return isNameToken(t) && !(t!.kind === 'ident' && NOT_OPERANDS.has(t!.value));
}

/**
 * First token of the primary expression ending at token `end`: what a `::` cast or `[...]`
 * subscript applies to. Postgres binds both tighter than any operator, so this is a literal,
 * a parameter, a (qualified) name, a function call, a parenthesised expression, ARRAY[...]
 * or a subscripted one of these.
 */
export function operandStart(st: SqlStructure, end: number): number {
  const t = st.tokens;
  const tok = t[end];
  if (isPunct(tok, ')')) {
    let k = st.partner[end];
    const fn = st.functionNameBefore(k);
    if (fn >= 0) k = qualifiedStart(t, fn);
    else if (isWord(t[k - 1], 'array', 'exists')) k -= 1;
    return k;
  }
  if (isPunct(tok, ']')) {
    const k = st.partner[end];
    if (isWord(t[k - 1], 'array')) return k - 1;
    return k > 0 ? operandStart(st, k - 1) : k;
  }
  if (isNameToken(tok)) return qualifiedStart(t, end);
  return end;
}

/** Start of a dotted name ending at `end` (`a.b.c` → the `a`). */
function qualifiedStart(t: readonly Token[], end: number): number {
  let k = end;
  while (isPunct(t[k - 1], '.') && isNameToken(t[k - 2])) k -= 2;
  return k;
}

/**
 * Last token of the primary expression starting at `start`, with its subscripts and casts:
 * the right operand of an operator such as `~`.
 */
export function operandEnd(st: SqlStructure, start: number): number {
  const t = st.tokens;
  let j = start;
  if (isPunct(t[j], '(')) j = st.partner[j];
  else if (isWord(t[j], 'array') && isPunct(t[j + 1], '[', '(')) j = st.partner[j + 1];
  else if (isNameToken(t[j])) {
    while (isPunct(t[j + 1], '.') && (isNameToken(t[j + 2]) || t[j + 2]?.text === '*')) j += 2;
    if (isPunct(t[j + 1], '(')) j = st.partner[j + 1];
    // A typed literal: `date '2024-01-01'`.
    else if (t[j + 1]?.kind === 'string' && t[j].kind === 'ident') j += 1;
  }
  for (;;) {
    if (isPunct(t[j + 1], '[')) j = st.partner[j + 1];
    else if (isPunct(t[j + 1], '::')) j = parseTypeName(t, j + 2).end;
    else return j;
  }
}

export interface TypeName {
  /** Schema written before the name, lower-cased (`pg_catalog`), if any. */
  readonly schema: string | null;
  /** Canonical lower-case name: `character varying`, `timestamp with time zone`, `"char"` as `"char"`. */
  readonly name: string;
  /** Modifier text as written, `(10,2)`, or ''. */
  readonly modifiers: string;
  /** `[]` per array dimension. */
  readonly arrayDims: number;
  readonly start: number;
  readonly end: number;
}

/** A type name as Postgres' grammar reads it after `::` or `AS` in CAST, starting at `start`. */
export function parseTypeName(t: readonly Token[], start: number): TypeName {
  let i = start;
  let schema: string | null = null;
  if (isNameToken(t[i]) && isPunct(t[i + 1], '.') && isNameToken(t[i + 2])) {
    schema = t[i].value;
    i += 2;
  }
  const first = t[i];
  let name = first?.kind === 'quoted-ident' ? (first.value === 'char' ? '"char"' : first.value) : (first?.value ?? '');
  let modifiers = '';
  const takeModifiers = (): void => {
    if (!isPunct(t[i + 1], '(')) return;
    let j = i + 1;
    let depth = 0;
    do {
      if (isPunct(t[j], '(')) depth++;
      if (isPunct(t[j], ')')) depth--;
      modifiers += t[j].text;
      j++;
    } while (depth > 0 && j < t.length);
    i = j - 1;
  };
  if (first?.kind === 'ident') {
    const next = (...w: string[]): boolean => isWord(t[i + 1], ...w);
    if (name === 'double' && next('precision')) { name = 'double precision'; i++; }
    else if ((name === 'character' || name === 'char' || name === 'national') && next('varying', 'character')) {
      if (name === 'national') i++;
      if (next('varying')) { name = 'character varying'; i++; } else name = 'character';
    } else if (name === 'bit' && next('varying')) { name = 'bit varying'; i++; }
    else if (name === 'timestamp' || name === 'time') {
      takeModifiers();
      if (next('with', 'without') && isWord(t[i + 2], 'time') && isWord(t[i + 3], 'zone')) {
        name += t[i + 1].value === 'with' ? ' with time zone' : ' without time zone';
        i += 3;
      }
    }
  }
  if (!modifiers) takeModifiers();
  let arrayDims = 0;
  for (;;) {
    if (isPunct(t[i + 1], '[')) {
      let j = i + 2;
      while (j < t.length && !isPunct(t[j], ']')) j++;
      i = j;
      arrayDims++;
    } else if (isWord(t[i + 1], 'array')) {
      i++;
      arrayDims++;
      if (isPunct(t[i + 1], '[')) {
        while (i < t.length && !isPunct(t[i], ']')) i++;
      }
    } else break;
  }
  return { schema, name, modifiers, arrayDims, start, end: i };
}

/** Words with lower precedence than comparison, which end its left operand. */
const COMPARISON_BOUNDARIES = new Set([
  'and', 'or', 'not', 'when', 'then', 'else', 'where', 'on', 'select', 'having', 'case', 'return', 'by', 'distinct', 'all', 'as',
  'in', 'is', 'like', 'ilike', 'between', 'using', 'with', 'from', 'join', 'limit', 'offset', 'similar',
]);
const COMPARISON_OPS = new Set(['=', '<>', '!=', '<', '>', '<=', '>=']);

/** First token of the left operand of the comparison operator at `op`. */
export function comparisonLeftStart(st: SqlStructure, op: number): number {
  const t = st.tokens;
  let k = op - 1;
  while (k >= 0) {
    const tok = t[k];
    if (isPunct(tok, ')', ']')) {
      k = st.partner[k] - 1;
      continue;
    }
    if (isPunct(tok, ',', ';', '(', '[')) break;
    if (tok.kind === 'ident' && COMPARISON_BOUNDARIES.has(tok.value)) break;
    if (tok.kind === 'operator' && COMPARISON_OPS.has(tok.text)) break;
    k--;
  }
  return k + 1;
}
