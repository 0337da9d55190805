import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance, LogController } from 'fastify';
import type { Logger } from 'pino';
import { type SluiceError, isSluiceError } from '../core/errors.js';
import type { QueryObserver } from '../core/metrics.js';
import { registerConsole } from './console/console-routes.js';
import { type MetricsEndpoint, registerMetricsRoute } from './rest/metrics-route.js';
import { registerOpenApi } from './rest/openapi.js';
import { packageVersion } from './rest/package-version.js';
import { type QueryService, registerQueryRoute } from './rest/query-route.js';
import { anyObject, errorResponses } from './rest/schemas.js';
import { registerBasicAuth } from './rest/basic-auth.js';

export type { QueryService };

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
  /** `api.auth.users`: with it every route but /health needs HTTP Basic credentials. */
  readonly users?: Readonly<Record<string, string>> | null;
  /** GET /metrics, and query timings from /v1/query; without it neither exists. */
  readonly metrics?: MetricsEndpoint & QueryObserver;
}

function errorBody(code: string, message: string): object {
  return { error: { code, message } };
}

/** Route options with the schema the OpenAPI document shows: a JSON answer and the error body. */
function documented(summary: string, tag: string, extra: object = {}, errors: number[] = []): { schema: object } {
  return { schema: { summary, tags: [tag], response: { 200: { description: summary, ...anyObject }, ...errorResponses(...errors) }, ...extra } };
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
  // Response schemas are documentation (the OpenAPI document); answers go out exactly as the
  // handlers build them, never filtered through a schema-compiled serializer.
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));

  app.setErrorHandler((err: FastifyError | SluiceError, req, reply) => {
    if (isSluiceError(err)) {
      if (err.status >= 500) req.log.error({ err }, 'request failed');
      return reply.status(err.status).type('application/json; charset=utf-8').send(errorBody(err.code, err.message));
    }
    // fastify's own client errors: malformed JSON, wrong content type, body too large, schema.
    const status = typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status === 500) {
      req.log.error({ err }, 'request failed');
      return reply.status(500).type('application/json; charset=utf-8').send(errorBody('SLUICE_INTERNAL', 'internal error'));
    }
    return reply.status(status).type('application/json; charset=utf-8').send(errorBody('SLUICE_REQUEST_INVALID', err.message));
  });
  app.setNotFoundHandler((req, reply) =>
    reply.status(404).send(errorBody('SLUICE_NOT_FOUND', `no route ${req.method} ${req.url}`)),
  );

  // Before any route, so every route (the console and /docs included) is behind it.
  if (o.users) registerBasicAuth(app, o.users);
  await registerOpenApi(app, packageVersion());

  registerConsole(app);
  app.get('/health', documented('Liveness: {"status":"ok"}', 'meta'), async () => ({ status: 'ok' }));
  registerQueryRoute(app, o);
  if (o.metrics) registerMetricsRoute(app, o.metrics);
  app.get('/v1/tables', documented('Every replica: rows, source table, source position, last commit, lag', 'status'), async () => ({ tables: await o.status.tables() }));
  app.get('/v1/sources', documented('Every source: state, positions, snapshot progress, log offsets, lag', 'status'), async () => ({ sources: await o.status.sources() }));
  app.get('/v1/models', documented('The model DAG: each model\'s state, rows and lag, and the last rebuild', 'status'), async () => o.models.list());
  app.post(
    '/v1/models/reload',
    { schema: { summary: 'Re-read the model files and rebuild from the log in the background', tags: ['status'], response: { 202: { description: 'Rebuild started', ...anyObject }, ...errorResponses() } } },
    async (_req, reply) => reply.status(202).send(await o.models.reload()),
  );
  // Query strings are text: with type coercion off (see above) numbers are matched as digits.
  app.get<{ Params: { source: string }; Querystring: { from?: string; limit?: string } }>(
    '/v1/sources/:source/changes',
    documented('The source\'s log from an offset, as Debezium change events', 'status', {
      params: { type: 'object', required: ['source'], properties: { source: { type: 'string' } } },
      querystring: {
        type: 'object',
        properties: {
          from: { type: 'string', pattern: '^[0-9]{1,15}$', description: 'First log offset (default 0)' },
          limit: { type: 'string', pattern: '^([1-9][0-9]{0,2}|1000)$', description: 'Records, 1-1000 (default 100)' },
        },
        additionalProperties: false,
      },
    }, [400, 404]),
    async (req) => o.changes.changes(req.params.source, Number(req.query.from ?? 0), Number(req.query.limit ?? 100)),
  );

  return app;
}
