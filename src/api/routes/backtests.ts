/**
 * Backtests (docs/backtest.md): a kept backtest's progress while `casebook backtest` runs it, then its
 * report. Ops leads and admins.
 */
import type { FastifyPluginAsync } from 'fastify';
import { KeptBacktest } from '../../api-contract/backtests.js';
import type { ApiDependencies } from '../dependencies.js';
import { problem, sendProblem } from '../problems.js';
import { responses } from '../responses.js';
import { keptBacktest } from '../../services/backtests.js';

const UUID = '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$';

export const backtestRoutes =
  (deps: ApiDependencies): FastifyPluginAsync =>
  async (app) => {
    app.get<{ Params: { id: string } }>(
      '/:id',
      {
        config: { roles: ['ops-lead', 'admin'] },
        schema: {
          tags: ['backtests'],
          summary: 'A backtest: its progress, then what the playbook file would have changed on the closed cases',
          params: { type: 'object', required: ['id'], properties: { id: { type: 'string', pattern: UUID } } },
          response: responses({ 200: KeptBacktest }, ['unknown-backtest']),
        },
      },
      async (request, reply) => {
        const kept = await keptBacktest(deps.pool, request.params.id);
        if (!kept) return sendProblem(reply, problem('unknown-backtest', `no backtest ${request.params.id}`));
        return { ...kept, report: kept.report as Record<string, unknown> | null } satisfies KeptBacktest;
      },
    );
  };
