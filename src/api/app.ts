/** The HTTP API: Fastify with strict schemas, problem+json errors and a request id on everything. */
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { LogController, type FastifyInstance, type FastifyReply, type FastifyRequest, type FastifyServerOptions } from 'fastify';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { isDatabaseUnavailable, refusedValue } from '../store/database-errors.js';
import { isTemporalUnavailable } from '../cases/live-view.js';
import { registerAuth } from './auth.js';
import { DEFAULT_AUTH_FAILURES_PER_MINUTE, DEFAULT_RATE_LIMITS, MAX_BODY_BYTES, registerRateLimits, type RateLimits } from './limits.js';
import { refuseUncleanInput } from './clean-input.js';
import { keyRoutes } from './routes/keys.js';
import { taskRoutes } from './routes/tasks.js';
import { escalationRoutes } from './routes/escalations.js';
import { webhookRoutes } from './routes/webhooks.js';
import { inboundRoutes } from './routes/inbound.js';
import type { ApiDependencies } from './dependencies.js';
import { clientError, problem, sendProblem } from './problems.js';
import { caseRoutes } from './routes/cases.js';
import { healthRoutes } from './routes/health.js';
import { metricsRoutes, observeRequests } from './routes/metrics.js';
import { inboxRoutes } from './routes/inbox.js';
import { orderRoutes } from './routes/orders.js';
import { caseRepairRoutes } from './routes/case-repair.js';
import { caseCancelRoutes } from './routes/case-cancel.js';
import { auditExportRoutes, caseAuditRoutes } from './routes/audit.js';
import { playbookRoutes } from './routes/playbooks.js';
import { figureRoutes } from './routes/figures.js';
import { consoleRoutes } from './routes/console.js';
import { meRoutes } from './routes/me.js';
import { caseActivityRoutes } from './routes/case-activity.js';
import { deliveryRoutes } from './routes/deliveries.js';
import { bulkRoutes } from './routes/bulk.js';
import { migrationRoutes } from './routes/migrations.js';
import { backtestRoutes } from './routes/backtests.js';

/** What an oversized body is read to its end for, so that its sender gets the 413 (see discardBody). */
const DISCARD_BYTES = 64 * MAX_BODY_BYTES;
const DISCARD_MS = 10_000;
/** The `Retry-After` of a 503 while the database cannot be reached. */
export const UNAVAILABLE_RETRY_AFTER_SECONDS = 5;

export interface ApiOptions {
  logger?: FastifyServerOptions['logger'];
  /** Requests per minute per API key (or per address without one), per role; unset ones are today's (DEFAULT_RATE_LIMITS). */
  rateLimits?: Partial<RateLimits>;
  /** The largest body a request may have; MAX_BODY_BYTES unless given. */
  maxBodyBytes?: number;
  /** Failed authentications per minute per client address before 429 (valid keys are never held back). */
  authFailuresPerMinute?: number;
  /** How long an authenticated key is taken without asking Postgres again (KEY_CACHE_MS by default; 0: every request). */
  keyCacheMs?: number;
  /**
   * Log a line for every request at INFO (off by default: under load that is gigabytes); without it the
   * line is at DEBUG. Failures are logged either way.
   */
  requestLogging?: boolean;
  /** Hooks that see every request, added before any other: a span per request when tracing (src/stack/tracing.ts). */
  instrument?: (app: FastifyInstance) => void;
}

export async function buildApi(deps: ApiDependencies, options: ApiOptions = {}): Promise<FastifyInstance> {
  const maxBodyBytes = options.maxBodyBytes ?? MAX_BODY_BYTES;
  const app = Fastify({
    logger: options.logger ?? false,
    // One line per request, written on its response (logRequests), rather than Fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: maxBodyBytes,
    // Path parameters are checked by their schemas (with a pointer), not cut off by the router.
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 2_000 },
    frameworkErrors: (error, _request, reply) => {
      sendProblem(
        reply,
        problem('invalid-request', `the URL cannot be read: ${error.message.slice(0, 200)}`, { errors: [{ pointer: '', message: 'unreadable URL' }] }),
      );
    },
    genReqId: (request) => {
      const given = request.headers['x-request-id'];
      return typeof given === 'string' && /^[A-Za-z0-9._-]{1,64}$/.test(given) ? given : randomUUID();
    },
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: true, useDefaults: false } },
  });
  options.instrument?.(app);

  app.addContentTypeParser(['application/yaml', 'application/x-yaml', 'text/yaml', 'text/plain'], { parseAs: 'string' }, (_request, body, done) =>
    done(null, body),
  );
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });

  // Response schemas document and are checked by the fuzzer; bodies are sent as they are, never trimmed by a schema.
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  registerProblemHandlers(app, maxBodyBytes);
  refuseUncleanInput(app);

  await app.register(swagger, {
    openapi: {
      info: { title: 'Casebook API', version: '1', description: 'Publish playbooks, open cases, deliver events, read what happened.' },
      components: { securitySchemes: { apiKey: { type: 'http', scheme: 'bearer', description: 'An API key from `casebook keys create`' } } },
      security: [{ apiKey: [] }],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  registerAuth(app, deps.pool, { failuresPerMinute: options.authFailuresPerMinute ?? DEFAULT_AUTH_FAILURES_PER_MINUTE, keyCacheMs: options.keyCacheMs });
  registerRateLimits(app, { ...DEFAULT_RATE_LIMITS, ...options.rateLimits });
  logRequests(app, options.requestLogging ?? false);

  await app.register(healthRoutes(deps));
  if (deps.metrics) {
    observeRequests(app, deps.metrics);
    await app.register(metricsRoutes(deps.metrics));
  }
  await app.register(playbookRoutes(deps), { prefix: '/v1/playbooks' });
  await app.register(migrationRoutes(deps), { prefix: '/v1/playbooks' });
  await app.register(caseRoutes(deps), { prefix: '/v1/cases' });
  await app.register(caseRepairRoutes(deps), { prefix: '/v1/cases' });
  await app.register(caseCancelRoutes(deps), { prefix: '/v1/cases' });
  await app.register(caseAuditRoutes(deps), { prefix: '/v1/cases' });
  await app.register(caseActivityRoutes(deps), { prefix: '/v1/cases' });
  await app.register(auditExportRoutes(deps), { prefix: '/v1/audit' });
  await app.register(webhookRoutes(deps), { prefix: '/v1/webhooks' });
  await app.register(inboundRoutes(deps), { prefix: '/v1/inbound' });
  await app.register(deliveryRoutes(deps), { prefix: '/v1/deliveries' });
  await app.register(inboxRoutes(deps), { prefix: '/v1/inbox' });
  await app.register(taskRoutes(deps), { prefix: '/v1/tasks' });
  await app.register(escalationRoutes(deps), { prefix: '/v1/escalations' });
  await app.register(orderRoutes(deps), { prefix: '/v1/orders' });
  await app.register(keyRoutes(deps), { prefix: '/v1/keys' });
  await app.register(figureRoutes(deps), { prefix: '/v1/figures' });
  await app.register(meRoutes(deps), { prefix: '/v1/me' });
  await app.register(backtestRoutes(deps), { prefix: '/v1/backtests' });
  if (deps.bulk) await app.register(bulkRoutes(deps.bulk), { prefix: '/v1/bulk-operations' });
  await app.register(consoleRoutes(), { prefix: '/console' });
  return app;
}

/**
 * Every error the API answers is a problem from the catalogue: unknown routes (404, or 405 with
 * `Allow` when the path is known under other methods), schema failures, parser refusals.
 */
function registerProblemHandlers(app: FastifyInstance, maxBodyBytes: number): void {
  const allowed = methodsByPath(app);
  const notFound = (request: FastifyRequest, reply: FastifyReply) => {
    const methods = allowed(request.url);
    if (methods.length === 0) return sendProblem(reply, problem('not-found', `no route ${request.method} ${request.url}`));
    reply.header('allow', methods.join(', '));
    return sendProblem(reply, problem('method-not-allowed', `${request.method} is not allowed here; allowed: ${methods.join(', ')}`));
  };
  app.setNotFoundHandler(notFound);
  app.setErrorHandler(
    async (
      error: Error & {
        statusCode?: number;
        code?: string;
        validationContext?: string;
        validation?: { instancePath: string; message?: string; params?: Record<string, unknown> }[];
      },
      request,
      reply,
    ) => {
      // No route: whatever failed on the way (a body the 404 route could not parse) is a 404 or a 405.
      if (request.is404) return notFound(request, reply);
      if (error.validation) {
        // Body, query and path pointers start at their own root; a header's is /headers/<name>.
        const root = error.validationContext === 'headers' ? '/headers' : '';
        const errors = error.validation.map((v) => ({
          pointer:
            root +
            v.instancePath +
            (v.params?.additionalProperty
              ? `/${String(v.params.additionalProperty)}`
              : v.params?.missingProperty
                ? `/${String(v.params.missingProperty)}`
                : ''),
          message: v.params?.additionalProperty ? 'unknown property' : (v.message ?? 'invalid'),
        }));
        return sendProblem(reply, problem('invalid-request', errors.map((e) => `${e.pointer || '/'} ${e.message}`).join('; '), { errors }));
      }
      const status = error.statusCode ?? 500;
      if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
        await discardBody(request.raw);
        return sendProblem(reply, problem('body-too-large', `the body is larger than ${maxBodyBytes} bytes`));
      }
      if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE')
        return sendProblem(reply, problem('unsupported-media-type', `content type ${request.headers['content-type'] ?? '(none)'} is not accepted here`));
      if (error.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' || error.name === 'SyntaxError' || error.code === 'FST_ERR_CTP_INVALID_JSON_BODY') {
        return sendProblem(reply, problem('malformed-json', 'the body is not valid JSON'));
      }
      if (status >= 400 && status < 500) return sendProblem(reply, clientError(status, error.message));
      if (isDatabaseUnavailable(error)) {
        request.log.warn({ err: error }, 'the database cannot be reached');
        reply.header('retry-after', String(UNAVAILABLE_RETRY_AFTER_SECONDS));
        return sendProblem(reply, problem('service-unavailable', `the database cannot be reached; retry after ${UNAVAILABLE_RETRY_AFTER_SECONDS} s`));
      }
      if (isTemporalUnavailable(error)) {
        request.log.warn({ err: error }, 'Temporal cannot be reached');
        reply.header('retry-after', String(UNAVAILABLE_RETRY_AFTER_SECONDS));
        return sendProblem(reply, problem('service-unavailable', `Temporal cannot be reached; retry after ${UNAVAILABLE_RETRY_AFTER_SECONDS} s`));
      }
      const refused = refusedValue(error);
      if (refused) {
        // A value from the request the route did not check itself; logged, as the route may want to check it.
        request.log.warn({ err: error }, 'the database refused a value of the request');
        const message = `holds a value the database refuses (${refused.code}: ${refused.message.slice(0, 200)})`;
        return sendProblem(reply, problem('invalid-request', `/ ${message}`, { errors: [{ pointer: '', message }] }));
      }
      request.log.error({ err: error }, 'request failed');
      return sendProblem(reply, problem('internal', 'something went wrong on our side; quote the request id when reporting it'));
    },
  );
}

/**
 * One line per request on its response: its route (the pattern, not the URL), status, time taken, the
 * key that made it and the case it names, beside the request id every line of the request carries.
 */
function logRequests(app: FastifyInstance, atInfo: boolean): void {
  app.addHook('onResponse', async (request, reply) => {
    const log = atInfo ? request.log.info.bind(request.log) : request.log.debug.bind(request.log);
    const caseId = (request.params as { caseId?: unknown } | undefined)?.caseId;
    log(
      {
        method: request.method,
        route: request.routeOptions.url ?? null,
        statusCode: reply.statusCode,
        responseTimeMs: Math.round(reply.elapsedTime * 10) / 10,
        ...(request.apiKey ? { actor: { keyId: request.apiKey.id, name: request.apiKey.name } } : {}),
        ...(typeof caseId === 'string' ? { caseId } : {}),
      },
      'request',
    );
  });
}

/**
 * Reads an oversized body to its end (up to DISCARD_BYTES, for DISCARD_MS at most) before the 413 is
 * sent: the answer closes the connection, and a client still sending would otherwise see it reset
 * (EPIPE, ECONNRESET) instead of reading the 413.
 */
function discardBody(raw: IncomingMessage): Promise<void> {
  if (raw.complete || raw.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    let received = 0;
    const done = () => {
      clearTimeout(timer);
      raw.off('data', onData).off('end', done).off('error', done).off('close', done);
      resolve();
    };
    const onData = (chunk: Buffer) => {
      received += chunk.length;
      if (received > DISCARD_BYTES) done();
    };
    const timer = setTimeout(done, DISCARD_MS);
    raw.on('data', onData).once('end', done).once('error', done).once('close', done);
    raw.resume();
  });
}

/**
 * The methods a path has, for `Allow`: those of the most specific routes matching it (fewest
 * parameters, as the router prefers `/v1/playbooks/validate` to `/v1/playbooks/:name`).
 */
const paramPattern = (part: string): string => /^:\w+\(\^?(.+?)\$?\)$/.exec(part)?.[1] ?? '[^/]+';

function methodsByPath(app: FastifyInstance): (url: string) => string[] {
  const routes: { pattern: RegExp; params: number; methods: string[] }[] = [];
  app.addHook('onRoute', (route) => {
    const parts = route.url.replace(/\/+$/, '').split('/');
    // A parameter with a pattern (`:jobId(^\d+)`) matches only what the pattern does.
    const source = parts
      .map((part) => (part.startsWith(':') ? paramPattern(part) : part === '*' ? '.*' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
      .join('/');
    routes.push({ pattern: new RegExp(`^${source}/?$`), params: parts.filter((p) => p.startsWith(':') || p === '*').length, methods: [route.method].flat() });
  });
  return (url) => {
    const path = url.split('?')[0]!;
    const matching = routes.filter((r) => r.pattern.test(path));
    const fewest = Math.min(...matching.map((r) => r.params));
    const methods = new Set(matching.filter((r) => r.params === fewest).flatMap((r) => r.methods));
    if (methods.has('GET')) methods.add('HEAD');
    return [...methods].sort();
  };
}
