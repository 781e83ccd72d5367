import type { FastifyPluginAsync } from 'fastify';
import type { WarehouseReceipt } from '../../cases/inbox.js';
import type { ApiDependencies } from '../dependencies.js';
import { sendInboxOutcome } from '../delivery.js';
import { problem, sendProblem } from '../problems.js';

/** The warehouse system reports a receipt by order id or return tracking number; the inbox finds the case waiting for it. */
export const webhookRoutes = (deps: ApiDependencies): FastifyPluginAsync => async (app) => {
  app.post<{ Body: WarehouseReceipt }>('/warehouse', {
    config: { roles: ['warehouse', 'admin'] },
    schema: {
      tags: ['webhooks'],
      summary: 'A returned parcel arrived at the warehouse: kept in the event inbox and delivered as warehouse.received to the one open case waiting for it '
        + '(202 accepted, 200 duplicate, 202 unrouted when no case waits for it, 409 when several do)',
      body: {
        type: 'object', additionalProperties: false, required: ['receiptId', 'payload'],
        properties: {
          receiptId: { type: 'string', minLength: 1, maxLength: 200, description: 'The warehouse’s id for this receipt; the same id twice is one receipt' },
          orderId: { type: 'string', minLength: 1, maxLength: 100 },
          returnTracking: { type: 'string', minLength: 1, maxLength: 100 },
          payload: { type: 'object', description: 'The warehouse.received payload the playbook declares' },
        },
      },
    },
  }, async (request, reply) => {
    const { orderId, returnTracking } = request.body;
    if (!orderId && !returnTracking) {
      return sendProblem(reply, problem('invalid-request', 'give orderId or returnTracking', { errors: [{ pointer: '/orderId', message: 'orderId or returnTracking is required' }] }));
    }
    return sendInboxOutcome(reply, await deps.inbox.deliverWarehouseReceipt(request.body));
  });
};
