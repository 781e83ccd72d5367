/**
 * CASEBOOK_HISTORY_SHAPE held at the previous shape (docs/operations.md, "Rolling upgrades"): the cases
 * the case service opens and the child cases a worker's activity opens both start with it, and run it.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HISTORY_SHAPE, workflowIdFor, type CaseInput, type CaseResult } from '../../src/plan/case.js';
import { validatePlaybook } from '../../src/playbook/index.js';
import { subPlaybooksOf } from '../../src/services/playbooks.js';
import { composeServices, composeWorker } from '../../src/stack/compose.js';
import { publishPlaybook } from '../../src/store/playbooks.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { smallPlaybookSource } from '../support/small-playbooks.js';
import { startTimeSkippingServer } from '../support/temporal.js';

const HELD = HISTORY_SHAPE - 1;

const CHILD = smallPlaybookSource('held-child', 'steps:\n  - id: done\n    end: { outcome: resolved, reason: done }\n');
const PARENT = smallPlaybookSource(
  'held-parent',
  `steps:
  - id: child
    playbook:
      name: held-child
      input: { order_id: data.order_id, paid: data.paid }
      outcomes: { done: finished }
      on_error: finished
  - id: finished
    end: { outcome: resolved, reason: child_done }
`,
);

let db: TestDatabase;
let env: TestWorkflowEnvironment;
let worker: Worker;
let running: Promise<void>;

beforeAll(async () => {
  [db, env] = await Promise.all([createTestDatabase(), startTimeSkippingServer()]);
  worker = await composeWorker({ connection: env.nativeConnection, pool: db.pool, historyShape: HELD });
  running = worker.run();
});

afterAll(async () => {
  worker?.shutdown();
  await running;
  await env?.teardown();
  await db?.drop();
});

async function publish(source: string) {
  const result = validatePlaybook(source, 'p.yaml', { playbooks: await subPlaybooksOf(db.pool, source) });
  if (!result.plan) throw new Error(JSON.stringify(result.diagnostics));
  return (await publishPlaybook(db.pool, source, result.plan, 'test')).version;
}

const startedWith = async (caseId: string): Promise<CaseInput> => {
  const { events } = await env.client.workflow.getHandle(workflowIdFor(caseId)).fetchHistory();
  const payload = events![0]!.workflowExecutionStartedEventAttributes!.input!.payloads![0]!;
  return JSON.parse(Buffer.from(payload.data!).toString()) as CaseInput;
};

describe('new cases held at the previous history shape', () => {
  it('a case opened by the service and the child case its step opens both take the held shape and run it', async () => {
    await publish(CHILD);
    const parent = await publish(PARENT);
    const { cases } = composeServices({ client: env.client, pool: db.pool, historyShape: HELD });
    await cases.open({
      caseId: 'held-1',
      playbook: 'held-parent',
      version: parent.version,
      data: { paid: { amount: 1_000, currency: 'CNY' }, order_id: 'held-1' },
    });
    const result = (await env.client.workflow.getHandle(workflowIdFor('held-1')).result()) as CaseResult;
    expect(result).toMatchObject({ outcome: 'resolved', reason: 'child_done' });
    const child = 'held-1.child.1';
    expect((await startedWith('held-1')).historyShape).toBe(HELD);
    expect((await startedWith(child)).historyShape).toBe(HELD);
    // The held shape's behaviour: before shape 6 a case's result carries its step records again.
    expect(result.steps.length).toBeGreaterThan(0);
    expect(((await env.client.workflow.getHandle(workflowIdFor(child)).result()) as CaseResult).steps.length).toBeGreaterThan(0);
  });
});
