/**
 * Strands: the bodies of structured steps (a parallel's branches, a loop's iterations) running inside
 * the case's own workflow, each a promise in a cancellation scope its block holds. A strand has its
 * own position, waits and deadlines; the case shows their union (waiting only when every strand
 * waits). Everything else (data, inbox, history, clocks, activities) is the case's, shared.
 * Deterministic: strands start in the order written, the SDK wakes their conditions in creation order,
 * so of the strands whose wait takes an event, the one that began waiting first gets it, on every
 * replay alike.
 */
import type { CaseActivities, MessageRecipient } from '../plan/activities.js';
import type { CaseEvent, CaseState, Deadline, ProgressReport } from '../plan/case.js';
import type { Span } from '../plan/duration.js';
import type { Expr, FieldType, Plan, Recipient, StepBase } from '../plan/plan.js';
import { BODY_END } from '../plan/steps/index.js';
import type { StepRetry } from '../plan/steps/retry.js';
import type { HistoryVersions } from './history-versions.js';
import type { BodyEnd, BodyRun, ReceivedCaseEvent, StepRuntime, Woken } from './steps/runtime.js';

/** A loop's item as a strand's expressions see it: its name, its type (undefined: `dyn`) and its JSON value. */
export interface ItemValue {
  name: string;
  type: FieldType | undefined;
  value: unknown;
}

/** Where one strand is: its step, what it waits for (undefined while it works) and its deadlines. */
export interface StrandPosition {
  step: string;
  waitingFor: string[] | undefined;
  deadlines: Deadline[];
}

/** What the case (src/workflows/run-case.ts) offers its strands. */
export interface StrandHost {
  /** Runs one step in `rt` (visits and keys carry `iteration`); the next step, or undefined when the case ended. */
  runStep(stepId: string, rt: StepRuntime, iteration: string, failures: BodyRun['failures']): Promise<string | undefined>;
  evaluate(expr: Expr, items: readonly ItemValue[]): unknown;
  evidence(expr: Expr, items: readonly ItemValue[]): Record<string, string>;
  matches(where: Expr, event: CaseEvent, items: readonly ItemValue[]): boolean;
  render(text: string, placeholders: Expr[], html: ((value: string) => string) | undefined, items: readonly ItemValue[]): string;
  waitFor(
    stepId: string,
    events: string[],
    deadlines: Deadline[],
    wakeAt: number | undefined,
    ready: (() => boolean) | undefined,
    strand: StrandPosition,
  ): Promise<Woken>;
  working(deadlines: Deadline[], strand: StrandPosition): Promise<void>;
  progressWith(deadlines: Deadline[], strand: StrandPosition): { report: ProgressReport; written(): void };
  /** A strand starts or stops counting in the case's position. */
  enter(strand: StrandPosition): void;
  leave(strand: StrandPosition): void;
}

/** One body running: a step runtime of its own over the case's. */
export class Strand implements StepRuntime {
  private readonly position: StrandPosition;
  private ended: { outcome: string; reason: string } | undefined;

  constructor(
    private readonly host: StrandHost,
    private readonly root: StepRuntime,
    private readonly items: readonly ItemValue[],
    private readonly iteration: string,
    private readonly body: BodyRun,
  ) {
    this.position = { step: body.start, waitingFor: undefined, deadlines: [] };
  }

  /** Runs the body from its first step to its end, or until a step ends the case. */
  async run(): Promise<BodyEnd> {
    this.host.enter(this.position);
    try {
      let current = this.body.start;
      while (current !== BODY_END) {
        this.position.step = current;
        const next = await this.host.runStep(current, this, this.iteration, this.body.failures);
        if (next === undefined) return { done: false, ...(this.ended ?? { outcome: 'failed', reason: 'ended' }) };
        current = next;
      }
      if (!this.body.collect) return { done: true };
      return { done: true, collected: this.evaluate(this.body.collect) };
    } finally {
      this.host.leave(this.position);
    }
  }

  get caseId(): string {
    return this.root.caseId;
  }
  get plan(): Plan {
    return this.root.plan;
  }
  get state(): CaseState {
    return this.root.state;
  }
  get versions(): HistoryVersions {
    return this.root.versions;
  }
  get activities(): CaseActivities {
    return this.root.activities;
  }
  get refunds(): Pick<CaseActivities, 'issueRefund'> {
    return this.root.refunds;
  }

  integrationsFor(retry: StepRetry | undefined): Pick<CaseActivities, 'callIntegration'> {
    return this.root.integrationsFor(retry);
  }
  evaluate(expr: Expr): unknown {
    return this.host.evaluate(expr, this.items);
  }
  after(startMs: number, span: Span): number {
    return this.root.after(startMs, span);
  }
  evidence(expr: Expr): Record<string, string> {
    return this.host.evidence(expr, this.items);
  }
  matches(where: Expr, event: CaseEvent): boolean {
    return this.host.matches(where, event, this.items);
  }
  render(text: string, placeholders: Expr[], html?: (value: string) => string): string {
    return this.host.render(text, placeholders, html, this.items);
  }
  recipient(to: Recipient): MessageRecipient {
    if (to.kind === 'agent' && to.id) return { kind: 'agent', name: String(this.evaluate(to.id)) };
    return this.root.recipient(to);
  }
  record(step: StepBase & { kind: string }, detail: Record<string, unknown>, kind?: string): void {
    this.root.record(step, this.iteration ? { ...detail, iteration: this.iteration.slice(1) } : detail, kind);
  }
  /** A strand's side effects carry no report: the case shows the union of its strands. */
  rideAhead(): undefined {
    return undefined;
  }
  decidedAt(): number {
    return Date.now();
  }
  waitFor(stepId: string, events: string[], deadlines: Deadline[], wakeAt: number | undefined, ready?: () => boolean): Promise<Woken> {
    return this.host.waitFor(stepId, events, deadlines, wakeAt, ready, this.position);
  }
  working(deadlines: Deadline[]): Promise<void> {
    return this.host.working(deadlines, this.position);
  }
  refundsUntil(deadline: number): Pick<CaseActivities, 'issueRefund'> | undefined {
    return this.root.refundsUntil(deadline);
  }
  progressWith(deadlines: Deadline[]): { report: ProgressReport; written(): void } {
    return this.host.progressWith(deadlines, this.position);
  }
  take(types: string[], accepts: (event: CaseEvent) => boolean): ReceivedCaseEvent | undefined {
    return this.root.take(types, accepts);
  }
  has(types: string[], accepts: (event: CaseEvent) => boolean): boolean {
    return this.root.has(types, accepts);
  }
  /** An end step in a body: the body stops, and its block ends the case once its other strands are cancelled. */
  async finish(outcome: string, reason: string): Promise<void> {
    this.ended = { outcome, reason };
  }
  runBody(body: BodyRun): Promise<BodyEnd> {
    const items = body.item ? [...this.items, { name: body.item.name, type: body.item.type, value: body.item.value }] : this.items;
    const iteration = body.item ? `${this.iteration}@${body.item.index}` : this.iteration;
    return new Strand(this.host, this.root, items, iteration, body).run();
  }
}
