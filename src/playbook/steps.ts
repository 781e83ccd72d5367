/** Compiling the steps: ids and references, then each step by its kind's module (src/plan/steps/). */
import { parseBusinessDuration, parseDuration, type BusinessDuration, type Span } from '../plan/duration.js';
import type { DiagnosticCode } from '../plan/diagnostic-codes.js';
import type { PolicyValue, Recipient } from '../plan/plan.js';
import { STEP_KINDS, type Step, type StepCompiler } from '../plan/steps/index.js';
import type { Declarations, JsonPath, RawRecipient } from '../plan/steps/kind.js';
import { checkDurationRange, checkTimeZone } from './declarations.js';
import type { Reporter } from './diagnostics.js';
import type { ExpressionChecker } from './expressions.js';
import { hintFor } from './hints.js';
import type { RawStep } from './raw.js';

const STEP_ACTIONS = Object.keys(STEP_KINDS) as (keyof typeof STEP_KINDS)[];

export function compileSteps(raw: RawStep[], declarations: Declarations, report: Reporter, expressions: ExpressionChecker): Record<string, Step> {
  const indexById = new Map<string, number>();
  raw.forEach((step, index) => {
    if (indexById.has(step.id))
      report.error('PB101', `duplicate step id '${step.id}' (first used by step ${indexById.get(step.id)! + 1})`, ['steps', index, 'id'], {
        hint: 'give every step its own id',
      });
    else indexById.set(step.id, index);
  });
  const ids = [...indexById.keys()];
  const ref = (target: string, path: JsonPath) => {
    if (!indexById.has(target))
      report.error('PB102', `no step has the id '${target}'`, path, { hint: hintFor(target, ids, 'check the spelling of the step id') });
    return target;
  };
  const steps: Record<string, Step> = {};
  raw.forEach((rawStep, index) => {
    const step = compileStep(rawStep, index, raw[index + 1]?.id, { declarations, report, expressions, ref });
    if (step && !steps[step.id]) steps[step.id] = step;
  });
  return steps;
}

interface Shared {
  declarations: Declarations;
  report: Reporter;
  expressions: ExpressionChecker;
  ref: (target: string, path: JsonPath) => string;
}

function compileStep(raw: RawStep, index: number, following: string | undefined, shared: Shared): Step | undefined {
  const action = STEP_ACTIONS.find((name) => raw[name] !== undefined);
  if (!action) return undefined;
  const { declarations, report, expressions, ref } = shared;
  const stepPath: JsonPath = ['steps', index];
  const compiler: StepCompiler = {
    stepId: raw.id,
    writtenNext: raw.next,
    path: [...stepPath, action],
    declarations,
    next(explicit, path = [...stepPath, 'next']) {
      if (explicit !== undefined) return ref(explicit, path);
      if (raw.next !== undefined) return ref(raw.next, [...stepPath, 'next']);
      if (following === undefined) {
        report.error('PB106', `step '${raw.id}' is the last step but does not end the case`, [...stepPath, 'id'], {
          hint: 'add an end step, or next: <step id>',
        });
        return '';
      }
      return following;
    },
    ref,
    expression: (cel, path, expected, event) => expressions.check(cel, path, expected, event),
    placeholders: (text, path) => expressions.placeholders(text, path),
    duration: (text, path) => duration(text, path, declarations, report),
    span: (text, path) => span(text, path, declarations, report),
    count: (value, path) => count(value, path, declarations, report),
    template(name, path) {
      const template = declarations.templates[name];
      if (!template)
        report.error('PB110', `template '${name}' is not declared`, path, {
          hint: hintFor(name, Object.keys(declarations.templates), 'declare it under templates'),
        });
      return template;
    },
    recipient,
    timezone: (zone, path) => checkTimeZone(zone, path, report),
    error: (code, message, path, options) => report.error(code, message, path, options),
    warning: (code, message, path, hint) => report.warning(code, message, path, hint),
    hint: hintFor,
  };
  const kind = STEP_KINDS[action] as { compile(raw: unknown, compiler: StepCompiler): Omit<Step, 'id' | 'at'> | undefined };
  const compiled = kind.compile(raw[action], compiler);
  if (!compiled) return undefined;
  const at = report.locate([...stepPath, 'id']);
  return { id: raw.id, at: { line: at.line, column: at.column }, ...compiled } as Step;
}

function recipient(raw: RawRecipient): Recipient {
  if (raw === 'buyer') return { kind: 'buyer' };
  if (raw === 'agent') return { kind: 'agent' };
  return { kind: 'group', name: raw.group };
}

function policyRef(text: string, path: JsonPath, declarations: Declarations, report: Reporter, type: PolicyValue['type']): PolicyValue | undefined {
  const name = text.slice('policy.'.length);
  const value = declarations.policy[name];
  if (!value) {
    report.error('PB112', `policy value '${name}' is not declared`, path, { hint: hintFor(name, Object.keys(declarations.policy), 'declare it under policy') });
    return undefined;
  }
  if (value.type !== type) {
    report.error('PB113', `policy value '${name}' is ${article(value.type)}; ${article(type)} is needed here`, path);
    return undefined;
  }
  return value;
}

export function duration(text: string, path: JsonPath, declarations: Declarations, report: Reporter): number | undefined {
  if (text.startsWith('policy.')) {
    const value = policyRef(text, path, declarations, report, 'duration');
    return value?.type === 'duration' ? value.ms : undefined;
  }
  const ms = parseDuration(text);
  if (ms === undefined) {
    report.error('PB030', `'${text}' is not a duration`, path, { hint: 'durations are written 30m, 24h, 7d' });
    return undefined;
  }
  return checkDurationRange(ms, path, report) ? ms : undefined;
}

/** A calendar written but refused: its own diagnostics say why, business durations need not repeat it. */
const CALENDAR_ERRORS: DiagnosticCode[] = ['PB131', 'PB132', 'PB133', 'PB134', 'PB136'];

/** The most of each business unit a duration may hold: 400 days' worth, as for plain durations. */
const MAX_BUSINESS: Record<BusinessDuration['business'], number> = { minutes: 400 * 24 * 60, hours: 400 * 24, days: 400 };

export function span(text: string, path: JsonPath, declarations: Declarations, report: Reporter): Span | undefined {
  const policy = text.startsWith('policy.') ? declarations.policy[text.slice('policy.'.length)] : undefined;
  const business = parseBusinessDuration(policy?.type === 'string' ? policy.value : text);
  if (!business) return duration(text, path, declarations, report);
  if (business.amount > MAX_BUSINESS[business.business]) {
    report.error('PB030', `${text} is more than ${MAX_BUSINESS[business.business]} business ${business.business}`, path, {
      hint: 'durations are at most 400 days',
    });
    return undefined;
  }
  if (!declarations.calendar) {
    if (!report.reported(CALENDAR_ERRORS))
      report.error('PB130', `'${text}' counts business time, but the playbook declares no calendar`, path, {
        hint: 'add calendar: <name> (calendars/<name>.yaml) or an inline calendar: { hours: { mon: ["09:00-18:00"] } }',
      });
    return undefined;
  }
  return business;
}

function count(value: number | string, path: JsonPath, declarations: Declarations, report: Reporter): number | undefined {
  if (typeof value === 'number') return value;
  const policy = policyRef(value, path, declarations, report, 'integer');
  if (policy?.type !== 'integer') return undefined;
  if (policy.value < 1 || policy.value > 100) report.error('PB032', `a reminder count must be from 1 to 100; policy ${value} is ${policy.value}`, path);
  return policy.value;
}

function article(type: string): string {
  return (
    ({ duration: 'a duration', integer: 'an integer', boolean: 'a boolean', string: 'a string', money: 'an amount of money' } as Record<string, string>)[
      type
    ] ?? type
  );
}
