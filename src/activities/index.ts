/** Activity implementations: every write is keyed by an idempotency key and safe to repeat. */
import { ApplicationFailure } from '@temporalio/activity';
import type { Pool } from '../store/pool.js';
import type { Adapters } from '../connectors/ports.js';
import type { CaseActivities } from '../plan/activities.js';
import { FAILURE_TYPES } from '../plan/failures.js';
import { openEscalation } from '../store/escalations.js';
import { insertOutboxMessage } from '../store/outbox.js';
import { recordProgress } from '../store/progress.js';
import { markRefundLate, reserveRefund, settleRefund } from '../store/refunds.js';
import { closeTask, openTask } from '../store/tasks.js';

export function createActivities(pool: Pool, adapters: Adapters): CaseActivities {
  return {
    async sendMessage(request) {
      const messageId = await insertOutboxMessage(pool, request);
      await adapters.channel.deliver({ ...request, messageId });
      return { messageId };
    },

    async issueRefund({ progress, ...request }) {
      if (progress) await recordProgress(pool, progress);
      const reserved = await reserveRefund(pool, request);
      if (reserved.status === 'issued') return { refundId: reserved.id, providerReference: reserved.providerReference! };
      if (reserved.status === 'declined') throw declined(reserved.declineReason ?? 'declined');
      const outcome = await adapters.payments.refund(request);
      if (!outcome.issued) {
        await settleRefund(pool, request.key, { declineReason: outcome.declineReason });
        throw declined(outcome.declineReason);
      }
      await settleRefund(pool, request.key, { providerReference: outcome.providerReference });
      return { refundId: reserved.id, providerReference: outcome.providerReference };
    },

    async markRefundLate(request) {
      await reserveRefund(pool, request);
      await markRefundLate(pool, request.key);
    },

    openEscalation: async (request) => ({ escalationId: await openEscalation(pool, request) }),

    openTask: async (request) => ({ taskId: await openTask(pool, request) }),

    closeTask: (closure) => closeTask(pool, closure),

    writeOrderNote: (request) => adapters.orders.writeNote(request),

    callIntegration: (request) => adapters.integrations.call(request),

    recordProgress: (report) => recordProgress(pool, report),
  };
}

/** A refund the ledger or the provider refused: not retried; the playbook's `on_declined` decides. */
function declined(reason: string): ApplicationFailure {
  return ApplicationFailure.create({ type: FAILURE_TYPES.RefundDeclined, message: reason, nonRetryable: true });
}
