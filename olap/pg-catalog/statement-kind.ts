import { type Token, isPunct, significant, tokenize } from './sql-tokenizer.js';

export type StatementKind =
  | 'SELECT'
  | 'WITH'
  | 'VALUES'
  | 'TABLE'
  | 'SHOW'
  | 'SET'
  | 'RESET'
  | 'BEGIN'
  | 'COMMIT'
  | 'ROLLBACK'
  | 'START'
  | 'DISCARD'
  | 'DEALLOCATE'
  | 'EMPTY'
  | 'OTHER';

export interface StatementInfo {
  /** Kind of the first statement (`EMPTY` when there is none: only blanks, comments, `;`). */
  readonly kind: StatementKind;
  /** The first statement's leading keyword as written, upper-cased ('' when empty). */
  readonly keyword: string;
  /** Statements in the string: non-empty runs between top-level semicolons. */
  readonly count: number;
  /** Each statement's text, without its terminating semicolon, trimmed. */
  readonly statements: readonly string[];
}

const KINDS = new Set<StatementKind>([
  'SELECT', 'WITH', 'VALUES', 'TABLE', 'SHOW', 'SET', 'RESET', 'BEGIN', 'COMMIT', 'ROLLBACK', 'START', 'DISCARD', 'DEALLOCATE',
]);
/** Postgres spellings that mean the same as one of the kinds above. */
const SYNONYMS: Record<string, StatementKind> = { END: 'COMMIT', ABORT: 'ROLLBACK' };

/**
 * What a simple-query string holds, found with the tokenizer so a `;` inside a string, a
 * quoted name, a dollar-quoted body or a comment never splits a statement. A parenthesised
 * query (`(SELECT 1) UNION ...`) is a SELECT.
 */
export function classifyStatement(sql: string): StatementInfo {
  const tokens = tokenize(sql);
  const statements: Token[][] = [[]];
  let depth = 0;
  for (const t of tokens) {
    if (isPunct(t, '(', '[')) depth++;
    else if (isPunct(t, ')', ']')) depth = Math.max(0, depth - 1);
    if (depth === 0 && isPunct(t, ';')) statements.push([]);
    else statements[statements.length - 1].push(t);
  }
  const nonEmpty = statements.filter((s) => significant(s).length > 0);
  const first = nonEmpty[0] ? significant(nonEmpty[0]) : [];
  const lead = first.find((t) => !isPunct(t, '('));
  const keyword = lead && lead.kind === 'ident' ? lead.text.toUpperCase() : '';
  let kind: StatementKind = first.length === 0 ? 'EMPTY' : 'OTHER';
  if (KINDS.has(keyword as StatementKind)) kind = keyword as StatementKind;
  else if (SYNONYMS[keyword]) kind = SYNONYMS[keyword];
  // `(` may only open a query.
  if (isPunct(first[0], '(') && !['SELECT', 'WITH', 'VALUES', 'TABLE'].includes(kind)) kind = 'OTHER';
  return {
    kind,
    keyword: first.length === 0 ? '' : keyword,
    count: nonEmpty.length,
    statements: nonEmpty.map((s) => s.map((t) => t.text).join('').trim()),
  };
}
