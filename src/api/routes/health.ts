import type { FastifyPluginAsync } from 'fastify';
import type { ApiDependencies } from '../dependencies.js';
import { problem, sendProblem } from '../problems.js';
import { pingDatabase } from '../../store/databases.js';

export const healthRoutes = (deps: ApiDependencies): FastifyPluginAsync => async (app) => {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    const [database, temporal] = await Promise.all([
      pingDatabase(deps.pool),
      deps.temporalReady().catch(() => false),
    ]);
    if (database && temporal) return { status: 'ready', database, temporal };
    return sendProblem(reply, problem('not-ready', `database ${database ? 'up' : 'down'}, temporal ${temporal ? 'up' : 'down'}`, { database, temporal }));
  });
};
