import type { FastifyPluginAsync } from 'fastify';
import type { CaseRepair } from '../../plan/case.js';
import type { ApiDependencies } from '../dependencies.js';
import { problem, sendProblem } from '../problems.js';
import { actorOf } from '../auth.js';
import { BODIES, responses, WITH_BODY } from '../responses.js';
import { CASE_ID } from '../params.js';

/**
 * An admin repairs a failed case: runs the failed step again, or closes the case with a reason. The
 * workflow records `by`, the admin's key, which its audit row's actor reads. Where several steps failed
 * at once (strands), the repair names the one it repairs (`step`, `iteration`); the answer says which.
 */
export const caseRepairRoutes =
  (deps: ApiDependencies): FastifyPluginAsync =>
  async (app) => {
    app.post<{ Params: { caseId: string }; Body: Pick<CaseRepair, 'action' | 'reason' | 'step' | 'iteration'> }>(
      '/:caseId/repair',
      {
        config: { roles: ['admin'] },
        schema: {
          tags: ['cases'],
          summary: 'Retry the failed step of a failed case, or close it (admin)',
          params: { type: 'object', required: ['caseId'], properties: { caseId: { type: 'string', pattern: CASE_ID } } },
          body: {
            type: 'object',
            additionalProperties: false,
            required: ['action', 'reason'],
            properties: {
              action: { enum: ['retry', 'close'] },
              reason: { type: 'string', minLength: 1, maxLength: 500 },
              step: { type: 'string', minLength: 1, maxLength: 200 },
              iteration: { type: 'string', pattern: '^[0-9]{1,9}(@[0-9]{1,9}){0,15}$' },
            },
          },
          response: responses({ 200: BODIES.repaired }, [...WITH_BODY, 'unknown-case', 'case-not-failed', 'repair-target-unclear']),
        },
      },
      async (request, reply) => {
        if (request.body.iteration !== undefined && request.body.step === undefined)
          return sendProblem(
            reply,
            problem('invalid-request', '/iteration names an iteration of a step: give step too', {
              errors: [{ pointer: '/iteration', message: 'needs step' }],
            }),
          );
        const result = await deps.cases.repair(request.params.caseId, { ...request.body, by: actorOf(request) });
        switch (result.kind) {
          case 'unknown-case':
            return sendProblem(reply, problem('unknown-case', `no case ${request.params.caseId}`));
          case 'not-failed':
            return sendProblem(reply, problem('case-not-failed', result.message));
          case 'target-unclear':
            return sendProblem(reply, problem('repair-target-unclear', result.message, { failed: result.failed }));
          case 'repaired':
            return { status: result.status, step: result.step, ...(result.iteration !== undefined ? { iteration: result.iteration } : {}) };
        }
      },
    );
  };
