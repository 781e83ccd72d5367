/**
 * A backtest: closed cases of a playbook re-run on the time-skipping server, each once with the version
 * it ran and once with a candidate plan, with the real activities on a scratch database and the local
 * connectors, and what would change. Each run opens at the case's own weekday and time of day (a whole
 * number of weeks later, the server's clock only moving forward), with every instant of its data and
 * events moved by as much, and takes the case's recorded events and cancels at their recorded offsets.
 */
import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import proto from '@temporalio/proto';
import type { EventInbox } from '../cases/inbox.js';
import { caseSideEffects } from '../cases/reads.js';
import type { CaseService } from '../cases/service.js';
import { workflowIdFor, type CaseResult } from '../plan/case.js';
import type { HashedPlan, Plan } from '../plan/plan.js';
import { pendingTimersDue, untilDeliveryInstant, untilSettled } from '../scenarios/timer-guard.js';
import { publishPlaybook } from '../services/playbooks.js';
import { closedCasesOf, finishBacktest, getBacktest, insertBacktest, recordBacktestProgress, type ArchivedCase, type BacktestRow } from '../store/backtests.js';
import { randomUUID } from 'node:crypto';
import type { Pool } from '../store/pool.js';
import { recordedCase, shifted, type RecordedCase } from './recorded.js';

const { EventType } = proto.temporal.api.enums.v1;
const WEEK_MS = 7 * 86_400_000;

/** The scratch stack the re-runs happen on (composeScenarioStack with the local connectors). */
export interface BacktestStack {
  env: TestWorkflowEnvironment;
  /** The scratch database: never the live one. */
  pool: Pool;
  service: CaseService;
  inbox: EventInbox;
}

export interface BacktestOptions {
  since?: string | undefined;
  until?: string | undefined;
  limit: number;
}

/** What one run of a case came to. */
export interface RunSummary {
  /** `open` when the case did not end (it waits with nothing due, or failed at a step). */
  outcome: string;
  reason: string;
  /** Amounts of the refunds issued, in minor units, in order. */
  refunds: number[];
  refunded: number;
  escalations: string[];
  messages: string[];
}

/** A recorded event (or cancel) the candidate does not take as the case's version did. */
export interface RefusedEvent {
  event: string;
  id: string | null;
  /** Its offset from the opening, in ms. */
  atMs: number;
  /** What the version the case ran answered, and what the candidate answers. */
  before: string;
  after: string;
  reason: string | null;
}

export interface CaseBacktest {
  caseId: string;
  version: number;
  openedAt: string;
  /** Set when the case could not be re-run (no archived history); before and after are then absent. */
  skipped?: string;
  before?: RunSummary;
  after?: RunSummary;
  refusedEvents: RefusedEvent[];
  /**
   * Whether the re-run with the version the case ran ended as the case did (outcome and reason): when
   * not, the archive's data or events did not bring the case back (an advance on the live order, a
   * holiday that moved), and its comparison says less.
   */
  reproduced?: boolean;
  /** What would change, one sentence each; [] when nothing. */
  changes: string[];
}

export interface BacktestTotals {
  cases: number;
  rerun: number;
  skipped: number;
  /** Re-run cases whose re-run with their own version did not end as they did. */
  notReproduced: number;
  changed: number;
  outcomesChanged: number;
  refundsBefore: number;
  refundsAfter: number;
  refundedBefore: number;
  refundedAfter: number;
  /** refundedAfter - refundedBefore, in minor units of `currency`. */
  moneyDifference: number;
  escalationsBefore: number;
  escalationsAfter: number;
  messagesBefore: number;
  messagesAfter: number;
  refusedEvents: number;
}

export interface BacktestReport {
  playbook: string;
  planHash: string;
  currency: string;
  options: BacktestOptions;
  totals: BacktestTotals;
  cases: CaseBacktest[];
}

/**
 * Runs a backtest and keeps it in the live database's `backtests` (its progress as it goes, then its
 * report or why it failed), for the API to return; only the report is written there.
 */
export async function keptBacktest(
  archive: Pool,
  stack: BacktestStack,
  candidate: HashedPlan,
  options: BacktestOptions,
  startedBy: string,
  progress: (done: number, total: number, changed: number) => void = () => {},
  id: string = randomUUID(),
): Promise<{ id: string; report: BacktestReport }> {
  await insertBacktest(archive, { id, playbook: candidate.plan.name, planHash: candidate.hash, startedBy });
  return { id, report: await runKeptBacktest(archive, stack, candidate, options, id, progress) };
}

/** Runs a backtest already kept as `running` (insertBacktest) and keeps its progress, then its report or why it failed. */
export async function runKeptBacktest(
  archive: Pool,
  stack: BacktestStack,
  candidate: HashedPlan,
  options: BacktestOptions,
  id: string,
  progress: (done: number, total: number, changed: number) => void = () => {},
): Promise<BacktestReport> {
  try {
    const report = await runBacktest(archive, stack, candidate, options, (done, total, changed) => {
      progress(done, total, changed);
      void recordBacktestProgress(archive, id, done, total).catch(() => {});
    });
    await finishBacktest(archive, id, { report });
    return report;
  } catch (error) {
    await finishBacktest(archive, id, { problem: (error as Error).message });
    throw error;
  }
}

/** A kept backtest: its progress, and its report once done. */
export function keptBacktestNamed(archive: Pool, id: string): Promise<BacktestRow | undefined> {
  return getBacktest(archive, id);
}

/**
 * The data with its order id marked by the backtest and the side it runs on (`TB-1~3f2a9c1d~before`,
 * `TB-1~3f2a9c1d~after`): each side keeps its own ledger of the order on the scratch database, so that the candidate's refund of an
 * order is not taken for a second refund of what the version the case ran refunded.
 */
function ownOrder(plan: Plan, data: Record<string, unknown>, side: string): Record<string, unknown> {
  const field = plan.orderIdField;
  return field && typeof data[field] === 'string' ? { ...data, [field]: `${data[field]}~${side}` } : data;
}

type Answer = { status: string; reason: string | null };

/** Runs the backtest; `progress` is told after each case. */
export async function runBacktest(
  archive: Pool,
  stack: BacktestStack,
  candidate: HashedPlan,
  options: BacktestOptions,
  progress: (done: number, total: number, changed: number) => void = () => {},
): Promise<BacktestReport> {
  const archived = await closedCasesOf(archive, candidate.plan.name, options);
  const published = new Map<string, number>();
  const versionOf = async (plan: HashedPlan) => {
    if (!published.has(plan.hash)) published.set(plan.hash, (await publishPlaybook(stack.pool, '', plan, 'casebook backtest')).version.version);
    return published.get(plan.hash)!;
  };
  const candidateVersion = await versionOf(candidate);
  // Re-runs of another backtest on the same scratch stack keep their own case ids and order ledgers.
  const tag = randomUUID().slice(0, 8);
  const cases: CaseBacktest[] = [];
  let changed = 0;
  for (const stored of archived) {
    const result = await backtestCase(stack, tag, stored, await versionOf({ plan: stored.plan, hash: stored.planHash }), candidate, candidateVersion);
    cases.push(result);
    if (result.changes.length > 0) changed += 1;
    progress(cases.length, archived.length, changed);
  }
  return { playbook: candidate.plan.name, planHash: candidate.hash, currency: candidate.plan.currency, options, totals: totalsOf(cases), cases };
}

async function backtestCase(
  stack: BacktestStack,
  tag: string,
  stored: ArchivedCase,
  version: number,
  candidate: HashedPlan,
  candidateVersion: number,
): Promise<CaseBacktest> {
  const base = { caseId: stored.caseId, version: stored.version, openedAt: stored.openedAt };
  const recorded = recordedCase(stored.histories);
  if (!recorded) return { ...base, skipped: 'its history is not archived', refusedEvents: [], changes: [] };
  const before = await rerun(stack, recorded, { caseId: `${stored.caseId}~${tag}~before`, side: `${tag}~before`, plan: stored.plan, version });
  const after = await rerun(stack, recorded, {
    caseId: `${stored.caseId}~${tag}~after`,
    side: `${tag}~after`,
    plan: candidate.plan,
    version: candidateVersion,
  });
  const refusedEvents: RefusedEvent[] = [];
  recorded.inputs.forEach((input, i) => {
    const [was, now] = [before.answers[i], after.answers[i]];
    if (was?.status === now?.status) return;
    refusedEvents.push({
      event: input.kind === 'event' ? input.event.type : 'cancel',
      id: input.kind === 'event' ? input.event.id : null,
      atMs: input.atMs,
      before: was?.status ?? 'not delivered',
      after: now?.status ?? 'not delivered',
      reason: now?.reason ?? null,
    });
  });
  return {
    ...base,
    before: before.summary,
    after: after.summary,
    refusedEvents,
    reproduced: before.summary.outcome === stored.outcome && before.summary.reason === stored.reason,
    changes: changesOf(before.summary, after.summary, refusedEvents, stored.plan.currency),
  };
}

/** One run of a recorded case on a version published on the scratch stack. */
async function rerun(
  stack: BacktestStack,
  recorded: RecordedCase,
  { caseId, side, plan, version }: { caseId: string; side: string; plan: Plan; version: number },
): Promise<{ summary: RunSummary; answers: Answer[] }> {
  const { env, service, inbox, pool } = stack;
  const now = await env.currentTimeMs();
  const shift = Math.ceil((now - recorded.startedAt) / WEEK_MS) * WEEK_MS;
  if (recorded.startedAt + shift > now) await env.sleep(recorded.startedAt + shift - now);
  const opened = await service.open({
    caseId,
    playbook: plan.name,
    version,
    data: ownOrder(plan, shifted(recorded.data, shift) as Record<string, unknown>, side),
    ...(recorded.openedBy !== undefined ? { openedBy: recorded.openedBy } : {}),
  });
  const answers: Answer[] = [];
  if (opened.kind !== 'opened') {
    const summary = { outcome: 'not opened', reason: opened.message, refunds: [], refunded: 0, escalations: [], messages: [] };
    return { summary, answers };
  }
  const openedAt = await env.currentTimeMs();
  const handle = env.client.workflow.getHandle(workflowIdFor(caseId));
  for (const input of recorded.inputs) {
    try {
      await untilDeliveryInstant(env, handle, openedAt + input.atMs);
    } catch (error) {
      answers.push({ status: 'not delivered', reason: (error as Error).message });
      continue;
    }
    if (input.kind === 'cancel') {
      const cancelled = await service.cancel(caseId, input.cancel);
      answers.push({ status: cancelled.kind, reason: 'message' in cancelled ? String(cancelled.message) : null });
    } else {
      const event = { ...input.event, payload: shifted(input.event.payload, shift) as Record<string, unknown> };
      const answer = await inbox.deliverEvent(caseId, event);
      answers.push({ status: answer.status, reason: 'reason' in answer ? answer.reason : null });
    }
  }
  const ended = await untilEnded(env, handle);
  const effects = await caseSideEffects(pool, caseId, { children: true });
  return {
    summary: {
      ...ended,
      refunds: effects.refunds.map(Number),
      refunded: effects.refunds.reduce((sum: number, amount) => sum + Number(amount), 0),
      escalations: effects.escalations,
      messages: effects.messages,
    },
    answers,
  };
}

const CLOSED = new Set<proto.temporal.api.enums.v1.EventType>([
  EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED,
  EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED,
  EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED,
  EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT,
  EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED,
]);

/** A case left with nothing to wait for this long (real time) while an activity or a child runs is given up on. */
const GIVE_UP_MS = 60_000;

/**
 * Skips the server's clock from timer to timer until the case ends; a case left waiting with nothing
 * due (an event that never came, a failed step waiting for an admin) is `open`.
 */
async function untilEnded(env: TestWorkflowEnvironment, handle: WorkflowHandle): Promise<{ outcome: string; reason: string }> {
  const giveUpAt = Date.now() + GIVE_UP_MS;
  for (;;) {
    const events = await untilSettled(handle);
    const last = events[events.length - 1]?.eventType ?? EventType.EVENT_TYPE_UNSPECIFIED;
    if (CLOSED.has(last)) {
      try {
        const result = (await handle.result()) as CaseResult;
        return { outcome: result.outcome, reason: result.reason };
      } catch (error) {
        return { outcome: 'failed', reason: (error as Error).message };
      }
    }
    if (running(events) && Date.now() < giveUpAt) {
      // Awaiting the result lets the server skip time while an activity retries or a child case waits.
      await Promise.race([handle.result().catch(() => undefined), new Promise((resolve) => setTimeout(resolve, 100))]);
      continue;
    }
    const timers = pendingTimersDue(events);
    if (timers.length === 0) return { outcome: 'open', reason: 'the case was left waiting with nothing due' };
    const now = await env.currentTimeMs();
    await env.sleep(Math.max(1, Math.min(...timers) + 1 - now));
  }
}

type HistoryEvent = proto.temporal.api.history.v1.IHistoryEvent;

/** Whether an activity or a child workflow the case started has not ended. */
function running(events: readonly HistoryEvent[]): boolean {
  const started = new Set<string>();
  for (const event of events) {
    if (event.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED || event.eventType === EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED) {
      started.add(String(event.eventId));
    }
    const ended =
      event.activityTaskCompletedEventAttributes ??
      event.activityTaskFailedEventAttributes ??
      event.activityTaskTimedOutEventAttributes ??
      event.activityTaskCanceledEventAttributes;
    if (ended?.scheduledEventId) started.delete(String(ended.scheduledEventId));
    const child =
      event.childWorkflowExecutionCompletedEventAttributes ??
      event.childWorkflowExecutionFailedEventAttributes ??
      event.childWorkflowExecutionCanceledEventAttributes ??
      event.childWorkflowExecutionTimedOutEventAttributes ??
      event.childWorkflowExecutionTerminatedEventAttributes ??
      event.startChildWorkflowExecutionFailedEventAttributes;
    if (child?.initiatedEventId) started.delete(String(child.initiatedEventId));
  }
  return started.size > 0;
}

const money = (minor: number, currency: string) => `${(minor / 100).toFixed(2)} ${currency}`;

/** What would change for a case, one sentence each. */
function changesOf(before: RunSummary, after: RunSummary, refused: RefusedEvent[], currency = ''): string[] {
  const changes: string[] = [];
  if (before.outcome !== after.outcome || before.reason !== after.reason) {
    changes.push(`outcome ${before.outcome} (${before.reason}) becomes ${after.outcome} (${after.reason})`);
  }
  if (JSON.stringify(before.refunds) !== JSON.stringify(after.refunds)) {
    changes.push(
      `refunds ${JSON.stringify(before.refunds)} become ${JSON.stringify(after.refunds)} (${after.refunded - before.refunded >= 0 ? '+' : ''}${money(after.refunded - before.refunded, currency).trim()})`,
    );
  }
  if (JSON.stringify(before.escalations) !== JSON.stringify(after.escalations)) {
    changes.push(`escalations ${JSON.stringify(before.escalations)} become ${JSON.stringify(after.escalations)}`);
  }
  if (JSON.stringify(before.messages) !== JSON.stringify(after.messages)) {
    changes.push(`messages ${JSON.stringify(before.messages)} become ${JSON.stringify(after.messages)}`);
  }
  for (const r of refused)
    changes.push(`${r.event}${r.id ? ` ${r.id}` : ''} at +${readable(r.atMs)}: ${r.before} becomes ${r.after}${r.reason ? ` (${r.reason})` : ''}`);
  return changes;
}

function readable(ms: number): string {
  const minutes = Math.round(ms / 60_000);
  const [d, h, m] = [Math.floor(minutes / 1440), Math.floor((minutes % 1440) / 60), minutes % 60];
  return `${d ? `${d}d` : ''}${h ? `${h}h` : ''}${m || (!d && !h) ? `${m}m` : ''}`;
}

function totalsOf(cases: readonly CaseBacktest[]): BacktestTotals {
  const rerun = cases.filter((c) => c.before && c.after);
  const sum = (f: (c: CaseBacktest) => number) => rerun.reduce((total, c) => total + f(c), 0);
  const refundedBefore = sum((c) => c.before!.refunded);
  const refundedAfter = sum((c) => c.after!.refunded);
  return {
    cases: cases.length,
    rerun: rerun.length,
    skipped: cases.length - rerun.length,
    notReproduced: rerun.filter((c) => !c.reproduced).length,
    changed: cases.filter((c) => c.changes.length > 0).length,
    outcomesChanged: rerun.filter((c) => c.before!.outcome !== c.after!.outcome || c.before!.reason !== c.after!.reason).length,
    refundsBefore: sum((c) => c.before!.refunds.length),
    refundsAfter: sum((c) => c.after!.refunds.length),
    refundedBefore,
    refundedAfter,
    moneyDifference: refundedAfter - refundedBefore,
    escalationsBefore: sum((c) => c.before!.escalations.length),
    escalationsAfter: sum((c) => c.after!.escalations.length),
    messagesBefore: sum((c) => c.before!.messages.length),
    messagesAfter: sum((c) => c.after!.messages.length),
    refusedEvents: sum((c) => c.refusedEvents.length),
  };
}
