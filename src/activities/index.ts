/** Activity implementations: every write is keyed by an idempotency key and safe to repeat. */
import { ApplicationFailure } from '@temporalio/activity';
import type { Pool } from '../store/pool.js';
import { localAdapters, type Adapters } from './adapters.js';
import type { CaseActivities } from '../plan/activities.js';
import { FAILURE_TYPES } from '../plan/failures.js';
import { openEscalation } from '../store/escalations.js';
import { insertOutboxMessage } from '../store/outbox.js';
import { recordProgress } from '../store/progress.js';
import { closeTask, openTask } from '../store/tasks.js';

export function createActivities(pool: Pool, adapters: Adapters = localAdapters(pool)): CaseActivities {
  return {
    async sendMessage(request) {
      const messageId = await insertOutboxMessage(pool, request);
      await adapters.channel.deliver({ ...request, messageId });
      return { messageId };
    },

    async issueRefund(request) {
      const outcome = await adapters.payments.refund(request);
      if (!outcome.issued) {
        throw ApplicationFailure.create({ type: FAILURE_TYPES.RefundDeclined, message: outcome.declineReason, nonRetryable: true });
      }
      return { refundId: outcome.refundId, providerReference: outcome.providerReference };
    },

    openEscalation: async (request) => ({ escalationId: await openEscalation(pool, request) }),

    openTask: async (request) => ({ taskId: await openTask(pool, request) }),

    closeTask: (closure) => closeTask(pool, closure),

    writeOrderNote: (request) => adapters.orders.writeNote(request),

    callIntegration: (request) => adapters.integrations.call(request),

    recordProgress: (report) => recordProgress(pool, report),
  };
}
