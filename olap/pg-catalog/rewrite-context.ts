import type { PgSessionInfo } from './session.js';
import type { SqlEdits } from './sql-edits.js';
import type { SqlStructure } from './sql-structure.js';
import type { Token } from './sql-tokenizer.js';

/** One statement being translated: its tokens, their structure, the edits collected so far. */
export interface RewriteContext {
  readonly tokens: readonly Token[];
  readonly st: SqlStructure;
  readonly edits: SqlEdits;
  readonly session: PgSessionInfo;
  /** Set once the statement is seen to read the emulated catalog (its snapshots must be current). */
  catalog: boolean;
}
