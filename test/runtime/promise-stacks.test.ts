/**
 * The live worker's workflow threads record no stack per promise (src/stack/workflow-threads.ts): the
 * SDK's `__stack_trace` query says so, and cases run as before. With `promiseStacks` (what
 * CASEBOOK_WORKFLOW_STACK_TRACES=1 sets) the SDK's hook is back and the query answers where a case waits.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CaseService } from '../../src/cases/service.js';
import type { EventInbox } from '../../src/cases/inbox.js';
import { workflowIdFor } from '../../src/plan/case.js';
import { composeServices } from '../../src/stack/compose.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { composeTestWorker } from '../support/runtime.js';
import { compileSmallPlaybook, openSmallCase, RECEIPT_THEN_REFUND } from '../support/small-playbooks.js';
import { startTimeSkippingServer } from '../support/temporal.js';

const RECEIPT = compileSmallPlaybook('receipt', RECEIPT_THEN_REFUND);

let db: TestDatabase;
let env: TestWorkflowEnvironment;
let cases: CaseService;
let inbox: EventInbox;
beforeAll(async () => {
  [db, env] = await Promise.all([createTestDatabase(), startTimeSkippingServer()]);
  ({ cases, inbox } = composeServices({ client: env.client, pool: db.pool }));
});
afterAll(async () => {
  await env?.teardown();
  await db?.drop();
});

/** Runs `body` while a case worker with these stack settings serves the task queue, then drains it. */
async function withWorker(promiseStacks: boolean, body: () => Promise<void>): Promise<void> {
  const worker: Worker = await composeTestWorker({ connection: env.nativeConnection, pool: db.pool, promiseStacks });
  const running = worker.run();
  try {
    await body();
  } finally {
    worker.shutdown();
    await running;
  }
}

const stackOf = (caseId: string) => env.client.workflow.getHandle(workflowIdFor(caseId)).query<string>('__stack_trace');

async function refundAfterReceipt(caseId: string): Promise<void> {
  await inbox.deliverEvent(caseId, { type: 'warehouse.received', id: `receipt-${caseId}`, payload: {} });
  expect(await env.client.workflow.getHandle(workflowIdFor(caseId)).result()).toMatchObject({ outcome: 'resolved', reason: 'refunded' });
  const { rows } = await db.pool.query(`SELECT count(*)::int AS refunds FROM refunds WHERE case_id = $1`, [caseId]);
  expect(rows[0].refunds).toBe(1);
}

describe('promise stacks in the live worker', () => {
  it('are not recorded: the stack-trace query says so, and a case waits and completes as before', async () => {
    await withWorker(false, async () => {
      await openSmallCase(cases, db.pool, RECEIPT, 'no-stacks');
      await expect(stackOf('no-stacks')).rejects.toMatchObject({ cause: { details: 'Workflow stack traces are not enabled on this worker' } });
      await refundAfterReceipt('no-stacks');
    });
  });

  it('are recorded with promiseStacks: the query names where the case waits', async () => {
    await withWorker(true, async () => {
      await openSmallCase(cases, db.pool, RECEIPT, 'with-stacks');
      expect(await stackOf('with-stacks')).toMatch(/src\/workflows\//);
      await refundAfterReceipt('with-stacks');
    });
  });
});
