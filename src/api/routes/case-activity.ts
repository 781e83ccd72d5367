/** `GET /v1/cases/{caseId}/activity`: the case's tasks and order remarks, for the console's case page. */
import type { FastifyPluginAsync } from 'fastify';
import { caseActivity } from '../../cases/reads.js';
import { READERS } from '../auth.js';
import type { ApiDependencies } from '../dependencies.js';
import { problem, sendProblem } from '../problems.js';
import { BODIES, responses } from '../responses.js';
import { CASE_ID } from '../params.js';

export const caseActivityRoutes =
  (deps: ApiDependencies): FastifyPluginAsync =>
  async (app) => {
    app.get<{ Params: { caseId: string } }>(
      '/:caseId/activity',
      {
        config: { roles: READERS },
        schema: {
          tags: ['cases'],
          summary: "A case's human tasks (with their SLA and outcome) and the remarks it wrote on its order, oldest first",
          params: { type: 'object', required: ['caseId'], properties: { caseId: { type: 'string', pattern: CASE_ID } } },
          response: responses({ 200: BODIES.activity }, ['unknown-case']),
        },
      },
      async (request, reply) => {
        const activity = await caseActivity(deps.pool, request.params.caseId);
        if (!activity) return sendProblem(reply, problem('unknown-case', `no case ${request.params.caseId}`));
        return activity;
      },
    );
  };
