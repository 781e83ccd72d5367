import type { RefundKind } from '../activities.js';
import { formatSpan, spanOf, type BusinessDuration, type Span } from '../duration.js';
import type { Expr, Plan, StepBase } from '../plan.js';
import type { StepKind } from './kind.js';

export interface RefundStep extends StepBase {
  kind: 'refund';
  /** CEL integer expression: minor units. */
  amount: Expr;
  currency: string;
  reason: string;
  /** The kind of refund: each kind is capped per order (`payment` by what was paid). */
  covers: RefundKind;
  /** CEL string expression: the order line the refund gives back for, one the case concerns; absent: the order as a whole. */
  line?: Expr;
  /** The deadline: `withinMs` (or business time `withinBusiness`) after the moment `from` (an event name, or `case.opened`). */
  withinMs?: number;
  withinBusiness?: BusinessDuration;
  from: string;
  /** Where to go once a late refund is paid (plans before late refunds: instead of paying it). */
  onBreach: string;
  /** The queue escalated to when the deadline passes; absent in plans compiled before it existed. */
  breachQueue?: string;
  /** Where to go when the payment provider declines the refund (a business refusal). */
  onDeclined: string;
  next: string;
}

export interface RawRefund {
  amount: string;
  reason: string;
  covers?: RefundKind;
  line?: string;
  escalate_breach_to?: string;
  within: string;
  from: string;
  on_breach: string;
  on_declined: string;
}

/** The moment a refund deadline may count from, besides the arrival of a declared event. */
export const CASE_OPENED = 'case.opened';

/** Where a breached refund is escalated unless the step says otherwise. */
export const DEFAULT_BREACH_QUEUE = 'finance';

export const refund: StepKind<RefundStep, RawRefund> = {
  kind: 'refund',
  schema: '#/$defs/step/properties/refund',
  waits: false,
  shape: 'box',
  compile(raw, c) {
    const { events, paidField, orderIdField, orderLinesField, concernedLinesField, refundCaps, currency } = c.declarations;
    if (!paidField && !orderLinesField)
      c.error('PB117', 'a refund needs paid_field (or order_lines_field): what the buyer paid is the ceiling for refunds', c.path, {
        key: true,
        hint: 'add paid_field: <money field> at the top of the playbook',
      });
    if (raw.line !== undefined && (!orderLinesField || !concernedLinesField))
      c.error(
        'PB305',
        'a refund naming a line needs order_lines_field and concerned_lines_field: it may name only a line its case concerns',
        [...c.path, 'line'],
        {
          key: true,
          hint: 'add order_lines_field: <the order lines> and concerned_lines_field: <the ids of the lines the case is about>',
        },
      );
    if (!orderIdField)
      c.error('PB119', 'a refund needs order_id_field: refunds are counted per order, across all its cases', c.path, {
        key: true,
        hint: 'add order_id_field: <string field> at the top of the playbook',
      });
    const covers = raw.covers ?? 'payment';
    if (covers !== 'payment' && !refundCaps?.[covers]) {
      c.error('PB125', `a ${covers} refund needs a cap: declare refund_caps.${covers}`, [...c.path, 'covers'], {
        hint: 'e.g. refund_caps: { return_shipping: [order.advanced_return_shipping, policy.max_return_shipping] }',
      });
    }
    if (raw.from !== CASE_OPENED && !events[raw.from])
      c.error('PB118', `the deadline counts from '${raw.from}', which is neither a declared event nor ${CASE_OPENED}`, [...c.path, 'from'], {
        hint: c.hint(raw.from, Object.keys(events), 'name the event whose arrival starts the clock'),
      });
    return {
      kind: 'refund',
      amount: c.expression(raw.amount, [...c.path, 'amount'], 'int'),
      currency,
      reason: raw.reason,
      covers,
      ...(raw.line !== undefined ? { line: c.expression(raw.line, [...c.path, 'line'], 'string') } : {}),
      ...withinOf(c.span(raw.within, [...c.path, 'within']) ?? 0),
      from: raw.from,
      onBreach: c.ref(raw.on_breach, [...c.path, 'on_breach']),
      breachQueue: raw.escalate_breach_to ?? DEFAULT_BREACH_QUEUE,
      onDeclined: c.ref(raw.on_declined, [...c.path, 'on_declined']),
      next: c.next(),
    };
  },
  edges: (step) => [
    { to: step.next, label: 'refunded' },
    { to: step.onBreach, label: 'refunded late' },
    { to: step.onDeclined, label: 'declined' },
  ],
  describe: (step) => `refund${step.line ? ' a line' : ''} within ${formatSpan(refundWithin(step))}`,
  deadline: (step) => ({ what: 'the refund deadline', key: ['refund', 'within'], lasts: { span: refundWithin(step) } }),
};

const withinOf = (span: Span) => (typeof span === 'number' ? { withinMs: span } : { withinBusiness: span });

/** The refund's deadline as written: milliseconds or business time. */
export const refundWithin = (step: RefundStep): Span => spanOf(step.withinMs, step.withinBusiness) ?? 0;

/**
 * The policy cap of each capped kind of refund for a case's order: the smallest policy amount, or null
 * when only the order's facts bound the kind. The case's data never enters it.
 */
export function refundCaps(plan: Plan): { kind: Exclude<RefundKind, 'payment'>; cap: number | null }[] {
  return Object.entries(plan.refundCaps ?? {}).map(([kind, sources]) => ({
    kind: kind as Exclude<RefundKind, 'payment'>,
    cap: sources.amounts.length > 0 ? Math.min(...sources.amounts) : null,
  }));
}
