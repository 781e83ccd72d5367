/**
 * Compiling cancellation: the playbook's `cancel_on` handlers (events that cancel the case at any
 * step) and its `compensations` (steps that undo completed ones, named by a step's `compensate`).
 */
import { COMPENSATION_KINDS, UNCOMPENSATED_KINDS, type CancelHandler } from '../plan/cancellation.js';
import type { Plan } from '../plan/plan.js';
import { kindOf, STEP_KINDS, type Step } from '../plan/steps/index.js';
import type { Declarations } from '../plan/steps/kind.js';
import type { Reporter } from './diagnostics.js';
import type { ExpressionChecker } from './expressions.js';
import { hintFor } from './hints.js';
import type { RawPlaybook, RawStep } from './raw.js';
import { compileCompensations, writtenSteps } from './steps.js';

const ACTIONS = Object.keys(STEP_KINDS) as (keyof typeof STEP_KINDS)[];
const actionOf = (step: RawStep) => ACTIONS.find((name) => step[name] !== undefined);

/** The `cancel_on` handlers, checked against the declared events and the steps that wait for them. */
export function compileCancelOn(
  raw: RawPlaybook,
  steps: Record<string, Step>,
  declarations: Declarations,
  report: Reporter,
  expressions: ExpressionChecker,
): Plan['cancelOn'] {
  if (!raw.cancel_on) return undefined;
  const awaited = new Map<string, string>();
  for (const step of Object.values(steps)) for (const event of kindOf(step).awaits?.(step) ?? []) if (!awaited.has(event)) awaited.set(event, step.id);
  const handlers: Record<string, CancelHandler> = {};
  for (const [type, written] of Object.entries(raw.cancel_on)) {
    const path = ['cancel_on', type];
    const spec = declarations.events[type];
    if (!spec) {
      report.error('PB345', `cancel_on names the event '${type}', which the playbook does not declare`, path, {
        key: true,
        hint: hintFor(type, Object.keys(declarations.events), 'declare it under events'),
      });
      continue;
    }
    const waiter = awaited.get(type);
    if (waiter) {
      report.error('PB346', `the event '${type}' cancels the case, but step '${waiter}' waits for it`, path, {
        key: true,
        hint: 'an event either cancels the case or is waited for: declare another event for the cancel',
      });
      continue;
    }
    const where = written.where !== undefined ? expressions.check(written.where, [...path, 'where'], 'bool', spec) : undefined;
    const text = written.reason ?? `${type} received`;
    const placeholders = written.reason !== undefined ? expressions.placeholders(text, [...path, 'reason'], spec) : [];
    handlers[type] = { ...(where ? { where } : {}), reason: { text, placeholders } };
  }
  return Object.keys(handlers).length > 0 ? handlers : undefined;
}

/**
 * The `compensations` section and the `compensate` of each step (nested bodies included): a
 * compensation is a step that does one thing and goes nowhere; a step names one only when it did
 * something to undo.
 */
export function compileCompensationSteps(
  raw: RawPlaybook,
  declarations: Declarations,
  report: Reporter,
  expressions: ExpressionChecker,
): Plan['compensations'] {
  const written = raw.compensations ?? [];
  const allowed: readonly string[] = COMPENSATION_KINDS;
  const compilable: RawStep[] = [];
  written.forEach((step, index) => {
    const action = actionOf(step);
    if (action && !allowed.includes(action)) {
      report.error('PB349', `compensation '${step.id}' is a ${action} step; a compensation does one thing and goes on`, ['compensations', index, action], {
        key: true,
        hint: `a compensation is one of: ${COMPENSATION_KINDS.join(', ')}`,
      });
    } else if (step.compensate !== undefined) {
      report.error('PB350', `compensation '${step.id}' names a compensation itself`, ['compensations', index, 'compensate'], {
        key: true,
        hint: 'compensations are not compensated',
      });
    } else compilable.push(step);
  });
  const compensations = compileCompensations(written, compilable, raw.steps, declarations, report, expressions);
  const ids = written.map((step) => step.id);
  const named = new Set<string>();
  const uncompensated: readonly string[] = UNCOMPENSATED_KINDS;
  for (const { raw: step, path } of writtenSteps(raw.steps)) {
    if (step.compensate === undefined) continue;
    named.add(step.compensate);
    const action = actionOf(step);
    if (action && uncompensated.includes(action)) {
      report.error('PB348', `step '${step.id}' is a ${action} step: it has nothing to undo`, [...path, 'compensate'], {
        key: true,
        hint: action === 'refund' ? 'a paid refund is never undone: a cancel escalates it to finance' : 'name compensations on steps with a side effect',
      });
    } else if (!ids.includes(step.compensate)) {
      report.error('PB347', `step '${step.id}' names the compensation '${step.compensate}', which is not under compensations`, [...path, 'compensate'], {
        hint: hintFor(step.compensate, ids, 'add it under compensations'),
      });
    }
  }
  const stepIds = new Set(writtenSteps(raw.steps).map((step) => step.raw.id));
  written.forEach((step, index) => {
    if (!named.has(step.id) && !stepIds.has(step.id))
      report.warning('PB352', `no step names the compensation '${step.id}'`, ['compensations', index, 'id'], "name it in a step's compensate, or remove it");
  });
  return Object.keys(compensations).length > 0 ? compensations : undefined;
}
