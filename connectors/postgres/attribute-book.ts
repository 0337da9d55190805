import type { ColumnSpec } from '../../core/change-record.js';
import type { ColumnAttribute } from './type-catalog.js';

/**
 * What the stream knows of each captured table's columns, by source table (`schema.name`):
 * column name -> attnum and missing value. pgoutput's Relation message names columns but does
 * not number them, and a renamed column must keep its values, so names are turned back into
 * attnums here.
 *
 * Names are only ever added or overwritten, never forgotten: the stream may decode WAL older
 * than the catalog it last read (after a restart, or while catching up), and a column's old
 * name must still resolve to its attnum then.
 */
export class AttributeBook {
  private readonly tables = new Map<string, Map<string, ColumnAttribute>>();

  static of(tables: Iterable<{ readonly schema: string; readonly name: string; readonly columns: readonly ColumnSpec[] }>): AttributeBook {
    const book = new AttributeBook();
    for (const t of tables) book.learnColumns(`${t.schema}.${t.name}`, t.columns);
    return book;
  }

  /** From column specs that carry attnums (the store's shapes, the start-up catalog read). */
  learnColumns(table: string, columns: readonly ColumnSpec[]): void {
    for (const c of columns) {
      if (c.attnum !== undefined) this.entry(table).set(c.name, { attnum: c.attnum, missing: c.default ?? null });
    }
  }

  /** From a catalog read: the current names win over older ones of the same attnum or name. */
  learn(table: string, attributes: ReadonlyArray<ColumnAttribute & { readonly attname: string }>): void {
    const entry = this.entry(table);
    for (const a of attributes) entry.set(a.attname, { attnum: a.attnum, missing: a.missing });
  }

  /**
   * The attributes of `names` (one Relation message's columns): undefined for a name nobody
   * knows (the catalog has moved on since that WAL) or whose attnum an earlier name took.
   */
  resolve(table: string, names: readonly string[]): Array<ColumnAttribute | undefined> {
    const entry = this.tables.get(table);
    const seen = new Set<number>();
    return names.map((n) => {
      const a = entry?.get(n);
      if (!a || seen.has(a.attnum)) return undefined;
      seen.add(a.attnum);
      return a;
    });
  }

  private entry(table: string): Map<string, ColumnAttribute> {
    let e = this.tables.get(table);
    if (!e) {
      e = new Map();
      this.tables.set(table, e);
    }
    return e;
  }
}
