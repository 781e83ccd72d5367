import type { FastifyPluginAsync } from 'fastify';
import type { ApiDependencies } from '../dependencies.js';
import { problem, sendProblem } from '../problems.js';
import { BODIES, responses } from '../responses.js';
import { databaseAnswers } from '../../services/health.js';

const PUBLIC = { security: [], tags: ['health'] };

/** Public (no key, `security: []`): the process answers; Postgres and Temporal answer (up or down, nothing more). */
export const healthRoutes =
  (deps: ApiDependencies): FastifyPluginAsync =>
  async (app) => {
    app.get(
      '/healthz',
      { schema: { ...PUBLIC, summary: 'The API process answers', response: responses({ 200: BODIES.health }, [], { isPublic: true }) } },
      async () => ({ status: 'ok' }),
    );
    app.get(
      '/readyz',
      {
        schema: {
          ...PUBLIC,
          summary: 'Postgres and Temporal answer: 200 ready, or 503 not-ready saying which is down',
          response: responses({ 200: BODIES.ready }, ['not-ready'], { isPublic: true }),
        },
      },
      async (_request, reply) => {
        const [database, temporal] = await Promise.all([databaseAnswers(deps.pool), deps.temporalReady().catch(() => false)]);
        if (database && temporal) return { status: 'ready', database, temporal };
        return sendProblem(reply, problem('not-ready', `database ${database ? 'up' : 'down'}, temporal ${temporal ? 'up' : 'down'}`, { database, temporal }));
      },
    );
  };
