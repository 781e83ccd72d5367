import type { FastifyPluginAsync } from 'fastify';
import { createApiKey, listApiKeys, revokeApiKey, ROLES, type Role } from '../../store/api-keys.js';
import type { ApiDependencies } from '../dependencies.js';
import { problem, sendProblem } from '../problems.js';

const ADMIN = { roles: ['admin'] as const };

export const keyRoutes = (deps: ApiDependencies): FastifyPluginAsync => async (app) => {
  app.post<{ Body: { role: Role; name: string } }>('', {
    config: ADMIN,
    schema: {
      tags: ['keys'], summary: 'Create an API key; the key is in this response only',
      body: { type: 'object', additionalProperties: false, required: ['role', 'name'], properties: { role: { enum: [...ROLES] }, name: { type: 'string', minLength: 1, maxLength: 100 } } },
    },
  }, async (request, reply) => {
    const { key, apiKey } = await createApiKey(deps.pool, request.body.role, request.body.name);
    return reply.code(201).send({ ...apiKey, key });
  });

  app.get('', { config: ADMIN, schema: { tags: ['keys'], summary: 'List API keys (never their secrets)' } }, async () => ({ keys: await listApiKeys(deps.pool) }));

  app.delete<{ Params: { id: string } }>('/:id', {
    config: ADMIN,
    schema: { tags: ['keys'], summary: 'Revoke an API key', params: { type: 'object', required: ['id'], properties: { id: { type: 'string', pattern: '^[a-z0-9]{12}$' } } } },
  }, async (request, reply) => {
    if (!(await revokeApiKey(deps.pool, request.params.id))) return sendProblem(reply, problem('unknown-key', `no active key ${request.params.id}`));
    return reply.code(204).send();
  });
};
