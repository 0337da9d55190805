import { type ErrorCode, SluiceError, messageOf } from '../../core/errors.js';

/**
 * DuckDB reports its error class only as the message prefix ("Catalog Error: ..."); this is
 * the one place that reads it, so everything past here branches on Sluice codes.
 */
const BY_PREFIX: readonly (readonly [string, ErrorCode])[] = [
  ['Parser Error', 'SLUICE_QUERY_INVALID'],
  ['Catalog Error', 'SLUICE_QUERY_UNDEFINED'],
  ['Binder Error', 'SLUICE_QUERY_BIND'],
  ['Out of Memory Error', 'SLUICE_QUERY_MEMORY_LIMIT'],
  ['Permission Error', 'SLUICE_QUERY_FORBIDDEN'],
  ['Not implemented Error', 'SLUICE_QUERY_INVALID'],
];

export function duckDbQueryError(e: unknown, memoryLimitHint: string): SluiceError {
  if (e instanceof SluiceError) return e;
  const message = messageOf(e).replace(/^Failed to \w+ statements?: /, '');
  // The node binding sometimes wraps the class: "Failed to extract statements: Parser Error: ...".
  const head = message.slice(0, 64);
  const hit = BY_PREFIX.find(([prefix]) => head.startsWith(prefix) || head.includes(`: ${prefix}:`));
  const code = hit?.[1] ?? 'SLUICE_QUERY_FAILED';
  if (code === 'SLUICE_QUERY_MEMORY_LIMIT') {
    return new SluiceError(code, `the query needs more memory than the store may use (${memoryLimitHint}): ${message}`, { cause: e });
  }
  return new SluiceError(code, message, { cause: e });
}
