/**
 * Integrations that answer, on the time-skipping server and Postgres, through the `webhook` connector
 * to a real HTTP receiver that verifies every signature: the answer of a `call` is checked against the
 * response its operation declares and read by later steps; one that does not fit takes `on_error`
 * with the JSON pointer of the problem, or without `on_error` fails the case for an admin.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CaseService } from '../../src/cases/service.js';
import { LOCAL_CONNECTORS } from '../../src/connectors/config.js';
import { workflowIdFor, type CaseResult } from '../../src/plan/case.js';
import { composeServices } from '../../src/stack/compose.js';
import { newSecret, startReceiver, type Receiver } from '../connectors/webhook-receiver.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { composeTestWorker } from '../support/runtime.js';
import { compileSmallPlaybook, openSmallCase } from '../support/small-playbooks.js';
import { startTimeSkippingServer } from '../support/temporal.js';
import { caseRecords } from '../support/records.js';

const SECRET_VARIABLE = 'INTEGRATION_ANSWERS_TEST_SECRET';
const TASK_QUEUE = 'integration-answers';

/** What the warehouse answers each case, by case id. */
const answers = new Map<string, unknown>();
let db: TestDatabase;
let env: TestWorkflowEnvironment;
let receiver: Receiver;
let worker: Worker;
let running: Promise<void>;
let service: CaseService;

beforeAll(async () => {
  const secret = newSecret();
  process.env[SECRET_VARIABLE] = secret;
  [db, env, receiver] = await Promise.all([
    createTestDatabase(),
    startTimeSkippingServer(),
    startReceiver([secret], (received) => ({ status: 200, body: answers.get(String(received.data.caseId)) ?? null })),
  ]);
  const connectors = {
    ...LOCAL_CONNECTORS,
    destinations: {
      shop: { name: 'shop', url: receiver.url, secretVariables: [SECRET_VARIABLE], timeoutMs: 5_000, maxResponseBytes: 65_536, allowPrivateAddress: true },
    },
    integrations: { warehouse: { connector: 'webhook' as const, destination: 'shop' }, default: { connector: 'local' as const } },
  };
  worker = await composeTestWorker({ connection: env.nativeConnection, pool: db.pool, taskQueue: TASK_QUEUE, connectors });
  running = worker.run();
  service = composeServices({ client: env.client, pool: db.pool, taskQueue: TASK_QUEUE }).cases;
});
afterAll(async () => {
  worker?.shutdown();
  await running;
  await receiver?.close();
  await env?.teardown();
  await db?.drop();
  delete process.env[SECRET_VARIABLE];
});

const playbook = (onError: boolean) =>
  compileSmallPlaybook(
    onError ? 'answers' : 'answers-no-exit',
    `integrations:
  warehouse:
    operations:
      extend_receipt:
        response:
          new_deadline: { type: timestamp }
          ticket: { type: string }
          parcels: { type: list, required: false, items: { type: object, fields: { weight: { type: integer } } } }
steps:
  - id: extend
    call: { integration: warehouse, operation: extend_receipt, input: { order_id: data.order_id }${onError ? ', on_error: not_extended' : ''} }
  - id: check
    branch:
      cases:
        - when: steps.extend.result.new_deadline > now && steps.extend.result.ticket.startsWith("T-")
          goto: tell
      otherwise: not_extended
  - id: tell
    remark: { text: "receipt deadline extended to {{ steps.extend.result.new_deadline }}, ticket {{ steps.extend.result.ticket }}" }
  - id: done
    end: { outcome: resolved, reason: extended }
  - id: not_extended
    end: { outcome: escalated, reason: not_extended }
`,
  );

async function run(caseId: string, answer: unknown, onError = true): Promise<CaseResult> {
  answers.set(caseId, answer);
  await openSmallCase(service, db.pool, playbook(onError), caseId);
  return { ...((await env.client.workflow.getHandle(workflowIdFor(caseId)).result()) as CaseResult), steps: await caseRecords(db.pool, caseId) };
}

const recordOf = (result: CaseResult, step: string) => result.steps.find((s) => s.step === step)?.detail;

describe('integrations that answer', () => {
  it('a valid answer of the receiver is kept and read by later steps', async () => {
    const result = await run('answer-ok', { new_deadline: '2031-01-15T10:00:00Z', ticket: 'T-42', parcels: [{ weight: 1200 }] });
    expect(result).toMatchObject({ outcome: 'resolved', reason: 'extended' });
    expect(recordOf(result, 'extend')).toMatchObject({ integration: 'warehouse', operation: 'extend_receipt', result: { ticket: 'T-42' } });
    const remarks = (await db.pool.query(`SELECT remark FROM order_notes WHERE case_id = 'answer-ok'`)).rows;
    expect(remarks).toEqual([{ remark: expect.stringMatching(/^receipt deadline extended to 2031-01-15.*10:00.*, ticket T-42$/) }]);
    const calls = receiver.received.filter((r) => r.data.caseId === 'answer-ok');
    expect(calls).toMatchObject([
      { id: 'answer-ok/extend/1', type: 'integration.call', data: { integration: 'warehouse', operation: 'extend_receipt', input: { order_id: 'answer-ok' } } },
    ]);
    expect(receiver.badSignatures).toBe(0);
  }, 60_000);

  it.each([
    ['a property of the wrong type', { new_deadline: 'next week', ticket: 'T-1' }, '/new_deadline'],
    ['a missing property', { new_deadline: '2031-01-15T10:00:00Z' }, '/ticket'],
    ['a property not declared', { new_deadline: '2031-01-15T10:00:00Z', ticket: 'T-1', extended: true }, '/extended'],
    [
      'a nested item of the wrong type',
      { new_deadline: '2031-01-15T10:00:00Z', ticket: 'T-1', parcels: [{ weight: 1 }, { weight: '2kg' }] },
      '/parcels/1/weight',
    ],
    ['no answer at all', null, ''],
  ])(
    'an answer with %s takes on_error, its JSON pointer in the record',
    async (_, answer, pointer) => {
      const caseId = `answer-bad-${pointer.replace(/\W/g, '') || 'none'}`;
      const result = await run(caseId, answer);
      expect(result).toMatchObject({ outcome: 'escalated', reason: 'not_extended' });
      const record = recordOf(result, 'extend')!;
      expect(record).toMatchObject({ pointer, goto: 'not_extended' });
      expect(record.failed).toContain('does not fit its declared response at');
      expect(receiver.received.filter((r) => r.data.caseId === caseId)).toHaveLength(1);
    },
    60_000,
  );

  it('without on_error, an answer that does not fit fails the case for an admin, the pointer in its reason', async () => {
    const caseId = 'answer-bad-no-exit';
    answers.set(caseId, { new_deadline: 'soon', ticket: 'T-9' });
    await openSmallCase(service, db.pool, playbook(false), caseId);
    await expect.poll(async () => (await service.describe(caseId))?.status, { timeout: 20_000 }).toBe('failed');
    expect(await service.describe(caseId)).toMatchObject({ status: 'failed', step: 'extend' });
    expect((await db.pool.query(`SELECT reason, note FROM escalations WHERE case_id = $1`, [caseId])).rows).toEqual([
      { reason: 'case_failed', note: expect.stringContaining('does not fit its declared response at /new_deadline: must be an RFC 3339 timestamp') },
    ]);
  }, 60_000);
});
