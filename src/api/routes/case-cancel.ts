import type { FastifyPluginAsync } from 'fastify';
import type { ApiDependencies } from '../dependencies.js';
import { actorOf } from '../auth.js';
import { answerOf, idempotencyHeaders, idempotently, idempotencyKeyOf, sendAnswer, type Answer } from '../idempotency.js';
import { problem } from '../problems.js';
import { BODIES, responses, WITH_BODY } from '../responses.js';
import { CASE_ID } from '../params.js';

/**
 * A person cancels a case, with a reason: waits, timers and calls in flight are cancelled, the
 * compensations of completed steps run in reverse order, paid refunds are escalated to finance, and
 * the case ends `cancelled` (src/workflows/cancellation.ts). 202 the first time, 200 while it is
 * already being cancelled, 409 once it has closed.
 */
export const caseCancelRoutes =
  (deps: ApiDependencies): FastifyPluginAsync =>
  async (app) => {
    app.post<{ Params: { caseId: string }; Body: { reason: string } }>(
      '/:caseId/cancel',
      {
        config: { roles: ['agent', 'ops-lead', 'admin'] },
        schema: {
          tags: ['cases'],
          summary: 'Cancel a case with a reason: compensations run, paid refunds escalate, the case ends cancelled',
          params: { type: 'object', required: ['caseId'], properties: { caseId: { type: 'string', pattern: CASE_ID } } },
          headers: idempotencyHeaders(),
          body: {
            type: 'object',
            additionalProperties: false,
            required: ['reason'],
            properties: { reason: { type: 'string', minLength: 1, maxLength: 500, pattern: '\\S' } },
          },
          response: responses({ 200: BODIES.cancelled, 202: BODIES.cancelled }, [
            ...WITH_BODY,
            'unknown-case',
            'case-closed',
            'idempotency-key-in-use',
            'idempotency-key-reused',
          ]),
        },
      },
      async (request, reply) => {
        const { caseId } = request.params;
        const key = idempotencyKeyOf(request);
        if (typeof key === 'object') return sendAnswer(reply, answerOf(key, reply));
        const cancel = async (): Promise<Answer> => {
          const result = await deps.cases.cancel(caseId, { by: actorOf(request), reason: request.body.reason.trim() });
          switch (result.kind) {
            case 'unknown-case':
              return answerOf(problem('unknown-case', `no case ${caseId}`), reply);
            case 'closed':
              return answerOf(problem('case-closed', result.message, { caseId, case: `/v1/cases/${caseId}` }), reply);
            case 'accepted':
              return { status: 202, body: { status: 'accepted' } };
            case 'duplicate':
              return { status: 200, body: { status: 'duplicate' } };
          }
        };
        if (key === undefined) return sendAnswer(reply, await cancel());
        // The case is part of what the key answers: the same key and reason for another case is another request.
        return idempotently(deps.pool, reply, request.apiKey!.id, key, { caseId, ...request.body }, cancel);
      },
    );
  };
