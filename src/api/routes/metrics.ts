import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import type { ApiMetrics } from '../dependencies.js';
import { responses } from '../responses.js';

/** Requests no route matched are counted under this one route label, so that a scan of URLs adds no series. */
export const UNMATCHED_ROUTE = 'unmatched';

/**
 * Public like /readyz (`security: []`): counts and label values only (playbook names, outcomes, connector
 * and destination names, route patterns), never a case's data. docs/operations.md ("Metrics") says how to
 * keep it from the open internet.
 */
export const metricsRoutes =
  (metrics: ApiMetrics): FastifyPluginAsync =>
  async (app) => {
    app.get(
      '/metrics',
      {
        schema: {
          security: [],
          tags: ['health'],
          summary: 'This process\'s metrics, in Prometheus\'s text format (docs/operations.md, "Metrics")',
          response: responses(
            { 200: { description: 'Prometheus text exposition format 0.0.4', content: { 'text/plain': { schema: { type: 'string' } } } } },
            [],
            { isPublic: true },
          ),
        },
      },
      async (_request, reply) => {
        const { contentType, text } = await metrics.exposition();
        return reply.type(contentType).send(text);
      },
    );
  };

/** Every answered request's time, under its route's pattern. */
export function observeRequests(app: FastifyInstance, metrics: ApiMetrics): void {
  app.addHook('onResponse', async (request, reply) => {
    metrics.observeRequest(request.method, request.routeOptions.url ?? UNMATCHED_ROUTE, reply.statusCode, reply.elapsedTime / 1000);
  });
}
