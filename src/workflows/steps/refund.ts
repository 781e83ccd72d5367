import { ActivityFailure, ApplicationFailure, CancellationScope, TimeoutFailure, sleep } from '@temporalio/workflow';
import type { CaseActivities, RefundRequest } from '../../plan/activities.js';
import { toSafeNumber } from '../../plan/cel.js';
import { formatSpan } from '../../plan/duration.js';
import { evidenceText, readableDuration } from '../../plan/evidence.js';
import { FAILURE_TYPES } from '../../plan/failures.js';
import { orderIdOf } from '../../plan/plan.js';
import { CASE_OPENED, DEFAULT_BREACH_QUEUE, refundWithin, type RefundStep } from '../../plan/steps/refund.js';
import { ownFailure } from '../failures.js';
import { iso } from '../time.js';
import type { StepInterpreter, StepRuntime } from './runtime.js';

export const refund: StepInterpreter<RefundStep> = { run: runRefund };

/**
 * Issues the refund. When its deadline passes first, the breach is recorded and escalated and the
 * refund goes on under the same key until the provider answers; a refusal takes `on_declined`.
 */
async function runRefund(step: RefundStep, rt: StepRuntime, key: string): Promise<string> {
  const from = step.from === CASE_OPENED ? rt.state.openedAt : rt.state.received[step.from]?.at;
  const deadline = rt.after(Date.parse(from ?? iso(Date.now())), refundWithin(step));
  const amount = toSafeNumber(rt.evaluate(step.amount));
  const evidence = refundEvidence(step, rt, amount, deadline);
  if (amount <= 0) {
    rt.record(step, { declined: `computed amount ${amount} is not positive`, goto: step.onDeclined, ...evidence() });
    return step.onDeclined;
  }
  const orderId = orderIdOf(rt.plan, rt.state.data);
  const lineId = step.line ? String(rt.evaluate(step.line)) : undefined;
  const request: RefundRequest = {
    key,
    caseId: rt.caseId,
    stepId: step.id,
    orderId,
    amount,
    currency: step.currency,
    reason: step.reason,
    covers: step.covers,
    ...(lineId !== undefined ? { lineId } : {}),
    deadlineAt: iso(deadline),
  };
  if (Date.now() >= deadline) {
    if (!rt.versions.has('late-refunds-keep-going')) {
      rt.record(step, { breach: iso(deadline), amount, goto: step.onBreach, ...evidence() });
      return step.onBreach;
    }
    return settleLate(step, rt, request, amount, evidence, () => answerOf(rt.refunds.issueRefund(request)));
  }
  const issuer = rt.refundsUntil(deadline);
  if (issuer) return refundBeforeDeadline(step, rt, request, issuer, deadline, amount, evidence);
  await rt.working([{ kind: 'refund', step: step.id, at: iso(deadline) }]);
  return raceTheDeadline(step, rt, request, deadline, amount, evidence);
}

/** Issues the refund with a timer running to its deadline; the first to end decides. */
async function raceTheDeadline(
  step: RefundStep,
  rt: StepRuntime,
  request: RefundRequest,
  deadline: number,
  amount: number,
  evidence: () => Record<string, unknown>,
): Promise<string> {
  const refundScope = new CancellationScope();
  const timerScope = new CancellationScope();
  const issued = refundScope.run(() => rt.refunds.issueRefund(request));
  const timer = timerScope.run(() => sleep(deadline - Date.now()));
  const outcome = await Promise.race([
    answerOf(issued),
    timer.then(
      () => ({ breach: true as const }),
      () => ({ breach: false as const }),
    ),
  ]);
  if ('breach' in outcome) {
    if (!rt.versions.has('late-refunds-keep-going')) {
      refundScope.cancel();
      await issued.catch(() => undefined);
      rt.record(step, { breach: iso(deadline), amount, goto: step.onBreach, ...evidence() });
      return step.onBreach;
    }
    return settleLate(step, rt, request, amount, evidence, () => answerOf(issued));
  }
  timerScope.cancel();
  await timer.catch(() => undefined);
  return settle(step, rt, amount, outcome, step.next, evidence);
}

/**
 * History shape 4: the refund carries the case's progress report, runs within the workflow task, and
 * if it keeps failing there goes on as an activity ending at its deadline (schedule-to-close): no
 * marker for the report and no timer. Paid after the deadline, or out of time, the breach is escalated
 * (and the refund goes on under the same key), as on the shapes before.
 */
async function refundBeforeDeadline(
  step: RefundStep,
  rt: StepRuntime,
  request: RefundRequest,
  issuer: Pick<CaseActivities, 'issueRefund'>,
  deadline: number,
  amount: number,
  evidence: () => Record<string, unknown>,
): Promise<string> {
  const progress = rt.progressWith([{ kind: 'refund', step: step.id, at: request.deadlineAt }]);
  const answer = await answerOf(issuer.issueRefund({ ...request, progress: progress.report }));
  if ('receipt' in answer) {
    progress.written();
    if (Date.now() <= deadline) return settle(step, rt, amount, answer, step.next, evidence);
    return settleLate(step, rt, request, amount, evidence, async () => answer);
  }
  if (!ranOutOfTime(answer.error)) return settle(step, rt, amount, answer, step.next, evidence);
  // The server gives up early when the next retry would start past the deadline: the rest races a timer.
  if (Date.now() < deadline) return raceTheDeadline(step, rt, request, deadline, amount, evidence);
  return settleLate(step, rt, request, amount, evidence, () => answerOf(rt.refunds.issueRefund(request)));
}

/** The refund's time ran out: its schedule-to-close timeout fired, or no retry fits before it. */
const ranOutOfTime = (error: unknown): boolean =>
  error instanceof ActivityFailure &&
  (error.retryState === 'TIMEOUT' || (error.cause instanceof TimeoutFailure && error.cause.timeoutType === 'SCHEDULE_TO_CLOSE'));

/**
 * What a refund's records carry as evidence: the amount expression's inputs, the amount as money, the
 * deadline and where it counts from, and (measured when recorded) whether it was met and by how much.
 */
function refundEvidence(step: RefundStep, rt: StepRuntime, amount: number, deadline: number): () => Record<string, unknown> {
  const fixed = {
    amountFrom: rt.evidence(step.amount),
    money: evidenceText({ amount, currency: step.currency }, rt.plan.timezone),
    currency: step.currency,
    ...(step.line ? { line: String(rt.evaluate(step.line)), lineFrom: rt.evidence(step.line) } : {}),
    deadline: iso(deadline),
    deadlineFrom: step.from,
    within: step.withinBusiness ? formatSpan(step.withinBusiness) : readableDuration(step.withinMs ?? 0),
  };
  return () => {
    const now = Date.now();
    return {
      ...fixed,
      ...(now <= deadline ? { met: true, margin: readableDuration(deadline - now) } : { met: false, lateBy: readableDuration(now - deadline) }),
    };
  };
}

/** Past the deadline: the breach is escalated first, then the refund's answer settles the step on its `on_breach` path. */
async function settleLate(
  step: RefundStep,
  rt: StepRuntime,
  request: RefundRequest,
  amount: number,
  evidence: () => Record<string, unknown>,
  answer: () => Promise<RefundAnswer>,
): Promise<string> {
  await escalateBreach(step, rt, request, evidence);
  return settle(step, rt, amount, await answer(), step.onBreach, evidence);
}

/** The deadline passed with the refund still open: marked late in the ledger and escalated, once. */
async function escalateBreach(step: RefundStep, rt: StepRuntime, request: RefundRequest, evidence: () => Record<string, unknown>): Promise<void> {
  await rt.activities.markRefundLate(request);
  const { escalationId } = await rt.activities.openEscalation({
    key: `${request.key}/late`,
    caseId: rt.caseId,
    stepId: step.id,
    queue: step.breachQueue ?? DEFAULT_BREACH_QUEUE,
    severity: 'critical',
    reason: 'refund_sla_breached',
    note: `refund ${request.key} of ${request.amount} ${request.currency} was due ${request.deadlineAt}; it is still being paid`,
  });
  rt.record(step, { ...evidence(), breach: request.deadlineAt, amount: request.amount, escalationId, late: true });
  await rt.working([]);
}

type RefundAnswer = { receipt: { refundId: number; providerReference: string } } | { error: unknown };

const answerOf = (issued: Promise<{ refundId: number; providerReference: string }>): Promise<RefundAnswer> =>
  issued.then(
    (receipt) => ({ receipt }),
    (error: unknown) => ({ error }),
  );

/** Where the refund's answer leads: `next` (or the late path) when paid, `on_declined` when refused. */
function settle(step: RefundStep, rt: StepRuntime, amount: number, outcome: RefundAnswer, paid: string, evidence: () => Record<string, unknown>): string {
  if ('receipt' in outcome) {
    rt.record(step, {
      ...evidence(),
      refundId: outcome.receipt.refundId,
      amount,
      currency: step.currency,
      providerReference: outcome.receipt.providerReference,
      ...(paid === step.next ? {} : { late: true, goto: paid }),
    });
    return paid;
  }
  const error = outcome.error;
  const failure = ownFailure(error);
  if (failure instanceof ApplicationFailure && failure.type === FAILURE_TYPES.RefundDeclined) {
    rt.record(step, { ...evidence(), declined: failure.message, amount, goto: step.onDeclined });
    return step.onDeclined;
  }
  throw error;
}
