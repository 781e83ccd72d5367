/**
 * The one workflow: interprets a case's pinned plan step by step, each step by its kind's module.
 * Deterministic: time comes from Temporal (Date in the workflow sandbox), waiting from Temporal timers
 * and conditions, and every side effect goes through an activity with an idempotency key made of case
 * id, step id and visit.
 */
import {
  ActivityCancellationType,
  ActivityFailure,
  ApplicationFailure,
  IllegalStateError,
  LocalActivityDoBackoff,
  WorkflowError,
  allHandlersFinished,
  condition,
  continueAsNew,
  isCancellation,
  type LocalActivityOptions,
  proxyActivities,
  proxyLocalActivities,
  proxySinks,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { CaseActivities, MessageRecipient } from '../plan/activities.js';
import type {
  CaseEvent,
  CaseMigration,
  CaseRepair,
  CaseInput,
  CaseResult,
  CaseState,
  CaseStatus,
  CaseView,
  Deadline,
  MigrationPreview,
  MigrationTarget,
  ProgressReport,
  RidingReport,
  RunCaseWorkflow,
  StepRecord,
} from '../plan/case.js';
import { ridingReport } from '../plan/case.js';
import {
  cancelCaseUpdate,
  caseViewQuery,
  deliverEventUpdate,
  migrateCaseUpdate,
  migrationPreviewQuery,
  repairCaseUpdate,
  REPLAY_SINK,
  type CaseSinks,
} from '../case-contract/messages.js';
import { CASE_OUTCOME, CASE_REASON, CASE_STATUS, PLAYBOOK_VERSION } from '../case-contract/search-attributes.js';
import { instantAfter } from '../plan/calendar.js';
import type { Span } from '../plan/duration.js';
import { FAILURE_TYPES } from '../plan/failures.js';
import { returnTrackingOf, type Expr, type Plan, type Recipient, type StepBase } from '../plan/plan.js';
import { isChildWait } from '../plan/steps/playbook.js';
import { callRetry, type StepRetry } from '../plan/steps/retry.js';
import { Cancellation } from './cancellation.js';
import { CaseClocks } from './clocks.js';
import { CaseExpressions } from './expressions.js';
import { failureMessage, ownFailure } from './failures.js';
import { HistoryVersions } from './history-versions.js';
import { Inbox } from './inbox.js';
import { carryVisits, checkMigration, type MovableStep } from './migration.js';
import { Strand, type ItemValue, type StrandHost, type StrandPosition } from './strands.js';
import { sharedPlan } from './shared-plans.js';
import { interpreterOf, type BodyEnd, type BodyRun, type StepRuntime, type Woken } from './steps/index.js';
import { delayEnd } from './steps/delay.js';
import { branchTo } from './steps/branch.js';
import { waitingAt, waitTimeoutAt } from './steps/wait.js';
import { iso } from './time.js';

// The sandbox replaces Date with a wrapper whose instances still report the original constructor;
// CEL finds a value's type by its constructor and registered the wrapper, so make them agree.
if (Date.prototype.constructor !== Date) {
  Object.defineProperty(Date.prototype, 'constructor', { value: Date, writable: true, configurable: true });
}

// The SDK records a stack trace for every promise workflow code creates (for its stack-trace query),
// resolving each frame through the bundle's source map: the innermost frames say where a case waits.
Error.stackTraceLimit = 4;

const RETRY = { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m' } as const;

const activities = proxyActivities<CaseActivities>({
  startToCloseTimeout: '30s',
  retry: { ...RETRY, nonRetryableErrorTypes: [FAILURE_TYPES.RefundDeclined] },
});
const refunds = proxyActivities<Pick<CaseActivities, 'issueRefund'>>({
  startToCloseTimeout: '30s',
  retry: { ...RETRY, maximumInterval: '10m', nonRetryableErrorTypes: [FAILURE_TYPES.RefundDeclined] },
});
/** Integration calls: a step's `retry` states its attempts, timeout and backoff; CALL_RETRY fills in the rest. */
const integrationsWith = (stated: StepRetry | undefined): Pick<CaseActivities, 'callIntegration'> => {
  const retry = callRetry(stated);
  return proxyActivities<Pick<CaseActivities, 'callIntegration'>>({
    startToCloseTimeout: retry.timeoutMs,
    retry: { initialInterval: retry.backoffMs, backoffCoefficient: 2, maximumInterval: retry.maxBackoffMs, maximumAttempts: retry.attempts },
  });
};
const integrations = integrationsWith(undefined);
/** Progress reports run in the worker within the workflow task: one marker event each, no round trip. */
const reports = proxyLocalActivities<Pick<CaseActivities, 'recordProgress'>>({
  startToCloseTimeout: '10s',
  retry: RETRY,
});
/**
 * History shape 4: the quick side effects run in the worker within the workflow task too, three
 * attempts within about three seconds; one still failing goes on as an activity under the same key,
 * retried by the server for as long as it takes without writing a timer per retry into the case's history.
 */
const QUICK_EFFECTS: LocalActivityOptions = {
  startToCloseTimeout: '30s',
  // A connector's DeliveryFailed is not retried in the task: a remote receiver may be slow, so the
  // activity carries it on at once, on the connector's schedule (src/connectors/webhooks/).
  retry: {
    initialInterval: '1s',
    backoffCoefficient: 2,
    maximumAttempts: 3,
    nonRetryableErrorTypes: [FAILURE_TYPES.RefundDeclined, FAILURE_TYPES.DeliveryFailed],
  },
};
const quickEffects = proxyLocalActivities<QuickEffects>(QUICK_EFFECTS);
/**
 * Shape 5: a quick effect carrying a report (see rideAhead()) is never given up as cancelled
 * while it may still write that report: a cancel waits for its attempt to end, so the case records it
 * when it happened and the audit trail holds no record the case does not.
 */
const ridingEffects = proxyLocalActivities<Pick<QuickEffects, 'sendMessage' | 'writeOrderNote' | 'openEscalation'>>({
  ...QUICK_EFFECTS,
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
});
type QuickEffects = Pick<CaseActivities, 'sendMessage' | 'writeOrderNote' | 'openEscalation' | 'openTask' | 'closeTask' | 'markRefundLate' | 'issueRefund'>;

const localFirst =
  <Request, Result>(local: (request: Request) => Promise<Result>, remote: (request: Request) => Promise<Result>) =>
  async (request: Request): Promise<Result> => {
    try {
      return await local(request);
    } catch (error) {
      const failure = ownFailure(error);
      if (isCancellation(error) || (failure instanceof ApplicationFailure && failure.nonRetryable)) throw error;
      return remote(request);
    }
  };

const localFirstActivities: CaseActivities = {
  sendMessage: localFirst(quickEffects.sendMessage, activities.sendMessage),
  writeOrderNote: localFirst(quickEffects.writeOrderNote, activities.writeOrderNote),
  openEscalation: localFirst(quickEffects.openEscalation, activities.openEscalation),
  openTask: localFirst(quickEffects.openTask, activities.openTask),
  closeTask: localFirst(quickEffects.closeTask, activities.closeTask),
  markRefundLate: localFirst(quickEffects.markRefundLate, activities.markRefundLate),
  issueRefund: activities.issueRefund,
  callIntegration: activities.callIntegration,
  recordProgress: reports.recordProgress,
  openChildCase: activities.openChildCase,
};

/**
 * Shape 4: a refund is a quick side effect too; one that keeps failing goes on as an activity whose
 * schedule-to-close timeout is the refund's deadline (taken when it starts), so no timer races it.
 */
const refundsUntil = (deadline: number): Pick<CaseActivities, 'issueRefund'> => ({
  issueRefund: localFirst(quickEffects.issueRefund, (request) =>
    proxyActivities<Pick<CaseActivities, 'issueRefund'>>({
      startToCloseTimeout: '30s',
      scheduleToCloseTimeout: Math.max(1, deadline - Date.now()),
      retry: { ...RETRY, maximumInterval: '10m', nonRetryableErrorTypes: [FAILURE_TYPES.RefundDeclined] },
    }).issueRefund(request),
  ),
});

/** What a replay re-derives (src/stack/replayer.ts): called only while replaying, so a live case pays nothing. */
const { [REPLAY_SINK]: replaying } = proxySinks<CaseSinks>();

export const runCase: RunCaseWorkflow = (input) => new CaseRun(input).run();

/** Event ids a case carries into its next run: the most recent, the window in which a resend can race its delivery. */
const MAX_CARRIED_EVENT_IDS = 1_000;

/** How many branches a side effect looks ahead through for the wait or end whose report it carries. */
const MAX_RIDE_HOPS = 16;

/**
 * Shape 5: the report a side effect carries ahead (see rideAhead()): the steps from the effect's to the
 * wait or end it reports, not yet run (a branch with the record and next step it was decided with);
 * when the effect was issued; the report as written once it was.
 */
interface Ahead {
  path: { id: string; decided?: { record: StepRecord; next: string } }[];
  at: number;
  rides: RidingReport;
  written?: ProgressReport;
}

/** Where failed cases are escalated. */
export const REPAIR_QUEUE = 'casebook-admin';

/**
 * Failures that end a step for good: the plan or the data cannot go on, or an activity is past its
 * retries. A plain error thrown by a step (an amount out of range, a calendar without working time, a
 * value no activity can carry) is one too: the SDK would fail the workflow task with it and retry the
 * task for ever, leaving the case open and silent. Only the SDK's own errors (nondeterminism, its
 * internal states) are left to fail the task, where a fixed worker can pick the case up again.
 */
function isCaseFailure(error: unknown): boolean {
  if (isCancellation(error)) return false;
  if (error instanceof ActivityFailure) return true;
  if (error instanceof ApplicationFailure) return error.nonRetryable === true;
  return error instanceof Error && !(error instanceof WorkflowError || error instanceof LocalActivityDoBackoff || error instanceof IllegalStateError);
}

/** A step failed and waiting for an admin: its step and (in a loop) iteration, as its records name them. */
interface PendingFailure {
  step: string;
  iteration?: string;
  repair?: CaseRepair;
}

/** Whether a repair names this failure (a repair naming no step names any). */
const targets = (repair: CaseRepair, failure: PendingFailure): boolean =>
  (repair.step === undefined || repair.step === failure.step) && (repair.iteration === undefined || repair.iteration === failure.iteration);

class CaseRun implements StepRuntime, StrandHost {
  readonly caseId: string;
  /** The plan the case runs on: the one it opened with, until a migration swaps it (see migrate()). */
  plan: Plan;
  readonly state: CaseState;
  readonly activities: CaseActivities;
  readonly refunds = refunds;
  private expressions: CaseExpressions;
  private inbox: Inbox;
  private clocks: CaseClocks;
  /** When the top-level step running now started: where a migration recomputes a wait's timeout (a delay's end) from. */
  private stepStarted: number | undefined;
  /** Migrations taken so far: a wait woken by one reads its step again. */
  private migrations = 0;
  private status: CaseStatus = 'open';
  private waitingFor: string[] = [];
  private deadlines: Deadline[] = [];
  private outcome: { outcome: string; reason: string } | null = null;
  /** Steps failed and waiting for an admin, in the order they failed: the case shows `failed` while any does. */
  private readonly failures: PendingFailure[] = [];
  /** Where the strands of the block running now are (src/workflows/strands.ts); empty outside blocks. */
  private readonly strands = new Set<StrandPosition>();
  /** Shape 5: the report a side effect carried ahead, until the wait or end it reports confirms it (see rideAhead()). */
  private ahead: Ahead | undefined;
  /** The strands' last report in flight (see report()). */
  private reporting: Promise<void> = Promise.resolve();
  private readonly cancellation: Cancellation;

  /** The input without its plan: the plan is the one copy shared by the plan's cases. A migration replaces its playbook. */
  private input: Omit<CaseInput, 'plan'>;
  readonly versions: HistoryVersions;

  constructor({ plan, ...input }: CaseInput) {
    const shared = sharedPlan(input.playbook.hash, plan);
    this.input = input;
    this.versions = new HistoryVersions(input);
    this.activities = this.versions.has('reports-ride-effects')
      ? {
          ...localFirstActivities,
          sendMessage: this.riding(quickEffects.sendMessage, ridingEffects.sendMessage, activities.sendMessage),
          writeOrderNote: this.riding(quickEffects.writeOrderNote, ridingEffects.writeOrderNote, activities.writeOrderNote),
          openEscalation: this.riding(quickEffects.openEscalation, ridingEffects.openEscalation, activities.openEscalation),
        }
      : this.versions.has('effects-in-task')
        ? localFirstActivities
        : activities;
    this.caseId = input.caseId;
    this.plan = shared.plan;
    this.state = input.resume ?? {
      current: this.plan.start,
      data: input.data,
      received: {},
      inbox: [],
      seenEventIds: [],
      visits: {},
      history: [],
      openedAt: new Date().toISOString(),
      auditedUpTo: 0,
    };
    this.expressions = new CaseExpressions(shared, this.caseId, input.openedBy ?? '', this.state);
    this.inbox = new Inbox(this.plan, this.state);
    this.clocks = new CaseClocks(this.plan, this.state);
    this.cancellation = new Cancellation(this, {
      closed: () => this.status === 'closed',
      settle: () => {
        this.status = 'open';
        this.waitingFor = [];
        this.deadlines = [];
      },
      reasonFor: (event, text, placeholders) => this.expressions.renderFor(event, text, placeholders),
      indexed: this.input.indexed === true,
      repairQueue: REPAIR_QUEUE,
      versions: this.versions,
      result: () => this.result(),
    });
    setHandler(cancelCaseUpdate, (cancel) => this.cancellation.requested(cancel), { validator: (_cancel) => this.cancellation.validate() });
    setHandler(deliverEventUpdate, (event) => this.cancellation.heard(event, this.inbox.accept(event, iso(Date.now()))), {
      validator: (event) =>
        this.inbox.validate(event, {
          closed: this.status === 'closed',
          outcome: this.outcome?.outcome,
          waitingFor: this.waitingFor.filter((w) => !isChildWait(w)),
        }),
    });
    setHandler(caseViewQuery, () => this.view());
    setHandler(migrationPreviewQuery, (target: MigrationTarget) => this.checkMigration(target));
    setHandler(migrateCaseUpdate, (migration: CaseMigration) => this.migrate(migration), {
      validator: (migration: CaseMigration) => {
        const { movable, reasons } = this.checkMigration(migration);
        if (!movable)
          // With the playbook the case runs: a mover whose earlier move was not recorded (a crash) finds it done.
          throw ApplicationFailure.create({
            type: FAILURE_TYPES.NotMigratable,
            message: reasons.join('; '),
            details: [reasons, this.input.playbook],
            nonRetryable: true,
          });
      },
    });
    setHandler(
      repairCaseUpdate,
      (repair: CaseRepair) => {
        // Replays of repairs recorded before they named a target take the first failure, as then.
        const target = this.unrepaired().find((failure) => targets(repair, failure))!;
        target.repair = repair;
        return { status: this.status, step: target.step, ...(target.iteration !== undefined ? { iteration: target.iteration } : {}) };
      },
      { validator: (repair: CaseRepair) => this.validateRepair(repair) },
    );
  }

  /** The step loop runs in the cancellation's scope: a cancel stops it, compensates and ends the case. */
  run(): Promise<CaseResult> {
    return this.cancellation.guard(() => this.steps());
  }

  private async steps(): Promise<CaseResult> {
    // Opening the case wrote this state.
    if (!this.versions.has('progress-as-local-activities')) await this.report();
    for (;;) {
      const next = await this.runStep(this.state.current);
      if (next === undefined) return this.result();
      this.state.current = next;
      // Not between a report carried ahead and the wait or end it told: its records are in the audit trail already.
      if (workflowInfo().continueAsNewSuggested && !this.ahead?.written) {
        await this.report();
        await condition(allHandlersFinished);
        this.state.seenEventIds = this.inbox.seenIds();
        const resume = this.versions.has('continue-as-new-carries-state') ? this.carried() : this.state;
        await continueAsNew<RunCaseWorkflow>({ ...this.input, plan: this.plan, resume });
      }
    }
  }

  /**
   * What the next run needs: the state without the step records already in the audit trail (the report
   * before continuing wrote them all), counted so that sequence numbers go on, and the most recent event
   * ids (older repeats are answered duplicate from `case_events` before they reach the case).
   */
  private carried(): CaseState {
    const { history, auditedUpTo, recordsBefore = 0, seenEventIds } = this.state;
    return {
      ...this.state,
      history: history.slice(auditedUpTo),
      auditedUpTo: 0,
      recordsBefore: recordsBefore + auditedUpTo,
      seenEventIds: seenEventIds.slice(-MAX_CARRIED_EVENT_IDS),
    };
  }

  /**
   * Runs one step (in `rt`, a strand's runtime for a step in a body; `iteration` is its loop's items,
   * `@<index>` each, in its visits and keys); a failure of the step leaves the case failed until an admin
   * retries or closes it, or with `failures: 'throw'` ends the strand.
   */
  async runStep(stepId: string, rt: StepRuntime = this, iteration = '', failures: BodyRun['failures'] = 'repair'): Promise<string | undefined> {
    const step = this.plan.steps[stepId];
    const visit = (this.state.visits[stepId + iteration] = (this.state.visits[stepId + iteration] ?? 0) + 1);
    const key = `${this.caseId}/${stepId}${iteration}/${visit}`;
    if (workflowInfo().unsafe.isReplaying) replaying.step(stepId, visit);
    // A report carried ahead holds while the case goes the way it told; another way, the truth is reported now.
    let decided: { record: StepRecord; next: string } | undefined;
    if (this.ahead && rt === this) {
      if (this.ahead.path[0]?.id === stepId) decided = this.ahead.path.shift()!.decided;
      else if (this.ahead.written) await this.reportNow();
      else this.ahead = undefined;
    }
    // A wait whose report a side effect carried counts from that effect's time, its timer and a migration's preview alike.
    if (rt === this) this.stepStarted = this.decidedAt();
    try {
      this.state.history.push(...this.clocks.enter(stepId, Date.now()));
      await this.escalateRunOutClocks(stepId);
      if (!step) throw ApplicationFailure.nonRetryable(`plan has no step '${stepId}'`, FAILURE_TYPES.BrokenPlan);
      // A branch the report told was decided then, with the effect's time: the audit trail has its record already.
      if (decided && this.ahead?.written) {
        const { record, next } = decided;
        return await this.cancellation.running(step, key, async () => {
          this.state.history.push(record);
          return next;
        });
      }
      return await this.cancellation.running(step, key, () => interpreterOf(step).run(step, rt, key));
    } catch (error) {
      if (!isCaseFailure(error) || failures === 'throw' || !this.versions.has('failed-cases-wait-for-repair')) throw error;
      return this.failed(step ?? { id: stepId, kind: 'missing' }, key, failureMessage(error).slice(0, 1000), rt, iteration);
    }
  }

  /** Whether the case can move to `target` and what changes for it (the preview query; the update's validator). */
  private checkMigration(target: MigrationTarget): MigrationPreview {
    const position = {
      status: this.status,
      inBlock: this.strands.size > 0,
      current: this.state.current,
      playbook: this.input.playbook,
      plan: this.plan,
      since: this.status === 'waiting' && this.strands.size === 0 ? this.stepStarted : undefined,
      received: this.state.received,
    };
    return checkMigration(position, target, (plan, hash, step: MovableStep, since) => {
      // Its own expressions: a query must not count in what the step code spends of the task's budget.
      const expressions = new CaseExpressions(sharedPlan(hash, plan), this.caseId, this.input.openedBy ?? '', this.state);
      const rt = { evaluate: (expr: Expr) => expressions.evaluate(expr), after: (start: number, span: Span) => instantAfter(plan.calendar, start, span) };
      return step.kind === 'wait' ? waitTimeoutAt(step, rt, since) : delayEnd(step, rt, since);
    });
  }

  /**
   * Swaps the plan the case runs on (its expressions, inbox, clocks, the playbook continue-as-new carries),
   * records `migrated` and wakes the wait, which reads its step again from the new plan.
   */
  private migrate(migration: CaseMigration): MigrationPreview {
    const preview = this.checkMigration(migration);
    const from = this.input.playbook;
    const shared = sharedPlan(migration.playbook.hash, migration.plan);
    this.plan = shared.plan;
    this.input = { ...this.input, playbook: migration.playbook };
    this.expressions = new CaseExpressions(shared, this.caseId, this.input.openedBy ?? '', this.state);
    this.state.seenEventIds = this.inbox.seenIds();
    this.inbox = new Inbox(this.plan, this.state);
    this.clocks = new CaseClocks(this.plan, this.state);
    carryVisits(this.state.visits, migration.mapping);
    this.state.current = preview.toStep!;
    this.record(
      { id: preview.toStep!, kind: 'migrated' },
      {
        from: { version: from.version, hash: from.hash },
        to: { version: migration.playbook.version, hash: migration.playbook.hash },
        ...(preview.step !== preview.toStep ? { fromStep: preview.step } : {}),
        mapping: migration.mapping,
        changes: preview.changes,
        by: migration.by,
        reason: migration.reason,
      },
    );
    if (this.input.indexed) upsertSearchAttributes([{ key: PLAYBOOK_VERSION, value: migration.playbook.version }]);
    this.migrations += 1;
    return preview;
  }

  private unrepaired(): PendingFailure[] {
    return this.failures.filter((failure) => failure.repair === undefined);
  }

  /**
   * A repair goes to one failed step: the one it names (its step, and its iteration in a loop), or the
   * only one. Several failed at once (strands), a repair naming none is refused with their list.
   */
  private validateRepair(repair: CaseRepair): void {
    const open = this.unrepaired();
    if (this.status !== 'failed' || open.length === 0)
      throw ApplicationFailure.create({ type: FAILURE_TYPES.NotFailed, message: `the case is ${this.status}, not failed`, nonRetryable: true });
    const matching = open.filter((failure) => targets(repair, failure));
    if (matching.length === 1) return;
    const failed = open.map(({ step, iteration }) => ({ step, ...(iteration !== undefined ? { iteration } : {}) }));
    const named = failed.map(({ step, iteration }) => (iteration === undefined ? `'${step}'` : `'${step}' (iteration ${iteration})`)).join(', ');
    const message =
      matching.length === 0
        ? `no failed step ${repair.iteration === undefined ? `'${repair.step}'` : `'${repair.step}' (iteration ${repair.iteration})`} waits for repair; failed: ${named}`
        : `${matching.length} failed steps wait for repair (${named}): name the one to repair by its step and iteration`;
    throw ApplicationFailure.create({ type: FAILURE_TYPES.RepairTargetUnclear, message, details: [failed], nonRetryable: true });
  }

  /** Records and escalates the failure, then waits for an admin: retry the step (its id) or close (undefined). */
  private async failed(step: StepBase & { kind: string }, key: string, reason: string, rt: StepRuntime, iteration: string): Promise<string | undefined> {
    rt.record(step, { failed: reason }, 'failed');
    // A child case (a sub-playbook) ends failed at once: its parent's step takes its on_error.
    if (this.input.parent) {
      await rt.finish('failed', reason);
      return undefined;
    }
    const failure: PendingFailure = { step: step.id, ...(iteration ? { iteration: iteration.slice(1) } : {}) };
    this.failures.push(failure);
    try {
      this.status = 'failed';
      this.waitingFor = [];
      this.deadlines = [];
      // A step of a body fails in its strand: the case stays at its block, where continue-as-new may resume it.
      if (rt === this) this.state.current = step.id;
      this.settle();
      await this.activities.openEscalation({
        key: `${key}/failed`,
        caseId: this.caseId,
        stepId: step.id,
        queue: REPAIR_QUEUE,
        severity: 'critical',
        reason: 'case_failed',
        // Strands may fail at once: the note says which item, as a repair names it.
        note: failure.iteration === undefined ? reason : `iteration ${failure.iteration}: ${reason}`,
      });
      await this.report();
      await condition(() => failure.repair !== undefined);
    } finally {
      this.failures.splice(this.failures.indexOf(failure), 1);
    }
    const repair = failure.repair!;
    rt.record(step, { repair: repair.action, by: repair.by, reason: repair.reason }, 'repair');
    if (repair.action === 'close') {
      await rt.finish('failed', repair.reason);
      return undefined;
    }
    this.status = 'open';
    this.settle();
    return step.id;
  }

  // ---- StepRuntime ----

  integrationsFor(retry: StepRetry | undefined): Pick<CaseActivities, 'callIntegration'> {
    return retry ? integrationsWith(retry) : integrations;
  }

  evaluate(expr: Expr, items: readonly ItemValue[] = []): unknown {
    return this.expressions.evaluate(expr, items);
  }

  after(startMs: number, span: Span): number {
    return instantAfter(this.plan.calendar, startMs, span);
  }

  evidence(expr: Expr, items: readonly ItemValue[] = []): Record<string, string> {
    return this.expressions.evidence(expr, items);
  }

  matches(where: Expr, event: CaseEvent, items: readonly ItemValue[] = []): boolean {
    return this.expressions.matches(where, event, items);
  }

  render(text: string, placeholders: Expr[], html?: (value: string) => string, items: readonly ItemValue[] = []): string {
    return this.expressions.render(text, placeholders, html, items);
  }

  runBody(body: BodyRun): Promise<BodyEnd> {
    const items = body.item ? [{ name: body.item.name, type: body.item.type, value: body.item.value }] : [];
    return new Strand(this, this, items, body.item ? `@${body.item.index}` : '', body).run();
  }

  // ---- StrandHost ----

  enter(strand: StrandPosition): void {
    this.strands.add(strand);
    this.settle();
  }

  leave(strand: StrandPosition): void {
    this.strands.delete(strand);
    if (this.strands.size > 0) this.settle();
    else if (this.status === 'waiting' || this.status === 'open') {
      this.status = 'open';
      this.waitingFor = [];
      this.deadlines = [];
    }
  }

  /** While strands run, the case shows their union: waiting only when every strand waits; failed while one waits for repair. */
  private settle(): void {
    if (this.strands.size === 0 || this.status === 'closed') return;
    const strands = [...this.strands];
    this.status = this.failures.length > 0 ? 'failed' : strands.every((strand) => strand.waitingFor !== undefined) ? 'waiting' : 'open';
    this.waitingFor = [...new Set(strands.flatMap((strand) => strand.waitingFor ?? []))];
    this.deadlines = strands.flatMap((strand) => strand.deadlines);
  }

  recipient(to: Recipient): MessageRecipient {
    if (to.kind === 'group') return { kind: 'group', name: to.name };
    if (to.kind === 'agent' && to.id) return { kind: 'agent', name: String(this.evaluate(to.id)) };
    return { kind: to.kind };
  }

  record(step: StepBase & { kind: string }, detail: Record<string, unknown>, kind = step.kind): void {
    const entry: StepRecord = { step: step.id, kind, at: iso(this.decidedAt()), detail };
    this.state.history.push(entry);
  }

  /** Shape 5: the records up to the wait or end a side effect reported carry the effect's time, as its report did. */
  decidedAt(): number {
    return this.ahead?.written ? this.ahead.at : Date.now();
  }

  /**
   * History shape 5: the report the case will make at the wait or end it reaches after `step`, going to
   * `next` through branches only (evaluated now, as they will be), for the step's side effect to carry:
   * the wait or end then reports nothing when its report is the same (reportNow()), and the case one
   * marker less. Not in strands, nor with clocks (whose deadlines move with time), nor when the wait
   * would not wait at once; a case that goes another way reports the truth at its next step (runStep()).
   */
  rideAhead(step: StepBase & { kind: string }, next: string, detail: Record<string, unknown>): RidingReport | undefined {
    if (!this.versions.has('reports-ride-effects') || this.ahead || this.strands.size > 0 || this.status !== 'open' || this.cancellation.cancelling())
      return undefined;
    if (Object.keys(this.plan.clocks ?? {}).length > 0) return undefined;
    const at = Date.now();
    const records: StepRecord[] = [{ step: step.id, kind: step.kind, at: iso(at), detail }];
    const looking = {
      evaluate: (expr: Expr) => this.evaluate(expr),
      evidence: (expr: Expr) => this.evidence(expr),
      record: (branch: StepBase & { kind: string }, recorded: Record<string, unknown>, kind = branch.kind) =>
        void records.push({ step: branch.id, kind, at: iso(at), detail: recorded }),
    };
    const path: Ahead['path'] = [];
    let id = next;
    let reached: Pick<ProgressReport, 'status' | 'step' | 'waitingFor' | 'deadlines' | 'outcome'> | undefined;
    try {
      for (let hops = 0; reached === undefined && hops <= MAX_RIDE_HOPS; hops++) {
        const target = this.plan.steps[id];
        if (!target) return undefined;
        if (target.kind === 'branch') {
          const to = branchTo(target, looking);
          path.push({ id, decided: { record: records.at(-1)!, next: to } });
          id = to;
          continue;
        }
        path.push({ id });
        if (target.kind === 'end') {
          records.push({ step: id, kind: target.kind, at: iso(at), detail: { outcome: target.outcome, reason: target.reason } });
          reached = { status: 'closed', step: null, waitingFor: [], deadlines: [], outcome: { outcome: target.outcome, reason: target.reason } };
        } else if (target.kind === 'wait') {
          const waiting = waitingAt(target, this, at);
          if (!waiting) return undefined;
          reached = { status: 'waiting', step: id, waitingFor: waiting.events, deadlines: waiting.deadlines, outcome: this.outcome };
        } else return undefined;
      }
    } catch {
      // What cannot be evaluated now fails in its step, where failures are handled.
      return undefined;
    }
    if (reached === undefined) return undefined;
    const before = (this.state.recordsBefore ?? 0) + this.state.auditedUpTo;
    const unaudited = this.state.history.length - this.state.auditedUpTo;
    const audit = [...this.state.history.slice(this.state.auditedUpTo), ...records].map((record, i) => ({ seq: before + i + 1, record }));
    const rides: RidingReport = { report: this.reportOf(reached, audit, before + 1), resultInto: before + unaudited + 1 };
    this.ahead = { path, at, rides };
    return rides;
  }

  /**
   * Shape 5: a quick side effect that may carry a report ahead: in the task first; one going on as an
   * activity goes without the report (it may take long), and the wait or end reports for itself.
   */
  private riding<Request extends { rides?: RidingReport }, Result>(
    local: (request: Request) => Promise<Result>,
    localCarrying: (request: Request) => Promise<Result>,
    remote: (request: Request) => Promise<Result>,
  ): (request: Request) => Promise<Result> {
    return async (request) => {
      const carried = request.rides !== undefined && this.ahead?.rides === request.rides ? this.ahead : undefined;
      try {
        const result = await (request.rides ? localCarrying : local)(request);
        if (carried) carried.written = ridingReport(carried.rides, result);
        return result;
      } catch (error) {
        if (carried && this.ahead === carried) this.ahead = undefined;
        const failure = ownFailure(error);
        if (isCancellation(error) || (failure instanceof ApplicationFailure && failure.nonRetryable)) throw error;
        const { rides: _carried, ...alone } = request;
        return remote(alone as Request);
      }
    };
  }

  take(types: string[], accepts: (event: CaseEvent) => boolean) {
    return this.inbox.take(types, accepts);
  }

  has(types: string[], accepts: (event: CaseEvent) => boolean): boolean {
    return this.inbox.has(types, accepts);
  }

  async waitFor(
    stepId: string,
    events: string[],
    deadlines: Deadline[],
    wakeAt: number | undefined,
    ready: () => boolean = () => false,
    strand?: StrandPosition,
  ): Promise<Woken> {
    const migrations = this.migrations;
    let woken: Woken;
    if (strand) Object.assign(strand, { step: stepId, waitingFor: events, deadlines });
    else {
      this.status = 'waiting';
      this.waitingFor = events;
      this.deadlines = deadlines;
      this.state.current = stepId;
    }
    this.settle();
    await this.report();
    // The SDK asks `ready` outside the step: what it throws (a condition that cannot be evaluated) wakes
    // the step, which throws it where its failure is handled.
    let unready: unknown;
    const settled = () => {
      try {
        return unready !== undefined || this.migrations !== migrations || ready();
      } catch (error) {
        unready = error;
        return true;
      }
    };
    // A playbook's clock may run out first: it is escalated, and the step waits on.
    for (;;) {
      const runOut = this.clocks.nextRunOut();
      const until = runOut === undefined ? wakeAt : Math.min(runOut, wakeAt ?? Infinity);
      // Measured after the report, so the timer ends exactly at `until` however long reporting took.
      if (until === undefined) await condition(settled);
      else if (until > Date.now()) await condition(settled, until - Date.now());
      if (unready !== undefined) throw unready;
      if (this.migrations !== migrations) {
        woken = 'migrated';
        break;
      }
      if (runOut === undefined || ready() || (wakeAt !== undefined && Date.now() >= wakeAt)) break;
      await this.escalateRunOutClocks(stepId);
      await this.report();
    }
    if (strand) Object.assign(strand, { waitingFor: undefined, deadlines: [] });
    else {
      this.status = 'open';
      this.waitingFor = [];
      this.deadlines = [];
    }
    this.settle();
    return woken;
  }

  async working(deadlines: Deadline[], strand?: StrandPosition): Promise<void> {
    if (strand) strand.deadlines = deadlines;
    else this.deadlines = deadlines;
    this.settle();
    await this.report();
  }

  refundsUntil(deadline: number): Pick<CaseActivities, 'issueRefund'> | undefined {
    return this.versions.has('effects-in-task') ? refundsUntil(deadline) : undefined;
  }

  progressWith(deadlines: Deadline[], strand?: StrandPosition) {
    if (strand) strand.deadlines = deadlines;
    else this.deadlines = deadlines;
    this.settle();
    const { report, upTo } = this.progress();
    return { report, written: () => void (this.state.auditedUpTo = upTo) };
  }

  async finish(outcome: string, reason: string): Promise<void> {
    this.outcome = { outcome, reason };
    this.status = 'closed';
    this.waitingFor = [];
    this.deadlines = [];
    await this.report();
    await condition(allHandlersFinished);
  }

  // ---- what the outside sees ----

  /** Escalates, once each, the clocks that have run out while counting. */
  private async escalateRunOutClocks(stepId: string): Promise<void> {
    for (const { name, spec, at } of this.clocks.breachedBy(Date.now())) {
      const { escalationId } = await this.activities.openEscalation({
        key: `${this.caseId}/clock/${name}`,
        caseId: this.caseId,
        stepId,
        queue: spec.breach.queue,
        severity: spec.breach.severity,
        reason: spec.breach.reason,
        note: `clock ${name} ran out at ${iso(at)}`,
      });
      this.state.history.push({
        step: stepId,
        kind: 'clock',
        at: iso(Date.now()),
        detail: { clock: name, breached: iso(at), escalationId, queue: spec.breach.queue, reason: spec.breach.reason },
      });
    }
  }

  /**
   * Strands report concurrently: one report at a time then, each computed when its turn comes, so
   * the projection's last write is the latest position (outside blocks a report goes at once, as ever).
   */
  private report(): Promise<void> {
    if (this.strands.size === 0) return this.reportNow();
    const turn = this.reporting.then(() => this.reportNow());
    this.reporting = turn.catch(() => undefined);
    return turn;
  }

  private async reportNow() {
    const { report, upTo } = this.progress();
    if (!this.rodeAhead(report)) await (this.versions.has('progress-as-local-activities') ? reports : this.activities).recordProgress(report);
    this.state.auditedUpTo = upTo;
  }

  /** Shape 5: whether a side effect wrote this very report already, at the wait or end it told (then it is not written again). */
  private rodeAhead(report: ProgressReport): boolean {
    const ahead = this.ahead;
    if (!ahead) return false;
    this.ahead = undefined;
    return ahead.written !== undefined && ahead.path.length === 0 && JSON.stringify(stated(report)) === JSON.stringify(stated(ahead.written));
  }

  /** What the outside is told next: the projection, and the audit rows since the last report (up to `upTo`). */
  private progress(): { report: ProgressReport; upTo: number } {
    // Shape 2: Temporal's CaseStatus tells open, failed and closed cases apart; waiting is the projection's detail.
    const searchable = this.versions.has('progress-as-local-activities') && this.status === 'waiting' ? 'open' : this.status;
    if (this.input.indexed && workflowInfo().typedSearchAttributes.get(CASE_STATUS) !== searchable) {
      const outcome =
        this.versions.has('outcome-indexed') && this.outcome
          ? [
              { key: CASE_OUTCOME, value: this.outcome.outcome },
              { key: CASE_REASON, value: this.outcome.reason },
            ]
          : [];
      upsertSearchAttributes([{ key: CASE_STATUS, value: searchable }, ...outcome]);
    }
    const upTo = this.state.history.length;
    const before = (this.state.recordsBefore ?? 0) + this.state.auditedUpTo;
    const audit = this.state.history.slice(this.state.auditedUpTo, upTo).map((record, i) => ({ seq: before + i + 1, record }));
    if (workflowInfo().unsafe.isReplaying) replaying.recorded(audit);
    const position = { status: this.status, step: this.position(), waitingFor: this.waitingFor, deadlines: this.currentDeadlines(), outcome: this.outcome };
    return { report: this.reportOf(position, audit, before + 1), upTo };
  }

  private reportOf(
    { status, step, waitingFor, deadlines, outcome }: Pick<ProgressReport, 'status' | 'step' | 'waitingFor' | 'deadlines' | 'outcome'>,
    audit: ProgressReport['audit'],
    from: number,
  ): ProgressReport {
    return {
      caseId: this.caseId,
      status,
      step,
      waitingFor,
      deadlines,
      data: this.state.data,
      outcome,
      returnTracking: returnTrackingOf(this.plan, this.state.data),
      audit,
      from,
      // The task deciding it: its start (workflow time) and started event, both the same on every replay of it.
      decidedIn: { at: iso(Date.now()), runStartedAt: iso(workflowInfo().runStartTime.getTime()), task: workflowInfo().historyLength },
    };
  }

  private currentDeadlines(): Deadline[] {
    return this.status === 'closed' ? this.deadlines : [...this.deadlines, ...this.clocks.deadlines(Date.now())];
  }

  private result(): CaseResult {
    return { ...this.outcome!, steps: this.versions.has('lean-result') ? [] : this.state.history };
  }

  private view(): CaseView {
    return {
      caseId: this.caseId,
      playbook: this.input.playbook,
      status: this.status,
      step: this.position(),
      waitingFor: this.waitingFor,
      deadlines: this.currentDeadlines(),
      data: this.state.data,
      outcome: this.outcome,
      steps: this.state.history,
    };
  }

  private position(): string | null {
    return this.status === 'closed' ? null : this.state.current;
  }
}

/** What a report states, without the task that decided it (a report carried ahead is the same told later). */
function stated({ decidedIn: _task, ...report }: ProgressReport): Omit<ProgressReport, 'decidedIn'> {
  return report;
}
