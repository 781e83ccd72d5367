/**
 * Layer 3: semantics, and the compiler. Input is a playbook that passed the schema; output is the
 * plan, or diagnostics saying what is wrong, where, and how to fix it. Pure: no I/O.
 */
import type { Environment } from '@marcbachmann/cel-js';
import { eventConditionEnvironment, expressionEnvironment, MAX_EXPRESSION_LENGTH } from '../plan/cel.js';
import type { Diagnostic } from './diagnostics.js';
import { MAX_DURATION_MS, parseDuration } from '../plan/duration.js';
import { closest } from './schema-check.js';
import type { JsonPath, PlaybookSource } from './source.js';
import { reachableSteps, successors } from '../plan/graph.js';
import { parseTemplate } from '../plan/template.js';
import {
  PLAN_VERSION, type EventSpec, type Expr, type FieldSpec, type FieldType, type Plan, type PolicyValue,
  type Recipient, type Step, type TemplateSpec, type WaitStep,
} from '../plan/plan.js';
import type { RawField, RawPlaybook, RawRecipient, RawStep } from './raw.js';

const TASK_COMPLETED = 'task.completed';
const WAITING_KINDS = new Set(['wait', 'delay', 'task']);

export function compilePlaybook(source: PlaybookSource): { diagnostics: Diagnostic[]; plan?: Plan } {
  return new Compiler(source).compile();
}

class Compiler {
  private readonly diagnostics: Diagnostic[] = [];
  private readonly raw: RawPlaybook;

  constructor(private readonly source: PlaybookSource) {
    this.raw = source.value as RawPlaybook;
  }

  private error(code: string, message: string, path: JsonPath, options: { hint?: string; key?: boolean; span?: ReturnType<PlaybookSource['locate']> } = {}) {
    const span = options.span ?? this.source.locate(path, { key: options.key });
    this.diagnostics.push({ severity: 'error', code, message, file: this.source.file, ...span, ...(options.hint ? { hint: options.hint } : {}) });
  }

  private warning(code: string, message: string, path: JsonPath, hint?: string) {
    const span = this.source.locate(path, { key: true });
    this.diagnostics.push({ severity: 'warning', code, message, file: this.source.file, ...span, ...(hint ? { hint } : {}) });
  }

  compile(): { diagnostics: Diagnostic[]; plan?: Plan } {
    const raw = this.raw;
    const timezone = raw.timezone ?? 'UTC';
    if (!isTimeZone(timezone)) this.error('PB020', `unknown time zone '${timezone}'`, ['timezone'], { hint: 'use an IANA name such as Asia/Shanghai' });
    const fields = this.fields(raw.fields, ['fields']);
    const events = this.events();
    const policy = this.policy();
    this.checkSpecialField('paid_field', raw.paid_field, fields, 'money');
    this.checkSpecialField('order_id_field', raw.order_id_field, fields, 'string');

    const hasTasks = raw.steps.some((s) => s.task);
    if (hasTasks && !events[TASK_COMPLETED]) {
      events[TASK_COMPLETED] = {
        description: 'An agent finished a human task.',
        early: false,
        payload: { task: { type: 'string', required: true }, outcome: { type: 'string', required: true } },
      };
    }
    const env = expressionEnvironment({ fields, events, policy });
    const context: Context = { fields, events, policy, env, templates: {} };
    context.templates = this.templates(context);
    const integrations = Object.fromEntries(Object.entries(raw.integrations ?? {}).map(([name, i]) => [name, { ...(i.description ? { description: i.description } : {}), operations: i.operations }]));
    const steps = this.steps(context, integrations);

    const plan: Plan = {
      planVersion: PLAN_VERSION,
      name: raw.playbook,
      ...(raw.title ? { title: raw.title } : {}),
      caseType: raw.case_type,
      currency: raw.currency,
      timezone,
      ...(raw.quiet_hours ? { quietHours: { start: raw.quiet_hours.start, end: raw.quiet_hours.end, timezone } } : {}),
      fields,
      ...(raw.paid_field ? { paidField: raw.paid_field } : {}),
      ...(raw.order_id_field ? { orderIdField: raw.order_id_field } : {}),
      events,
      policy,
      templates: context.templates,
      integrations,
      start: raw.steps[0]!.id,
      steps,
    };
    const failed = this.diagnostics.some((d) => d.severity === 'error');
    return failed ? { diagnostics: this.diagnostics } : { diagnostics: this.diagnostics, plan };
  }

  // ---- declarations ----

  private fields(raw: Record<string, RawField>, path: JsonPath): Record<string, FieldSpec> {
    const out: Record<string, FieldSpec> = {};
    for (const [name, field] of Object.entries(raw)) {
      const type = this.fieldType(field, [...path, name]);
      if (type) out[name] = { ...type, required: field.required ?? true, ...(field.description ? { description: field.description } : {}) };
    }
    return out;
  }

  private fieldType(field: RawField, path: JsonPath): FieldType | undefined {
    const misplaced = (prop: 'values' | 'items' | 'fields', only: string) => {
      if (field[prop] !== undefined && field.type !== only) this.error('PB001', `'${prop}' is only meaningful for a field of type ${only}`, [...path, prop], { key: true, hint: `remove '${prop}' or change the type to ${only}` });
    };
    misplaced('values', 'enum');
    misplaced('items', 'list');
    misplaced('fields', 'object');
    switch (field.type) {
      case 'enum':
        if (!field.values) {
          this.error('PB001', 'an enum field needs its list of values', [...path, 'type'], { hint: 'add values: [a, b, c]' });
          return undefined;
        }
        return { type: 'enum', values: field.values };
      case 'list': {
        if (!field.items) {
          this.error('PB001', 'a list field needs the type of its items', [...path, 'type'], { hint: 'add items: { type: string }' });
          return undefined;
        }
        const items = this.fieldType(field.items, [...path, 'items']);
        return items ? { type: 'list', items } : undefined;
      }
      case 'object':
        if (!field.fields) {
          this.error('PB001', 'an object field needs its fields', [...path, 'type'], { hint: 'add fields: { name: { type: string } }' });
          return undefined;
        }
        return { type: 'object', fields: this.fields(field.fields, [...path, 'fields']) };
      default:
        return { type: field.type } as FieldType;
    }
  }

  private checkSpecialField(prop: 'paid_field' | 'order_id_field', name: string | undefined, fields: Record<string, FieldSpec>, type: 'money' | 'string') {
    if (name === undefined) return;
    const field = fields[name];
    if (!field) this.error('PB002', `${prop} names '${name}', which is not a declared field`, [prop], { hint: hintFor(name, Object.keys(fields), `declare it under fields with type ${type}`) });
    else if (field.type !== type) this.error('PB002', `${prop} must name a ${type} field; '${name}' is ${field.type}`, [prop]);
  }

  private events(): Record<string, EventSpec> {
    const out: Record<string, EventSpec> = {};
    const names = Object.keys(this.raw.events ?? {});
    for (const [name, event] of Object.entries(this.raw.events ?? {})) {
      const clash = names.find((other) => other !== name && other.startsWith(name + '.'));
      if (clash) this.error('PB003', `event '${name}' is a prefix of event '${clash}'; expressions could not tell them apart`, ['events', name], { key: true, hint: `rename one, e.g. '${name}.done'` });
      const payload = this.fields(event.payload ?? {}, ['events', name, 'payload']);
      if (payload.at) this.error('PB003', `payload field 'at' of event '${name}' is reserved: events.${name}.at is the time the event arrived`, ['events', name, 'payload', 'at'], { key: true, hint: 'rename the field' });
      out[name] = { ...(event.description ? { description: event.description } : {}), early: event.early ?? false, payload };
    }
    return out;
  }

  private policy(): Record<string, PolicyValue> {
    const out: Record<string, PolicyValue> = {};
    for (const [name, value] of Object.entries(this.raw.policy ?? {})) {
      if (typeof value === 'string') {
        const ms = parseDuration(value);
        if (ms !== undefined) {
          this.checkDurationRange(ms, ['policy', name]);
          out[name] = { type: 'duration', ms };
        } else {
          out[name] = { type: 'string', value };
        }
      } else if (typeof value === 'number') {
        out[name] = { type: 'integer', value };
      } else if (typeof value === 'boolean') {
        out[name] = { type: 'boolean', value };
      } else {
        if (value.currency !== this.raw.currency) this.error('PB031', `policy ${name} is in ${value.currency}, the playbook in ${this.raw.currency}`, ['policy', name, 'currency']);
        out[name] = { type: 'money', amount: value.amount, currency: value.currency };
      }
    }
    return out;
  }

  private checkDurationRange(ms: number, path: JsonPath): boolean {
    if (ms <= 0 || ms > MAX_DURATION_MS) {
      this.error('PB030', `duration must be more than 0 and at most 400d`, path, { hint: 'durations are written 30m, 24h, 7d' });
      return false;
    }
    return true;
  }

  private templates(context: Context): Record<string, TemplateSpec> {
    const out: Record<string, TemplateSpec> = {};
    for (const [name, template] of Object.entries(this.raw.templates ?? {})) {
      const path: JsonPath = ['templates', name, 'text'];
      const placeholders = this.placeholders(template.text, path, context.env);
      out[name] = { ...(template.channel ? { channel: template.channel } : {}), text: template.text, placeholders };
    }
    return out;
  }

  private placeholders(text: string, path: JsonPath, env: Environment): Expr[] {
    const parsed = parseTemplate(text);
    if ('error' in parsed) {
      this.error('PB210', parsed.error, path, { span: this.source.locateInScalar(path, parsed.offset, parsed.offset + 2), hint: 'placeholders are written {{ expression }}' });
      return [];
    }
    return parsed.placeholders.map((p) => this.expression(p.cel, path, env, 'any', p.offset));
  }

  // ---- expressions ----

  private expression(cel: string, path: JsonPath, env: Environment, expected: ExpectedType, offset = 0): Expr {
    const span = this.source.locate(path);
    const expr: Expr = { cel, at: { line: span.line, column: span.column } };
    if (cel.length > MAX_EXPRESSION_LENGTH) {
      this.error('PB201', `expression is ${cel.length} characters; the limit is ${MAX_EXPRESSION_LENGTH}`, path);
      return expr;
    }
    let result;
    try {
      result = env.check(cel);
    } catch (error) {
      this.error('PB201', `expression could not be checked: ${firstLine((error as Error).message)}`, path);
      return expr;
    }
    if (!result.valid) {
      const error = result.error!;
      const range = (error as { range?: { start: number; end: number } }).range;
      const at = range ? this.source.locateInScalar(path, offset + range.start, offset + range.end) : span;
      this.error('PB201', `expression error: ${firstLine(error.message)}`, path, { span: at, hint: expressionHint(error.message, cel) });
      return expr;
    }
    const actual = result.type ?? 'dyn';
    if (!matchesType(expected, actual)) {
      this.error('PB202', `expression has type ${friendlyType(actual)}; ${describeExpected(expected)} is needed here`, path, { hint: typeHint(expected) });
    }
    return expr;
  }

  // ---- steps ----

  private steps(context: Context, integrations: Plan['integrations']): Record<string, Step> {
    const raw = this.raw.steps;
    const indexById = new Map<string, number>();
    raw.forEach((step, index) => {
      if (indexById.has(step.id)) this.error('PB101', `duplicate step id '${step.id}' (first used by step ${indexById.get(step.id)! + 1})`, ['steps', index, 'id'], { hint: 'give every step its own id' });
      else indexById.set(step.id, index);
    });
    const ids = [...indexById.keys()];
    const ref = (target: string, path: JsonPath) => {
      if (!indexById.has(target)) this.error('PB102', `no step has the id '${target}'`, path, { hint: hintFor(target, ids, 'check the spelling of the step id') });
      return target;
    };
    const steps: Record<string, Step> = {};
    raw.forEach((rawStep, index) => {
      const path: JsonPath = ['steps', index];
      const following = raw[index + 1]?.id;
      const next = (explicit: string | undefined, prop: JsonPath = [...path, 'next']): string => {
        if (explicit !== undefined) return ref(explicit, prop);
        if (rawStep.next !== undefined) return ref(rawStep.next, [...path, 'next']);
        if (following === undefined) {
          this.error('PB106', `step '${rawStep.id}' is the last step but does not end the case`, [...path, 'id'], { hint: 'add an end step, or next: <step id>' });
          return '';
        }
        return following;
      };
      const step = this.step(rawStep, path, context, integrations, next, ref);
      if (step && !steps[step.id]) steps[step.id] = step;
    });
    if (this.diagnostics.some((d) => d.code === 'PB101' || d.code === 'PB102' || d.code === 'PB106')) return steps;
    this.checkFlow(steps, raw);
    return steps;
  }

  private step(
    raw: RawStep, path: JsonPath, context: Context, integrations: Plan['integrations'],
    next: (explicit: string | undefined, prop?: JsonPath) => string, ref: (target: string, path: JsonPath) => string,
  ): Step | undefined {
    const span = this.source.locate([...path, 'id']);
    const base = { id: raw.id, at: { line: span.line, column: span.column } };
    const { env } = context;
    if (raw.send) {
      const p = [...path, 'send'];
      const template = this.templateRef(raw.send.template, [...p, 'template'], context);
      const channel = raw.send.channel ?? template?.channel ?? 'chat';
      const to = this.recipient(raw.send.to);
      // Chat and in-site letters wait in the buyer's app; SMS, e-mail and calls interrupt, so by default
      // only those are held during quiet hours.
      const interrupts = channel === 'sms' || channel === 'email' || channel === 'phone';
      return { ...base, kind: 'send', to, channel, template: raw.send.template, quietHours: raw.send.quiet_hours ?? (to.kind === 'buyer' && interrupts), next: next(undefined) };
    }
    if (raw.wait) {
      const p = [...path, 'wait'];
      const on: Record<string, { next: string; where?: Expr }> = {};
      raw.wait.events.forEach((awaited, i) => {
        const ep = [...p, 'events', i];
        const spec = context.events[awaited.event];
        if (!spec) {
          this.error('PB111', `event '${awaited.event}' is not declared`, [...ep, 'event'], { hint: hintFor(awaited.event, Object.keys(context.events), 'declare it under events') });
        }
        if (on[awaited.event]) this.error('PB122', `the wait lists event '${awaited.event}' twice`, [...ep, 'event']);
        const where = awaited.where !== undefined && spec ? this.expression(awaited.where, [...ep, 'where'], eventConditionEnvironment(env, spec), 'bool') : undefined;
        on[awaited.event] = { next: next(awaited.goto, [...ep, 'goto']), ...(where ? { where } : {}) };
      });
      const timeoutMs = raw.wait.timeout !== undefined ? this.duration(raw.wait.timeout, [...p, 'timeout'], context) : null;
      if (raw.wait.timeout !== undefined && raw.wait.on_timeout === undefined) this.error('PB120', 'a wait with a timeout needs on_timeout: the step to take when it passes', [...p, 'timeout'], { key: true });
      if (raw.wait.timeout === undefined && raw.wait.on_timeout !== undefined) this.error('PB121', 'on_timeout without a timeout is never taken', [...p, 'on_timeout'], { key: true, hint: 'add timeout: <duration>' });
      if (raw.wait.timeout === undefined) this.warning('PB123', `step '${raw.id}' waits without a timeout: a case can stay open for ever`, [...p], 'add timeout and on_timeout');
      let remind: WaitStep['remind'];
      if (raw.wait.remind) {
        const r = raw.wait.remind;
        const rp = [...p, 'remind'];
        const template = this.templateRef(r.template, [...rp, 'template'], context);
        const everyMs = this.duration(r.every, [...rp, 'every'], context);
        const max = this.count(r.times, [...rp, 'times'], context);
        remind = { everyMs: everyMs ?? 0, max: max ?? 0, template: r.template, channel: r.channel ?? template?.channel ?? 'chat', to: this.recipient(r.to ?? 'buyer') };
      }
      return {
        ...base, kind: 'wait', on, timeoutMs: timeoutMs ?? null,
        ...(raw.wait.on_timeout !== undefined ? { onTimeout: ref(raw.wait.on_timeout, [...p, 'on_timeout']) } : {}),
        ...(remind ? { remind } : {}),
      };
    }
    if (raw.delay !== undefined) {
      const p = [...path, 'delay'];
      if (typeof raw.delay === 'string') {
        return { ...base, kind: 'delay', ms: this.duration(raw.delay, p, context) ?? 0, next: next(undefined) };
      }
      const timezone = raw.delay.timezone ?? this.raw.timezone ?? 'UTC';
      if (!isTimeZone(timezone)) this.error('PB020', `unknown time zone '${timezone}'`, [...p, 'timezone'], { hint: 'use an IANA name such as Asia/Shanghai' });
      return { ...base, kind: 'delay', untilLocalTime: raw.delay.until, timezone, next: next(undefined) };
    }
    if (raw.branch) {
      const p = [...path, 'branch'];
      const cases = raw.branch.cases.map((c, i) => ({
        when: this.expression(c.when, [...p, 'cases', i, 'when'], env, 'bool'),
        next: ref(c.goto, [...p, 'cases', i, 'goto']),
      }));
      return { ...base, kind: 'branch', cases, otherwise: next(raw.branch.otherwise, [...p, 'otherwise']) };
    }
    if (raw.refund) {
      const p = [...path, 'refund'];
      const r = raw.refund;
      if (!this.raw.paid_field) this.error('PB117', 'a refund needs paid_field: the money field with what the buyer paid, the ceiling for refunds', [...p], { key: true, hint: 'add paid_field: <money field> at the top of the playbook' });
      if (r.from !== 'case.opened' && !context.events[r.from]) this.error('PB118', `the deadline counts from '${r.from}', which is neither a declared event nor case.opened`, [...p, 'from'], { hint: hintFor(r.from, Object.keys(context.events), 'name the event whose arrival starts the clock') });
      return {
        ...base, kind: 'refund',
        amount: this.expression(r.amount, [...p, 'amount'], env, 'int'),
        currency: this.raw.currency,
        reason: r.reason,
        covers: r.covers ?? 'payment',
        withinMs: this.duration(r.within, [...p, 'within'], context) ?? 0,
        from: r.from,
        onBreach: ref(r.on_breach, [...p, 'on_breach']),
        onDeclined: ref(r.on_declined, [...p, 'on_declined']),
        next: next(undefined),
      };
    }
    if (raw.escalate) {
      const p = [...path, 'escalate'];
      const e = raw.escalate;
      return {
        ...base, kind: 'escalate', queue: e.queue, severity: e.severity, reason: e.reason,
        ...(e.note !== undefined ? { note: this.expression(e.note, [...p, 'note'], env, 'string') } : {}),
        next: next(undefined),
      };
    }
    if (raw.task) {
      const p = [...path, 'task'];
      const t = raw.task;
      const outcomes = Object.fromEntries(Object.entries(t.outcomes).map(([o, target]) => [o, ref(target, [...p, 'outcomes', o])]));
      return { ...base, kind: 'task', role: t.role, title: t.title, slaMs: this.duration(t.sla, [...p, 'sla'], context) ?? 0, outcomes, onSlaBreach: ref(t.on_sla_breach, [...p, 'on_sla_breach']) };
    }
    if (raw.set) {
      const p = [...path, 'set'];
      const fields: Record<string, Expr> = {};
      for (const [name, cel] of Object.entries(raw.set)) {
        const field = context.fields[name];
        if (!field) {
          this.error('PB116', `'${name}' is not a declared case field`, [...p, name], { key: true, hint: hintFor(name, Object.keys(context.fields), 'declare it under fields') });
          continue;
        }
        fields[name] = this.expression(cel, [...p, name], env, { field });
      }
      return { ...base, kind: 'set', fields, next: next(undefined) };
    }
    if (raw.remark) {
      const p = [...path, 'remark'];
      const placeholders = this.placeholders(raw.remark.text, [...p, 'text'], env);
      return { ...base, kind: 'remark', text: raw.remark.text, placeholders, ...(raw.remark.flag ? { flag: raw.remark.flag } : {}), next: next(undefined) };
    }
    if (raw.call) {
      const p = [...path, 'call'];
      const c = raw.call;
      const integration = integrations[c.integration];
      if (!integration) this.error('PB114', `integration '${c.integration}' is not declared`, [...p, 'integration'], { hint: hintFor(c.integration, Object.keys(integrations), 'declare it under integrations') });
      else if (!integration.operations.includes(c.operation)) this.error('PB115', `integration '${c.integration}' has no operation '${c.operation}'`, [...p, 'operation'], { hint: hintFor(c.operation, integration.operations, `its operations: ${integration.operations.join(', ')}`) });
      if (c.result_field !== undefined) {
        const field = context.fields[c.result_field];
        if (!field) this.error('PB116', `'${c.result_field}' is not a declared case field`, [...p, 'result_field'], { hint: hintFor(c.result_field, Object.keys(context.fields), 'declare it under fields') });
      }
      const input = Object.fromEntries(Object.entries(c.input ?? {}).map(([k, cel]) => [k, this.expression(cel, [...p, 'input', k], env, 'any')]));
      return {
        ...base, kind: 'call', integration: c.integration, operation: c.operation, input,
        ...(c.result_field !== undefined ? { resultField: c.result_field } : {}),
        ...(c.on_error !== undefined ? { onError: ref(c.on_error, [...p, 'on_error']) } : {}),
        next: next(undefined),
      };
    }
    if (raw.end) {
      if (raw.next !== undefined) this.error('PB107', 'an end step has no next step', [...path, 'next'], { key: true, hint: 'remove next' });
      return { ...base, kind: 'end', outcome: raw.end.outcome, reason: raw.end.reason };
    }
    return undefined;
  }

  private recipient(raw: RawRecipient): Recipient {
    if (raw === 'buyer') return { kind: 'buyer' };
    if (raw === 'agent') return { kind: 'agent' };
    return { kind: 'group', name: raw.group };
  }

  private templateRef(name: string, path: JsonPath, context: Context): TemplateSpec | undefined {
    const template = context.templates[name];
    if (!template) this.error('PB110', `template '${name}' is not declared`, path, { hint: hintFor(name, Object.keys(context.templates), 'declare it under templates') });
    return template;
  }

  private policyRef(text: string, path: JsonPath, context: Context, type: PolicyValue['type']): PolicyValue | undefined {
    const name = text.slice('policy.'.length);
    const value = context.policy[name];
    if (!value) {
      this.error('PB112', `policy value '${name}' is not declared`, path, { hint: hintFor(name, Object.keys(context.policy), 'declare it under policy') });
      return undefined;
    }
    if (value.type !== type) {
      this.error('PB113', `policy value '${name}' is ${article(value.type)}; ${article(type)} is needed here`, path);
      return undefined;
    }
    return value;
  }

  private duration(text: string, path: JsonPath, context: Context): number | undefined {
    if (text.startsWith('policy.')) {
      const value = this.policyRef(text, path, context, 'duration');
      return value?.type === 'duration' ? value.ms : undefined;
    }
    const ms = parseDuration(text);
    if (ms === undefined) {
      this.error('PB030', `'${text}' is not a duration`, path, { hint: 'durations are written 30m, 24h, 7d' });
      return undefined;
    }
    return this.checkDurationRange(ms, path) ? ms : undefined;
  }

  private count(value: number | string, path: JsonPath, context: Context): number | undefined {
    if (typeof value === 'number') return value;
    const policy = this.policyRef(value, path, context, 'integer');
    if (policy?.type !== 'integer') return undefined;
    if (policy.value < 1 || policy.value > 100) this.error('PB032', `a reminder count must be from 1 to 100; policy ${value} is ${policy.value}`, path);
    return policy.value;
  }

  // ---- flow ----

  private checkFlow(steps: Record<string, Step>, raw: RawStep[]) {
    const reached = reachableSteps(steps, raw[0]!.id);
    raw.forEach((step, index) => {
      if (reached.has(step.id)) return;
      const previous = raw[index - 1];
      if (previous?.end) this.error('PB104', `step '${step.id}' comes after an end step and nothing goes to it`, ['steps', index, 'id'], { hint: 'remove it, or point a goto/next at it' });
      else this.error('PB103', `step '${step.id}' can never be reached`, ['steps', index, 'id'], { hint: 'remove it, or point a goto/next at it' });
    });
    // A cycle must pass through a step that waits (wait, delay, task); otherwise it spins for ever.
    const instant = (id: string) => { const s = steps[id]; return s !== undefined && !WAITING_KINDS.has(s.kind); };
    const state = new Map<string, 'visiting' | 'done'>();
    const reportedCycle = new Set<string>();
    const visit = (id: string, trail: string[]) => {
      state.set(id, 'visiting');
      for (const s of successors(steps[id]!)) {
        if (!instant(s)) continue;
        if (state.get(s) === 'visiting' && !reportedCycle.has(s)) {
          reportedCycle.add(s);
          const cycle = [...trail.slice(trail.indexOf(s)), s];
          const index = raw.findIndex((r) => r.id === s);
          this.error('PB105', `steps ${cycle.join(' → ')} loop without a wait or a delay`, ['steps', index, 'id'], { hint: 'a loop must wait for an event or a duration' });
        } else if (!state.has(s)) visit(s, [...trail, s]);
      }
      state.set(id, 'done');
    };
    for (const id of Object.keys(steps)) if (instant(id) && !state.has(id)) visit(id, [id]);
    // Every step must be able to reach an end.
    const canEnd = new Set(Object.values(steps).filter((s) => s.kind === 'end').map((s) => s.id));
    let grew = true;
    while (grew) {
      grew = false;
      for (const step of Object.values(steps)) {
        if (!canEnd.has(step.id) && successors(step).some((s) => canEnd.has(s))) { canEnd.add(step.id); grew = true; }
      }
    }
    raw.forEach((step, index) => {
      if (reached.has(step.id) && !canEnd.has(step.id)) this.error('PB108', `no path from step '${step.id}' ever ends the case`, ['steps', index, 'id'], { hint: 'every path must reach an end step' });
    });
  }
}

interface Context {
  fields: Record<string, FieldSpec>;
  events: Record<string, EventSpec>;
  policy: Record<string, PolicyValue>;
  env: Environment;
  templates: Record<string, TemplateSpec>;
}

type ExpectedType = 'bool' | 'int' | 'string' | 'any' | { field: FieldType };

const CEL_TYPE_OF_FIELD: Record<string, string> = {
  string: 'string', enum: 'string', integer: 'int', boolean: 'bool',
  timestamp: 'google.protobuf.Timestamp', duration: 'google.protobuf.Duration',
};

function matchesType(expected: ExpectedType, actual: string): boolean {
  if (expected === 'any' || actual === 'dyn') return true;
  if (typeof expected === 'string') return actual === expected;
  const field = expected.field;
  const wanted = CEL_TYPE_OF_FIELD[field.type];
  if (wanted) return actual === wanted;
  if (field.type === 'list') return actual.startsWith('list');
  return actual === 'map' || !['string', 'int', 'bool', 'double', 'uint', 'bytes', 'null_type'].includes(actual) && !actual.startsWith('list') && !actual.startsWith('google.');
}

function describeExpected(expected: ExpectedType): string {
  if (expected === 'any') return 'any value';
  if (typeof expected === 'string') return friendlyType(expected);
  return `a value of the field's type (${expected.field.type})`;
}

function friendlyType(type: string): string {
  return ({ bool: 'a boolean', int: 'an integer', string: 'a string', double: 'a decimal number', 'google.protobuf.Timestamp': 'a timestamp', 'google.protobuf.Duration': 'a duration' } as Record<string, string>)[type] ?? type;
}

function typeHint(expected: ExpectedType): string | undefined {
  if (expected === 'int') return 'money is integer minor units: use data.<field>.amount, and integers only (no decimals)';
  if (expected === 'bool') return 'a condition compares, e.g. data.amount.amount > 0 or now - data.signed_at <= policy.window';
  return undefined;
}

function expressionHint(message: string, cel: string): string | undefined {
  if (/No such key/.test(message)) return 'check the name against the declared fields, events and policy values';
  if (/double/.test(message)) return 'money and counts are integers: write 100, not 100.0';
  if (/timestamp - timestamp|Duration/.test(message) && /"\d+d"/.test(cel)) return 'CEL durations have no days: use policy values or hours, e.g. duration("168h")';
  return undefined;
}

function article(type: string): string {
  return ({ duration: 'a duration', integer: 'an integer', boolean: 'a boolean', string: 'a string', money: 'an amount of money' } as Record<string, string>)[type] ?? type;
}

function hintFor(name: string, candidates: string[], otherwise: string): string {
  const suggestion = closest(name, candidates);
  return suggestion ? `did you mean '${suggestion}'?` : otherwise;
}

function firstLine(message: string): string {
  return message.split('\n')[0]!;
}

const knownTimeZones = new Map<string, boolean>();

function isTimeZone(zone: string): boolean {
  let known = knownTimeZones.get(zone);
  if (known === undefined) {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: zone });
      known = true;
    } catch {
      known = false;
    }
    if (knownTimeZones.size < 1000) knownTimeZones.set(zone, known);
  }
  return known;
}
