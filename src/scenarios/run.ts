/** Runs scenarios of one playbook on a time-skipping Temporal server, against real Postgres activities. */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { CaseService } from '../cases/service.js';
import type { HashedPlan } from '../plan/plan.js';
import type { Span } from '../playbook/source.js';
import type { Pool } from '../store/pool.js';
import { workflowIdFor, type CaseResult } from '../plan/case.js';
import type { FaultScript } from './faults.js';
import { resolveRelativeTimes, type Scenario } from './read.js';

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
  faults: FaultScript;
}

let runCounter = 0;

export async function runScenario(runtime: ScenarioRuntime, compiled: HashedPlan, scenario: Scenario): Promise<ScenarioResult> {
  const started = performance.now();
  const failures: Failure[] = [];
  const caseId = `scenario-${process.pid}-${++runCounter}`;
  const name = compiled.plan.name;
  await runtime.pool.query(
    `INSERT INTO playbook_versions (name, version, hash, source_yaml, plan)
     VALUES ($1, COALESCE((SELECT max(version) FROM playbook_versions WHERE name = $1), 0) + 1, $2, '', $3)
     ON CONFLICT (name, hash) DO NOTHING`,
    [name, compiled.hash, JSON.stringify(compiled.plan)],
  );
  const version = (await runtime.pool.query<{ version: number }>(`SELECT version FROM playbook_versions WHERE name = $1 AND hash = $2`, [name, compiled.hash])).rows[0]!.version;
  const openedAt = await runtime.env.currentTimeMs();
  runtime.faults.set(caseId, scenario.faults);
  try {
    await runtime.service.open({
      caseId, playbook: { name, version, hash: compiled.hash }, plan: compiled.plan,
      data: resolveRelativeTimes(scenario.data, openedAt) as Record<string, unknown>,
    });
  } catch (error) {
    return { name: scenario.name, ms: performance.now() - started, failures: [{ span: scenario.spans.name!, message: `the case did not open: ${(error as Error).message}` }] };
  }
  for (const entry of scenario.timeline) {
    const wait = openedAt + entry.atMs - (await runtime.env.currentTimeMs());
    if (wait > 0) await runtime.env.sleep(wait);
    const payload = resolveRelativeTimes(entry.payload, await runtime.env.currentTimeMs()) as Record<string, unknown>;
    const answer = await runtime.service.deliverEvent(caseId, { type: entry.event, id: entry.id, payload });
    if (answer.status !== entry.expect) {
      const why = 'reason' in answer ? `: ${answer.reason}` : '';
      failures.push({ span: entry.span, message: `${entry.event} at +${entry.atMs / 1000}s: expected ${entry.expect}, the case answered ${answer.status}${why}` });
    }
  }
  const handle = runtime.env.client.workflow.getHandle(workflowIdFor(caseId));
  let result: CaseResult;
  try {
    result = (await handle.result()) as CaseResult;
  } catch (error) {
    failures.push({ span: scenario.spans.outcome!, message: `the case failed: ${(error as Error).cause instanceof Error ? ((error as Error).cause as Error).message : (error as Error).message}` });
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
  const column = async (sql: string) => (await runtime.pool.query(sql, [caseId])).rows.map((row) => Object.values(row)[0]);
  compare('outcome', result.outcome);
  compare('reason', result.reason);
  compare('messages', await column(`SELECT template FROM outbox_messages WHERE case_id = $1 ORDER BY id`));
  compare('refunds', await column(`SELECT amount FROM refunds WHERE case_id = $1 AND status = 'issued' ORDER BY id`));
  compare('escalations', await column(`SELECT reason FROM escalations WHERE case_id = $1 ORDER BY id`));
  compare('calls', await column(`SELECT integration || '.' || operation FROM integration_calls WHERE case_id = $1 ORDER BY id`));
  return { name: scenario.name, ms: performance.now() - started, failures };
}
