/** What the hand-written return workflows and their clients share: names, input and the event update. */
import { defineUpdate } from '@temporalio/workflow';
import type { CaseEvent, EventResult } from '../../src/plan/case.js';

export const HANDWRITTEN_TASK_QUEUE = 'bench-handwritten';

/**
 * `same-steps` also records progress where Casebook does; `lean` only does the business side effects;
 * `expert` is lean with its side effects as local activities (see ./workflows.ts).
 */
export const VARIANTS = { 'same-steps': 'sameStepsReturn', lean: 'leanReturn', expert: 'expertReturn' } as const;
export type Variant = keyof typeof VARIANTS;

export interface Money {
  amount: number;
  currency: string;
}

/** The case data of a quality return, as the standard return playbook declares it. */
export interface ReturnData {
  order_id: string;
  buyer_name: string;
  order_total: Money;
  outbound_shipping: Money;
  shipped_free: boolean;
  signed_at: string;
  reason: string;
  advanced_return_shipping?: Money;
  shipping_insurance: boolean;
  return_tracking?: string;
  refund_account?: string;
}

export interface ReturnInput {
  caseId: string;
  data: ReturnData;
  openedBy: string;
}

export interface ReturnResult {
  outcome: string;
  reason: string;
}

export const receiveEventUpdate = defineUpdate<EventResult, [CaseEvent]>('receiveEvent');
