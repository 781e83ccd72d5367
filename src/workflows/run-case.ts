/**
 * The one workflow: interprets a case's pinned plan step by step. Deterministic: time comes from
 * Temporal (Date in the workflow sandbox), waiting from Temporal timers and conditions, and every
 * side effect goes through an activity with an idempotency key made of case id, step id and visit.
 */
import {
  ApplicationFailure, CancellationScope, condition, continueAsNew, isCancellation, proxyActivities, setHandler, sleep,
  allHandlersFinished, workflowInfo, ActivityFailure, upsertSearchAttributes,
} from '@temporalio/workflow';
import type { Environment } from '@marcbachmann/cel-js';
import type { CaseActivities } from '../plan/activities.js';
import { FAILURE_TYPES } from '../plan/failures.js';
import {
  eventConditionEnvironment, expressionEnvironment, fromCelValue, toCelEvents, toCelPolicy, toCelRecord, toSafeNumber,
} from '../plan/cel.js';
import type { Expr, Plan, Recipient, Step } from '../plan/plan.js';
import { eventsAwaitedFrom } from '../plan/graph.js';
import { fillTemplate } from '../plan/template.js';
import { checkValue, checkValues } from '../plan/values.js';
import {
  caseViewQuery, deliverEventUpdate, type ProgressReport,
  type CaseEvent, type CaseInput, type CaseResult, type CaseState, type CaseStatus, type CaseView, type Deadline,
  type StepRecord,
} from '../plan/case.js';
import { endOfQuietHours, formatLocal, nextLocalTime } from '../plan/local-time.js';
import { CASE_STATUS } from '../plan/search-attributes.js';

// The sandbox replaces Date with a wrapper whose instances still report the original constructor;
// CEL finds a value's type by its constructor and registered the wrapper, so make them agree.
if (Date.prototype.constructor !== Date) {
  Object.defineProperty(Date.prototype, 'constructor', { value: Date, writable: true, configurable: true });
}

const RETRY = { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m' } as const;

const acts = proxyActivities<CaseActivities>({
  startToCloseTimeout: '30s',
  retry: { ...RETRY, nonRetryableErrorTypes: [FAILURE_TYPES.RefundDeclined] },
});
const integrationActs = proxyActivities<Pick<CaseActivities, 'callIntegration'>>({
  startToCloseTimeout: '1m',
  retry: { ...RETRY, maximumAttempts: 5 },
});

const TASK_COMPLETED = 'task.completed';

export async function runCase(input: CaseInput): Promise<CaseResult> {
  return new CaseRun(input).run();
}

class CaseRun {
  private readonly plan: Plan;
  private readonly state: CaseState;
  private readonly env: Environment;
  private readonly compiled = new Map<string, ReturnType<Environment['parse']>>();
  private readonly seen: Set<string>;
  private status: CaseStatus = 'open';
  private waitingFor: string[] = [];
  private deadlines: Deadline[] = [];
  private outcome: { outcome: string; reason: string } | null = null;

  constructor(private readonly input: CaseInput) {
    this.plan = input.plan;
    this.state = input.resume ?? {
      current: input.plan.start,
      data: input.data,
      received: {},
      inbox: [],
      seenEventIds: [],
      visits: {},
      history: [],
      openedAt: new Date().toISOString(),
      auditedUpTo: 0,
    };
    this.seen = new Set(this.state.seenEventIds);
    this.env = expressionEnvironment(this.plan);
    setHandler(deliverEventUpdate, (event) => this.accept(event), { validator: (event) => this.validate(event) });
    setHandler(caseViewQuery, () => this.view());
  }

  async run(): Promise<CaseResult> {
    await this.report();
    for (;;) {
      const step = this.plan.steps[this.state.current];
      if (!step) throw ApplicationFailure.nonRetryable(`plan has no step '${this.state.current}'`, FAILURE_TYPES.BrokenPlan);
      const visit = (this.state.visits[step.id] = (this.state.visits[step.id] ?? 0) + 1);
      const key = `${this.input.caseId}/${step.id}/${visit}`;
      if (step.kind === 'end') {
        this.record(step, { outcome: step.outcome, reason: step.reason });
        this.outcome = { outcome: step.outcome, reason: step.reason };
        this.status = 'closed';
        this.waitingFor = [];
        this.deadlines = [];
        await this.report();
        await condition(allHandlersFinished);
        return { outcome: step.outcome, reason: step.reason, steps: this.state.history };
      }
      this.state.current = await this.execute(step, key);
      if (workflowInfo().continueAsNewSuggested) {
        await this.report();
        await condition(allHandlersFinished);
        this.state.seenEventIds = [...this.seen];
        await continueAsNew<typeof runCase>({ ...this.input, resume: this.state });
      }
    }
  }

  /** Runs one step and returns the id of the next one. */
  private async execute(step: Exclude<Step, { kind: 'end' }>, key: string): Promise<string> {
    switch (step.kind) {
      case 'send': {
        if (step.quietHours && step.to.kind === 'buyer' && this.plan.quietHours) {
          const q = this.plan.quietHours;
          const until = endOfQuietHours(Date.now(), q.start, q.end, q.timezone);
          if (until > Date.now()) await this.waitFor(step.id, [], [{ kind: 'delay', step: step.id, at: iso(until) }], until);
        }
        const body = this.render(this.plan.templates[step.template]!.text, this.plan.templates[step.template]!.placeholders);
        const { messageId } = await acts.sendMessage({
          key, caseId: this.input.caseId, stepId: step.id, recipient: this.recipient(step.to), channel: step.channel, template: step.template, body,
        });
        this.record(step, { messageId, template: step.template });
        return step.next;
      }
      case 'wait':
        return this.wait(step, key);
      case 'delay': {
        const until = 'ms' in step ? Date.now() + step.ms : nextLocalTime(Date.now(), step.untilLocalTime, step.timezone);
        await this.waitFor(step.id, [], [{ kind: 'delay', step: step.id, at: iso(until) }], until);
        this.record(step, { until: iso(until) });
        return step.next;
      }
      case 'branch': {
        for (const [index, c] of step.cases.entries()) {
          if (this.evaluate(c.when) === true) {
            this.record(step, { case: index, when: c.when.cel, goto: c.next });
            return c.next;
          }
        }
        this.record(step, { otherwise: step.otherwise });
        return step.otherwise;
      }
      case 'refund':
        return this.refund(step, key);
      case 'escalate': {
        const note = step.note ? String(this.evaluate(step.note)) : undefined;
        const { escalationId } = await acts.openEscalation({
          key, caseId: this.input.caseId, stepId: step.id, queue: step.queue, severity: step.severity, reason: step.reason, ...(note !== undefined ? { note } : {}),
        });
        this.record(step, { escalationId, queue: step.queue, reason: step.reason });
        return step.next;
      }
      case 'task':
        return this.task(step, key);
      case 'set': {
        const changes: Record<string, unknown> = {};
        for (const [field, expr] of Object.entries(step.fields)) {
          changes[field] = fromCelValue(this.plan.fields[field]!, this.evaluate(expr));
        }
        this.state.data = { ...this.state.data, ...changes };
        this.record(step, { set: changes });
        return step.next;
      }
      case 'remark': {
        const remark = this.render(step.text, step.placeholders);
        const orderId = this.plan.orderIdField ? String(this.state.data[this.plan.orderIdField] ?? '') || null : null;
        await acts.writeOrderNote({ key, caseId: this.input.caseId, orderId, remark, ...(step.flag ? { flag: step.flag } : {}) });
        this.record(step, { remark, ...(step.flag ? { flag: step.flag } : {}) });
        return step.next;
      }
      case 'call': {
        const callInput = Object.fromEntries(Object.entries(step.input).map(([k, e]) => [k, jsonValue(this.evaluate(e))]));
        try {
          const result = await integrationActs.callIntegration({
            key, caseId: this.input.caseId, stepId: step.id, integration: step.integration, operation: step.operation, input: callInput,
          });
          if (step.resultField) {
            const problems = checkValue(this.plan.fields[step.resultField]!, result, `/${step.resultField}`);
            if (problems.length > 0) throw ApplicationFailure.nonRetryable(`integration result does not fit ${step.resultField}: ${problems[0]!.message}`, FAILURE_TYPES.BadIntegrationResult);
            this.state.data = { ...this.state.data, [step.resultField]: result };
          }
          this.record(step, { integration: step.integration, operation: step.operation });
          return step.next;
        } catch (error) {
          if (!step.onError || isCancellation(error)) throw error;
          this.record(step, { integration: step.integration, failed: failureMessage(error) });
          return step.onError;
        }
      }
    }
  }

  private async wait(step: Extract<Step, { kind: 'wait' }>, key: string): Promise<string> {
    const started = Date.now();
    const timeoutAt = step.timeoutMs === null ? null : started + step.timeoutMs;
    const events = Object.keys(step.on);
    let reminders = 0;
    for (;;) {
      const match = this.takeFromInbox(events, (event) => {
        const where = step.on[event.type]!.where;
        return !where || this.evaluateCondition(where, event) === true;
      });
      if (match) {
        this.record(step, { since: iso(started), event: match.type, eventId: match.id, goto: step.on[match.type]!.next });
        return step.on[match.type]!.next;
      }
      const now = Date.now();
      if (timeoutAt !== null && now >= timeoutAt) {
        this.record(step, { since: iso(started), timeout: iso(timeoutAt), goto: step.onTimeout });
        return step.onTimeout!;
      }
      const remind = step.remind && reminders < step.remind.max ? step.remind : undefined;
      const nextReminderAt = remind ? started + (reminders + 1) * remind.everyMs : null;
      if (nextReminderAt !== null && now >= nextReminderAt && remind) {
        reminders += 1;
        const template = this.plan.templates[remind.template]!;
        await acts.sendMessage({
          key: `${key}/reminder-${reminders}`, caseId: this.input.caseId, stepId: step.id, recipient: this.recipient(remind.to),
          channel: remind.channel, template: remind.template, body: this.render(template.text, template.placeholders),
        });
        this.state.history.push({ step: step.id, kind: 'reminder', at: iso(Date.now()), detail: { reminder: reminders, due: iso(nextReminderAt) } });
        continue;
      }
      const wakeAt = Math.min(timeoutAt ?? Infinity, nextReminderAt ?? Infinity);
      const deadlines: Deadline[] = [
        ...(timeoutAt !== null ? [{ kind: 'timeout' as const, step: step.id, at: iso(timeoutAt) }] : []),
        ...(nextReminderAt !== null ? [{ kind: 'reminder' as const, step: step.id, at: iso(nextReminderAt) }] : []),
      ];
      await this.waitFor(step.id, events, deadlines, wakeAt === Infinity ? undefined : wakeAt, () =>
        this.inboxHas(events, (event) => {
          const where = step.on[event.type]!.where;
          return !where || this.evaluateCondition(where, event) === true;
        }),
      );
    }
  }

  private async refund(step: Extract<Step, { kind: 'refund' }>, key: string): Promise<string> {
    const from = step.from === 'case.opened' ? this.state.openedAt : this.state.received[step.from]?.at;
    const deadline = Date.parse(from ?? iso(Date.now())) + step.withinMs;
    const amount = toSafeNumber(this.evaluate(step.amount));
    if (amount <= 0) {
      this.record(step, { declined: `computed amount ${amount} is not positive`, goto: step.onDeclined });
      return step.onDeclined;
    }
    if (Date.now() >= deadline) {
      this.record(step, { breach: iso(deadline), amount, goto: step.onBreach });
      return step.onBreach;
    }
    this.deadlines = [{ kind: 'refund', step: step.id, at: iso(deadline) }];
    await this.report();
    const refundScope = new CancellationScope();
    const timerScope = new CancellationScope();
    const refund = refundScope.run(() =>
      acts.issueRefund({
        key, caseId: this.input.caseId, stepId: step.id, amount, currency: step.currency, reason: step.reason, covers: step.covers, deadlineAt: iso(deadline),
      }),
    );
    const timer = timerScope.run(() => sleep(deadline - Date.now()));
    const outcome = await Promise.race([
      refund.then((receipt) => ({ receipt }), (error: unknown) => ({ error })),
      timer.then(() => ({ breach: true as const }), () => ({ breach: false as const })),
    ]);
    if ('breach' in outcome) {
      refundScope.cancel();
      await refund.catch(() => undefined);
      this.record(step, { breach: iso(deadline), amount, goto: step.onBreach });
      return step.onBreach;
    }
    timerScope.cancel();
    await timer.catch(() => undefined);
    if ('receipt' in outcome) {
      this.record(step, { refundId: outcome.receipt.refundId, amount, currency: step.currency, providerReference: outcome.receipt.providerReference });
      return step.next;
    }
    const error = outcome.error;
    if (error instanceof ActivityFailure && error.cause instanceof ApplicationFailure && error.cause.type === FAILURE_TYPES.RefundDeclined) {
      this.record(step, { declined: error.cause.message, amount, goto: step.onDeclined });
      return step.onDeclined;
    }
    throw error;
  }

  private async task(step: Extract<Step, { kind: 'task' }>, key: string): Promise<string> {
    const dueAt = Date.now() + step.slaMs;
    await acts.openTask({
      key, caseId: this.input.caseId, stepId: step.id, role: step.role, title: step.title, outcomes: Object.keys(step.outcomes), dueAt: iso(dueAt),
    });
    const completes = (event: CaseEvent) => event.payload.task === step.id && typeof event.payload.outcome === 'string' && event.payload.outcome in step.outcomes;
    for (;;) {
      const match = this.takeFromInbox([TASK_COMPLETED], completes);
      if (match) {
        const outcome = match.payload.outcome as string;
        await acts.closeTask({ key, outcome, breached: false });
        this.record(step, { outcome, eventId: match.id, goto: step.outcomes[outcome] });
        return step.outcomes[outcome]!;
      }
      if (Date.now() >= dueAt) {
        await acts.closeTask({ key, outcome: null, breached: true });
        this.record(step, { slaBreached: iso(dueAt), goto: step.onSlaBreach });
        return step.onSlaBreach;
      }
      await this.waitFor(step.id, [TASK_COMPLETED], [{ kind: 'task-sla', step: step.id, at: iso(dueAt) }], dueAt, () =>
        this.inboxHas([TASK_COMPLETED], completes),
      );
    }
  }

  /** Publishes what the case waits for, then sleeps until `ready()` or the instant `wakeAt`. */
  private async waitFor(stepId: string, events: string[], deadlines: Deadline[], wakeAt: number | undefined, ready: () => boolean = () => false) {
    this.status = 'waiting';
    this.waitingFor = events;
    this.deadlines = deadlines;
    this.state.current = stepId;
    await this.report();
    // Measured after the report, so the timer ends exactly at `wakeAt` however long reporting took.
    if (wakeAt === undefined) await condition(ready);
    else if (wakeAt > Date.now()) await condition(ready, wakeAt - Date.now());
    this.status = 'open';
    this.waitingFor = [];
    this.deadlines = [];
  }

  // ---- events ----

  private validate(event: CaseEvent): void {
    if (this.status === 'closed') {
      throw ApplicationFailure.create({ type: FAILURE_TYPES.CaseClosed, message: `the case is closed (${this.outcome?.outcome ?? 'ended'})`, nonRetryable: true });
    }
    if (this.seen.has(event.id)) return;
    const spec = this.plan.events[event.type];
    if (!spec) {
      const declared = Object.keys(this.plan.events).join(', ') || 'none';
      throw ApplicationFailure.create({ type: FAILURE_TYPES.EventRefused, message: `this case's playbook declares no event '${event.type}' (declared: ${declared})`, nonRetryable: true });
    }
    const problems = checkValues(spec.payload, event.payload, '/payload');
    if (problems.length > 0) {
      throw ApplicationFailure.create({
        type: FAILURE_TYPES.EventInvalid, nonRetryable: true, details: [problems],
        message: `invalid payload for '${event.type}': ${problems.map((p) => `${p.pointer} ${p.message}`).join('; ')}`,
      });
    }
    const expected = this.waitingFor.includes(event.type)
      || spec.early
      // Not waiting for events (busy, or in a delay): an event a later wait takes is kept for it.
      || (this.waitingFor.length === 0 && eventsAwaitedFrom(this.plan.steps, this.state.current).has(event.type));
    if (!expected) {
      const now = this.waitingFor.length > 0 ? `it waits for ${this.waitingFor.join(', ')}` : 'it is not waiting for any event';
      throw ApplicationFailure.create({
        type: FAILURE_TYPES.EventRefused, nonRetryable: true,
        message: `the case is at step '${this.state.current}' and ${now}; '${event.type}' is not expected now`,
      });
    }
    const step = this.plan.steps[this.state.current];
    if (event.type === TASK_COMPLETED && step?.kind === 'task') {
      if (event.payload.task !== step.id || !(String(event.payload.outcome) in step.outcomes)) {
        throw ApplicationFailure.create({
          type: FAILURE_TYPES.EventRefused, nonRetryable: true,
          message: `the open task is '${step.id}' with outcomes ${Object.keys(step.outcomes).join(', ')}`,
        });
      }
    }
  }

  private accept(event: CaseEvent): { status: 'accepted' } | { status: 'duplicate' } {
    if (this.seen.has(event.id)) return { status: 'duplicate' };
    this.seen.add(event.id);
    this.state.inbox.push({ ...event, at: iso(Date.now()) });
    return { status: 'accepted' };
  }

  private inboxHas(types: string[], accepts: (event: CaseEvent) => boolean): boolean {
    return this.state.inbox.some((event) => types.includes(event.type) && accepts(event));
  }

  private takeFromInbox(types: string[], accepts: (event: CaseEvent) => boolean): (CaseEvent & { at: string }) | undefined {
    const index = this.state.inbox.findIndex((event) => types.includes(event.type) && accepts(event));
    if (index < 0) return undefined;
    const [event] = this.state.inbox.splice(index, 1);
    this.state.received = { ...this.state.received, [event!.type]: { at: event!.at, payload: event!.payload } };
    return event;
  }

  // ---- expressions ----

  private context(): Record<string, unknown> {
    return {
      data: toCelRecord(this.plan.fields, this.state.data),
      policy: toCelPolicy(this.plan.policy),
      events: toCelEvents(this.plan.events, this.state.received),
      now: new Date(Date.now()),
      opened_at: new Date(this.state.openedAt),
      case_id: this.input.caseId,
    };
  }

  private evaluate(expr: Expr): unknown {
    let parsed = this.compiled.get(expr.cel);
    if (!parsed) {
      parsed = this.env.parse(expr.cel);
      this.compiled.set(expr.cel, parsed);
    }
    try {
      return parsed(this.context());
    } catch (error) {
      const where = expr.at ? ` (playbook line ${expr.at.line})` : '';
      throw ApplicationFailure.nonRetryable(`expression '${expr.cel}'${where} failed: ${(error as Error).message.split('\n')[0]}`, FAILURE_TYPES.ExpressionFailed);
    }
  }

  private evaluateCondition(expr: Expr, event: CaseEvent): unknown {
    const spec = this.plan.events[event.type]!;
    const env = eventConditionEnvironment(this.env, spec);
    return env.evaluate(expr.cel, { ...this.context(), event: toCelRecord(spec.payload, event.payload) });
  }

  private render(text: string, placeholders: Expr[]): string {
    return fillTemplate(text, placeholders.map((p) => displayValue(this.evaluate(p), this.plan.timezone)));
  }

  private recipient(to: Recipient): { kind: 'buyer' | 'agent' | 'group'; name?: string } {
    if (to.kind === 'group') return { kind: 'group', name: to.name };
    if (to.kind === 'agent' && to.id) return { kind: 'agent', name: String(this.evaluate(to.id)) };
    return { kind: to.kind };
  }

  // ---- records ----

  private record(step: Step, detail: Record<string, unknown>) {
    const entry: StepRecord = { step: step.id, kind: step.kind, at: iso(Date.now()), detail };
    this.state.history.push(entry);
  }

  private async report() {
    if (this.input.indexed && workflowInfo().typedSearchAttributes.get(CASE_STATUS) !== this.status) {
      upsertSearchAttributes([{ key: CASE_STATUS, value: this.status }]);
    }
    const audit = this.state.history.slice(this.state.auditedUpTo).map((record, i) => ({ seq: this.state.auditedUpTo + i + 1, record }));
    const report: ProgressReport = {
      caseId: this.input.caseId, status: this.status, step: this.status === 'closed' ? null : this.state.current,
      waitingFor: this.waitingFor, deadlines: this.deadlines, data: this.state.data, outcome: this.outcome, audit,
    };
    await acts.recordProgress(report);
    this.state.auditedUpTo = this.state.history.length;
  }

  private view(): CaseView {
    return {
      caseId: this.input.caseId, playbook: this.input.playbook, status: this.status,
      step: this.status === 'closed' ? null : this.state.current, waitingFor: this.waitingFor, deadlines: this.deadlines,
      data: this.state.data, outcome: this.outcome, steps: this.state.history,
    };
  }
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function failureMessage(error: unknown): string {
  if (error instanceof ActivityFailure && error.cause) return error.cause.message;
  return (error as Error).message;
}

/** How an expression's value reads in a message: timestamps in the playbook's zone, money with its currency. */
function displayValue(value: unknown, timeZone: string): string {
  if (value instanceof Date) return formatLocal(value.getTime(), timeZone);
  if (typeof value === 'bigint') return value.toString();
  const get = (key: string) => (value instanceof Map ? value.get(key) : (value as Record<string, unknown>)?.[key]);
  if (value && typeof value === 'object' && get('amount') !== undefined && typeof get('currency') === 'string') {
    const currency = get('currency') as string;
    const digits = new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
    return `${(Number(get('amount')) / 10 ** digits).toFixed(digits)} ${currency}`;
  }
  if (value && typeof value === 'object' && 'seconds' in value) return `${String((value as { seconds: bigint }).seconds)}s`;
  return typeof value === 'string' ? value : JSON.stringify(jsonValue(value));
}

function jsonValue(value: unknown): unknown {
  if (typeof value === 'bigint') return toSafeNumber(value);
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Map) return Object.fromEntries([...value.entries()].map(([k, v]) => [k, jsonValue(v)]));
  if (Array.isArray(value)) return value.map(jsonValue);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, jsonValue(v)]));
  return value;
}
