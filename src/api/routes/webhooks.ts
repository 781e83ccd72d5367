import type { FastifyPluginAsync } from 'fastify';
import type { WarehouseReceipt } from '../../cases/service.js';
import type { ApiDependencies } from '../dependencies.js';
import { deliveryProblem } from '../delivery.js';
import { problem, sendProblem } from '../problems.js';

/** The warehouse system reports a receipt by order id or return tracking number; we find the case. */
export const webhookRoutes = (deps: ApiDependencies): FastifyPluginAsync => async (app) => {
  app.post<{ Body: WarehouseReceipt }>('/warehouse', {
    config: { roles: ['warehouse', 'admin'] },
    schema: {
      tags: ['webhooks'], summary: 'A returned parcel arrived at the warehouse: delivers warehouse.received to its case',
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
    const delivered = await deps.cases.deliverWarehouseReceipt(request.body);
    if (!delivered) return sendProblem(reply, problem('no-matching-case', `no case for ${orderId ? `order ${orderId}` : `return tracking ${returnTracking}`}`));
    const { caseId, result } = delivered;
    switch (result.status) {
      case 'accepted':
        return reply.code(202).send({ status: 'accepted', caseId });
      case 'duplicate':
        return reply.code(200).send({ status: 'duplicate', caseId });
      case 'unknown-case':
        return sendProblem(reply, problem('no-matching-case', `case ${caseId} is gone`));
      default:
        return sendProblem(reply, deliveryProblem(result, { caseId }));
    }
  });
};
