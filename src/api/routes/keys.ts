import type { FastifyPluginAsync } from 'fastify';
import { createApiKey, listApiKeys, revokeApiKeyFromApi, ROLES, type Role } from '../../services/keys.js';
import type { ApiDependencies } from '../dependencies.js';
import { problem, sendProblem } from '../problems.js';
import { BODIES, responses, WITH_BODY } from '../responses.js';

const ADMIN = { roles: ['admin'] as const };

export const keyRoutes =
  (deps: ApiDependencies): FastifyPluginAsync =>
  async (app) => {
    app.post<{ Body: { role: Role; name: string } }>(
      '',
      {
        config: ADMIN,
        schema: {
          tags: ['keys'],
          summary: 'Create an API key; the key is in this response only',
          body: {
            type: 'object',
            additionalProperties: false,
            required: ['role', 'name'],
            properties: { role: { enum: [...ROLES] }, name: { type: 'string', minLength: 1, maxLength: 100 } },
          },
          response: responses({ 201: BODIES.createdKey }, WITH_BODY),
        },
      },
      async (request, reply) => {
        const { key, apiKey } = await createApiKey(deps.pool, request.body.role, request.body.name);
        return reply.code(201).send({ ...apiKey, key });
      },
    );

    app.get(
      '',
      { config: ADMIN, schema: { tags: ['keys'], summary: 'List API keys (never their secrets)', response: responses({ 200: BODIES.keys }, []) } },
      async () => ({ keys: await listApiKeys(deps.pool) }),
    );

    app.delete<{ Params: { id: string } }>(
      '/:id',
      {
        config: ADMIN,
        schema: {
          tags: ['keys'],
          summary: 'Revoke an API key; never the last active admin key (409 last-admin-key)',
          params: { type: 'object', required: ['id'], properties: { id: { type: 'string', pattern: '^[a-z0-9]{12}$' } } },
          response: responses({ 204: BODIES.noContent }, ['unknown-key', 'last-admin-key']),
        },
      },
      async (request, reply) => {
        const id = request.params.id;
        switch (await revokeApiKeyFromApi(deps.pool, id)) {
          case 'unknown':
            return sendProblem(reply, problem('unknown-key', `no active key ${id}`));
          case 'last-admin':
            return sendProblem(reply, problem('last-admin-key', `key ${id} is the last active admin key; create another admin key before revoking it`));
          case 'revoked':
            app.forgetApiKey(id);
            return reply.code(204).send();
        }
      },
    );
  };
