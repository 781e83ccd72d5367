/**
 * A backtest: closed cases of a playbook re-run on the time-skipping server, each once with the version
 * it ran and once with a candidate plan, with the real activities on a scratch database and the local
 * connectors, and what would change. Each run opens at the case's own weekday and time of day (a whole
 * number of weeks later, the server's clock only moving forward), with every instant of its data and
 * events moved by as much, and takes the case's recorded events and cancels at their recorded offsets.
 * A kept backtest keeps the cases it selected and each one's result as it goes, so one stopped by a
 * restart resumes with the cases not yet re-run.
 */
import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import proto from '@temporalio/proto';
import { randomUUID } from 'node:crypto';
import type { EventInbox } from '../cases/inbox.js';
import { caseSideEffects } from '../cases/reads.js';
import type { CaseService } from '../cases/service.js';
import { workflowIdFor, type CaseResult } from '../plan/case.js';
import type { HashedPlan, Plan } from '../plan/plan.js';
import { pendingTimersDue, untilDeliveryInstant, untilSettled } from '../scenarios/timer-guard.js';
import { getPlaybook, listVersions, publishPlaybook } from '../services/playbooks.js';
import {
  archivedCase,
  backtestCaseResults,
  backtestStart,
  closedCaseIds,
  deadlinesMissed,
  finishBacktest,
  getBacktest,
  insertBacktest,
  keepBacktestCases,
  pendingBacktestCases,
  recordBacktestCase,
  type ArchivedCase,
  type BacktestRow,
  type BacktestSelection,
} from '../store/backtests.js';
import type { Pool } from '../store/pool.js';
import { recordedCase, shifted, type RecordedCase } from './recorded.js';

export type { BacktestCaseQuery } from '../store/backtests.js';

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

/** Which closed cases: opened in [since, until), matching `cases` (the case list's filters), at most `limit`. */
export type BacktestOptions = BacktestSelection;

/** What one run of a case came to. */
export interface RunSummary {
  /** `open` when the case did not end (it waits with nothing due, or failed at a step). */
  outcome: string;
  reason: string;
  /** Amounts of the refunds issued, in minor units, in order. */
  refunds: number[];
  refunded: number;
  escalations: string[];
  /** The templates of the messages sent, in order. */
  messages: string[];
  /**
   * The deadlines the run missed, in order: `timeout <step>` (a wait's timeout taken), `clock <name>`
   * (a clock ran out), `task-sla <step>` (a task done after its SLA), `refund-late <step>` (a refund
   * paid after its deadline).
   */
  deadlinesMissed: string[];
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
  /** Messages sent by template, before and after (the templates either side sent). */
  messagesByTemplate: Record<string, { before: number; after: number }>;
  deadlinesMissedBefore: number;
  deadlinesMissedAfter: number;
  refusedEvents: number;
}

export interface BacktestReport {
  playbook: string;
  /** The candidate's plan hash. */
  planHash: string;
  currency: string;
  options: BacktestOptions;
  /** The playbook's current version when the backtest started, which the console shows the candidate's diff against; null when none was published. */
  baseline: { version: number; hash: string } | null;
  /** The published version the candidate is; null when it is not published. */
  candidateVersion: number | null;
  totals: BacktestTotals;
  cases: CaseBacktest[];
}

/** The playbook's current version, and the published version the candidate is (if any). */
async function versionsOf(archive: Pool, candidate: HashedPlan): Promise<Pick<BacktestReport, 'baseline' | 'candidateVersion'>> {
  const current = await getPlaybook(archive, candidate.plan.name);
  const same = (await listVersions(archive, candidate.plan.name)).find((v) => v.hash === candidate.hash);
  return { baseline: current ? { version: current.version, hash: current.hash } : null, candidateVersion: same?.version ?? null };
}

/**
 * Keeps a new backtest as `running`, with what it compares (the candidate, the cases to take, the
 * current version as its baseline); `resumable`: picked up again at `casebook start` if left running.
 */
export async function startKeptBacktest(
  archive: Pool,
  candidate: HashedPlan,
  options: BacktestOptions,
  startedBy: string,
  { resumable, id = randomUUID() }: { resumable: boolean; id?: string },
): Promise<string> {
  await insertBacktest(archive, { id, candidate, selection: options, startedBy, resumable, ...(await versionsOf(archive, candidate)) });
  return id;
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
): Promise<{ id: string; report: BacktestReport }> {
  const id = await startKeptBacktest(archive, candidate, options, startedBy, { resumable: false });
  return { id, report: (await runKeptBacktest(archive, stack, id, { progress }))! };
}

/**
 * Runs a kept backtest (startKeptBacktest) from its first case without a result: selects its cases
 * first if it has not yet, keeps each case's result and the progress, then its report (or why it
 * failed). When `signal` aborts, stops after the case it is at and answers undefined: the backtest
 * stays `running`, to resume.
 */
export async function runKeptBacktest(
  archive: Pool,
  stack: BacktestStack,
  id: string,
  { progress = () => {}, signal }: { progress?: (done: number, total: number, changed: number) => void; signal?: AbortSignal } = {},
): Promise<BacktestReport | undefined> {
  try {
    const start = await backtestStart(archive, id);
    if (!start) throw new Error(`backtest ${id} does not keep what it compares (kept before migration 327): it cannot run`);
    const { candidate, selection } = start;
    await keepBacktestCases(archive, id, () => closedCaseIds(archive, candidate.plan.name, selection));
    const kept = await backtestCaseResults(archive, id);
    const total = kept.length;
    let done = kept.filter((c) => c.result !== null).length;
    let changed = kept.filter((c) => (c.result as CaseBacktest | null)?.changes.length).length;
    const rerun = new Reruns(stack, candidate);
    for (const caseId of await pendingBacktestCases(archive, id)) {
      if (signal?.aborted) return undefined;
      const stored = await archivedCase(archive, caseId);
      const result = stored
        ? await rerun.compare(stored)
        : { caseId, version: 0, openedAt: '', skipped: 'it is no longer in the database', refusedEvents: [], changes: [] };
      await recordBacktestCase(archive, id, caseId, result);
      done += 1;
      if (result.changes.length > 0) changed += 1;
      progress(done, total, changed);
    }
    const cases = (await backtestCaseResults(archive, id)).map((c) => c.result as CaseBacktest);
    const report = reportOf(candidate, selection, { baseline: start.baseline, candidateVersion: start.candidateVersion }, cases);
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

function reportOf(
  candidate: HashedPlan,
  options: BacktestOptions,
  versions: Pick<BacktestReport, 'baseline' | 'candidateVersion'>,
  cases: CaseBacktest[],
): BacktestReport {
  return { playbook: candidate.plan.name, planHash: candidate.hash, currency: candidate.plan.currency, options, ...versions, totals: totalsOf(cases), cases };
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

/** Runs a backtest without keeping it; `progress` is told after each case. */
export async function runBacktest(
  archive: Pool,
  stack: BacktestStack,
  candidate: HashedPlan,
  options: BacktestOptions,
  progress: (done: number, total: number, changed: number) => void = () => {},
): Promise<BacktestReport> {
  const versions = await versionsOf(archive, candidate);
  const caseIds = await closedCaseIds(archive, candidate.plan.name, options);
  const rerun = new Reruns(stack, candidate);
  const cases: CaseBacktest[] = [];
  let changed = 0;
  for (const caseId of caseIds) {
    const stored = await archivedCase(archive, caseId);
    if (!stored) continue;
    const result = await rerun.compare(stored);
    cases.push(result);
    if (result.changes.length > 0) changed += 1;
    progress(cases.length, caseIds.length, changed);
  }
  return reportOf(candidate, options, versions, cases);
}

/** The re-runs of one backtest on a scratch stack: the versions it published there, and its tag. */
class Reruns {
  private readonly published = new Map<string, number>();
  // Re-runs of another backtest on the same scratch stack keep their own case ids and order ledgers.
  private readonly tag = randomUUID().slice(0, 8);

  constructor(
    private readonly stack: BacktestStack,
    private readonly candidate: HashedPlan,
  ) {}

  private async versionOf(plan: HashedPlan): Promise<number> {
    if (!this.published.has(plan.hash)) {
      this.published.set(plan.hash, (await publishPlaybook(this.stack.pool, '', plan, 'casebook backtest')).version.version);
    }
    return this.published.get(plan.hash)!;
  }

  async compare(stored: ArchivedCase): Promise<CaseBacktest> {
    const candidateVersion = await this.versionOf(this.candidate);
    return backtestCase(this.stack, this.tag, stored, await this.versionOf({ plan: stored.plan, hash: stored.planHash }), this.candidate, candidateVersion);
  }
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
    const summary = { outcome: 'not opened', reason: opened.message, refunds: [], refunded: 0, escalations: [], messages: [], deadlinesMissed: [] };
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
      deadlinesMissed: await deadlinesMissed(pool, caseId),
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
  if (JSON.stringify(before.deadlinesMissed) !== JSON.stringify(after.deadlinesMissed)) {
    changes.push(`deadlines missed ${JSON.stringify(before.deadlinesMissed)} become ${JSON.stringify(after.deadlinesMissed)}`);
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
    messagesByTemplate: byTemplate(rerun),
    deadlinesMissedBefore: sum((c) => c.before!.deadlinesMissed.length),
    deadlinesMissedAfter: sum((c) => c.after!.deadlinesMissed.length),
    refusedEvents: sum((c) => c.refusedEvents.length),
  };
}

function byTemplate(rerun: readonly CaseBacktest[]): Record<string, { before: number; after: number }> {
  const counts: Record<string, { before: number; after: number }> = {};
  for (const c of rerun) {
    for (const side of ['before', 'after'] as const) {
      for (const template of c[side]!.messages) {
        counts[template] ??= { before: 0, after: 0 };
        counts[template][side] += 1;
      }
    }
  }
  return Object.fromEntries(Object.entries(counts).sort(([a], [b]) => (a < b ? -1 : 1)));
}
