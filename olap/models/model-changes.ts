import { ident } from '../../core/sql.js';

/**
 * What changed in one input during a batch: some rows, identified by `keys` (their old and new
 * versions kept in temp tables), or too much to say row by row.
 */
export type RowChange = {
  readonly kind: 'rows';
  readonly old: string;
  readonly new: string;
  readonly keys: readonly string[];
  /** Every change in order (`__op`, `__seq`, `__ts`), for models that keep history. */
  readonly history?: string;
};
export type InputChange = RowChange | { readonly kind: 'all' };

/** Temp table holding a relation's changed rows (old or new versions) during one batch. */
export function changeTableFor(key: string, version: 'old' | 'new'): string {
  return ident(`__chg_${version}_${key.replace(/\./g, '__')}`);
}

/** Temp table of a relation's changes in order with their commit times, during one batch. */
export function historyTableFor(key: string): string {
  return ident(`__hist_${key.replace(/\./g, '__')}`);
}
