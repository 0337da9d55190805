import type { ColumnSpec } from '../core/change-record.js';

/** How a replica's columns become a new shape of its source table, in the order to run them. */
export interface ColumnChanges {
  readonly drops: readonly string[];
  readonly renames: ReadonlyArray<readonly [from: string, to: string]>;
  /** Columns (by their new name) whose store type changed. */
  readonly retypes: readonly ColumnSpec[];
  readonly adds: readonly ColumnSpec[];
}

/**
 * Pairs the old and new columns of a table: by Postgres attnum when every column has one (so
 * a rename keeps its values), by name otherwise (MySQL, Debezium topics, shapes stored before
 * attnums were kept).
 */
export function columnChanges(before: readonly ColumnSpec[], after: readonly ColumnSpec[]): ColumnChanges {
  const byAttnum = [...before, ...after].every((c) => c.attnum !== undefined);
  const keyOf = (c: ColumnSpec): string | number => (byAttnum ? c.attnum! : c.name);
  const old = new Map(before.map((c) => [keyOf(c), c]));
  const kept = new Set<string | number>();
  const renames: Array<[string, string]> = [];
  const retypes: ColumnSpec[] = [];
  const adds: ColumnSpec[] = [];
  for (const c of after) {
    const was = old.get(keyOf(c));
    if (!was) {
      adds.push(c);
      continue;
    }
    kept.add(keyOf(c));
    if (was.name !== c.name) renames.push([was.name, c.name]);
    if (was.storeType !== c.storeType) retypes.push(c);
  }
  const drops = before.filter((c) => !kept.has(keyOf(c))).map((c) => c.name);
  return { drops, renames, retypes, adds };
}

export function hasColumnChanges(c: ColumnChanges): boolean {
  return c.drops.length + c.renames.length + c.retypes.length + c.adds.length > 0;
}
