import type { FastifyPluginAsync } from 'fastify';
import type { ApiDependencies } from '../dependencies.js';
import { deliveryProblem } from '../delivery.js';
import { problem, sendProblem } from '../problems.js';

interface WarehouseReceipt {
  receiptId: string;
  orderId?: string;
  returnTracking?: string;
  payload: Record<string, unknown>;
}

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
    const { receiptId, orderId, returnTracking, payload } = request.body;
    if (!orderId && !returnTracking) {
      return sendProblem(reply, problem('invalid-request', 'give orderId or returnTracking', { errors: [{ pointer: '/orderId', message: 'orderId or returnTracking is required' }] }));
    }
    const { rows } = await deps.pool.query<{ case_id: string }>(
      `SELECT case_id FROM cases
       WHERE (($1::text IS NOT NULL AND order_id = $1) OR ($2::text IS NOT NULL AND return_tracking = $2))
       ORDER BY (status = 'closed'), opened_at DESC LIMIT 2`,
      [orderId ?? null, returnTracking ?? null],
    );
    const found = rows[0];
    if (!found) return sendProblem(reply, problem('no-matching-case', `no case for ${orderId ? `order ${orderId}` : `return tracking ${returnTracking}`}`));
    const result = await deps.cases.deliverEvent(found.case_id, { type: 'warehouse.received', id: receiptId, payload });
    switch (result.status) {
      case 'accepted':
        return reply.code(202).send({ status: 'accepted', caseId: found.case_id });
      case 'duplicate':
        return reply.code(200).send({ status: 'duplicate', caseId: found.case_id });
      case 'unknown-case':
        return sendProblem(reply, problem('no-matching-case', `case ${found.case_id} is gone`));
      default:
        return sendProblem(reply, deliveryProblem(result, { caseId: found.case_id }));
    }
  });
};
