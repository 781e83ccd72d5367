import { ActivityFailure, ApplicationFailure, CancellationScope, sleep } from '@temporalio/workflow';
import { toSafeNumber } from '../cel.js';
import { formatDuration } from '../duration.js';
import { FAILURE_TYPES } from '../failures.js';
import type { Expr, StepBase } from '../plan.js';
import type { StepKind, StepRuntime } from './kind.js';
import { iso } from './time.js';

export interface RefundStep extends StepBase {
  kind: 'refund';
  /** CEL integer expression: minor units. */
  amount: Expr;
  currency: string;
  reason: string;
  /** `payment` counts against what the buyer paid; `return_shipping` reimburses advanced shipping. */
  covers: 'payment' | 'return_shipping';
  /** The deadline: `withinMs` after the moment `from` (an event name, or `case.opened`). */
  withinMs: number;
  from: string;
  /** Where to go when the deadline passes before the refund is issued. */
  onBreach: string;
  /** Where to go when the payment provider declines the refund (a business refusal). */
  onDeclined: string;
  next: string;
}

export interface RawRefund {
  amount: string;
  reason: string;
  covers?: 'payment' | 'return_shipping';
  within: string;
  from: string;
  on_breach: string;
  on_declined: string;
}

/** The moment a refund deadline may count from, besides the arrival of a declared event. */
export const CASE_OPENED = 'case.opened';

export const refund: StepKind<RefundStep, RawRefund> = {
  kind: 'refund',
  schema: '#/$defs/step/properties/refund',
  waits: false,
  shape: 'box',
  compile(raw, c) {
    const { events, paidField, currency } = c.declarations;
    if (!paidField) c.error('PB117', 'a refund needs paid_field: the money field with what the buyer paid, the ceiling for refunds', c.path, { key: true, hint: 'add paid_field: <money field> at the top of the playbook' });
    if (raw.from !== CASE_OPENED && !events[raw.from]) c.error('PB118', `the deadline counts from '${raw.from}', which is neither a declared event nor ${CASE_OPENED}`, [...c.path, 'from'], { hint: c.hint(raw.from, Object.keys(events), 'name the event whose arrival starts the clock') });
    return {
      kind: 'refund',
      amount: c.expression(raw.amount, [...c.path, 'amount'], 'int'),
      currency,
      reason: raw.reason,
      covers: raw.covers ?? 'payment',
      withinMs: c.duration(raw.within, [...c.path, 'within']) ?? 0,
      from: raw.from,
      onBreach: c.ref(raw.on_breach, [...c.path, 'on_breach']),
      onDeclined: c.ref(raw.on_declined, [...c.path, 'on_declined']),
      next: c.next(),
    };
  },
  edges: (step) => [{ to: step.next, label: 'refunded' }, { to: step.onBreach, label: 'deadline passed' }, { to: step.onDeclined, label: 'declined' }],
  describe: (step) => `refund within ${formatDuration(step.withinMs)}`,
  run: runRefund,
};

/** Issues the refund unless its deadline passes first; a provider's refusal takes `on_declined`. */
async function runRefund(step: RefundStep, rt: StepRuntime, key: string): Promise<string> {
  const from = step.from === CASE_OPENED ? rt.state.openedAt : rt.state.received[step.from]?.at;
  const deadline = Date.parse(from ?? iso(Date.now())) + step.withinMs;
  const amount = toSafeNumber(rt.evaluate(step.amount));
  if (amount <= 0) {
    rt.record(step, { declined: `computed amount ${amount} is not positive`, goto: step.onDeclined });
    return step.onDeclined;
  }
  if (Date.now() >= deadline) {
    rt.record(step, { breach: iso(deadline), amount, goto: step.onBreach });
    return step.onBreach;
  }
  await rt.working([{ kind: 'refund', step: step.id, at: iso(deadline) }]);
  const refundScope = new CancellationScope();
  const timerScope = new CancellationScope();
  const issued = refundScope.run(() =>
    rt.activities.issueRefund({
      key, caseId: rt.caseId, stepId: step.id, amount, currency: step.currency, reason: step.reason, covers: step.covers, deadlineAt: iso(deadline),
    }),
  );
  const timer = timerScope.run(() => sleep(deadline - Date.now()));
  const outcome = await Promise.race([
    issued.then((receipt) => ({ receipt }), (error: unknown) => ({ error })),
    timer.then(() => ({ breach: true as const }), () => ({ breach: false as const })),
  ]);
  if ('breach' in outcome) {
    refundScope.cancel();
    await issued.catch(() => undefined);
    rt.record(step, { breach: iso(deadline), amount, goto: step.onBreach });
    return step.onBreach;
  }
  timerScope.cancel();
  await timer.catch(() => undefined);
  if ('receipt' in outcome) {
    rt.record(step, { refundId: outcome.receipt.refundId, amount, currency: step.currency, providerReference: outcome.receipt.providerReference });
    return step.next;
  }
  const error = outcome.error;
  if (error instanceof ActivityFailure && error.cause instanceof ApplicationFailure && error.cause.type === FAILURE_TYPES.RefundDeclined) {
    rt.record(step, { declined: error.cause.message, amount, goto: step.onDeclined });
    return step.onDeclined;
  }
  throw error;
}
