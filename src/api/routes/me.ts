/** `GET /v1/me`: who the key is and the shop's settings the console shows things with. */
import type { FastifyPluginAsync } from 'fastify';
import type { Me } from '../../api-contract/service.js';
import { ROLES } from '../../services/keys.js';
import { CONSOLE_DEFAULTS, type ApiDependencies } from '../dependencies.js';
import { BODIES, responses } from '../responses.js';

export const meRoutes =
  (deps: ApiDependencies): FastifyPluginAsync =>
  async (app) => {
    app.get(
      '',
      {
        config: { roles: ROLES },
        schema: {
          tags: ['keys'],
          summary: "The calling key (id, name, role) and the console's settings: the shop's time zone, the Temporal Web UI and namespace",
          response: responses({ 200: BODIES.me }, []),
        },
      },
      async (request) => {
        const apiKey = request.apiKey!;
        return { keyId: apiKey.id, name: apiKey.name, role: apiKey.role, settings: deps.console ?? CONSOLE_DEFAULTS } satisfies Me;
      },
    );
  };
