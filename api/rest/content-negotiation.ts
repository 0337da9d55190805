import { SluiceError } from '../../core/errors.js';

export type ResultFormat = 'json' | 'csv' | 'arrow';

/** The media types /v1/query answers in, in order of preference for wildcards. */
export const RESULT_MEDIA_TYPES: Readonly<Record<ResultFormat, string>> = {
  json: 'application/json',
  csv: 'text/csv',
  arrow: 'application/vnd.apache.arrow.stream',
};

const BY_TYPE = new Map<string, ResultFormat>(Object.entries(RESULT_MEDIA_TYPES).map(([f, t]) => [t, f as ResultFormat]));

/**
 * The format for an Accept header (RFC 9110 §12.5.1): the acceptable range with the highest
 * q wins, an exact type before a wildcard at the same q; no header, or only wildcards, means
 * JSON. Parameters other than q are ignored.
 */
export function negotiateFormat(accept: string | undefined): ResultFormat {
  if (accept === undefined || accept.trim() === '') return 'json';
  let best: { format: ResultFormat; q: number; exact: boolean } | null = null;
  for (const range of accept.split(',')) {
    const [typePart, ...params] = range.split(';');
    const type = typePart.trim().toLowerCase();
    let q = 1;
    for (const p of params) {
      const [k, v] = p.split('=').map((s) => s.trim());
      if (k.toLowerCase() === 'q') q = Number(v);
    }
    if (!(q > 0)) continue;
    const format = formatFor(type);
    if (!format) continue;
    const exact = !type.endsWith('/*');
    if (!best || q > best.q || (q === best.q && exact && !best.exact)) best = { format, q, exact };
  }
  if (best) return best.format;
  throw new SluiceError(
    'SLUICE_NOT_ACCEPTABLE',
    `cannot answer in ${JSON.stringify(accept)}; /v1/query answers in ${Object.values(RESULT_MEDIA_TYPES).join(', ')}`,
  );
}

function formatFor(type: string): ResultFormat | undefined {
  if (type === '*/*' || type === 'application/*') return 'json';
  if (type === 'text/*') return 'csv';
  return BY_TYPE.get(type);
}
