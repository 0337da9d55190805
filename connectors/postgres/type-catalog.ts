import type pg from 'pg';
import type { ColumnSpec } from '../../core/change-record.js';
import { mapPostgresType } from './type-map.js';

/** What pg_attribute says about a live column beyond its type. */
export interface ColumnAttribute {
  readonly attnum: number;
  /**
   * The value rows that predate the column read (attmissingval): set when a column was added
   * with a constant default, which Postgres does without rewriting, so without any WAL per row.
   */
  readonly missing: string | null;
}

interface PgType {
  readonly formatted: string;
  readonly elem: number;
}

/**
 * pg_type, loaded once, so that a pgoutput Relation message (type OID + typmod) can be turned
 * into column specs synchronously, in the middle of the stream. Snapshot and stream both name
 * types through here, so the two never disagree about a column.
 */
export class TypeCatalog {
  private constructor(private readonly types: Map<number, PgType>) {}

  static async load(client: pg.Client): Promise<TypeCatalog> {
    const { rows } = await client.query<{ oid: number; formatted: string; elem: number }>(
      `SELECT oid::int AS oid, format_type(oid, NULL) AS formatted, typelem::int AS elem FROM pg_type`,
    );
    return new TypeCatalog(new Map(rows.map((r) => [r.oid, { formatted: r.formatted, elem: r.elem }])));
  }

  /** From (oid, format_type(oid, NULL), typelem) triples: for tests with captured bytes. */
  static of(types: ReadonlyArray<readonly [number, string, number]>): TypeCatalog {
    return new TypeCatalog(new Map(types.map(([oid, formatted, elem]) => [oid, { formatted, elem }])));
  }

  /** `format_type(oid, typmod)` for the types whose modifier changes the replica's type. */
  format(oid: number, typmod: number): string {
    const t = this.types.get(oid);
    if (!t) return 'unknown';
    if (typmod >= 4 && (t.formatted === 'numeric' || t.formatted === 'numeric[]')) {
      const p = ((typmod - 4) >> 16) & 0xffff;
      const s = (typmod - 4) & 0xffff;
      return t.formatted.replace('numeric', `numeric(${p},${s})`);
    }
    return t.formatted;
  }

  column(name: string, oid: number, typmod: number, key: boolean, attribute?: ColumnAttribute): ColumnSpec {
    const sourceType = this.format(oid, typmod);
    return {
      name,
      sourceType,
      key,
      ...mapPostgresType(sourceType),
      ...(attribute?.missing != null ? { default: attribute.missing } : {}),
      ...(attribute ? { attnum: attribute.attnum } : {}),
    };
  }
}
