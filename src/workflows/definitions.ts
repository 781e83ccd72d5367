/**
 * What the outside world and the case workflow share: its input, its update and its queries.
 * Importable from Node code (API, tests) and from workflow code.
 */
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { ReceivedEvent } from '../playbook/cel.js';
import type { Plan } from '../playbook/plan.js';

export const TASK_QUEUE = 'casebook';
export const workflowIdFor = (caseId: string): string => `case-${caseId}`;

export interface PlaybookRef {
  name: string;
  version: number;
  hash: string;
}

export interface CaseEvent {
  type: string;
  /** The sender's id for this event; the same id twice is the same event. */
  id: string;
  payload: Record<string, unknown>;
}

export interface CaseInput {
  caseId: string;
  playbook: PlaybookRef;
  /** The plan is pinned here: publishing a new version never changes a running case. */
  plan: Plan;
  data: Record<string, unknown>;
  /** Whether the namespace has Casebook's search attributes, so the case keeps CaseStatus current. */
  indexed?: boolean;
  /** Carried over by continue-as-new; absent on a fresh case. */
  resume?: CaseState;
}

export type CaseStatus = 'open' | 'waiting' | 'closed';

export interface Deadline {
  kind: 'timeout' | 'refund' | 'task-sla' | 'reminder' | 'delay';
  step: string;
  at: string;
}

export interface StepRecord {
  step: string;
  kind: string;
  at: string;
  /** Why the interpreter went where it went: the branch taken, the event consumed, the timer fired... */
  detail?: Record<string, unknown>;
}

export interface CaseState {
  current: string;
  data: Record<string, unknown>;
  received: Record<string, ReceivedEvent>;
  inbox: (CaseEvent & { at: string })[];
  seenEventIds: string[];
  visits: Record<string, number>;
  history: StepRecord[];
  openedAt: string;
  auditedUpTo: number;
}

export interface CaseView {
  caseId: string;
  playbook: PlaybookRef;
  status: CaseStatus;
  step: string | null;
  waitingFor: string[];
  deadlines: Deadline[];
  data: Record<string, unknown>;
  outcome: { outcome: string; reason: string } | null;
  steps: StepRecord[];
}

export interface CaseResult {
  outcome: string;
  reason: string;
  steps: StepRecord[];
}

export type EventResult = { status: 'accepted' } | { status: 'duplicate' };

/** Failure types the update validator uses, so callers can tell refusals apart. */
export const EVENT_REFUSED = 'EventRefused';
export const EVENT_INVALID = 'EventInvalid';
export const CASE_CLOSED = 'CaseClosed';

export const deliverEventUpdate = defineUpdate<EventResult, [CaseEvent]>('deliverEvent');
export const caseViewQuery = defineQuery<CaseView>('caseView');
