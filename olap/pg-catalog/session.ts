import { literal } from '../../core/sql.js';

/** What the translator needs to know about the client's session. */
export interface PgSessionInfo {
  /** current_user / session_user. */
  readonly user: string;
  /** current_database(): the database name the client connected with. */
  readonly database: string;
  /** A setting's value as SHOW prints it, or undefined when the session knows no such setting. */
  setting(name: string): string | undefined;
  /**
   * The schemas unqualified names are looked up in, in order, without pg_catalog (always
   * searched first). Absent: read from the session's search_path setting.
   */
  readonly searchPath?: readonly string[];
  /** pg_backend_pid(), when the wire layer numbers its sessions. */
  readonly backendPid?: number;
}

/**
 * The session's search path as schema names: `searchPath`, or its search_path setting
 * (`"$user", public` gives the user's name and public), or `public`.
 */
export function searchPathOf(session: PgSessionInfo): readonly string[] {
  if (session.searchPath) return session.searchPath;
  const setting = session.setting('search_path') ?? '"$user", public';
  const names = [...setting.matchAll(/\s*("(?:[^"]|"")*"|[^,]+)\s*(?:,|$)/g)]
    .map((m) => m[1].trim())
    .filter((n) => n !== '')
    .map((n) => (n.startsWith('"') ? n.slice(1, -1).replace(/""/g, '"') : n.toLowerCase()));
  return names.map((n) => (n === '$user' ? session.user : n)).filter((n) => n !== 'pg_catalog');
}

/** The search path as a DuckDB list, for the catalog macros that take it. */
export function searchPathSql(session: PgSessionInfo): string {
  return `CAST([${searchPathOf(session).map(literal).join(', ')}] AS VARCHAR[])`;
}
