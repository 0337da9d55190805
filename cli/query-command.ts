import { parseArgs } from 'node:util';
import { CliError, DEFAULT_API, apiFetch, errorFrom, normalizeApiUrl } from './api-client.js';
import { type TextColumn, formatTable } from './text-table.js';

export interface JsonResult {
  columns: { name: string; type: string }[];
  rows: unknown[][];
  rowCount: number;
  truncated?: boolean;
  /** Set when the query failed after the response had started: the rows before it came through. */
  error?: { code: string; message: string };
}

const NUMERIC_TYPE = /^(U?(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT)|FLOAT|DOUBLE|REAL|DECIMAL)\b/i;

/** One value as psql would show it: NULL spelled out, lists and structs as JSON. */
export function cellText(v: unknown): string {
  if (v === null || v === undefined) return 'NULL';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  return JSON.stringify(v);
}

/** The result as an aligned table (numbers right-aligned), then "(n rows)" and any truncation. */
export function renderResult(r: JsonResult): string {
  // By type, so a BIGINT the API sent as digits (beyond 2^53) still lines up with the others;
  // by value for a type the pattern misses whose values all came as JSON numbers.
  const numeric = (i: number): boolean =>
    NUMERIC_TYPE.test(r.columns[i].type) ||
    (r.rows.some((row) => typeof row[i] === 'number') && r.rows.every((row) => row[i] === null || typeof row[i] === 'number'));
  const columns: TextColumn[] = r.columns.map((c, i) => ({ name: c.name, align: numeric(i) ? 'right' : 'left' }));
  let out = formatTable(columns, r.rows.map((row) => row.map(cellText)));
  out += `(${r.rowCount} ${r.rowCount === 1 ? 'row' : 'rows'})\n`;
  if (r.truncated) out += `note: the result was cut short at ${r.rowCount} rows by the row limit (api.maxRows or --max-rows); add a LIMIT or aggregate\n`;
  return out;
}

const FORMATS = { table: 'application/json', json: 'application/json', csv: 'text/csv' } as const;
type Format = keyof typeof FORMATS;

export async function queryCommand(argv: string[], out: (s: string) => void): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { api: { type: 'string' }, format: { type: 'string', short: 'f' }, 'max-rows': { type: 'string' } },
    allowPositionals: true,
    strict: true,
  });
  if (positionals.length !== 1 || !positionals[0].trim()) throw new CliError('query needs one SQL statement, quoted: sluice query "select 1"', undefined, 2);
  const format = (values.format ?? 'table') as Format;
  if (!(format in FORMATS)) throw new CliError(`--format must be table, csv or json (not "${values.format}")`, undefined, 2);
  const maxRows = values['max-rows'] === undefined ? undefined : Number(values['max-rows']);
  if (maxRows !== undefined && !(Number.isInteger(maxRows) && maxRows >= 0)) throw new CliError('--max-rows must be a whole number', undefined, 2);
  const api = normalizeApiUrl(values.api ?? process.env.SLUICE_API ?? DEFAULT_API);

  const res = await apiFetch(api, '/v1/query', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: FORMATS[format] },
    body: JSON.stringify({ sql: positionals[0], ...(maxRows !== undefined ? { maxRows } : {}) }),
  });
  if (!res.ok) throw await errorFrom(res);
  if (format === 'csv') {
    // Passed through as the API streams it; a transfer cut off midway (a failure after the first
    // rows) makes the body read throw, which is reported as an error rather than a short file.
    const decoder = new TextDecoder();
    try {
      for await (const piece of res.body ?? []) out(decoder.decode(piece as Uint8Array, { stream: true }));
    } catch (e) {
      throw new CliError(`the result was cut off midway (${(e as Error).message}); the output above is incomplete`);
    }
    return;
  }
  const result = (await res.json()) as JsonResult;
  out(format === 'json' ? `${JSON.stringify(result)}\n` : renderResult(result));
  if (result.error) throw new CliError(`${result.error.message} (after ${result.rowCount} rows)`, result.error.code);
}
