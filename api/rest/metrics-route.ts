import type { FastifyInstance } from 'fastify';
import { errorResponses } from './schemas.js';

/** What GET /metrics needs: the exposition text and its media type. */
export interface MetricsEndpoint {
  readonly contentType: string;
  render(): Promise<string>;
}

const schema = {
  summary: 'Prometheus metrics (text exposition format 0.0.4), all named sluice_*',
  description: 'Per source: changes applied, lag, log offsets, state, log size; apply batch, freshness and query latency histograms; store size; Node process metrics. See the README for the list.',
  tags: ['meta'],
  response: {
    200: {
      description: 'The metrics',
      content: { 'text/plain': { schema: { type: 'string', example: 'sluice_source_lag_seconds{source="shop"} 0' } } },
    },
    ...errorResponses(),
  },
} as const;

/** GET /metrics. */
export function registerMetricsRoute(app: FastifyInstance, metrics: MetricsEndpoint): void {
  app.get('/metrics', { schema }, async (_req, reply) => reply.type(metrics.contentType).send(await metrics.render()));
}
