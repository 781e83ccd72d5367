/**
 * Events sent to a case: checked when they arrive (the update's validator), kept in order, and taken
 * by the step that waits for them. An event id seen once is a duplicate for ever.
 */
import { ApplicationFailure } from '@temporalio/workflow';
import type { CaseEvent, CaseState, EventResult } from '../plan/case.js';
import { FAILURE_TYPES } from '../plan/failures.js';
import { eventsAwaitedFrom } from '../plan/graph.js';
import type { Plan } from '../plan/plan.js';
import { kindOf } from '../plan/steps/index.js';
import { checkValues } from '../plan/values.js';
import type { ReceivedCaseEvent } from './steps/index.js';

/** Where the case is when an event arrives. */
export interface CasePosition {
  closed: boolean;
  outcome: string | undefined;
  waitingFor: string[];
}

export class Inbox {
  private readonly seen: Set<string>;

  constructor(
    private readonly plan: Plan,
    private readonly state: CaseState,
  ) {
    this.seen = new Set(state.seenEventIds);
  }

  /** Throws the failure that refuses `event` at this position; returns when the case takes it. */
  validate(event: CaseEvent, position: CasePosition): void {
    const refuse = (type: string, message: string, details?: unknown[]) =>
      ApplicationFailure.create({ type, message, nonRetryable: true, ...(details ? { details } : {}) });
    if (position.closed) throw refuse(FAILURE_TYPES.CaseClosed, `the case is closed (${position.outcome ?? 'ended'})`);
    if (this.seen.has(event.id)) return;
    const spec = this.plan.events[event.type];
    if (!spec) {
      const declared = Object.keys(this.plan.events).join(', ') || 'none';
      throw refuse(FAILURE_TYPES.EventRefused, `this case's playbook declares no event '${event.type}' (declared: ${declared})`);
    }
    const problems = checkValues(spec.payload, event.payload, '/payload', this.plan.currency);
    if (problems.length > 0) {
      throw refuse(FAILURE_TYPES.EventInvalid, `invalid payload for '${event.type}': ${problems.map((p) => `${p.pointer} ${p.message}`).join('; ')}`, [
        problems,
      ]);
    }
    // A `cancel_on` handler takes its event at any step (src/workflows/cancellation.ts).
    if (this.plan.cancelOn?.[event.type]) return;
    const { waitingFor } = position;
    const expected =
      waitingFor.includes(event.type) ||
      spec.early ||
      // Not waiting for events (busy, or in a delay): an event a later wait takes is kept for it.
      (waitingFor.length === 0 && eventsAwaitedFrom(this.plan.steps, this.state.current).has(event.type));
    if (!expected) {
      const now = waitingFor.length > 0 ? `it waits for ${waitingFor.join(', ')}` : 'it is not waiting for any event';
      throw refuse(FAILURE_TYPES.EventRefused, `the case is at step '${this.state.current}' and ${now}; '${event.type}' is not expected now`);
    }
    const step = this.plan.steps[this.state.current];
    const refusal = step && kindOf(step).refuses?.(step, event);
    if (refusal) throw refuse(FAILURE_TYPES.EventRefused, refusal);
  }

  accept(event: CaseEvent, at: string): EventResult {
    if (this.seen.has(event.id)) return { status: 'duplicate' };
    this.seen.add(event.id);
    this.state.inbox.push({ ...event, at });
    return { status: 'accepted' };
  }

  has(types: string[], accepts: (event: CaseEvent) => boolean): boolean {
    return this.state.inbox.some((event) => types.includes(event.type) && accepts(event));
  }

  take(types: string[], accepts: (event: CaseEvent) => boolean): ReceivedCaseEvent | undefined {
    const index = this.state.inbox.findIndex((event) => types.includes(event.type) && accepts(event));
    if (index < 0) return undefined;
    const [event] = this.state.inbox.splice(index, 1);
    this.state.received = { ...this.state.received, [event!.type]: { at: event!.at, payload: event!.payload } };
    return event;
  }

  /** The ids seen so far, to carry over continue-as-new. */
  seenIds(): string[] {
    return [...this.seen];
  }
}
