/**
 * The few HTTP calls `sluice status` and `sluice query` make to a running Sluice's REST API.
 * Failures become one-line messages that name the URL (unreachable) or carry the API's own
 * error code (a refused query), so the CLI can print them as they are.
 */

export const DEFAULT_API = 'http://127.0.0.1:8080';

/** An error the CLI prints as `sluice: <code>: <message>` (or without a code) and exits on: 1, or 2 for usage. */
export class CliError extends Error {
  constructor(message: string, readonly code?: string, readonly exitCode = 1) {
    super(message);
  }
}

/** `localhost:8080` and `http://host:8080/` both mean `http://host:8080`. */
export function normalizeApiUrl(url: string): string {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(url) ? url : `http://${url}`;
  return withScheme.replace(/\/+$/, '');
}

/** The network-level reason fetch hides in `cause` (ECONNREFUSED, ENOTFOUND, a timeout). */
function reasonOf(e: unknown): string {
  const cause = (e as { cause?: { code?: string; message?: string } }).cause;
  if (e instanceof Error && (e.name === 'TimeoutError' || e.name === 'AbortError')) return 'no answer in time';
  return cause?.code ?? cause?.message ?? (e instanceof Error ? e.message : String(e));
}

export async function apiFetch(api: string, path: string, init: RequestInit & { timeoutMs?: number } = {}): Promise<Response> {
  const { timeoutMs, ...rest } = init;
  try {
    return await fetch(`${api}${path}`, { ...rest, ...(timeoutMs ? { signal: AbortSignal.timeout(timeoutMs) } : {}) });
  } catch (e) {
    throw new CliError(`cannot reach the Sluice API at ${api} (${reasonOf(e)}); is \`sluice run\` up? (--api <url>)`);
  }
}

/** The API's error body `{error: {code, message}}` as a CliError, or the HTTP status if it has none. */
export async function errorFrom(res: Response): Promise<CliError> {
  const text = await res.text().catch(() => '');
  try {
    const body = JSON.parse(text) as { error?: { code?: string; message?: string } };
    if (body.error?.message) return new CliError(body.error.message, body.error.code);
  } catch {
    // not JSON: fall through to the status line
  }
  return new CliError(`the API answered ${res.status} ${res.statusText}${text ? `: ${text.slice(0, 200)}` : ''}`);
}

export async function getJson<T>(api: string, path: string): Promise<T> {
  const res = await apiFetch(api, path, { timeoutMs: 15_000, headers: { accept: 'application/json' } });
  if (!res.ok) throw await errorFrom(res);
  try {
    return (await res.json()) as T;
  } catch (e) {
    throw new CliError(`the API at ${api} answered ${path} with something that is not JSON (${reasonOf(e)}); is it a Sluice?`);
  }
}
