import { SluiceError } from '../../core/errors.js';

export type TokenKind =
  | 'space'
  | 'comment'
  /** Unquoted identifier or keyword; `value` is folded to lower case, as Postgres folds it. */
  | 'ident'
  /** "Quoted" identifier; `value` is the name with `""` unescaped, case kept. */
  | 'quoted-ident'
  /** Any string constant ('', E'', B'', X'', N'', U&'', $tag$...$tag$); `value` is its content. */
  | 'string'
  | 'number'
  /** `$1`; `value` is the number as written. */
  | 'param'
  | 'operator'
  /** ( ) [ ] , ; . : `::`, and any character Postgres has no token for. */
  | 'punct';

export interface Token {
  readonly kind: TokenKind;
  /** Exactly the source text, so untouched tokens are written back byte for byte. */
  readonly text: string;
  readonly start: number;
  readonly value: string;
}

// Sticky patterns, matched where the scan stands (lastIndex), so no text is copied to match.
const SPACE = /\s+/y;
const IDENT = /[A-Za-z_\u0080-\uffff][A-Za-z0-9_$\u0080-\uffff]*/y;
const NUMBER = /(?:[0-9]+(?:\.(?!\.)[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?/y;
const PARAM = /\$[0-9]+/y;
const DOLLAR_TAG = /\$(?:[A-Za-z_\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*)?\$/y;
const OPERATOR = /[+\-*/<>=~!@#%^&|`?]+/y;
/** An operator may end in + or - only if it also holds one of these (scan.l's rule). */
const OP_NON_MATH = /[~!@#%^&|`?]/;

function matchAt(re: RegExp, sql: string, at: number): string | null {
  re.lastIndex = at;
  return re.exec(sql)?.[0] ?? null;
}

function invalid(message: string): SluiceError {
  return new SluiceError('SLUICE_QUERY_INVALID', message);
}

/**
 * Splits SQL into tokens by Postgres' lexical rules (scan.l): comments (nested block comments
 * included), every form of string constant, quoted identifiers, numbers, parameters and
 * operators. The SQL translator works on these tokens only, so text inside strings, comments
 * and quoted names is never mistaken for SQL. Joining the tokens' `text` gives the input back.
 */
export function tokenize(sql: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  const push = (kind: TokenKind, end: number, value: string): void => {
    out.push({ kind, text: sql.slice(i, end), start: i, value });
    i = end;
  };
  while (i < sql.length) {
    const c = sql[i];
    const next = sql[i + 1] ?? '';
    let m: string | null;
    if ((m = matchAt(SPACE, sql, i))) {
      push('space', i + m.length, ' ');
    } else if (c === '-' && next === '-') {
      const j = sql.indexOf('\n', i);
      push('comment', j < 0 ? sql.length : j, '');
    } else if (c === '/' && next === '*') {
      push('comment', blockCommentEnd(sql, i), '');
    } else if (c === "'") {
      const [end, value] = quoted(sql, i, "'", false);
      push('string', end, value);
    } else if ((c === 'e' || c === 'E') && next === "'") {
      const [end, value] = quoted(sql, i + 1, "'", true);
      push('string', end, value);
    } else if ('bBxXnN'.includes(c) && next === "'") {
      const [end, value] = quoted(sql, i + 1, "'", false);
      push('string', end, value);
    } else if ((c === 'u' || c === 'U') && next === '&' && (sql[i + 2] === "'" || sql[i + 2] === '"')) {
      const q = sql[i + 2];
      const [end, value] = quoted(sql, i + 2, q, false);
      push(q === "'" ? 'string' : 'quoted-ident', end, value);
    } else if (c === '"') {
      const [end, value] = quoted(sql, i, '"', false);
      if (value === '') throw invalid('zero-length delimited identifier');
      push('quoted-ident', end, value);
    } else if (c === '$' && (m = matchAt(PARAM, sql, i))) {
      push('param', i + m.length, m.slice(1));
    } else if (c === '$' && (m = matchAt(DOLLAR_TAG, sql, i))) {
      const close = sql.indexOf(m, i + m.length);
      if (close < 0) throw invalid('unterminated dollar-quoted string');
      push('string', close + m.length, sql.slice(i + m.length, close));
    } else if ((m = matchAt(IDENT, sql, i))) {
      push('ident', i + m.length, m.toLowerCase());
    } else if ((m = matchAt(NUMBER, sql, i))) {
      push('number', i + m.length, '');
    } else if (c === ':' && next === ':') {
      push('punct', i + 2, '::');
    } else if ('()[],;.:'.includes(c)) {
      push('punct', i + 1, c);
    } else if ((m = matchAt(OPERATOR, sql, i))) {
      const op = operator(m);
      push('operator', i + op.length, op);
    } else {
      // Not Postgres (DuckDB's `{'a': 1}` struct literals, stray characters): passed on as it
      // is, for DuckDB to take or refuse.
      push('punct', i + 1, c);
    }
  }
  return out;
}

function blockCommentEnd(sql: string, from: number): number {
  let depth = 0;
  let j = from;
  while (j < sql.length) {
    if (sql[j] === '/' && sql[j + 1] === '*') {
      depth++;
      j += 2;
    } else if (sql[j] === '*' && sql[j + 1] === '/') {
      depth--;
      j += 2;
      if (depth === 0) return j;
    } else j++;
  }
  throw invalid('unterminated /* comment');
}

/** A quoted run starting at `from` (the opening quote): its end and its unescaped content. */
function quoted(sql: string, from: number, q: string, backslashes: boolean): [number, string] {
  let value = '';
  let j = from + 1;
  for (;;) {
    const close = sql.indexOf(q, j);
    const slash = backslashes ? sql.indexOf('\\', j) : -1;
    if (close < 0 && slash < 0) throw invalid(q === "'" ? 'unterminated quoted string' : 'unterminated quoted identifier');
    if (slash >= 0 && (close < 0 || slash < close)) {
      const [len, text] = escape(sql, slash);
      value += sql.slice(j, slash) + text;
      j = slash + len;
      continue;
    }
    value += sql.slice(j, close);
    // A doubled quote stands for one.
    if (sql[close + 1] === q) {
      value += q;
      j = close + 2;
      continue;
    }
    return [close + 1, value];
  }
}

/** One backslash escape of an E'' string at `at`: its length and what it stands for. */
function escape(sql: string, at: number): [number, string] {
  const e = sql[at + 1] ?? '';
  const simple: Record<string, string> = { b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
  if (simple[e]) return [2, simple[e]];
  let m = /^[0-7]{1,3}/.exec(sql.slice(at + 1, at + 4));
  if (m) return [1 + m[0].length, String.fromCharCode(parseInt(m[0], 8))];
  m = /^x([0-9A-Fa-f]{1,2})/.exec(sql.slice(at + 1, at + 4));
  if (m) return [1 + m[0].length, String.fromCharCode(parseInt(m[1], 16))];
  m = /^u([0-9A-Fa-f]{4})/.exec(sql.slice(at + 1, at + 6)) ?? /^U([0-9A-Fa-f]{8})/.exec(sql.slice(at + 1, at + 10));
  if (m) return [1 + m[0].length, String.fromCodePoint(parseInt(m[1], 16))];
  return [2, e];
}

/** The operator at the start of a run of operator characters, by scan.l's rules. */
function operator(run: string): string {
  // A comment start ends an operator.
  let op = run.replace(/(--|\/\*)[\s\S]*$/, '');
  if (op === '') op = run[0];
  if (op.length > 1 && /[+-]$/.test(op) && !OP_NON_MATH.test(op)) op = op.replace(/[+-]+$/, '') || op[0];
  return op;
}

/** The tokens that carry meaning: no whitespace, no comments. */
export function significant(tokens: readonly Token[]): Token[] {
  return tokens.filter((t) => t.kind !== 'space' && t.kind !== 'comment');
}

/** Whether `t` is the keyword (or unquoted name) `word`, given in lower case. */
export function isWord(t: Token | undefined, ...words: string[]): boolean {
  return t !== undefined && t.kind === 'ident' && words.includes(t.value);
}

/** Whether `t` names `name` quoted or not (`pg_catalog` and `"pg_catalog"` alike). */
export function isName(t: Token | undefined, name: string): boolean {
  return t !== undefined && (t.kind === 'ident' || t.kind === 'quoted-ident') && t.value === name;
}

export function isPunct(t: Token | undefined, ...chars: string[]): boolean {
  return t !== undefined && t.kind === 'punct' && chars.includes(t.text);
}
