/**
 * What the workflow offers a step kind's interpreter while it runs one step, and what an interpreter
 * is. The kind's descriptor (src/plan/steps/) says what a step means; its interpreter here runs it.
 */
import type { CaseActivities, MessageRecipient } from '../../plan/activities.js';
import type { CaseEvent, CaseState, Deadline, ProgressReport, RidingReport } from '../../plan/case.js';
import type { Span } from '../../plan/duration.js';
import type { Expr, FieldType, Plan, Recipient, StepBase } from '../../plan/plan.js';
import type { StepRetry } from '../../plan/steps/retry.js';
import type { HistoryVersions } from '../history-versions.js';

/** A body to run as a strand: where it starts, the loop item it sees, what it collects, and what a failing step does. */
export interface BodyRun {
  start: string;
  /** A loop's item: its name, type (undefined: `dyn`), JSON value and index in the list. */
  item?: { name: string; type: FieldType | undefined; value: unknown; index: number };
  /** Evaluated when the body is done, in its scope. */
  collect?: Expr;
  /**
   * `repair`: a step failing for good waits for an admin in its strand (retry runs it again there);
   * `throw`: it ends the strand with the failure (the branch of an `any` or `first` race).
   */
  failures: 'repair' | 'throw';
}

/** How a body ended: done (with what it collected), or the case ended in it (an end step; a repair closing it). */
export type BodyEnd = { done: true; collected?: unknown } | { done: false; outcome: string; reason: string };

/** Why a wait ended: its event, its time, or (`migrated`) the case moved to another version. */
export type Woken = 'migrated' | undefined;

/** An event taken from the inbox, with the time it arrived. */
export type ReceivedCaseEvent = CaseEvent & { at: string };

/** What the workflow offers a step kind while it runs one step. Deterministic: time is Temporal's. */
export interface StepRuntime {
  readonly caseId: string;
  readonly plan: Plan;
  readonly state: CaseState;
  /** Which history changes this case's run takes (src/workflows/history-versions.ts). */
  readonly versions: HistoryVersions;
  /** Activities with the default timeout and retries; refunds declined by the provider are not retried. */
  readonly activities: CaseActivities;
  /** Refunds: retried with the same key until the provider answers, backing off to every ten minutes. */
  readonly refunds: Pick<CaseActivities, 'issueRefund'>;
  /**
   * Integration calls with the step's retries: attempts, timeout and backoff it states, today's values
   * (five attempts of a minute) for the rest, so `on_error` can be taken.
   */
  integrationsFor(retry: StepRetry | undefined): Pick<CaseActivities, 'callIntegration'>;
  evaluate(expr: Expr): unknown;
  /** The instant a span started at `startMs` ends: plain milliseconds, or business time in the plan's calendar. */
  after(startMs: number, span: Span): number;
  /** What an expression reads, by its text, with the values as people read them (never fails; adds no commands). */
  evidence(expr: Expr): Record<string, string>;
  /** Whether a wait's `where` condition holds for an event. */
  matches(where: Expr, event: CaseEvent): boolean;
  /** A text with its placeholders filled, each value passed through `html` (an escaper) when given. */
  render(text: string, placeholders: Expr[], html?: (value: string) => string): string;
  recipient(to: Recipient): MessageRecipient;
  /** Writes why the step went where it went into the case's history (kind: the step's, unless given). */
  record(step: StepBase & { kind: string }, detail: Record<string, unknown>, kind?: string): void;
  /**
   * Publishes what the case waits for, then sleeps until `ready()` or the instant `wakeAt`; answers
   * `migrated` when the case was moved to another version meanwhile (its step is to be read again).
   */
  waitFor(stepId: string, events: string[], deadlines: Deadline[], wakeAt: number | undefined, ready?: () => boolean): Promise<Woken>;
  /** Publishes deadlines while the step works (a refund racing its deadline). */
  working(deadlines: Deadline[]): Promise<void>;
  /**
   * History shape 4: refunds run within the workflow task, going on as an activity whose
   * schedule-to-close timeout ends at `deadline` when they keep failing (no timer races them);
   * undefined for cases of earlier shapes.
   */
  refundsUntil(deadline: number): Pick<CaseActivities, 'issueRefund'> | undefined;
  /** The progress report to ride with the step's side effect, the step's deadlines in it; `written()` once the effect wrote it. */
  progressWith(deadlines: Deadline[]): { report: ProgressReport; written(): void };
  /**
   * History shape 5: the progress report of the wait or end the case reaches after `step` (at `next`,
   * through branches only), for the step's side effect to carry, the step's own record `detail` in it
   * without the effect's answer; undefined when none can be told now (then the wait or end reports itself).
   */
  rideAhead(step: StepBase & { kind: string }, next: string, detail: Record<string, unknown>): RidingReport | undefined;
  /** When a wait starting now counts from: now, or the time of the side effect that carried its report. */
  decidedAt(): number;
  /** Takes the first inbox event of one of `types` that `accepts` takes. */
  take(types: string[], accepts: (event: CaseEvent) => boolean): ReceivedCaseEvent | undefined;
  has(types: string[], accepts: (event: CaseEvent) => boolean): boolean;
  /** Ends the case with an outcome; the case closes once every event handler is done. */
  finish(outcome: string, reason: string): Promise<void>;
  /**
   * Runs a body (a parallel branch, a loop's item) as a strand of the case (src/workflows/strands.ts),
   * in the caller's cancellation scope: cancelling it cancels the body's waits, timers and activities.
   */
  runBody(body: BodyRun): Promise<BodyEnd>;
}

/** How a step kind runs, in workflow code. */
export interface StepInterpreter<S extends StepBase & { kind: string }> {
  /** Runs the step; the id of the next step, or undefined when the case has ended. */
  run(step: S, runtime: StepRuntime, key: string): Promise<string | undefined>;
}
