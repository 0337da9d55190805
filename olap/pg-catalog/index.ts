/**
 * Postgres compatibility for the store: a catalog emulation clients' metadata queries run
 * against, and the translation of Postgres SQL into DuckDB SQL that points them at it.
 */
export { installPgCatalog } from './install.js';
export { translatePostgresQuery, translatePostgresSql, type PgTranslation, type TranslateOptions } from './translator.js';
export { refreshPgCatalog } from './catalog-snapshot.js';
export { type PgSessionInfo, searchPathOf } from './session.js';
export { classifyStatement, type StatementInfo, type StatementKind } from './statement-kind.js';
export { duckDbTypeToPg, type PgTypeRef } from './type-map.js';
export { PG_TYPES, TypeOid, pgTypeByOid, type PgType } from './pg-types.js';
export { PG_SERVER_VERSION, PG_SERVER_VERSION_NUM } from './pg-settings.js';
export { tokenize, type Token, type TokenKind } from './sql-tokenizer.js';
