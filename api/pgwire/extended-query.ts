import type { DuckDBDataChunk, DuckDBValue } from '@duckdb/node-api';
import type { PreparedQuery } from '../../olap/query/query-session.js';
import type { QueryStream } from '../../olap/query/query-stream.js';
import type { PgCodec } from './pg-codecs.js';
import type { SessionCommand } from './session-command.js';

/** A parsed statement: a query prepared on the session's DuckDB connection, or a session command. */
export interface Statement {
  readonly name: string;
  readonly query: PreparedQuery | null;
  readonly command: SessionCommand | null;
  /** Parameter types as the client sees them: what it declared, else what DuckDB inferred. */
  readonly paramOids: readonly number[];
  /**
   * Column codecs promised by a Describe of the statement; executions must write what was
   * promised (a client such as pgjdbc caches it), even where DuckDB learns more at run time.
   */
  described: readonly PgCodec[] | null;
}

/** A bound statement, possibly part-read (Execute with a row limit leaves it suspended). */
export interface Portal {
  readonly name: string;
  readonly statement: Statement;
  readonly params: readonly (DuckDBValue | null)[];
  readonly formatCodes: readonly number[];
  stream: QueryStream | null;
  codecs: readonly PgCodec[] | null;
  binary: readonly boolean[] | null;
  names: readonly string[];
  chunk: DuckDBDataChunk | null;
  cols: readonly (readonly DuckDBValue[])[];
  offset: number;
  rows: number;
  /** A command portal runs once; a second Execute answers its tag again without re-running. */
  done: boolean;
}
