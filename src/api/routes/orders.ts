import type { FastifyPluginAsync } from 'fastify';
import { orderLedger, orderRefunds } from '../../store/orders.js';
import { READERS } from '../auth.js';
import type { ApiDependencies } from '../dependencies.js';
import { problem, sendProblem } from '../problems.js';
import { BODIES, responses } from '../responses.js';

/** An order's ledger, for finance and auditors: what was paid, and every refund of all its cases by kind. */
export const orderRoutes = (deps: ApiDependencies): FastifyPluginAsync => async (app) => {
  app.get<{ Params: { orderId: string } }>('/:orderId/ledger', {
    config: { roles: READERS },
    schema: {
      tags: ['orders'], summary: 'What was paid for an order, the cap of each kind of refund, and every refund of its cases',
      params: { type: 'object', required: ['orderId'], properties: { orderId: { type: 'string', minLength: 1, maxLength: 100 } } },
      response: responses({ 200: BODIES.ledger }, ['unknown-order']),
    },
  }, async (request, reply) => {
    const ledger = await orderLedger(deps.pool, request.params.orderId);
    if (!ledger) return sendProblem(reply, problem('unknown-order', `no case has recorded a payment for order ${request.params.orderId}`));
    return { ...ledger, refunds: await orderRefunds(deps.pool, request.params.orderId) };
  });
};
