import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { QueryObserver } from '../../core/metrics.js';
import type { QueryLimits, QueryStream } from '../../olap/query/query-stream.js';
import { ArrowEncoder } from '../formats/arrow-encoder.js';
import { CsvEncoder } from '../formats/csv-encoder.js';
import { JsonEncoder } from '../formats/json-encoder.js';
import type { ResultEncoder } from '../formats/result-encoder.js';
import { RESULT_MEDIA_TYPES, type ResultFormat, negotiateFormat } from './content-negotiation.js';
import { ResultBody } from './result-body.js';
import { errorResponses } from './schemas.js';

/** The API's view of the store for queries: one streaming query interface. */
export interface QueryService {
  stream(sql: string, limits: QueryLimits): Promise<QueryStream>;
}

export interface QueryRouteOptions {
  readonly query: QueryService;
  readonly queryTimeoutMs: number;
  readonly maxRows: number;
  readonly metrics?: QueryObserver;
}

interface QueryBody {
  sql: string;
  maxRows?: number;
  timeoutMs?: number;
}

const ENCODERS: Record<ResultFormat, () => ResultEncoder> = {
  json: () => new JsonEncoder(),
  csv: () => new CsvEncoder(),
  arrow: () => new ArrowEncoder(),
};

const TRUNCATED_TRAILER = 'Sluice-Truncated';
const ROW_COUNT_TRAILER = 'Sluice-Row-Count';

const jsonResult = {
  type: 'object',
  required: ['columns', 'rows', 'rowCount'],
  properties: {
    columns: {
      type: 'array',
      items: { type: 'object', required: ['name', 'type'], properties: { name: { type: 'string' }, type: { type: 'string', example: 'DECIMAL(10,2)' } } },
    },
    rows: { type: 'array', items: { type: 'array', items: {} }, description: 'Row-major values; see the README for each type\'s JSON form' },
    rowCount: { type: 'integer' },
    truncated: { type: 'boolean', description: 'Present (true) when maxRows cut the result short' },
    error: {
      type: 'object',
      description: 'Present only when the query failed after the response had started: the rows before it are complete, the result is not',
      properties: { code: { type: 'string' }, message: { type: 'string' } },
    },
  },
} as const;

const schema = {
  summary: 'Run one read-only SQL query',
  description:
    'Answers in the format the Accept header asks for: application/json (default, also for */* or no Accept), ' +
    'text/csv, or application/vnd.apache.arrow.stream (Arrow IPC stream). Results stream as DuckDB produces them. ' +
    `CSV and Arrow end with the HTTP trailers ${TRUNCATED_TRAILER} (true when maxRows cut the result short) and ` +
    `${ROW_COUNT_TRAILER}; a CSV or Arrow transfer that fails midway is cut off (no terminating chunk, no trailers). ` +
    'Errors before the first byte are JSON error bodies with the status of their code.',
  tags: ['query'],
  body: {
    type: 'object',
    required: ['sql'],
    properties: {
      sql: { type: 'string', minLength: 1, maxLength: 1_000_000, description: 'Exactly one SELECT or EXPLAIN' },
      maxRows: { type: 'integer', minimum: 0, description: 'Lowers the server\'s row limit (api.maxRows) for this query' },
      timeoutMs: { type: 'integer', minimum: 1, description: 'Lowers the server\'s timeout (api.queryTimeoutMs) for this query' },
    },
    additionalProperties: false,
  },
  response: {
    200: {
      description: 'The result, in the negotiated format',
      headers: { Trailer: { type: 'string', description: `CSV and Arrow: "${TRUNCATED_TRAILER.toLowerCase()} ${ROW_COUNT_TRAILER.toLowerCase()}"` } },
      content: {
        [RESULT_MEDIA_TYPES.json]: { schema: jsonResult },
        [RESULT_MEDIA_TYPES.csv]: { schema: { type: 'string', description: 'RFC 4180: header line, \\n line ends, NULL as an empty field, empty string as ""' } },
        [RESULT_MEDIA_TYPES.arrow]: { schema: { type: 'string', format: 'binary', description: 'Arrow IPC stream: schema, one record batch per DuckDB chunk' } },
      },
    },
    ...errorResponses(400, 403, 406, 408, 413, 415, 499, 507),
  },
} as const;

/** POST /v1/query. */
export function registerQueryRoute(app: FastifyInstance, o: QueryRouteOptions): void {
  app.post<{ Body: QueryBody }>('/v1/query', { schema }, (req, reply) => {
    const metrics = o.metrics;
    if (metrics) {
      // Timed to the end of the response, since results stream: a body cut off midway (CSV,
      // Arrow) or an error status is an error. A JSON body that ends with an error member is
      // counted as ok: seeing it would mean parsing what was sent.
      const started = performance.now();
      reply.raw.once('close', () => metrics.observeQuery('rest', (performance.now() - started) / 1000, reply.raw.writableFinished && reply.statusCode < 400));
    }
    return runQuery(o, req, reply);
  });
}

async function runQuery(o: QueryRouteOptions, req: FastifyRequest<{ Body: QueryBody }>, reply: FastifyReply): Promise<FastifyReply> {
  const encoder = ENCODERS[negotiateFormat(req.headers.accept)]();
  const limits = {
    timeoutMs: Math.min(req.body.timeoutMs ?? o.queryTimeoutMs, o.queryTimeoutMs),
    maxRows: Math.min(req.body.maxRows ?? o.maxRows, o.maxRows),
  };
  // The client going away at any point (even before the first row) cancels the query. A
  // response that finished needs nothing (and an abort costs a DOMException: not per request).
  const abort = new AbortController();
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) abort.abort();
  });
  if (req.raw.socket.destroyed) abort.abort();
  const stream = await o.query.stream(req.body.sql, { ...limits, signal: abort.signal });

  // Up to two chunks are read before the status line: most failures (bad data in the first
  // rows, a timeout or memory limit while aggregating) still get their own status, and a result
  // that ends within them goes out in one piece (JSON with a Content-Length).
  const ready: (string | Uint8Array)[] = [];
  let complete = false;
  try {
    ready.push(encoder.head(stream.columns));
    for (let i = 0; i < 2 && !complete; i++) {
      const chunk = await stream.next();
      if (chunk === null) complete = true;
      else ready.push(encoder.chunk(chunk));
    }
  } catch (e) {
    stream.close();
    throw e;
  }

  reply.type(encoder.contentType);
  if (encoder.usesTrailers) {
    reply.trailer(TRUNCATED_TRAILER, async () => String(stream.truncated));
    reply.trailer(ROW_COUNT_TRAILER, async () => String(stream.rowCount));
  }
  if (complete) {
    ready.push(encoder.tail({ rowCount: stream.rowCount, truncated: stream.truncated }));
    return reply.send(join(ready));
  }
  return reply.send(new ResultBody(stream, encoder, ready, () => abort.abort(), req.log));
}

function join(parts: readonly (string | Uint8Array)[]): string | Buffer {
  if (parts.every((p) => typeof p === 'string')) return parts.join('');
  return Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : p)));
}
