import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance, LogController } from 'fastify';
import type { Logger } from 'pino';
import { type SluiceError, isSluiceError } from '../core/errors.js';
import type { QueryResult } from '../olap/query/query-engine.js';
import type { QueryLimits } from '../olap/query/query-stream.js';

/** The API's view of the store: one query interface, nothing else. */
export interface QueryService {
  query(sql: string, limits: QueryLimits): Promise<QueryResult>;
}

export interface StatusService {
  sources(): Promise<readonly object[]>;
  tables(): Promise<readonly object[]>;
}

/** The log of a source, as Debezium change events. */
export interface ChangeFeedService {
  changes(source: string, fromOffset: number, limit: number): Promise<object>;
}

export interface ModelService {
  list(): Promise<object>;
  /** Re-reads the model files and starts rebuilding from the log; answers at once. */
  reload(): Promise<object>;
}

export interface ApiOptions {
  readonly query: QueryService;
  readonly status: StatusService;
  readonly changes: ChangeFeedService;
  readonly models: ModelService;
  readonly queryTimeoutMs: number;
  readonly maxRows: number;
  readonly logger: Logger;
  readonly bodyLimit?: number;
}

function errorBody(code: string, message: string): object {
  return { error: { code, message } };
}

export async function buildApi(o: ApiOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: o.logger.child({ component: 'api' }) as FastifyBaseLogger,
    bodyLimit: o.bodyLimit ?? 1024 * 1024,
    // `{"sql": 42}` is a malformed request, not the query "42"; unknown fields are mistakes too.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false } },
    // A log line per request is noise for a query service; failures are logged where handled.
    logController: new LogController({ disableRequestLogging: true }),
  });

  app.setErrorHandler((err: FastifyError | SluiceError, req, reply) => {
    if (isSluiceError(err)) {
      if (err.status >= 500) req.log.error({ err }, 'request failed');
      return reply.status(err.status).send(errorBody(err.code, err.message));
    }
    // fastify's own client errors: malformed JSON, wrong content type, body too large, schema.
    const status = typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status === 500) {
      req.log.error({ err }, 'request failed');
      return reply.status(500).send(errorBody('SLUICE_INTERNAL', 'internal error'));
    }
    return reply.status(status).send(errorBody('SLUICE_REQUEST_INVALID', err.message));
  });
  app.setNotFoundHandler((req, reply) =>
    reply.status(404).send(errorBody('SLUICE_NOT_FOUND', `no route ${req.method} ${req.url}`)),
  );

  app.get('/health', async () => ({ status: 'ok' }));

  app.post<{ Body: { sql: string } }>(
    '/v1/query',
    {
      schema: {
        body: {
          type: 'object',
          required: ['sql'],
          properties: { sql: { type: 'string', minLength: 1, maxLength: 1_000_000 } },
          additionalProperties: false,
        },
      },
    },
    async (req) => {
      const result = await o.query.query(req.body.sql, { timeoutMs: o.queryTimeoutMs, maxRows: o.maxRows });
      return {
        columns: result.columns,
        rows: toRows(result),
        rowCount: result.rowCount,
        ...(result.truncated ? { truncated: true } : {}),
      };
    },
  );

  app.get('/v1/tables', async () => ({ tables: await o.status.tables() }));
  app.get('/v1/sources', async () => ({ sources: await o.status.sources() }));
  app.get('/v1/models', async () => o.models.list());
  app.post('/v1/models/reload', async (_req, reply) => reply.status(202).send(await o.models.reload()));
  // Query strings are text: with type coercion off (see above) numbers are matched as digits.
  app.get<{ Params: { source: string }; Querystring: { from?: string; limit?: string } }>(
    '/v1/sources/:source/changes',
    {
      schema: {
        querystring: {
          type: 'object',
          properties: { from: { type: 'string', pattern: '^[0-9]{1,15}$' }, limit: { type: 'string', pattern: '^([1-9][0-9]{0,2}|1000)$' } },
          additionalProperties: false,
        },
      },
    },
    async (req) => o.changes.changes(req.params.source, Number(req.query.from ?? 0), Number(req.query.limit ?? 100)),
  );

  return app;
}

/** Column-major engine output to the row arrays of the JSON format. */
function toRows(r: QueryResult): unknown[][] {
  const rows = new Array<unknown[]>(r.rowCount);
  const width = r.values.length;
  for (let i = 0; i < r.rowCount; i++) {
    const row = new Array<unknown>(width);
    for (let c = 0; c < width; c++) row[c] = r.values[c][i];
    rows[i] = row;
  }
  return rows;
}
