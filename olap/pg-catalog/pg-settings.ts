/** The Postgres release Sluice presents itself as (server_version, version()). */
export const PG_SERVER_VERSION = '15.0';
export const PG_SERVER_VERSION_NUM = '150000';

/** What `version()` says: tools parse `PostgreSQL <major>.<minor>` out of it. */
export function pgVersionString(duckdbVersion: string): string {
  const arch = process.arch === 'arm64' ? 'aarch64' : 'x86_64';
  return `PostgreSQL ${PG_SERVER_VERSION} on ${arch}-pc-linux-gnu (Sluice, DuckDB ${duckdbVersion}), 64-bit`;
}

export interface PgSetting {
  readonly name: string;
  readonly setting: string;
  readonly category: string;
  readonly description: string;
  readonly vartype: 'bool' | 'integer' | 'string' | 'enum' | 'real';
  readonly context: 'internal' | 'user' | 'superuser' | 'backend';
  readonly unit?: string;
}

/**
 * Server settings as pg_settings lists them and `current_setting()` falls back to when the
 * session has no value of its own. Only settings clients are known to read; values are what a
 * read-only, UTF-8, UTC Postgres 15 would report.
 */
export const PG_SETTINGS: readonly PgSetting[] = [
  { name: 'server_version', setting: PG_SERVER_VERSION, category: 'Preset Options', description: 'Shows the server version.', vartype: 'string', context: 'internal' },
  { name: 'server_version_num', setting: PG_SERVER_VERSION_NUM, category: 'Preset Options', description: 'Shows the server version as an integer.', vartype: 'integer', context: 'internal' },
  { name: 'server_encoding', setting: 'UTF8', category: 'Preset Options', description: 'Shows the server (database) character set encoding.', vartype: 'string', context: 'internal' },
  { name: 'client_encoding', setting: 'UTF8', category: 'Client Connection Defaults / Locale and Formatting', description: 'Sets the client\'s character set encoding.', vartype: 'string', context: 'user' },
  { name: 'DateStyle', setting: 'ISO, MDY', category: 'Client Connection Defaults / Locale and Formatting', description: 'Sets the display format for date and time values.', vartype: 'string', context: 'user' },
  { name: 'IntervalStyle', setting: 'postgres', category: 'Client Connection Defaults / Locale and Formatting', description: 'Sets the display format for interval values.', vartype: 'enum', context: 'user' },
  { name: 'TimeZone', setting: 'UTC', category: 'Client Connection Defaults / Locale and Formatting', description: 'Sets the time zone for displaying and interpreting time stamps.', vartype: 'string', context: 'user' },
  { name: 'integer_datetimes', setting: 'on', category: 'Preset Options', description: 'Shows whether datetimes are integer based.', vartype: 'bool', context: 'internal' },
  { name: 'standard_conforming_strings', setting: 'on', category: 'Version and Platform Compatibility', description: 'Causes \'...\' strings to treat backslashes literally.', vartype: 'bool', context: 'user' },
  { name: 'max_identifier_length', setting: '63', category: 'Preset Options', description: 'Shows the maximum identifier length.', vartype: 'integer', context: 'internal' },
  { name: 'max_index_keys', setting: '32', category: 'Preset Options', description: 'Shows the maximum number of index keys.', vartype: 'integer', context: 'internal' },
  { name: 'block_size', setting: '8192', category: 'Preset Options', description: 'Shows the size of a disk block.', vartype: 'integer', context: 'internal' },
  { name: 'search_path', setting: '"$user", public', category: 'Client Connection Defaults / Statement Behavior', description: 'Sets the schema search order for names that are not schema-qualified.', vartype: 'string', context: 'user' },
  { name: 'default_transaction_read_only', setting: 'on', category: 'Client Connection Defaults / Statement Behavior', description: 'Sets the default read-only status of new transactions.', vartype: 'bool', context: 'user' },
  { name: 'transaction_read_only', setting: 'on', category: 'Client Connection Defaults / Statement Behavior', description: 'Sets the current transaction\'s read-only status.', vartype: 'bool', context: 'user' },
  { name: 'transaction_isolation', setting: 'read committed', category: 'Client Connection Defaults / Statement Behavior', description: 'Sets the current transaction\'s isolation level.', vartype: 'enum', context: 'user' },
  { name: 'default_transaction_isolation', setting: 'read committed', category: 'Client Connection Defaults / Statement Behavior', description: 'Sets the transaction isolation level of each new transaction.', vartype: 'enum', context: 'user' },
  { name: 'statement_timeout', setting: '0', unit: 'ms', category: 'Client Connection Defaults / Statement Behavior', description: 'Sets the maximum allowed duration of any statement.', vartype: 'integer', context: 'user' },
  { name: 'lock_timeout', setting: '0', unit: 'ms', category: 'Client Connection Defaults / Statement Behavior', description: 'Sets the maximum allowed duration of any wait for a lock.', vartype: 'integer', context: 'user' },
  { name: 'is_superuser', setting: 'off', category: 'Preset Options', description: 'Shows whether the current user is a superuser.', vartype: 'bool', context: 'internal' },
  { name: 'application_name', setting: '', category: 'Reporting and Logging / What to Log', description: 'Sets the application name to be reported in statistics and logs.', vartype: 'string', context: 'user' },
  { name: 'extra_float_digits', setting: '1', category: 'Client Connection Defaults / Locale and Formatting', description: 'Sets the number of digits displayed for floating-point values.', vartype: 'integer', context: 'user' },
  { name: 'bytea_output', setting: 'hex', category: 'Client Connection Defaults / Statement Behavior', description: 'Sets the output format for bytea.', vartype: 'enum', context: 'user' },
  { name: 'lc_collate', setting: 'C.UTF-8', category: 'Preset Options', description: 'Shows the collation order locale.', vartype: 'string', context: 'internal' },
  { name: 'lc_ctype', setting: 'C.UTF-8', category: 'Preset Options', description: 'Shows the character classification and case conversion locale.', vartype: 'string', context: 'internal' },
  { name: 'lc_messages', setting: 'C', category: 'Client Connection Defaults / Locale and Formatting', description: 'Sets the language in which messages are displayed.', vartype: 'string', context: 'superuser' },
  { name: 'lc_monetary', setting: 'C', category: 'Client Connection Defaults / Locale and Formatting', description: 'Sets the locale for formatting monetary amounts.', vartype: 'string', context: 'user' },
  { name: 'lc_numeric', setting: 'C', category: 'Client Connection Defaults / Locale and Formatting', description: 'Sets the locale for formatting numbers.', vartype: 'string', context: 'user' },
  { name: 'lc_time', setting: 'C', category: 'Client Connection Defaults / Locale and Formatting', description: 'Sets the locale for formatting date and time values.', vartype: 'string', context: 'user' },
  { name: 'max_connections', setting: '100', category: 'Connections and Authentication / Connection Settings', description: 'Sets the maximum number of concurrent connections.', vartype: 'integer', context: 'internal' },
  { name: 'default_text_search_config', setting: 'pg_catalog.english', category: 'Client Connection Defaults / Locale and Formatting', description: 'Sets default text search configuration.', vartype: 'string', context: 'user' },
  { name: 'row_security', setting: 'on', category: 'Client Connection Defaults / Statement Behavior', description: 'Enable row security.', vartype: 'bool', context: 'user' },
  { name: 'ssl', setting: 'off', category: 'Connections and Authentication / SSL', description: 'Enables SSL connections.', vartype: 'bool', context: 'internal' },
  { name: 'wal_level', setting: 'minimal', category: 'Write-Ahead Log / Settings', description: 'Sets the level of information written to the WAL.', vartype: 'enum', context: 'internal' },
  { name: 'data_directory_mode', setting: '0700', category: 'Preset Options', description: 'Shows the mode of the data directory.', vartype: 'integer', context: 'internal' },
];

const BY_NAME = new Map(PG_SETTINGS.map((s) => [s.name.toLowerCase(), s]));

export function pgSetting(name: string): PgSetting | undefined {
  return BY_NAME.get(name.toLowerCase());
}
