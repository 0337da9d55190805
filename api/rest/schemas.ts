import { ErrorCodes } from '../../core/errors.js';

/**
 * JSON schemas shared by the routes. They validate requests and describe responses for the
 * OpenAPI document; responses are not filtered through them (see buildApi).
 */
export const errorBodySchema = {
  $id: 'ErrorBody',
  type: 'object',
  description: 'Every error answer. The HTTP status comes from the code (see core/errors.ts).',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: {
        code: { type: 'string', enum: Object.keys(ErrorCodes), example: 'SLUICE_QUERY_INVALID' },
        message: { type: 'string' },
      },
    },
  },
} as const;

export const errorRef = { $ref: 'ErrorBody#' } as const;

/** The error answers every route may give, plus the ones named. */
export function errorResponses(...statuses: number[]): Record<string, object> {
  const out: Record<string, object> = {};
  for (const s of [...statuses, 500]) out[String(s)] = { description: describeStatus(s), ...errorRef };
  return out;
}

function describeStatus(status: number): string {
  const names: Record<number, string> = {
    400: 'Bad request: malformed body, or bad SQL (DuckDB\'s message)',
    403: 'Forbidden: anything but a single read statement',
    404: 'Not found',
    406: 'Not acceptable: the Accept header names no format this route answers in',
    408: 'The query ran past its timeout and was cancelled',
    413: 'Request body too large',
    415: 'Unsupported request content type',
    499: 'The query was cancelled',
    500: 'Internal error',
    507: 'The query needs more memory than the store may use',
  };
  return names[status] ?? `HTTP ${status}`;
}

/** Anything JSON: status documents whose fields belong to their own modules. */
export const anyObject = { type: 'object', additionalProperties: true } as const;
