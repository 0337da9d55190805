import { isSluiceError } from '../../core/errors.js';
import { rewriteCastSyntax, rewriteCasts } from './cast-rewriter.js';
import { nameResultColumns } from './column-names.js';
import { rewriteNames } from './name-rewriter.js';
import { rewriteOperatorSyntax, rewriteOperators } from './operator-rewriter.js';
import type { RewriteContext } from './rewrite-context.js';
import type { PgSessionInfo } from './session.js';
import { SqlEdits } from './sql-edits.js';
import { SqlStructure } from './sql-structure.js';
import { type Token, isPunct, tokenize } from './sql-tokenizer.js';

export interface TranslateOptions {
  /**
   * 'postgres' (default): unaliased result columns get the names Postgres gives them
   * (`count(*)` is `count`, `1` is `?column?`) and unquoted aliases are folded to lower case,
   * even where nothing else is rewritten. 'duckdb': only rewritten statements are renamed.
   */
  readonly columnNames?: 'postgres' | 'duckdb';
}

export interface PgTranslation {
  /** The statement(s) for DuckDB; the input itself when nothing needed translating. */
  readonly sql: string;
  /**
   * Whether it reads the catalog emulation: run refreshPgCatalog() first so it sees the
   * store's current schema.
   */
  readonly readsCatalog: boolean;
}

/**
 * Translates SQL written for Postgres into SQL DuckDB runs with the same meaning against the
 * store: catalog relations and functions go to the emulation (see install.ts), Postgres-only
 * types, casts, operators and session functions are rewritten, and the result columns get
 * the names Postgres would give them. Works on tokens only; a statement that needs nothing
 * (which includes having no unaliased expression in its select list) comes back byte for byte. Several statements (a simple-query string) are translated one by one.
 */
export function translatePostgresQuery(sql: string, session: PgSessionInfo, options: TranslateOptions = {}): PgTranslation {
  const names = options.columnNames !== 'duckdb';
  const tokens = tokenize(sql);
  let readsCatalog = false;
  let changed = false;
  let out = '';
  for (const statement of splitStatements(tokens)) {
    if (statement.length === 1 && isPunct(statement[0], ';')) {
      out += ';';
      continue;
    }
    const t = translateStatement(statement, session, names);
    readsCatalog ||= t.readsCatalog;
    changed ||= t.sql !== null;
    out += t.sql ?? statement.map((x) => x.text).join('');
  }
  return { sql: changed ? out : sql, readsCatalog };
}

/** translatePostgresQuery's SQL alone. */
export function translatePostgresSql(sql: string, session: PgSessionInfo, options: TranslateOptions = {}): string {
  return translatePostgresQuery(sql, session, options).sql;
}

/** The statements' tokens, each top-level semicolon a run of its own. */
function splitStatements(tokens: readonly Token[]): Token[][] {
  const out: Token[][] = [[]];
  let depth = 0;
  for (const t of tokens) {
    if (isPunct(t, '(', '[')) depth++;
    else if (isPunct(t, ')', ']')) depth--;
    if (depth === 0 && isPunct(t, ';')) out.push([t], []);
    else out[out.length - 1].push(t);
  }
  return out.filter((s) => s.length > 0);
}

/** The statement translated, or null for "as written". */
function translateStatement(tokens: readonly Token[], session: PgSessionInfo, postgresNames: boolean): { sql: string | null; readsCatalog: boolean } {
  try {
    // Spelling first (OPERATOR(schema.op), CAST(x AS t)), so the rewrites see one form of each.
    const spelled = pass(tokens, session, (ctx) => {
      rewriteOperatorSyntax(ctx);
      rewriteCastSyntax(ctx);
    });
    let readsCatalog = false;
    const out = pass(spelled === null ? tokens : tokenize(spelled), session, (ctx) => {
      rewriteNames(ctx);
      rewriteCasts(ctx);
      rewriteOperators(ctx);
      if (postgresNames || ctx.catalog || !ctx.edits.empty) nameResultColumns(ctx);
      readsCatalog = ctx.catalog;
    });
    return { sql: out ?? spelled, readsCatalog };
  } catch (e) {
    // Rewrites that collide (SQL shaped in a way the rewrites do not foresee): DuckDB gets the
    // statement as written, which serves plain queries and fails catalog ones with DuckDB's error.
    if (isSluiceError(e, 'SLUICE_INTERNAL')) return { sql: null, readsCatalog: false };
    throw e;
  }
}

/** Runs rewrites over a statement's tokens: the rewritten text, or null when nothing changed. */
function pass(all: readonly Token[], session: PgSessionInfo, rewrite: (ctx: RewriteContext) => void): string | null {
  const sig: number[] = [];
  all.forEach((t, i) => {
    if (t.kind !== 'space' && t.kind !== 'comment') sig.push(i);
  });
  const tokens = sig.map((i) => all[i]);
  const ctx: RewriteContext = { tokens, st: new SqlStructure(tokens), edits: new SqlEdits(), session, catalog: false };
  rewrite(ctx);
  return ctx.edits.empty ? null : ctx.edits.render(all, sig);
}
