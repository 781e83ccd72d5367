/**
 * Semantics and the compiler: a playbook that passed the schema becomes a plan, or diagnostics saying
 * what is wrong, where, and how to fix it. Pure: no I/O.
 */
import { expressionEnvironment } from '../plan/cel.js';
import { MAX_EXPRESSION_COST } from '../plan/cost.js';
import { PLAN_VERSION, type Plan } from '../plan/plan.js';
import { RESERVED_NAMES } from '../plan/steps/for-each.js';
import { declaredResults, STEP_KINDS } from '../plan/steps/index.js';
import type { Declarations } from '../plan/steps/kind.js';
import {
  checkLineFields,
  checkSpecialFields,
  checkTimeZone,
  compileEvents,
  compileFields,
  compileIntegrations,
  compileOneOpenCasePer,
  compilePolicy,
  compileRefundCaps,
} from './declarations.js';
import { resolveCalendar } from './calendars.js';
import { Reporter, type Diagnostic } from './diagnostics.js';
import { ExpressionChecker } from './expressions.js';
import { compileCancelOn, compileCompensationSteps } from './cancellation.js';
import { compileClocks } from './clocks.js';
import { checkAnswersAnswered } from './answers.js';
import { checkFlow } from './flow.js';
import { marketplaceName } from './marketplace.js';
import type { RawPlaybook } from './raw.js';
import type { CompileOptions } from './index.js';
import type { PlaybookSource } from './source.js';
import { compileSteps, writtenSteps } from './steps.js';
import { compileTemplates } from './templates.js';
import { compileOpensOn } from './opens-on.js';

export function compilePlaybook(source: PlaybookSource, options: CompileOptions = {}): { diagnostics: Diagnostic[]; plan?: Plan } {
  const raw = source.value as RawPlaybook;
  const report = new Reporter(source);
  const timezone = checkTimeZone(raw.timezone ?? 'UTC', ['timezone'], report);
  const fields = compileFields(raw.fields, ['fields'], report);
  const events = compileEvents(raw, report);
  const policy = compilePolicy(raw, report);
  checkSpecialFields(raw, fields, report);
  checkLineFields(raw, fields, report);
  const refundCaps = compileRefundCaps(raw, fields, policy, report);
  const oneOpenCasePer = compileOneOpenCasePer(raw, fields, report);
  const opensOn = compileOpensOn(raw.opens_on, fields, source, report, options.maxExpressionCost ?? MAX_EXPRESSION_COST);
  const calendar = resolveCalendar(raw.calendar, timezone, options.calendars, report);
  // Every step, nested bodies (parallel branches, loops) included.
  const written = writtenSteps(raw.steps).map((step) => step.raw);
  for (const kind of Object.values(STEP_KINDS)) {
    if (!kind.declares || !written.some((step) => step[kind.kind])) continue;
    for (const [name, spec] of Object.entries(kind.declares)) events[name] ??= spec;
  }

  const integrations = compileIntegrations(raw, report);
  const results = declaredResults(written, integrations);
  const collected = written.flatMap((step) => (step.for_each?.collect !== undefined ? [step.id] : []));
  const shop = raw.shop;
  const env = expressionEnvironment({ fields, events, policy, timezone, ...(shop ? { shop } : {}), results, collected });
  const calls = Object.fromEntries(written.flatMap((step) => (step.call ? [[step.id, `${step.call.integration}.${step.call.operation}`]] : [])));
  const expressions = new ExpressionChecker(source, report, env, options.maxExpressionCost ?? MAX_EXPRESSION_COST, { results, calls, collected });
  // A template may read a loop's item (`line.id`): it is sent from that loop's body, where the item is set.
  const loopItems = [...new Set(written.flatMap((step) => (step.for_each && !RESERVED_NAMES.includes(step.for_each.as) ? [step.for_each.as] : [])))].map(
    (name) => ({ name, type: undefined }),
  );
  const templates = compileTemplates(raw.templates, raw.language, loopItems.length > 0 ? expressions.scoped(...loopItems) : expressions, report);
  const declarations: Declarations = {
    fields,
    events,
    policy,
    templates,
    integrations,
    currency: raw.currency,
    timezone,
    ...(raw.paid_field ? { paidField: raw.paid_field } : {}),
    ...(raw.order_id_field ? { orderIdField: raw.order_id_field } : {}),
    ...(raw.order_lines_field ? { orderLinesField: raw.order_lines_field } : {}),
    ...(raw.concerned_lines_field ? { concernedLinesField: raw.concerned_lines_field } : {}),
    ...(refundCaps ? { refundCaps } : {}),
    ...(calendar ? { calendar } : {}),
    playbook: raw.playbook,
    ...(options.playbooks ? { playbooks: options.playbooks } : {}),
  };
  const steps = compileSteps(raw.steps, declarations, report, expressions);
  const cancelOn = compileCancelOn(raw, steps, declarations, report, expressions);
  const compensations = compileCompensationSteps(raw, declarations, report, expressions);
  const clocks = compileClocks(
    raw.clocks,
    written.map((step) => step.id),
    declarations,
    report,
  );
  if (!report.reported(['PB101', 'PB102', 'PB106'])) {
    checkFlow(steps, raw.steps, report);
    checkAnswersAnswered(steps, templates, expressions.answerReads, raw.steps, report);
  }

  const plan: Plan = {
    planVersion: PLAN_VERSION,
    name: raw.playbook,
    ...(raw.title ? { title: raw.title } : {}),
    caseType: raw.case_type,
    currency: raw.currency,
    timezone,
    ...(raw.language ? { language: raw.language } : {}),
    ...(raw.quiet_hours ? { quietHours: { start: raw.quiet_hours.start, end: raw.quiet_hours.end, timezone } } : {}),
    ...(calendar ? { calendar } : {}),
    fields,
    ...(raw.paid_field ? { paidField: raw.paid_field } : {}),
    ...(raw.order_id_field ? { orderIdField: raw.order_id_field } : {}),
    ...(raw.return_tracking_field ? { returnTrackingField: raw.return_tracking_field } : {}),
    ...(raw.order_lines_field ? { orderLinesField: raw.order_lines_field } : {}),
    ...(raw.concerned_lines_field ? { concernedLinesField: raw.concerned_lines_field } : {}),
    ...(refundCaps ? { refundCaps } : {}),
    ...(oneOpenCasePer ? { oneOpenCasePer } : {}),
    events,
    policy,
    ...(shop ? { shop } : {}),
    ...(raw.marketplace ? { marketplace: marketplaceName(raw.marketplace) } : {}),
    templates,
    integrations,
    start: raw.steps[0]!.id,
    steps,
    ...(clocks ? { clocks } : {}),
    ...(opensOn ? { opensOn } : {}),
    ...(cancelOn ? { cancelOn } : {}),
    ...(compensations ? { compensations } : {}),
  };
  const failed = report.diagnostics.some((d) => d.severity === 'error');
  return failed ? { diagnostics: report.diagnostics } : { diagnostics: report.diagnostics, plan };
}
