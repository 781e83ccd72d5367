/** `POST /v1/deliveries/{webhookId}/redeliver`: an admin delivers an outbound webhook once more. */
import type { FastifyPluginAsync } from 'fastify';
import { redeliverWebhook } from '../../services/deliveries.js';
import { actorOf } from '../auth.js';
import type { ApiDependencies } from '../dependencies.js';
import { problem, sendProblem } from '../problems.js';
import { BODIES, responses } from '../responses.js';

export const deliveryRoutes =
  (deps: ApiDependencies): FastifyPluginAsync =>
  async (app) => {
    app.post<{ Params: { webhookId: string } }>(
      '/:webhookId/redeliver',
      {
        config: { roles: ['admin'] },
        schema: {
          tags: ['webhooks'],
          summary:
            'Send a webhook delivery once more, now, to the same destination under the same webhook-id with the same type and data (admin); ' +
            'answers the new attempt, delivered or failed. Not for a delivered one (409 delivery-delivered) nor a refund (409 delivery-not-redeliverable)',
          params: {
            type: 'object',
            required: ['webhookId'],
            properties: {
              webhookId: { type: 'string', minLength: 1, maxLength: 500, description: 'The delivery’s webhook-id (URL-encoded: it holds slashes)' },
            },
          },
          response: responses({ 200: BODIES.deliveryAttempt }, ['unknown-delivery', 'delivery-delivered', 'delivery-not-redeliverable']),
        },
      },
      async (request, reply) => {
        const { webhookId } = request.params;
        const result = await redeliverWebhook(deps.pool, deps.redeliverers ?? (() => undefined), webhookId, actorOf(request));
        switch (result.kind) {
          case 'unknown':
            return sendProblem(reply, problem('unknown-delivery', `no delivery was ever attempted under the webhook-id ${webhookId}`));
          case 'delivered':
            return sendProblem(reply, problem('delivery-delivered', `${webhookId} was delivered already: the receiver has it`));
          case 'not-redeliverable':
            return sendProblem(reply, problem('delivery-not-redeliverable', result.message));
          case 'redelivered': {
            const { id: _id, caseId: _caseId, ...attempt } = result.attempt;
            return attempt;
          }
        }
      },
    );
  };
