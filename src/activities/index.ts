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
import { createHash } from 'node:crypto';
import { OrderPaymentMismatch, recordCase } from '../cases/service.js';
import { CASEBOOK_ACTOR, HISTORY_SHAPE, ridingReport, workflowIdFor, type CaseInput } from '../plan/case.js';
import { orderIdOf } from '../plan/plan.js';
import { checkValues } from '../plan/values.js';
import { OpenKeyTaken, openerOf } from '../store/cases.js';
import { getPlaybook } from '../store/playbooks.js';
import { checkOrderLines } from '../plan/order-lines.js';
import { OrderLinesConflict } from '../store/orders.js';

/** `historyShape`: the shape of the child cases it opens (CASEBOOK_HISTORY_SHAPE). */
export function createActivities(pool: Pool, adapters: Adapters, historyShape = HISTORY_SHAPE): CaseActivities {
  return {
    async sendMessage({ rides, ...request }) {
      const messageId = await insertOutboxMessage(pool, request);
      await carried(() => adapters.channel.deliver({ ...request, messageId }, effectAttempt()));
      if (rides) await recordProgress(pool, ridingReport(rides, { messageId }));
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

    async openEscalation({ rides, ...request }) {
      const escalationId = await openEscalation(pool, request);
      try {
        await adapters.notifications.notify({ event: 'escalation.opened', escalationId, ...request }, effectAttempt());
      } catch (error) {
        // Out of attempts, the escalation still stands in its queue: failing the step for it would
        // only escalate again, and a case failing already would have nowhere left to go.
        if (!(error instanceof DeliveryFailure && error.retryInMs === undefined)) throw failureOf(error);
      }
      if (rides) await recordProgress(pool, ridingReport(rides, { escalationId }));
      return { escalationId };
    },

    async openTask(request) {
      const taskId = await openTask(pool, request);
      await carried(() => adapters.notifications.notify({ event: 'task.opened', taskId, ...request }, effectAttempt()));
      return { taskId };
    },

    closeTask: (closure) => closeTask(pool, closure),

    async writeOrderNote({ rides, ...request }) {
      await carried(() => adapters.orders.writeNote(request, effectAttempt()));
      if (rides) await recordProgress(pool, ridingReport(rides, undefined));
    },

    callIntegration: (request) => carried(() => adapters.integrations.call(request, effectAttempt())),

    async recordProgress(report) {
      await recordProgress(pool, report);
    },

    async openChildCase(request) {
      const { name, version, hash } = request.playbook;
      const stored = await getPlaybook(pool, name, version);
      if (stored?.hash !== hash) throw childRefused(`playbook ${name} v${version} is not published with the plan the step pinned (${hash})`);
      const typed = checkValues(stored.plan.fields, request.data, '', stored.plan.currency);
      const problems = typed.length > 0 ? typed : checkOrderLines(stored.plan, request.data, '');
      if (problems.length > 0)
        throw childRefused(`the input does not fit playbook ${name} v${version}: ${problems.map((p) => `${p.pointer} ${p.message}`).join('; ')}`);
      const caseId = childCaseId(request.key);
      // Opened on behalf of whoever opened the parent: the child's remarks sign with the same name.
      const opener = (await openerOf(pool, request.caseId)) ?? CASEBOOK_ACTOR;
      const input: CaseInput = {
        caseId,
        playbook: request.playbook,
        plan: stored.plan,
        data: request.data,
        openedBy: opener.name,
        parent: { caseId: request.caseId, step: request.stepId },
        // The shape of a case opened now, as the case service gives every new case.
        historyShape,
      };
      try {
        await recordCase(pool, input, opener, { caseId: request.caseId, step: request.stepId, key: request.key });
      } catch (error) {
        if (error instanceof OrderPaymentMismatch || error instanceof OrderLinesConflict || error instanceof OpenKeyTaken) throw childRefused(error.message);
        throw error;
      }
      return { caseId, workflowId: workflowIdFor(caseId), input, caseType: stored.plan.caseType, orderId: orderIdOf(stored.plan, request.data) };
    },
  };
}

/**
 * A child case's id, from the key of the step visit that opens it (`<case>/<step>/<visit>`, an
 * iteration's `@<index>` in it): readable when it fits a case id, else a digest of the key.
 */
export function childCaseId(key: string): string {
  const readable = key.replaceAll('/', '.').replaceAll('@', '-');
  return /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/.test(readable) ? readable : `child-${createHash('sha256').update(key).digest('hex').slice(0, 40)}`;
}

/** A child case that cannot be opened: not retried; the step's `on_error` decides. */
function childRefused(message: string): ApplicationFailure {
  return ApplicationFailure.create({ type: FAILURE_TYPES.ChildCaseFailed, message, nonRetryable: true });
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
