/** The HTTP API: Fastify with strict schemas, problem+json errors and a request id on everything. */
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { randomUUID } from 'node:crypto';
import { registerAuth } from './auth.js';
import { keyRoutes } from './routes/keys.js';
import { webhookRoutes } from './routes/webhooks.js';
import type { ApiDependencies } from './dependencies.js';
import { clientError, problem, sendProblem } from './problems.js';
import { caseRoutes } from './routes/cases.js';
import { healthRoutes } from './routes/health.js';
import { inboxRoutes } from './routes/inbox.js';
import { orderRoutes } from './routes/orders.js';
import { playbookRoutes } from './routes/playbooks.js';

export const MAX_BODY_BYTES = 1024 * 1024;

export interface ApiOptions {
  logger?: FastifyServerOptions['logger'];
  /** Requests per minute per API key (or per address without one). */
  rateLimitPerMinute?: number;
}

export async function buildApi(deps: ApiDependencies, options: ApiOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: options.logger ?? false,
    bodyLimit: MAX_BODY_BYTES,
    routerOptions: { ignoreTrailingSlash: true },
    genReqId: (request) => {
      const given = request.headers['x-request-id'];
      return typeof given === 'string' && /^[A-Za-z0-9._-]{1,64}$/.test(given) ? given : randomUUID();
    },
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: true, useDefaults: false } },
  });

  app.addContentTypeParser(['application/yaml', 'application/x-yaml', 'text/yaml', 'text/plain'], { parseAs: 'string' }, (_request, body, done) => done(null, body));
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });

  registerProblemHandlers(app);

  await app.register(swagger, {
    openapi: {
      info: { title: 'Casebook API', version: '1', description: 'Publish playbooks, open cases, deliver events, read what happened.' },
      components: { securitySchemes: { apiKey: { type: 'http', scheme: 'bearer', description: 'An API key from `casebook keys create`' } } },
      security: [{ apiKey: [] }],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  await app.register(rateLimit, {
    max: options.rateLimitPerMinute ?? 1200,
    timeWindow: 60_000,
    keyGenerator: (request) => {
      const token = request.headers.authorization;
      return typeof token === 'string' ? `key:${token.slice(0, 24)}` : `ip:${request.ip}`;
    },
    errorResponseBuilder: (_request, context) => ({ statusCode: 429, message: `rate limit of ${context.max} per minute exceeded` }),
  });
  registerAuth(app, deps.pool);

  await app.register(healthRoutes(deps));
  await app.register(playbookRoutes(deps), { prefix: '/v1/playbooks' });
  await app.register(caseRoutes(deps), { prefix: '/v1/cases' });
  await app.register(webhookRoutes(deps), { prefix: '/v1/webhooks' });
  await app.register(inboxRoutes(deps), { prefix: '/v1/inbox' });
  await app.register(orderRoutes(deps), { prefix: '/v1/orders' });
  await app.register(keyRoutes(deps), { prefix: '/v1/keys' });
  return app;
}

/** Every error the API answers is a problem from the catalogue: unknown routes, schema failures, parser refusals. */
function registerProblemHandlers(app: FastifyInstance): void {
  app.setNotFoundHandler((request, reply) => sendProblem(reply, problem('not-found', `no route ${request.method} ${request.url}`)));
  app.setErrorHandler((error: Error & { statusCode?: number; code?: string; validation?: { instancePath: string; message?: string; params?: Record<string, unknown> }[] }, request, reply) => {
    if (error.validation) {
      const errors = error.validation.map((v) => ({
        pointer: v.instancePath + (v.params?.additionalProperty ? `/${String(v.params.additionalProperty)}` : v.params?.missingProperty ? `/${String(v.params.missingProperty)}` : ''),
        message: v.params?.additionalProperty ? 'unknown property' : v.message ?? 'invalid',
      }));
      return sendProblem(reply, problem('invalid-request', errors.map((e) => `${e.pointer || '/'} ${e.message}`).join('; '), { errors }));
    }
    const status = error.statusCode ?? 500;
    if (status === 429) return sendProblem(reply, problem('rate-limited', `too many requests; retry after ${String(reply.getHeader('retry-after') ?? 60)} s`));
    if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return sendProblem(reply, problem('body-too-large', `the body is larger than ${MAX_BODY_BYTES} bytes`));
    if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return sendProblem(reply, problem('unsupported-media-type', `content type ${request.headers['content-type'] ?? '(none)'} is not accepted here`));
    if (error.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' || error.name === 'SyntaxError' || error.code === 'FST_ERR_CTP_INVALID_JSON_BODY') {
      return sendProblem(reply, problem('malformed-json', 'the body is not valid JSON'));
    }
    if (status >= 400 && status < 500) return sendProblem(reply, clientError(status, error.message));
    request.log.error({ err: error }, 'request failed');
    return sendProblem(reply, problem('internal', 'something went wrong on our side; quote the request id when reporting it'));
  });
}
