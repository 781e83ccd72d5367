import type { FastifyPluginAsync } from 'fastify';
import type { WarehouseReceipt } from '../../cases/inbox.js';
import type { ApiDependencies } from '../dependencies.js';
import { actorOf } from '../auth.js';
import { sendInboxOutcome } from '../delivery.js';
import { BODIES, responses, WITH_BODY } from '../responses.js';

/**
 * The warehouse system reports a receipt by order id or return tracking number; the inbox finds the
 * case waiting for it. The receipt is delivered as by the key that called.
 */
export const webhookRoutes =
  (deps: ApiDependencies): FastifyPluginAsync =>
  async (app) => {
    app.post<{ Body: WarehouseReceipt }>(
      '/warehouse',
      {
        config: { roles: ['warehouse', 'admin'] },
        schema: {
          tags: ['webhooks'],
          summary:
            'A returned parcel arrived at the warehouse: kept in the event inbox and delivered as warehouse.received to the one open case waiting for it ' +
            '(202 accepted, 200 duplicate, 202 unrouted when no case waits for it, 409 when several do)',
          body: {
            type: 'object',
            additionalProperties: false,
            required: ['receiptId', 'payload'],
            anyOf: [{ required: ['orderId'] }, { required: ['returnTracking'] }],
            properties: {
              receiptId: { type: 'string', minLength: 1, maxLength: 200, description: 'The warehouse’s id for this receipt; the same id twice is one receipt' },
              orderId: { type: 'string', minLength: 1, maxLength: 100 },
              returnTracking: { type: 'string', minLength: 1, maxLength: 100 },
              payload: { type: 'object', description: 'The warehouse.received payload the playbook declares' },
            },
          },
          response: responses({ 200: BODIES.delivery, 202: BODIES.delivery }, [
            ...WITH_BODY,
            'event-not-expected',
            'case-closed',
            'ambiguous-event',
            'invalid-event',
          ]),
        },
      },
      async (request, reply) => sendInboxOutcome(reply, await deps.inbox.deliverWarehouseReceipt(request.body, actorOf(request))),
    );
  };
