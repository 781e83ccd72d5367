/**
 * Cancelling a case, in workflow code: the step loop runs in a cancellation scope; a person's cancel
 * (the `cancelCase` update) or an event a `cancel_on` handler takes cancels it, which cancels the waits,
 * timers and activities in flight. Then, non-cancellable, the steps that completed are answered for in
 * reverse order of completion (each `compensate` runs its compensation step; each paid refund is
 * escalated to finance, never undone), and the case ends `cancelled` with who and why.
 */
import { ActivityFailure, ApplicationFailure, CancellationScope, isCancellation, upsertSearchAttributes } from '@temporalio/workflow';
import {
  CANCELLED_OUTCOME,
  COMPENSATION_FAILED,
  FINANCE_QUEUE,
  REFUND_PAID_BEFORE_CANCEL,
  type CancelHandler,
  type CancelResult,
  type CaseCancel,
  type CompletedStep,
} from '../plan/cancellation.js';
import { CASEBOOK_ACTOR, type CaseEvent, type CaseResult, type EventResult } from '../plan/case.js';
import { FAILURE_TYPES } from '../plan/failures.js';
import type { Expr } from '../plan/plan.js';
import type { Step } from '../plan/steps/index.js';
import { CASE_CANCELLED_BY } from '../case-contract/search-attributes.js';
import { failureMessage } from './failures.js';
import type { HistoryVersions } from './history-versions.js';
import { interpreterOf, type StepRuntime } from './steps/index.js';

/** What the case run lends the cancellation: its position, its status, and its result once it ended. */
export interface CancellationHost {
  /** Whether the case has ended. */
  closed(): boolean;
  /** Leaves waiting (the scope cancelled the wait): the case is open while it is cancelled. */
  settle(): void;
  /** A cancel reason from a handler's template, its placeholders reading the event. */
  reasonFor(event: CaseEvent, text: string, placeholders: Expr[]): string;
  /** Whether the case keeps its search attributes current. */
  indexed: boolean;
  /** Where failures are escalated for an admin. */
  repairQueue: string;
  /** Which history changes this case's run takes. */
  versions: HistoryVersions;
  result(): CaseResult;
}

type Request = CaseCancel & { event?: { type: string; id: string } };

/** The step a key names: `<case>/<step>[@<index>...]/<visit>`. */
const stepOfKey = (key: string) => key.split('/').at(-2)!.split('@')[0]!;

/** A step's key without its visit: `<case>/<step>[@<index>...]`. */
const withoutVisit = (key: string) => key.slice(0, key.lastIndexOf('/'));

/** The reason a case records when its workflow was cancelled in Temporal rather than through Casebook. */
const WORKFLOW_CANCELLED = 'the workflow was cancelled in Temporal (its parent case was cancelled, or an operator cancelled it)';

export class Cancellation {
  private request: Request | undefined;
  private scope: CancellationScope | undefined;
  /** The keys of refunds being paid (`<case>/<step>[@<index>]/<visit>`). */
  private readonly refundsInFlight = new Set<string>();

  constructor(
    private readonly rt: StepRuntime,
    private readonly host: CancellationHost,
  ) {}

  /** Whether a cancel came: the steps run from then on are the cancel's (compensations), not the playbook's way. */
  cancelling(): boolean {
    return this.request !== undefined;
  }

  /** The update's validator: a closed case cannot be cancelled. */
  validate(): void {
    if (this.host.closed())
      throw ApplicationFailure.create({ type: FAILURE_TYPES.CaseClosed, message: `the case is closed (${this.host.result().outcome})`, nonRetryable: true });
  }

  /** A cancel: the first one cancels the step loop; later ones are duplicates. */
  requested(request: Request): CancelResult {
    if (this.request) return { status: 'duplicate' };
    this.request = request;
    this.scope?.cancel();
    return { status: 'accepted' };
  }

  /**
   * An event the inbox answered: one accepted that a `cancel_on` handler names is taken out of the
   * inbox and cancels the case when its `where` holds. Returns the inbox's answer.
   */
  heard(event: CaseEvent, result: EventResult): EventResult {
    const handler = this.rt.plan.cancelOn?.[event.type];
    if (result.status === 'accepted' && handler) this.handle(event, handler);
    return result;
  }

  private handle(event: CaseEvent, handler: CancelHandler): void {
    this.rt.take([event.type], (taken) => taken.id === event.id);
    const step = { id: this.rt.state.current, kind: 'cancel_on' };
    try {
      if (handler.where && !this.rt.matches(handler.where, event)) {
        this.rt.record(step, { event: event.type, eventId: event.id, cancels: false });
        return;
      }
      const reason = this.host.reasonFor(event, handler.reason.text, handler.reason.placeholders).slice(0, 500);
      this.requested({ by: event.by ?? CASEBOOK_ACTOR, reason, event: { type: event.type, id: event.id } });
    } catch (error) {
      // A handler whose condition or reason cannot be evaluated does not cancel: recorded, for people to see.
      if (!(error instanceof ApplicationFailure)) throw error;
      this.rt.record(step, { event: event.type, eventId: event.id, cancels: false, failed: error.message });
    }
  }

  /**
   * Runs a step, noting what a cancel will have to answer for: the step once it completed, and a refund
   * while it is being paid (one the cancel cuts short may have been paid: it stays noted, for finance).
   */
  async running(step: Step, key: string, run: () => Promise<string | undefined>): Promise<string | undefined> {
    if (step.kind !== 'refund') {
      const next = await run();
      this.completed(step, key);
      return next;
    }
    this.refundsInFlight.add(key);
    try {
      const next = await run();
      this.refundsInFlight.delete(key);
      this.completed(step, key);
      return next;
    } catch (error) {
      // Kept only when the case's cancel cut it short (a race's losing branch cleans up after itself).
      if (!isCancellation(error) || !this.request) this.refundsInFlight.delete(key);
      throw error;
    }
  }

  /**
   * Notes a step that completed: what a cancel has to answer for (a compensation, a paid refund). A step
   * visited again (a loop) is compensated once, for its latest visit, so a looping case carries one
   * entry per step, not one per round; each item of a `for_each` (`@<index>` in its key) counts apart,
   * and every paid refund is kept.
   */
  private completed(step: Step, key: string): void {
    const refund = step.kind === 'refund' ? this.paidRefund(step.id) : undefined;
    if (!step.compensate && !refund) return;
    const done: CompletedStep = { step: step.id, key, ...(step.compensate ? { compensation: step.compensate } : {}), ...(refund ? { refund } : {}) };
    const place = withoutVisit(key);
    const kept = (this.rt.state.completed ?? []).filter((earlier) => earlier.refund || withoutVisit(earlier.key) !== place);
    this.rt.state.completed = [...kept, done];
  }

  /** Runs the step loop in a scope a cancel cancels; a cancelled loop ends the case `cancelled`. */
  async guard(loop: () => Promise<CaseResult>): Promise<CaseResult> {
    const scope = new CancellationScope();
    this.scope = scope;
    if (this.request) scope.cancel();
    try {
      return await scope.run(loop);
    } catch (error) {
      if (!isCancellation(error)) throw error;
      // No cancel of ours: the workflow itself was cancelled in Temporal (a parent case's cancel reaches its children so).
      if (!this.request && this.host.versions.has('workflow-cancel-compensates')) this.request = { by: CASEBOOK_ACTOR, reason: WORKFLOW_CANCELLED };
      if (!this.request) throw error;
      const request = this.request;
      return CancellationScope.nonCancellable(() => (this.host.closed() ? this.endedFirst(request) : this.cancel(request)));
    }
  }

  /** The case reached its end as the cancel came: its outcome stands; the cancel is recorded, and the closing report made again. */
  private async endedFirst(request: Request): Promise<CaseResult> {
    const { outcome, reason } = this.host.result();
    this.rt.record({ id: this.rt.state.current, kind: 'cancelled' }, { by: request.by, reason: request.reason, ignored: `the case had ended ${outcome}` });
    await this.rt.finish(outcome, reason);
    return this.host.result();
  }

  private async cancel(request: Request): Promise<CaseResult> {
    const current = this.rt.state.current;
    this.host.settle();
    this.rt.record({ id: current, kind: 'cancelled' }, { by: request.by, reason: request.reason, ...(request.event ? { event: request.event } : {}) });
    await this.rt.working([]);
    const completed = this.rt.state.completed ?? [];
    for (const key of this.refundsInFlight) await this.escalateRefundInFlight(stepOfKey(key), key);
    for (const done of [...completed].reverse()) {
      if (done.refund) await this.escalateRefund(done);
      if (done.compensation) await this.compensate(done);
    }
    this.rt.state.completed = [];
    if (this.host.indexed) upsertSearchAttributes([{ key: CASE_CANCELLED_BY, value: request.by.name.slice(0, 200) }]);
    await this.rt.finish(CANCELLED_OUTCOME, request.reason);
    return this.host.result();
  }

  private async compensate(done: CompletedStep): Promise<void> {
    const step = this.rt.plan.compensations?.[done.compensation!];
    const key = `${done.key}/compensate`;
    if (!step) return this.compensationFailed(done, key, `the plan has no compensation '${done.compensation}'`);
    this.rt.record(step, { compensates: done.step, key }, 'compensation');
    try {
      await interpreterOf(step).run(step, this.rt, key);
    } catch (error) {
      if (!(error instanceof ActivityFailure || error instanceof ApplicationFailure)) throw error;
      await this.compensationFailed(done, key, failureMessage(error).slice(0, 1000));
    }
  }

  /** A compensation that failed is recorded and escalated for an admin; the others still run. */
  private async compensationFailed(done: CompletedStep, key: string, reason: string): Promise<void> {
    const { escalationId } = await this.rt.activities.openEscalation({
      key: `${key}/failed`,
      caseId: this.rt.caseId,
      stepId: done.compensation!,
      queue: this.host.repairQueue,
      severity: 'high',
      reason: COMPENSATION_FAILED,
      note: `compensation ${done.compensation} of step ${done.step} failed: ${reason}`,
    });
    this.rt.record({ id: done.compensation!, kind: 'compensation' }, { compensates: done.step, failed: reason, escalationId }, COMPENSATION_FAILED);
  }

  /** A refund paid before the cancel: finance decides (a refund is never taken back by the case itself). */
  private async escalateRefund(done: CompletedStep): Promise<void> {
    const { refundId, amount, currency } = done.refund!;
    const { escalationId } = await this.rt.activities.openEscalation({
      key: `${done.key}/${REFUND_PAID_BEFORE_CANCEL}`,
      caseId: this.rt.caseId,
      stepId: done.step,
      queue: FINANCE_QUEUE,
      severity: 'high',
      reason: REFUND_PAID_BEFORE_CANCEL,
      note: `refund ${refundId} of ${amount} ${currency} (${done.key}) was paid before the case was cancelled; it is not taken back`,
    });
    this.rt.record({ id: done.step, kind: 'refund' }, { refundId, amount, currency, escalationId }, REFUND_PAID_BEFORE_CANCEL);
  }

  /** A refund being paid when the cancel came: it may have been paid, so finance checks the ledger. */
  private async escalateRefundInFlight(stepId: string, key: string): Promise<void> {
    const { escalationId } = await this.rt.activities.openEscalation({
      key: `${key}/${REFUND_PAID_BEFORE_CANCEL}`,
      caseId: this.rt.caseId,
      stepId,
      queue: FINANCE_QUEUE,
      severity: 'high',
      reason: REFUND_PAID_BEFORE_CANCEL,
      note: `refund ${key} was being paid when the case was cancelled; the ledger says whether it was paid`,
    });
    this.rt.record({ id: stepId, kind: 'refund' }, { key, inFlight: true, escalationId }, REFUND_PAID_BEFORE_CANCEL);
  }

  /** The refund the step's latest record says was paid (its receipt), if any. */
  private paidRefund(stepId: string): CompletedStep['refund'] {
    const history = this.rt.state.history;
    for (let i = history.length - 1; i >= 0; i--) {
      const record = history[i]!;
      if (record.step !== stepId || record.kind !== 'refund') continue;
      const detail = record.detail ?? {};
      if (typeof detail.refundId !== 'number') return undefined;
      return { refundId: detail.refundId, amount: Number(detail.amount), currency: String(detail.currency) };
    }
    return undefined;
  }
}
