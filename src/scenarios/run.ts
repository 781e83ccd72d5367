/** Runs scenarios of one playbook on a time-skipping Temporal server, against real Postgres activities. */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { EventInbox } from '../cases/inbox.js';
import type { CaseService } from '../cases/service.js';
import { orderIdOf, type HashedPlan, type Plan } from '../plan/plan.js';
import { kindNamed, type ScenarioList } from '../plan/steps/index.js';
import type { Span } from '../playbook/source.js';
import { caseHistory, caseSideEffects } from '../cases/reads.js';
import { recordAdvance } from '../services/orders.js';
import { publishPlaybook } from '../services/playbooks.js';
import type { Pool } from '../store/pool.js';
import { workflowIdFor, type CaseResult, type RunCaseWorkflow } from '../plan/case.js';
import type { FaultScript } from './faults.js';
import { opensAtInstant } from './opens-at.js';
import { withPolicy } from './policy.js';
import { resolveRelativeTimes, type Scenario } from './read.js';
import { untilDeliveryInstant, untilSettled } from './timer-guard.js';

export interface Failure {
  span: Span;
  message: string;
}

export interface ScenarioResult {
  name: string;
  ms: number;
  failures: Failure[];
}

export interface ScenarioRuntime {
  env: TestWorkflowEnvironment;
  pool: Pool;
  service: CaseService;
  /** Timeline events go through the event inbox, as the events route sends them. */
  inbox: EventInbox;
  faults: FaultScript;
}

let runCounter = 0;

export async function runScenario(runtime: ScenarioRuntime, compiled: HashedPlan, scenario: Scenario): Promise<ScenarioResult> {
  const started = performance.now();
  const failures: Failure[] = [];
  const caseId = `scenario-${process.pid}-${++runCounter}`;
  const tuned = withPolicy(compiled, scenario.policy);
  if (tuned.problems.length > 0) {
    const problems = tuned.problems.map((p) => ({ span: scenario.spans[`policy.${p.key}`] ?? scenario.spans.name!, message: p.message }));
    return { name: scenario.name, ms: performance.now() - started, failures: problems };
  }
  const { version } = await publishPlaybook(runtime.pool, '', tuned.plan, 'casebook test');
  if (scenario.opensAt) {
    const current = await runtime.env.currentTimeMs();
    const calendar = tuned.plan.plan.calendar;
    const unusual = calendar ? (date: string) => date in calendar.exceptions || date.slice(5) in calendar.exceptions : undefined;
    const opensAt = opensAtInstant(scenario.opensAt, current, tuned.plan.plan.timezone, unusual);
    if ('problem' in opensAt)
      return {
        name: scenario.name,
        ms: performance.now() - started,
        failures: [{ span: scenario.spans.opensAt ?? scenario.spans.name!, message: opensAt.problem }],
      };
    await runtime.env.sleep(opensAt.at - current);
  }
  const openedAt = await runtime.env.currentTimeMs();
  runtime.faults.set(caseId, scenario.faults, resolveRelativeTimes(scenario.answers, openedAt) as Record<string, unknown>);
  const notOpened = (message: string): ScenarioResult => ({
    name: scenario.name,
    ms: performance.now() - started,
    failures: [{ span: scenario.spans.name!, message: `the case did not open: ${message}` }],
  });
  const data = resolveRelativeTimes(scenario.data, openedAt) as Record<string, unknown>;
  try {
    const opened = await runtime.service.open({ caseId, playbook: version.name, version: version.version, openedBy: scenario.openedBy, data });
    if (opened.kind !== 'opened') return notOpened(opened.message);
    await recordAdvances(runtime.pool, tuned.plan.plan, data, scenario.advances);
  } catch (error) {
    return notOpened((error as Error).message);
  }
  const handle = runtime.env.client.workflow.getHandle<RunCaseWorkflow>(workflowIdFor(caseId));
  for (const entry of scenario.timeline) {
    try {
      await untilDeliveryInstant(runtime.env, handle, openedAt + entry.atMs);
    } catch (error) {
      failures.push({ span: entry.span, message: `${entry.event} at +${entry.atMs / 1000}s was not delivered: ${(error as Error).message}` });
      return { name: scenario.name, ms: performance.now() - started, failures };
    }
    const payload = resolveRelativeTimes(entry.payload, await runtime.env.currentTimeMs()) as Record<string, unknown>;
    const answer =
      entry.cancel !== undefined
        ? await cancelled(runtime.service, caseId, entry.cancel, scenario.openedBy)
        : await runtime.inbox.deliverEvent(caseId, { type: entry.event, id: entry.id, payload });
    if (answer.status !== entry.expect) {
      const why = 'reason' in answer ? `: ${answer.reason}` : '';
      failures.push({
        span: entry.span,
        message: `${entry.event} at +${entry.atMs / 1000}s: expected ${entry.expect}, the case answered ${answer.status}${why}`,
      });
    }
  }
  let result: CaseResult;
  try {
    await untilSettled(handle);
    result = await handle.result();
  } catch (error) {
    failures.push({
      span: scenario.spans.outcome!,
      message: `the case failed: ${(error as Error).cause instanceof Error ? ((error as Error).cause as Error).message : (error as Error).message}`,
    });
    return { name: scenario.name, ms: performance.now() - started, failures };
  }
  const expect = scenario.expect;
  const compare = (key: keyof typeof expect, actual: unknown) => {
    const expected = expect[key];
    if (expected === undefined) return;
    if (JSON.stringify(expected) !== JSON.stringify(actual)) {
      failures.push({ span: scenario.spans[key]!, message: `${key}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}` });
    }
  };
  compare('outcome', result.outcome);
  compare('reason', result.reason);
  // A sub-playbook's child cases act for the case: their messages, refunds... count as its own.
  const effects = await caseSideEffects(runtime.pool, caseId, { children: true });
  for (const key of ['messages', 'refunds', 'escalations', 'calls'] as const) compare(key, effects[key]);
  if (expect.remarks !== undefined || expect.tasks !== undefined) {
    const steps = (await caseHistory(runtime.pool, caseId))?.steps ?? [];
    const listed = (list: ScenarioList) =>
      steps.flatMap((s) => {
        const counted = kindNamed(s.kind)?.scenario;
        return counted?.list === list ? [counted.entry(s)] : [];
      });
    const remarks = listed('remarks');
    const expected = expect.remarks;
    if (expected !== undefined && (expected.length !== remarks.length || expected.some((text, i) => !remarks[i]!.includes(text)))) {
      failures.push({
        span: scenario.spans.remarks!,
        message: `remarks: expected ${JSON.stringify(expected)} (each contained in its remark), got ${JSON.stringify(remarks)}`,
      });
    }
    compare('tasks', listed('tasks'));
  }
  return { name: scenario.name, ms: performance.now() - started, failures };
}

/** A timeline's cancel, made as the scenario's agent (who opened the case), answered as an event is. */
async function cancelled(service: CaseService, caseId: string, reason: string, by: string): Promise<{ status: string; reason?: string }> {
  const result = await service.cancel(caseId, { by: { keyId: null, name: by }, reason });
  if (result.kind === 'closed') return { status: 'closed', reason: result.message };
  if (result.kind === 'unknown-case') return { status: 'closed', reason: 'the case is unknown' };
  return { status: result.kind };
}

/** Records the scenario's advances on the case's order, as the warehouse would. */
async function recordAdvances(pool: Pool, plan: Plan, data: Record<string, unknown>, advances: Scenario['advances']): Promise<void> {
  if (advances.length === 0) return;
  const orderId = orderIdOf(plan, data);
  if (orderId === null) throw new Error('the scenario records advances, but its case names no order (order_id_field)');
  for (const { amount, evidence } of advances) {
    const recorded = await recordAdvance(pool, orderId, { kind: 'return_shipping', amount, currency: plan.currency, evidence }, 'scenario warehouse');
    if (recorded.kind !== 'recorded')
      throw new Error(`the advance "${evidence}" was not recorded: ${recorded.kind === 'refused' ? recorded.message : 'no order'}`);
  }
}
