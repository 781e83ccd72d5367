/**
 * What the worker counts, through a worker and case services composed with metrics, on the
 * time-skipping server: a step failed over its expression budget (the real failure of the workflow's
 * evaluator, whose wording the counter reads from the failed step's record), and a task past its SLA
 * with the case it closes; events the inbox leaves unrouted.
 */
import type { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { workflowIdFor } from '../../src/plan/case.js';
import { composeMetrics, composeServices, type Services } from '../../src/stack/compose.js';
import type { CasebookMetrics } from '../../src/stack/metrics.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { composeTestWorker } from '../support/runtime.js';
import { compileSmallPlaybook, DAMAGED_DECISION, openSmallCase } from '../support/small-playbooks.js';
import { startTimeSkippingServer } from '../support/temporal.js';

let db: TestDatabase;
let env: Awaited<ReturnType<typeof startTimeSkippingServer>>;
let metrics: CasebookMetrics;
let services: Services;
let worker: Worker;
let running: Promise<void>;

beforeAll(async () => {
  [db, env] = await Promise.all([createTestDatabase(), startTimeSkippingServer()]);
  metrics = composeMetrics(db.pool);
  worker = await composeTestWorker({ connection: env.nativeConnection, pool: db.pool, metrics });
  running = worker.run();
  services = composeServices({ client: env.client, pool: db.pool, metrics });
});
afterAll(async () => {
  worker?.shutdown();
  await running;
  await env?.teardown();
  await db?.drop();
});

const sample = async (name: string): Promise<string[]> =>
  (await metrics.exposition()).text.split('\n').filter((line) => line.startsWith(`${name} `) || line.startsWith(`${name}{`));

describe('expression budget failures', () => {
  it('are counted once the failed step is reported; the case opened is counted by its playbook', async () => {
    const TEN = '[0,1,2,3,4,5,6,7,8,9]';
    const heavy = `${TEN}.map(a, ${TEN}.map(b, ${TEN}.map(c, ${TEN}.map(d, d)))).size()`;
    const steps = Array.from({ length: 40 }, (_, n) => `  - id: heavy_${n}\n    set: { count: "${heavy}" }\n`).join('');
    const compiled = compileSmallPlaybook('heavy-metrics', `steps:\n${steps}  - id: done\n    end: { outcome: resolved, reason: done }\n`);
    expect(await sample('casebook_expression_budget_failures_total')).toEqual(['casebook_expression_budget_failures_total 0']);
    await openSmallCase(services.cases, db.pool, compiled, 'heavy-m1');
    await expect
      .poll(async () => (await db.pool.query(`SELECT status FROM cases WHERE case_id = 'heavy-m1'`)).rows[0]?.status, { timeout: 30_000, interval: 100 })
      .toBe('failed');
    await expect.poll(() => sample('casebook_expression_budget_failures_total'), { timeout: 5_000 }).toEqual(['casebook_expression_budget_failures_total 1']);
    expect(await sample('casebook_cases_opened_total')).toEqual(['casebook_cases_opened_total{playbook="heavy-metrics"} 1']);
    expect(await sample('casebook_cases_closed_total')).toEqual([]);
  }, 60_000);
});

describe('a task past its SLA', () => {
  it('is a missed deadline, and the case it ends is closed by its playbook and outcome', async () => {
    await openSmallCase(services.cases, db.pool, compileSmallPlaybook('decide-metrics', DAMAGED_DECISION), 'decide-m1');
    // Awaiting the result lets the server skip the task's four hours.
    expect(await env.client.workflow.getHandle(workflowIdFor('decide-m1')).result()).toMatchObject({ outcome: 'escalated', reason: 'late' });
    await expect
      .poll(() => sample('casebook_cases_closed_total'), { timeout: 5_000 })
      .toEqual(['casebook_cases_closed_total{playbook="decide-metrics",outcome="escalated"} 1']);
    expect(await sample('casebook_deadlines_missed_total')).toEqual(['casebook_deadlines_missed_total{kind="task"} 1']);
  }, 60_000);
});

describe('events through the inbox', () => {
  it('counts a receipt no case takes as unrouted, and an agent redelivering it again', async () => {
    const outcome = await services.inbox.deliverWarehouseReceipt({ receiptId: 'stray-m1', orderId: 'NO-SUCH-ORDER', payload: {} });
    expect(outcome.status).toBe('unrouted');
    expect(await sample('casebook_events_total')).toEqual(['casebook_events_total{result="unrouted"} 1']);
    expect((await services.inbox.redeliver(outcome.inboxId))?.status).toBe('unrouted');
    expect(await sample('casebook_events_total')).toEqual(['casebook_events_total{result="unrouted"} 2']);
    expect(await sample('casebook_inbox_unrouted_events')).toEqual(['casebook_inbox_unrouted_events 1']);
  });
});
