import type { FastifyPluginAsync } from 'fastify';
import { ledgerOf, recordAdvance } from '../../services/orders.js';
import { keyNamed, READERS } from '../auth.js';
import type { ApiDependencies } from '../dependencies.js';
import { problem, sendProblem } from '../problems.js';
import { BODIES, responses, WITH_BODY } from '../responses.js';

const TAGS = ['orders'];
const orderParams = { type: 'object', required: ['orderId'], properties: { orderId: { type: 'string', minLength: 1, maxLength: 100 } } } as const;
/** Who records what a buyer advanced: the warehouse, which sees how the parcel came back, and the leads; never an agent, who opens cases. */
const ADVANCE_RECORDERS = ['warehouse', 'ops-lead', 'admin'] as const;

interface AdvanceBody {
  kind: 'return_shipping';
  amount: number;
  currency: string;
  evidence: string;
}

/** An order's ledger, for finance and auditors: what was paid and advanced, and every refund of all its cases by kind. */
export const orderRoutes =
  (deps: ApiDependencies): FastifyPluginAsync =>
  async (app) => {
    app.get<{ Params: { orderId: string } }>(
      '/:orderId/ledger',
      {
        config: { roles: READERS },
        schema: {
          tags: TAGS,
          summary: 'What was paid for an order and advanced by its buyer, the cap of each kind of refund, and every refund of its cases',
          params: orderParams,
          response: responses({ 200: BODIES.ledger }, ['unknown-order']),
        },
      },
      async (request, reply) => {
        const ledger = await ledgerOf(deps.pool, request.params.orderId);
        if (!ledger) return sendProblem(reply, problem('unknown-order', `no case has recorded a payment for order ${request.params.orderId}`));
        return ledger;
      },
    );

    app.post<{ Params: { orderId: string }; Body: AdvanceBody }>(
      '/:orderId/advances',
      {
        config: { roles: ADVANCE_RECORDERS },
        schema: {
          tags: TAGS,
          summary: 'Record what the buyer advanced for the order (return shipping), with its evidence; once per evidence',
          params: orderParams,
          body: {
            type: 'object',
            additionalProperties: false,
            required: ['kind', 'amount', 'currency', 'evidence'],
            properties: {
              kind: { type: 'string', enum: ['return_shipping'] },
              amount: { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER - 1, description: 'minor units' },
              currency: { type: 'string', pattern: '^[A-Z]{3}$' },
              evidence: { type: 'string', minLength: 1, maxLength: 500, pattern: '\\S', description: 'what shows it: the waybill number, the receipt' },
            },
          },
          response: responses({ 200: BODIES.ledger, 201: BODIES.ledger }, ['unknown-order', 'invalid-advance', ...WITH_BODY]),
        },
      },
      async (request, reply) => {
        const { orderId } = request.params;
        const { kind, amount, currency, evidence } = request.body;
        const recorded = await recordAdvance(deps.pool, orderId, { kind, amount, currency, evidence: evidence.trim() }, keyNamed(request.apiKey!));
        if (recorded.kind === 'unknown-order') return sendProblem(reply, problem('unknown-order', `no case has recorded a payment for order ${orderId}`));
        if (recorded.kind === 'refused') {
          return sendProblem(reply, problem('invalid-advance', recorded.message, { errors: [{ pointer: '/currency', message: recorded.message }] }));
        }
        return reply.code(recorded.created ? 201 : 200).send(recorded.ledger);
      },
    );
  };
