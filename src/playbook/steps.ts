/** Compiling the steps: ids and references, then each step by its kind's module (src/plan/steps/). */
import { parseBusinessDuration, parseDuration, type BusinessDuration, type Span } from '../plan/duration.js';
import type { DiagnosticCode } from '../plan/diagnostic-codes.js';
import type { FieldType, PolicyValue, Recipient } from '../plan/plan.js';
import { BODY_END, STEP_KINDS, type BodyItem, type Step, type StepCompiler } from '../plan/steps/index.js';
import type { Declarations, JsonPath, RawRecipient } from '../plan/steps/kind.js';
import { checkDurationRange, checkTimeZone } from './declarations.js';
import type { Reporter } from './diagnostics.js';
import type { ExpressionChecker } from './expressions.js';
import { hintFor } from './hints.js';
import type { RawStep } from './raw.js';

const STEP_ACTIONS = Object.keys(STEP_KINDS) as (keyof typeof STEP_KINDS)[];

/** A step as written anywhere in the playbook (nested bodies included), with where it is written. */
export interface WrittenStep {
  raw: RawStep;
  path: JsonPath;
  /** The step written before it in the same list, if any. */
  previous: RawStep | undefined;
  /** Whether the step is in a body (a parallel branch or cleanup, a loop's steps). */
  nested: boolean;
}

/** The nested step lists of a step as written: a parallel's branches and cleanups, a loop's steps. */
function rawBodies(step: RawStep, path: JsonPath): { list: RawStep[]; path: JsonPath }[] {
  const lists: { list: RawStep[]; path: JsonPath }[] = [];
  const branches = step.parallel?.branches;
  if (Array.isArray(branches))
    branches.forEach((branch, i) => {
      if (Array.isArray(branch?.steps)) lists.push({ list: branch.steps as RawStep[], path: [...path, 'parallel', 'branches', i, 'steps'] });
      if (Array.isArray(branch?.cleanup)) lists.push({ list: branch.cleanup as RawStep[], path: [...path, 'parallel', 'branches', i, 'cleanup'] });
    });
  if (Array.isArray(step.for_each?.steps)) lists.push({ list: step.for_each.steps as RawStep[], path: [...path, 'for_each', 'steps'] });
  return lists;
}

/** Every step written in the playbook, nested bodies included, in document order. */
export function writtenSteps(raw: RawStep[], path: JsonPath = ['steps'], nested = false): WrittenStep[] {
  return raw.flatMap((step, index) => {
    const at = [...path, index];
    return [{ raw: step, path: at, previous: raw[index - 1], nested }, ...rawBodies(step, at).flatMap((body) => writtenSteps(body.list, body.path, true))];
  });
}

export function compileSteps(raw: RawStep[], declarations: Declarations, report: Reporter, expressions: ExpressionChecker): Record<string, Step> {
  const pathById = new Map<string, JsonPath>();
  for (const { raw: step, path } of writtenSteps(raw)) {
    const first = pathById.get(step.id);
    if (first)
      report.error('PB101', `duplicate step id '${step.id}' (first used at ${describePath(first)})`, [...path, 'id'], {
        hint: 'give every step its own id, in nested bodies too',
      });
    else pathById.set(step.id, path);
  }
  const steps: Record<string, Step> = {};
  compileList(raw, ['steps'], { declarations, report, expressions, pathById, steps, items: [], inBody: false });
  return steps;
}

/** Where a step is written, as people count: `step 3`, `step 2 of branch 1 of step 4`... */
function describePath(path: JsonPath): string {
  const parts: string[] = [];
  for (let i = 0; i < path.length; i++) {
    const key = path[i];
    const index = path[i + 1];
    if (typeof index !== 'number') continue;
    if (key === 'steps' || key === 'cleanup') parts.unshift(`${key === 'cleanup' ? 'cleanup step' : 'step'} ${index + 1}`);
    if (key === 'branches') parts.unshift(`branch ${index + 1}`);
  }
  return parts.join(' of ');
}

interface Shared {
  declarations: Declarations;
  report: Reporter;
  expressions: ExpressionChecker;
  pathById: ReadonlyMap<string, JsonPath>;
  steps: Record<string, Step>;
  /** The loop items in scope, innermost last. */
  items: BodyItem[];
  inBody: boolean;
}

/** Compiles one list of steps (the playbook's, or a body's): its steps go only to steps of the same list. */
function compileList(raw: RawStep[], listPath: JsonPath, shared: Shared): void {
  const here = new Set(raw.map((step) => step.id));
  const ids = [...shared.pathById.keys()];
  const ref = (target: string, path: JsonPath) => {
    if (here.has(target)) return target;
    const elsewhere = shared.pathById.get(target);
    if (elsewhere)
      shared.report.error(
        'PB310',
        `step '${target}' is ${shared.inBody ? 'outside this body' : 'inside a nested body'}: a step goes only to steps of its own list`,
        path,
        {
          hint: shared.inBody
            ? 'a body ends after its last step; the block then goes on with its own next'
            : 'go to the block step; its body runs from its first step',
        },
      );
    else
      shared.report.error('PB102', `no step has the id '${target}'`, path, {
        hint: hintFor(target, [...here].length ? [...here] : ids, 'check the spelling of the step id'),
      });
    return target;
  };
  raw.forEach((rawStep, index) => {
    const following = raw[index + 1]?.id ?? (shared.inBody ? BODY_END : undefined);
    const step = compileStep(rawStep, [...listPath, index], following, { ...shared, ref });
    if (step && !shared.steps[step.id]) shared.steps[step.id] = step;
  });
}

function compileStep(
  raw: RawStep,
  stepPath: JsonPath,
  following: string | undefined,
  shared: Shared & { ref: (target: string, path: JsonPath) => string },
): Step | undefined {
  const action = STEP_ACTIONS.find((name) => raw[name] !== undefined);
  if (!action) return undefined;
  const { declarations, report, expressions, ref, items } = shared;
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
    scopedExpression: (cel, path, expected, item) => expressions.scoped(item).check(cel, path, expected),
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
    items,
    body(list, path, item) {
      const bodySteps = list as RawStep[];
      if (bodySteps.length === 0) return undefined;
      compileList(bodySteps, path, {
        ...shared,
        expressions: item ? expressions.scoped(item) : expressions,
        items: item ? [...items, item] : items,
        inBody: true,
      });
      return { start: bodySteps[0]!.id, steps: bodySteps.map((step) => step.id) };
    },
    itemTypeOf: (cel) => itemTypeOf(cel, declarations, items),
  };
  const kind = STEP_KINDS[action] as { compile(raw: unknown, compiler: StepCompiler): Omit<Step, 'id' | 'at'> | undefined };
  const compiled = kind.compile(raw[action], compiler);
  if (!compiled) return undefined;
  const at = report.locate([...stepPath, 'id']);
  return { id: raw.id, at: { line: at.line, column: at.column }, ...(raw.compensate ? { compensate: raw.compensate } : {}), ...compiled } as Step;
}

/**
 * The playbook's `compensations` (src/playbook/cancellation.ts): ids unique across the playbook, and
 * each runs alone, so it goes to no step (the step after it is BODY_END).
 */
export function compileCompensations(
  written: RawStep[],
  compilable: RawStep[],
  main: RawStep[],
  declarations: Declarations,
  report: Reporter,
  expressions: ExpressionChecker,
): Record<string, Step> {
  const pathById = new Map<string, JsonPath>(writtenSteps(main).map(({ raw, path }) => [raw.id, path]));
  const steps: Record<string, Step> = {};
  written.forEach((rawStep, index) => {
    const path: JsonPath = ['compensations', index];
    const first = pathById.get(rawStep.id);
    if (first) {
      report.error('PB101', `duplicate step id '${rawStep.id}' (first used at ${describePath(first)})`, [...path, 'id'], {
        hint: 'give every step its own id, compensations too',
      });
      return;
    }
    pathById.set(rawStep.id, path);
    if (!compilable.includes(rawStep)) return;
    const ref = (target: string, at: JsonPath) => {
      report.error('PB351', `compensation '${rawStep.id}' goes to step '${target}'; a compensation runs alone`, at, {
        hint: 'remove next and on_error: after a compensation the next one runs',
      });
      return target;
    };
    const step = compileStep(rawStep, path, BODY_END, { declarations, report, expressions, pathById, steps, items: [], inBody: true, ref });
    if (step) steps[step.id] = step;
  });
  return steps;
}

/** The items' type of a list named by a member path: a declared list field (`data.lines`), or one of an enclosing loop's item. */
function itemTypeOf(cel: string, declarations: Declarations, items: readonly BodyItem[]): FieldType | undefined {
  const path = cel.trim().split('.');
  if (!path.every((name) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(name))) return undefined;
  const [root, ...rest] = path;
  let type: FieldType | undefined =
    root === 'data' ? { type: 'object', fields: declarations.fields } : [...items].reverse().find((item) => item.name === root)?.type;
  for (const name of rest) type = type?.type === 'object' ? type.fields[name] : undefined;
  return type?.type === 'list' ? type.items : undefined;
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
