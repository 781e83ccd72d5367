/**
 * Nothing a playbook does takes Casebook down or wedges a case: an expression bomb is refused at
 * publish time; one that slips past the estimate fails only its own case, visibly and escalated, while
 * other cases complete; an admin retries or closes a failed case.
 */
import { describe, expect, it } from 'vitest';
import { workflowIdFor, type CaseResult } from '../../src/plan/case.js';
import { validatePlaybook } from '../../src/playbook/index.js';
import { publishPlaybook } from '../../src/store/playbooks.js';
import { useApi } from '../support/api.js';
import { useRuntime } from '../support/runtime.js';
import { caseRecords } from '../support/records.js';

const TEN = '[0,1,2,3,4,5,6,7,8,9]';
const BOMB = `${TEN}.map(a, ${TEN}.map(b, ${TEN}.map(c, ${TEN}.map(d, ${TEN}.map(e, ${TEN}.map(f, ${TEN}.map(g, g))))))).size() > 0`;

/** Waits for an event, then branches on `condition`. */
const playbook = (name: string, condition: string) => `playbook: ${name}
case_type: review
currency: CNY
fields:
  order_id: { type: string }
  divisor: { type: integer }
events:
  agent.checked: { payload: {} }
steps:
  - id: wait_check
    wait: { events: [{ event: agent.checked }], timeout: 1d, on_timeout: check }
  - id: check
    branch:
      cases:
        - when: "${condition}"
          goto: done
      otherwise: done
  - id: done
    end: { outcome: resolved, reason: checked }
`;

const runtime = useRuntime();
const http = useApi(runtime, { admin: ['admin', 'Root'], opsLead: ['ops-lead', 'Mei'] });

async function publish(name: string, condition: string, maxExpressionCost?: number) {
  const source = playbook(name, condition);
  const compiled = validatePlaybook(source, `${name}.yaml`, maxExpressionCost ? { maxExpressionCost } : {}).plan!;
  return (await publishPlaybook(runtime.db.pool, source, compiled, 'test')).version;
}

async function openWaiting(playbookName: string, caseId: string, divisor = 1) {
  expect(await runtime.service.open({ playbook: playbookName, caseId, data: { order_id: caseId, divisor } })).toMatchObject({ kind: 'opened' });
}

async function check(caseId: string) {
  expect(await runtime.inbox.deliverEvent(caseId, { type: 'agent.checked', id: `${caseId}-check`, payload: {} })).toEqual({ status: 'accepted' });
}

async function open(playbookName: string, caseId: string, divisor = 1) {
  await openWaiting(playbookName, caseId, divisor);
  await check(caseId);
}

const projection = async (caseId: string) =>
  (await runtime.db.pool.query(`SELECT status, current_step, outcome, reason FROM cases WHERE case_id = $1`, [caseId])).rows[0];
const escalations = async (caseId: string) =>
  (await runtime.db.pool.query(`SELECT queue, reason, note FROM escalations WHERE case_id = $1 ORDER BY id`, [caseId])).rows;
const result = async (caseId: string): Promise<CaseResult> => ({
  ...((await runtime.env.client.workflow.getHandle(workflowIdFor(caseId)).result()) as CaseResult),
  steps: await caseRecords(runtime.db.pool, caseId),
});
const repair = (caseId: string, action: 'retry' | 'close', key = http.keys.admin) =>
  http.api.inject({
    method: 'POST',
    url: `/v1/cases/${caseId}/repair`,
    payload: { action, reason: `${action} by test` },
    headers: { authorization: `Bearer ${key}` },
  });

describe('expression bombs', () => {
  it('are refused at publish time with a code and a position', async () => {
    const response = await http.api.inject({
      method: 'PUT',
      url: '/v1/playbooks/bomb',
      payload: playbook('bomb', BOMB),
      headers: { authorization: `Bearer ${http.keys.opsLead}`, 'content-type': 'application/yaml' },
    });
    expect(response.statusCode).toBe(422);
    expect(response.json().diagnostics).toEqual([expect.objectContaining({ code: 'PB203', line: 15, column: 18 })]);
  });

  it('one that slips past the estimate fails only its own case, escalated, while 20 others complete', async () => {
    await publish('slipped', BOMB, 1e12);
    await publish('fine', 'data.divisor > 0');
    const fine = Array.from({ length: 20 }, (_, i) => `fine-${i}`);
    for (const caseId of fine) await openWaiting('fine', caseId);
    await open('slipped', 'bomb-1');
    await expect.poll(async () => (await projection('bomb-1'))?.status, { timeout: 10_000 }).toBe('failed');
    for (const caseId of fine) await check(caseId);
    for (const caseId of fine) expect(await result(caseId)).toMatchObject({ outcome: 'resolved' });
    expect(await projection('bomb-1')).toMatchObject({ status: 'failed', current_step: 'check' });
    expect(await escalations('bomb-1')).toEqual([
      expect.objectContaining({
        queue: 'casebook-admin',
        reason: 'case_failed',
        note: expect.stringMatching(/would cost \d+ evaluation steps; the budget is 100000/),
      }),
    ]);
    const described = await runtime.service.describe('bomb-1');
    expect(described).toMatchObject({ status: 'failed', step: 'check' });
  });
});

describe('failed cases', () => {
  it('an admin retries the failed step (it fails again, visibly) and then closes the case', async () => {
    await publish('divides', '10 / data.divisor > 1');
    await open('divides', 'div-1', 0);
    await expect.poll(async () => (await projection('div-1'))?.status, { timeout: 10_000 }).toBe('failed');
    expect((await repair('div-1', 'retry', http.keys.opsLead)).statusCode).toBe(403);
    const retried = await repair('div-1', 'retry');
    expect(retried.statusCode).toBe(200);
    await expect.poll(async () => (await escalations('div-1')).length, { timeout: 10_000 }).toBe(2);
    await expect.poll(async () => (await projection('div-1'))?.status, { timeout: 10_000 }).toBe('failed');
    expect((await repair('div-1', 'close')).statusCode).toBe(200);
    const outcome = await result('div-1');
    expect(outcome).toMatchObject({ outcome: 'failed', reason: 'close by test' });
    expect(outcome.steps.filter((s) => s.kind === 'failed')).toHaveLength(2);
    expect(outcome.steps.filter((s) => s.kind === 'repair').map((s) => s.detail)).toEqual([
      { repair: 'retry', by: { keyId: expect.any(String), name: 'Root' }, reason: 'retry by test' },
      { repair: 'close', by: { keyId: expect.any(String), name: 'Root' }, reason: 'close by test' },
    ]);
    const notFailed = await repair('div-1', 'retry');
    expect(notFailed.statusCode).toBe(409);
    expect(notFailed.json()).toMatchObject({ type: 'https://casebook.dev/problems/case-not-failed' });
  });
});
