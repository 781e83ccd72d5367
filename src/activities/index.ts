/** Activity implementations: every write is keyed by an idempotency key and safe to repeat. */
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { Pool } from '../store/pool.js';
import { type Adapters, DeliveryFailure, type EffectAttempt } from '../connectors/ports.js';
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
      await carried(() => adapters.channel.deliver({ ...request, messageId }, effectAttempt()));
      return { messageId };
    },

    async issueRefund({ progress, ...request }) {
      if (progress) await recordProgress(pool, progress);
      const reserved = await reserveRefund(pool, request);
      if (reserved.status === 'issued') return { refundId: reserved.id, providerReference: reserved.providerReference! };
      if (reserved.status === 'declined') throw declined(reserved.declineReason ?? 'declined');
      const outcome = await carried(() => adapters.payments.refund(request, effectAttempt()));
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

    async openEscalation(request) {
      const escalationId = await openEscalation(pool, request);
      try {
        await adapters.notifications.notify({ event: 'escalation.opened', escalationId, ...request }, effectAttempt());
      } catch (error) {
        // Out of attempts, the escalation still stands in its queue: failing the step for it would
        // only escalate again, and a case failing already would have nowhere left to go.
        if (!(error instanceof DeliveryFailure && error.retryInMs === undefined)) throw failureOf(error);
      }
      return { escalationId };
    },

    async openTask(request) {
      const taskId = await openTask(pool, request);
      await carried(() => adapters.notifications.notify({ event: 'task.opened', taskId, ...request }, effectAttempt()));
      return { taskId };
    },

    closeTask: (closure) => closeTask(pool, closure),

    writeOrderNote: (request) => carried(() => adapters.orders.writeNote(request, effectAttempt())),

    callIntegration: (request) => carried(() => adapters.integrations.call(request, effectAttempt())),

    recordProgress: (report) => recordProgress(pool, report),
  };
}

/** A refund the ledger or the provider refused: not retried; the playbook's `on_declined` decides. */
function declined(reason: string): ApplicationFailure {
  return ApplicationFailure.create({ type: FAILURE_TYPES.RefundDeclined, message: reason, nonRetryable: true });
}

/** The activity's attempt, for the connectors; undefined when called outside an activity. */
function effectAttempt(): EffectAttempt | undefined {
  let info: Context['info'];
  try {
    info = Context.current().info;
  } catch {
    return undefined;
  }
  return { inWorkflowTask: info.isLocal, activityAttempt: info.attempt, scheduledAt: info.currentAttemptScheduledTimestampMs };
}

/** Runs a connector's side effect, its DeliveryFailure turned into the activity's failure. */
async function carried<T>(effect: () => Promise<T>): Promise<T> {
  try {
    return await effect();
  } catch (error) {
    throw failureOf(error);
  }
}

/**
 * A connector that could not deliver says when to try again: the activity's next attempt waits that
 * long (the connector follows its retry schedule); never again: the playbook's failure path. Inside the
 * workflow task the type is not retried there (run-case.ts), and the activity carries it on.
 */
function failureOf(error: unknown): unknown {
  if (!(error instanceof DeliveryFailure)) return error;
  const { retryInMs } = error;
  return ApplicationFailure.create({
    type: FAILURE_TYPES.DeliveryFailed,
    message: error.message,
    nonRetryable: retryInMs === undefined,
    ...(retryInMs ? { nextRetryDelay: retryInMs } : {}),
  });
}
