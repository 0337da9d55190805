import { SluiceError } from '../../core/errors.js';
import { type Token, isPunct, isWord } from './sql-tokenizer.js';

/** What a parenthesis opens: a query, a function's argument list, or a grouped expression. */
export type LevelKind = 'query' | 'args' | 'expr';

/** The clause of the innermost query a token belongs to. */
export type Clause = 'with' | 'select' | 'from' | 'where' | 'group' | 'having' | 'order' | 'limit' | 'window' | 'values' | 'setop' | 'other';

const CLAUSE_WORDS: Readonly<Record<string, Clause>> = {
  with: 'with', select: 'select', from: 'from', join: 'from', using: 'from', where: 'where', on: 'where', group: 'group',
  having: 'having', order: 'order', limit: 'limit', offset: 'limit', fetch: 'limit', window: 'window', values: 'values',
  union: 'setop', intersect: 'setop', except: 'setop', returning: 'other', into: 'other', for: 'other',
};

/** Words that may stand before `(` without making it a function call. */
const NOT_FUNCTIONS = new Set([
  'in', 'and', 'or', 'not', 'select', 'where', 'from', 'on', 'when', 'then', 'else', 'as', 'values', 'using', 'over', 'filter',
  'within', 'by', 'having', 'join', 'lateral', 'is', 'between', 'like', 'ilike', 'similar', 'return', 'case', 'distinct', 'all',
  'union', 'intersect', 'except', 'with', 'set', 'limit', 'offset', 'order', 'group', 'partition', 'rows', 'range', 'array',
]);

/**
 * Bracket matching and clause tracking over significant tokens: enough structure for the
 * rewrites to know an expression's extent and where it sits (select list, FROM, an argument
 * list), without parsing Postgres' grammar in full.
 */
export class SqlStructure {
  /** For each bracket token, the index of its partner; -1 elsewhere. */
  readonly partner: number[];
  /** For each token, the index of the innermost `(` around it, or -1. */
  readonly enclosing: number[];
  /** For each `(`, what it opens. */
  readonly levelKind = new Map<number, LevelKind>();
  /** For each token, the clause of the innermost query it belongs to. */
  readonly clause: Clause[];

  constructor(readonly tokens: readonly Token[]) {
    const n = tokens.length;
    this.partner = new Array<number>(n).fill(-1);
    this.enclosing = new Array<number>(n).fill(-1);
    this.clause = new Array<Clause>(n).fill('other');
    const stack: number[] = [];
    // Per open parenthesis (and the top level, key -1): the clause its query is in.
    const clauses = new Map<number, Clause>([[-1, 'other']]);
    const queryOf = (open: number): number => {
      let o = open;
      while (o !== -1 && this.levelKind.get(o) !== 'query') o = this.enclosing[o];
      return o;
    };
    for (let i = 0; i < n; i++) {
      const t = tokens[i];
      const open = stack.length ? stack[stack.length - 1] : -1;
      this.enclosing[i] = open;
      if (isPunct(t, '(', '[')) {
        stack.push(i);
        if (t.text === '(') {
          const next = tokens[i + 1];
          const prev = tokens[i - 1];
          const kind: LevelKind = isWord(next, 'select', 'with', 'values', 'table') ? 'query'
            : prev && (prev.kind === 'ident' || prev.kind === 'quoted-ident') && !(prev.kind === 'ident' && NOT_FUNCTIONS.has(prev.value)) ? 'args'
              : isWord(prev, 'array') ? 'args' : 'expr';
          this.levelKind.set(i, kind);
          if (kind === 'query') clauses.set(i, 'other');
        }
      } else if (isPunct(t, ')', ']')) {
        const o = stack.pop();
        if (o === undefined || tokens[o].text !== (t.text === ')' ? '(' : '[')) {
          throw new SluiceError('SLUICE_QUERY_INVALID', `syntax error at or near "${t.text}"`);
        }
        this.partner[o] = i;
        this.partner[i] = o;
        this.enclosing[i] = this.enclosing[o];
      } else if (t.kind === 'ident' && CLAUSE_WORDS[t.value] && !(t.value === 'on' && isWord(tokens[i - 1], 'distinct'))
        && !((t.value === 'group' || t.value === 'order') && !isWord(tokens[i + 1], 'by'))) {
        // Only a query's own level changes its clause: FROM inside EXTRACT(... FROM ...) does not.
        if (open === -1 || this.levelKind.get(open) === 'query') clauses.set(open, CLAUSE_WORDS[t.value]);
      }
      this.clause[i] = clauses.get(queryOf(this.enclosing[i])) ?? 'other';
    }
    if (stack.length) throw new SluiceError('SLUICE_QUERY_INVALID', 'syntax error: unbalanced parentheses');
  }

  /** Whether token `i` sits directly in its query's level (not inside a function's arguments). */
  inQueryLevel(i: number): boolean {
    let o = this.enclosing[i];
    while (o !== -1 && this.levelKind.get(o) === 'expr') o = this.enclosing[o];
    return o === -1 || this.levelKind.get(o) === 'query';
  }

  /** The function name token before a `(` that opens arguments, or -1. */
  functionNameBefore(open: number): number {
    return this.levelKind.get(open) === 'args' ? open - 1 : -1;
  }
}
