/** Bearer API keys and roles: who may call which route. */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Pool } from '../store/pool.js';
import { authenticate, type ApiKey, type Role } from '../store/api-keys.js';
import { problem, sendProblem } from './problems.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Roles allowed to call the route; absent: the route is public (health, docs). */
    roles?: readonly Role[];
  }
  interface FastifyRequest {
    apiKey?: ApiKey;
  }
}

export const READERS: readonly Role[] = ['ops-lead', 'agent', 'auditor', 'admin'];

export function registerAuth(app: FastifyInstance, pool: Pool): void {
  app.decorateRequest('apiKey', undefined);
  app.addHook('onRequest', async (request, reply) => {
    const roles = request.routeOptions.config.roles;
    if (!roles) return;
    const apiKey = await keyOf(request, pool);
    if (!apiKey) {
      reply.header('www-authenticate', 'Bearer realm="casebook"');
      return sendProblem(reply, problem('unauthorized', 'a valid API key is required: Authorization: Bearer <key>'));
    }
    request.apiKey = apiKey;
    if (!roles.includes(apiKey.role)) {
      return sendProblem(reply, problem('forbidden', `the role ${apiKey.role} may not ${request.method} ${request.routeOptions.url}; allowed: ${roles.join(', ')}`));
    }
  });
}

async function keyOf(request: FastifyRequest, pool: Pool): Promise<ApiKey | undefined> {
  const header = request.headers.authorization;
  if (typeof header !== 'string') return undefined;
  const match = /^Bearer ([^\s]{1,200})$/.exec(header);
  return match ? authenticate(pool, match[1]!) : undefined;
}
