import { literal } from '../../core/sql.js';
import { comparisonLeftStart, isOperandWord, operandEnd, operandStart } from './expression-bounds.js';
import { VECTOR_COLUMNS } from './name-rewriter.js';
import { pgArrayLiteralToList } from './pg-array-literal.js';
import type { RewriteContext } from './rewrite-context.js';
import { type Token, isPunct, isWord } from './sql-tokenizer.js';

/** Postgres' regular expression match operators and the flags their DuckDB form needs. */
const REGEX_OPS: Readonly<Record<string, { op: string; flags: string }>> = {
  '~': { op: '~', flags: 's' },
  '!~': { op: '!~', flags: 's' },
  '~*': { op: '~', flags: 'is' },
  '!~*': { op: '!~', flags: 'is' },
};

const COMPARISONS = new Set(['=', '<>', '!=', '<', '>', '<=', '>=']);
const ARRAY_COMPARISONS = new Set(['=', '<>', '!=', '@>', '<@', '&&']);

/** Whether the token ends an operand, so an operator after it is binary. */
function endsOperand(t: Token | undefined): boolean {
  if (!t) return false;
  if (t.kind === 'string' || t.kind === 'number' || t.kind === 'param' || t.kind === 'quoted-ident') return true;
  if (isPunct(t, ')', ']')) return true;
  return t.kind === 'ident' && (isOperandWord(t) || ['null', 'true', 'false', 'end'].includes(t.value));
}

/**
 * `OPERATOR(pg_catalog.~)` is Postgres' schema-qualified operator syntax (psql writes it so
 * a user's operators cannot capture its queries); DuckDB knows only the bare operator.
 * Run before the other rewrites, which then see plain operators.
 */
export function rewriteOperatorSyntax(ctx: RewriteContext): void {
  const t = ctx.tokens;
  for (let i = 0; i < t.length; i++) {
    if (!isWord(t[i], 'operator') || !isPunct(t[i + 1], '(')) continue;
    const close = ctx.st.partner[i + 1];
    const op = t[close - 1];
    if (op?.kind !== 'operator') continue;
    ctx.edits.replace(i, close, op.text);
    i = close;
  }
}

/**
 * Operators whose meaning differs: `~` and friends match anywhere in Postgres but must match
 * the whole string in DuckDB, so the pattern is widened; `x = ANY(array)` needs the array as
 * rows; `COLLATE` clauses name Postgres collations and are dropped; `'{...}'` array literals
 * compared with catalog arrays become lists; int2vector subscripts count from 0; arrays
 * concatenate with NULL as Postgres' do.
 */
export function rewriteOperators(ctx: RewriteContext): void {
  const t = ctx.tokens;
  for (let i = 0; i < t.length; i++) {
    const tok = t[i];
    if (tok.kind === 'operator' && REGEX_OPS[tok.text] && endsOperand(t[i - 1]) && t[i + 1]) regexMatch(ctx, i);
    else if (tok.kind === 'operator' && COMPARISONS.has(tok.text) && isWord(t[i + 1], 'any', 'some', 'all') && isPunct(t[i + 2], '(')) {
      anyArray(ctx, i);
    } else if (tok.text === '||' && (isWord(t[i + 1], 'array') || isWord(t[operandStart(ctx.st, i - 1)], 'array'))) {
      arrayConcat(ctx, i);
    } else if (isWord(tok, 'collate') && endsOperand(t[i - 1])) {
      let end = i + 1;
      while (isPunct(t[end + 1], '.') && t[end + 2]) end += 2;
      ctx.edits.replace(i, end, '');
      i = end;
    } else if (tok.kind === 'string' && ctx.catalog && /^\s*\{[\s\S]*\}\s*$/.test(tok.value) && isArrayComparison(t, i)) {
      const list = pgArrayLiteralToList(tok.value, true);
      if (list) ctx.edits.replace(i, i, list);
    } else if (tok.kind !== 'string' && (tok.kind === 'ident' || tok.kind === 'quoted-ident') && VECTOR_COLUMNS.has(tok.value) && isPunct(t[i + 1], '[')) {
      vectorSubscript(ctx, i + 1);
    }
  }
}

function regexMatch(ctx: RewriteContext, at: number): void {
  const t = ctx.tokens;
  const { op, flags } = REGEX_OPS[t[at].text];
  if (op !== t[at].text) ctx.edits.replace(at, at, op);
  const start = at + 1;
  const end = operandEnd(ctx.st, start);
  // DuckDB's ~ is a full match; `.*(?:p).*` fully matches exactly where p matches anywhere.
  if (start === end && t[start].kind === 'string') {
    ctx.edits.replace(start, start, literal(`(?${flags}).*(?:${t[start].value}).*`));
  } else {
    ctx.edits.wrap(start, end, `('(?${flags}).*(?:' || `, ` || ').*')`);
  }
}

/**
 * `x = ANY (array)` (not a subquery) is `list_contains(array, x)`, and `x <> ALL (array)` its
 * negation; DuckDB's ANY takes only lists it can unnest without correlation. Other operators
 * compare with the array's elements as rows, which DuckDB cannot do in an outer join's ON.
 */
function anyArray(ctx: RewriteContext, op: number): void {
  const t = ctx.tokens;
  const open = op + 2;
  const close = ctx.st.partner[open];
  if (close === open + 1 || isWord(t[open + 1], 'select', 'with', 'values') || (isPunct(t[open + 1], '(') && isWord(t[open + 2], 'select', 'with'))) return;
  const lit = close === open + 2 && t[open + 1].kind === 'string' ? pgArrayLiteralToList(t[open + 1].value, true) : null;
  if (lit) ctx.edits.replace(open + 1, open + 1, lit);
  const quantifier = t[op + 1].value;
  const contains = t[op].text === '=' && quantifier !== 'all';
  const excludes = (t[op].text === '<>' || t[op].text === '!=') && quantifier === 'all';
  if (!contains && !excludes) {
    ctx.edits.wrap(open + 1, close - 1, 'SELECT unnest(', ')');
    return;
  }
  const left = comparisonLeftStart(ctx.st, op);
  if (left >= op) return;
  ctx.edits.rearrange(left, close, (render) =>
    `${excludes ? 'NOT ' : ''}list_contains(${render(open + 1, close - 1)}, ${render(left, op - 1)})`);
}

/**
 * `a || ARRAY(...)`: Postgres takes a NULL array as empty when concatenating, DuckDB's `||`
 * gives NULL; list_concat behaves as Postgres does.
 */
function arrayConcat(ctx: RewriteContext, op: number): void {
  const left = operandStart(ctx.st, op - 1);
  const right = operandEnd(ctx.st, op + 1);
  ctx.edits.rearrange(left, right, (render) => `list_concat(${render(left, op - 1)}, ${render(op + 1, right)})`);
}

function isArrayComparison(t: readonly Token[], i: number): boolean {
  const before = t[i - 1];
  const after = t[i + 1];
  return (before?.kind === 'operator' && ARRAY_COMPARISONS.has(before.text)) || (after?.kind === 'operator' && ARRAY_COMPARISONS.has(after.text));
}

/** `indkey[0]` → `indkey[(0) + 1]`; slices shift both bounds. */
function vectorSubscript(ctx: RewriteContext, open: number): void {
  const t = ctx.tokens;
  const close = ctx.st.partner[open];
  if (close === open + 1) return;
  let colon = -1;
  for (let j = open + 1; j < close; j++) if (isPunct(t[j], ':') && ctx.st.enclosing[j] === open) colon = j;
  const shift = (from: number, to: number): void => {
    if (from <= to) ctx.edits.wrap(from, to, '(', ') + 1');
  };
  if (colon < 0) shift(open + 1, close - 1);
  else {
    shift(open + 1, colon - 1);
    shift(colon + 1, close - 1);
  }
}
