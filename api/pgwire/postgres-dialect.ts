import { classifyStatement } from '../../olap/pg-catalog/statement-kind.js';
import type { PgDialect } from './pg-dialect.js';

/** Postgres SQL on the store: statements split by Postgres's lexical rules, catalogs emulated. */
export const postgresDialect: PgDialect = {
  split: (sql) => [...classifyStatement(sql).statements],
  translate: (statement) => statement,
};
