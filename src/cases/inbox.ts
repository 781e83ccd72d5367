/**
 * Inbound events: every one is written to the event inbox first, then routed to the case that takes
 * it. An event for a named case goes to that case; a warehouse receipt goes to the one open case of
 * its order (or return tracking number) that waits for it. No taker, or several, leaves the event in
 * the inbox as unrouted, with the reason, for an agent (or a replay) to deliver later.
 */
import { WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { repeatEvery } from './repeat.js';
import { ApplicationFailure, defaultPayloadConverter } from '@temporalio/common';
import { deliverEventUpdate } from '../case-contract/messages.js';
import { CASEBOOK_ACTOR, workflowIdFor, type Actor, type CaseEvent, type CaseStatus } from '../plan/case.js';
import { FAILURE_TYPES } from '../plan/failures.js';
import { eventsAwaitedFrom } from '../plan/graph.js';
import type { Plan } from '../plan/plan.js';
import type { ValueProblem } from '../plan/values.js';
import { archivedRuns } from '../store/case-archive.js';
import { caseBeforeEvent, logCaseEvent } from '../store/case-events.js';
import {
  assignInboxEntry,
  casesForReceipt,
  findInboxEntry,
  interruptedInboxEntries,
  markInboxEntry,
  receiveCaseEvent,
  receiveInboundEvent,
  recordAcceptedEvent,
  type CaseBeforeEvent,
  type InboundEvent,
  type InboxEntry,
  type ReceiptCase,
} from '../store/inbox.js';
import type { Pool } from '../store/pool.js';
import { historyFromText, runsInTemporal, type History } from './archive.js';
import { isWorkflowGone, liveCaseView } from './live-view.js';

/** What a case answered to an event. */
export type DeliveryResult =
  | { status: 'accepted' | 'duplicate' }
  | { status: 'refused'; reason: string }
  | { status: 'invalid'; reason: string; problems: ValueProblem[] }
  | { status: 'closed'; reason: string }
  | { status: 'unknown-case' };

/** A warehouse's report that a returned parcel arrived, naming the order or the return tracking number. */
export interface WarehouseReceipt {
  receiptId: string;
  orderId?: string;
  returnTracking?: string;
  payload: Record<string, unknown>;
}

/** The event type a warehouse receipt is delivered as. */
export const WAREHOUSE_RECEIVED = 'warehouse.received';

/** Where an event in the inbox went. */
export type InboxOutcome =
  /** A case answered (or, for a replay of a delivered event, had already taken it: `duplicate`). */
  | { status: 'delivered'; inboxId: number; caseId: string; result: DeliveryResult }
  /** No open case takes it; it stays in the inbox. */
  | { status: 'unrouted'; inboxId: number; reason: string }
  /** Several open cases take it; it stays in the inbox until it is delivered to one of them. */
  | { status: 'ambiguous'; inboxId: number; reason: string; candidates: string[] };

/** How long a delivery may stay `received` before it counts as interrupted (a crash, or a delivery still waiting for its case). */
export const INTERRUPTED_AFTER_MS = 10_000;
/** How long finishing one interrupted delivery may take (Temporal or its worker may be down): then it is tried again at the next pass. */
const SETTLE_DEADLINE_MS = 10_000;

/** How often the stack looks for interrupted deliveries to settle. */
export const SETTLE_INTERVAL_MS = 5_000;

/** Where a case is, for routing: the workflow's live view, or its projection once the workflow is gone. */
interface Position {
  status: CaseStatus;
  step: string | null;
  waitingFor: string[];
}

export class EventInbox {
  constructor(
    private readonly client: Client,
    private readonly pool: Pool,
  ) {}

  /**
   * An event for a named case (the events route): recorded, then delivered to that case. `event.by`
   * (the calling API key) goes with it to the workflow and into `case_events`; `casebook` when absent.
   */
  async deliverEvent(caseId: string, event: CaseEvent): Promise<DeliveryResult> {
    const received = await receiveCaseEvent(this.pool, {
      source: 'api',
      eventId: event.id,
      type: event.type,
      payload: event.payload,
      targetCaseId: caseId,
      ...(event.by ? { by: event.by } : {}),
    });
    if (!received) return { status: 'duplicate' };
    return this.deliverTo(received.entry, caseId, event.by ?? CASEBOOK_ACTOR, received);
  }

  /**
   * A warehouse receipt: recorded, then delivered as `warehouse.received` to the one open case waiting
   * for it, as delivered `by` the key that reported it.
   */
  async deliverWarehouseReceipt(receipt: WarehouseReceipt, by: Actor = CASEBOOK_ACTOR): Promise<InboxOutcome> {
    const entry = await receiveInboundEvent(this.pool, {
      source: 'warehouse',
      eventId: receipt.receiptId,
      type: WAREHOUSE_RECEIVED,
      payload: receipt.payload,
      by,
      ...(receipt.orderId !== undefined ? { orderId: receipt.orderId } : {}),
      ...(receipt.returnTracking !== undefined ? { returnTracking: receipt.returnTracking } : {}),
    });
    return this.route(entry, by);
  }

  /**
   * A signed event from a configured source (POST /v1/inbound/{source}): recorded, then delivered to the
   * case it names, else to the one open case of its order or return tracking number that takes it,
   * as delivered `by` its source.
   */
  async deliverInbound(event: InboundEvent, by: Actor): Promise<InboxOutcome> {
    return this.route(await receiveInboundEvent(this.pool, { ...event, by }), by);
  }

  /**
   * Delivers an event already in the inbox: to `caseId` when given, else as on arrival, as delivered
   * `by` the one who asked (an agent's key). Undefined when the inbox has no such event.
   */
  async redeliver(inboxId: number, caseId?: string, by: Actor = CASEBOOK_ACTOR): Promise<InboxOutcome | undefined> {
    const entry = await findInboxEntry(this.pool, inboxId);
    return entry && this.route(entry, by, caseId);
  }

  /**
   * Delivers the event to `caseId`, else to the case it names, else to the case an interrupted
   * delivery was going to, else to the one open case that takes it now.
   */
  private async route(entry: InboxEntry, by: Actor, caseId = entry.targetCaseId ?? entry.routedCaseId ?? undefined): Promise<InboxOutcome> {
    if (isDelivered(entry)) return { status: 'delivered', inboxId: entry.id, caseId: entry.routedCaseId!, result: { status: 'duplicate' } };
    if (caseId !== undefined) return { status: 'delivered', inboxId: entry.id, caseId, result: await this.deliverTo(entry, caseId, by) };
    const { takers, reason } = await this.takers(entry);
    if (takers.length === 1) return this.route(entry, by, takers[0]);
    // A delivery of the same event running at the same time may have chosen its case meanwhile (which
    // then no longer waits for it): that case answers, duplicate once it has it.
    const now = await findInboxEntry(this.pool, entry.id);
    if (now && (isDelivered(now) || now.routedCaseId !== null)) return this.route(now, by);
    await markInboxEntry(this.pool, entry.id, { status: 'unrouted', reason });
    return takers.length === 0 ? { status: 'unrouted', inboxId: entry.id, reason } : { status: 'ambiguous', inboxId: entry.id, reason, candidates: takers };
  }

  /** The open cases the event's order or return tracking number names that take the event now, and why no other does. */
  private async takers(entry: InboxEntry): Promise<{ takers: string[]; reason: string }> {
    const named = [entry.orderId && `order ${entry.orderId}`, entry.returnTracking && `return tracking ${entry.returnTracking}`].filter(Boolean).join(' or ');
    const cases = await casesForReceipt(this.pool, entry);
    if (cases.length === 0) return { takers: [], reason: `no case has ${named}` };
    const judged = await Promise.all(cases.map(async (stored) => ({ stored, position: await this.positionOf(stored) })));
    const takers = judged.filter(({ stored, position }) => takesNow(stored.plan, position, entry.type)).map(({ stored }) => stored.caseId);
    if (takers.length > 1) {
      return { takers, reason: `${takers.length} open cases of ${named} wait for ${entry.type}: ${takers.join(', ')}; deliver it to one of them` };
    }
    const others = judged.map(({ stored, position }) => `${stored.caseId} (${stored.playbook}) ${whereItIs(position)}`);
    return { takers, reason: `no open case of ${named} waits for ${entry.type}: ${others.join('; ')}` };
  }

  private async positionOf(stored: ReceiptCase): Promise<Position> {
    if (stored.status === 'closed') return stored;
    return (await liveCaseView(this.client, stored.caseId)) ?? stored;
  }

  /**
   * Delivers the inbox event to one case and records where it went (for a receipt, also where it is
   * going, first). `read`: the case as read with the event's arrival, when it was.
   */
  private async deliverTo(entry: InboxEntry, caseId: string, by: Actor, read?: { known: CaseBeforeEvent | undefined }): Promise<DeliveryResult> {
    if (entry.targetCaseId === undefined && entry.routedCaseId !== caseId) await assignInboxEntry(this.pool, entry.id, caseId);
    const event = { type: entry.type, id: entry.eventId, payload: entry.payload, by };
    const known = read ? read.known : await caseBeforeEvent(this.pool, caseId, entry.eventId);
    const result = await this.deliverToCase(caseId, event, entry.receivedAt, known);
    if (result.status === 'accepted') {
      await recordAcceptedEvent(this.pool, entry.id, caseId, event, entry.receivedAt);
    } else if (result.status === 'duplicate') {
      await markInboxEntry(this.pool, entry.id, { status: 'duplicate', caseId });
    } else {
      const reason = 'reason' in result ? `case ${caseId}: ${result.reason}` : `no case ${caseId}`;
      // An event sent to a named case was refused to its sender; a receipt nobody took waits for an agent.
      await markInboxEntry(this.pool, entry.id, { status: entry.source === 'api' ? 'refused' : 'unrouted', reason });
    }
    return result;
  }

  /**
   * Delivers the event to the case (`known`: as read before); an accepted event is then recorded in
   * `case_events` by the caller, with its inbox entry. A case that answers duplicate or closed may hold
   * the event from a delivery that never recorded it (one a crash cut short after the case took it, or
   * one running at the same time): it is then recorded as the case took it, and the answer is
   * duplicate, whether the case is open or closed.
   */
  private async deliverToCase(caseId: string, event: CaseEvent, receivedAt: string, known: CaseBeforeEvent | undefined): Promise<DeliveryResult> {
    if (!known) return { status: 'unknown-case' };
    if (known.seen) return { status: 'duplicate' };
    const result = await this.updateCase(caseId, event, known.status);
    if (result.status === 'accepted') return result;
    if (result.status === 'duplicate' || result.status === 'closed') {
      if (await this.recordIfTaken(caseId, event.id, receivedAt, result.status === 'duplicate' ? event : undefined)) return { status: 'duplicate' };
    }
    return result;
  }

  private async updateCase(caseId: string, event: CaseEvent, status: CaseStatus): Promise<DeliveryResult> {
    try {
      return await this.client.workflow.getHandle(workflowIdFor(caseId)).executeUpdate(deliverEventUpdate, { args: [event] });
    } catch (error) {
      if (error instanceof WorkflowUpdateFailedError && error.cause instanceof ApplicationFailure) {
        const failure = error.cause;
        if (failure.type === FAILURE_TYPES.EventInvalid) {
          return { status: 'invalid', reason: failure.message, problems: (failure.details?.[0] as ValueProblem[]) ?? [] };
        }
        if (failure.type === FAILURE_TYPES.CaseClosed) return { status: 'closed', reason: failure.message };
        return { status: 'refused', reason: failure.message };
      }
      if (isWorkflowGone(error)) return { status: 'closed', reason: `the case is ${status === 'closed' ? 'closed' : 'not running'}` };
      throw error;
    }
  }

  /**
   * Whether the case took the event with this id; when it did, `case_events` has it afterwards, as the
   * case took it (its workflow history's copy, else `fallback`, what the case said it already had).
   */
  private async recordIfTaken(caseId: string, eventId: string, receivedAt: string, fallback?: CaseEvent): Promise<boolean> {
    if ((await caseBeforeEvent(this.pool, caseId, eventId))?.seen) return true;
    const taken = (await this.takenByCase(caseId, eventId)) ?? fallback;
    if (!taken) return false;
    await logCaseEvent(this.pool, caseId, taken, receivedAt);
    return true;
  }

  /**
   * The event with this id as the case's workflow took it (the arguments of the accepted update: type,
   * payload, who delivered it), from the histories of its runs in Temporal and in the archive;
   * undefined when no run took it, or no history of the case is left.
   */
  private async takenByCase(caseId: string, eventId: string): Promise<CaseEvent | undefined> {
    const inTemporal = await runsInTemporal(this.client, workflowIdFor(caseId));
    const known = new Set(inTemporal.map((run) => run.runId));
    const archived = (await archivedRuns(this.pool, caseId)).filter((run) => !known.has(run.runId));
    const histories: History[] = [...inTemporal.map((run) => run.history), ...archived.map((run) => historyFromText(run.history))];
    for (const history of histories) {
      for (const { workflowExecutionUpdateAcceptedEventAttributes: accepted } of history.events ?? []) {
        const input = accepted?.acceptedRequest?.input;
        const args = input?.name === deliverEventUpdate.name ? input.args?.payloads?.[0] : undefined;
        const event = args ? (defaultPayloadConverter.fromPayload(args) as CaseEvent) : undefined;
        if (event?.id === eventId) return event;
      }
    }
    return undefined;
  }

  /**
   * Finishes deliveries a crash interrupted: events still `received` INTERRUPTED_AFTER_MS after they
   * were written are delivered again as on arrival, as from their sender, without waiting for the
   * sender to send them again. One its case took before the crash is recorded as the case took it
   * (`case_events`, so the case's history lists it); one it had not taken (the crash came first, or
   * the Update was lost with the server's in-flight work) is delivered now. Answers how many rows it
   * settled; one that fails (Temporal down) is tried again at the next pass.
   */
  async settleInterrupted(batch = 100): Promise<{ settled: number; failed: string[] }> {
    const outcome = { settled: 0, failed: [] as string[] };
    for (const entry of await interruptedInboxEntries(this.pool, INTERRUPTED_AFTER_MS, batch)) {
      try {
        await this.client.withDeadline(Date.now() + SETTLE_DEADLINE_MS, () => this.route(entry, entry.by ?? CASEBOOK_ACTOR));
        outcome.settled += 1;
      } catch (error) {
        outcome.failed.push(`${entry.id} (${(error as Error).message})`);
      }
    }
    return outcome;
  }

  /** Settles interrupted deliveries every `intervalMs` until stopped; a failing pass is logged and tried again at the next. */
  startSettling(intervalMs: number, log: (line: string) => void = () => {}): () => Promise<void> {
    return repeatEvery(intervalMs, async () => {
      try {
        const { settled, failed } = await this.settleInterrupted();
        if (settled > 0) log(`casebook: finished ${settled} interrupted deliveries from the event inbox`);
        if (failed.length > 0) log(`casebook: could not finish interrupted deliveries ${failed.join(', ')}; trying again`);
      } catch (error) {
        log(`casebook: settling interrupted deliveries failed (${(error as Error).message}); trying again`);
      }
    });
  }
}

const isDelivered = (entry: InboxEntry): boolean => entry.status === 'routed' || entry.status === 'duplicate';

function whereItIs(position: Position): string {
  if (position.status === 'closed') return 'is closed';
  return position.waitingFor.length > 0 ? `waits for ${position.waitingFor.join(', ')}` : 'waits for no event';
}

/**
 * Whether a case at `position` takes an event of `type` now: it waits for it, its plan's `cancel_on`
 * names it (taken at any step), or its plan declares the event `early` and a step still ahead waits for it.
 */
export function takesNow(plan: Plan, position: Position, type: string): boolean {
  if (position.status === 'closed') return false;
  if (position.waitingFor.includes(type) || plan.cancelOn?.[type]) return true;
  return Boolean(plan.events[type]?.early) && position.step !== null && eventsAwaitedFrom(plan.steps, position.step).has(type);
}
