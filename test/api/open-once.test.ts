/**
 * Opening a case is idempotent and unambiguous, over the real API, Temporal test server and Postgres:
 * Idempotency-Key retries, closed case ids, and what a playbook declares unique while open.
 */
import type { LightMyRequestResponse } from 'fastify';
import { describe, expect, it } from 'vitest';
import { workflowIdFor } from '../../src/plan/case.js';
import { validatePlaybook } from '../../src/playbook/index.js';
import { publishPlaybook } from '../../src/store/playbooks.js';
import { useApi } from '../support/api.js';
import { useRuntime } from '../support/runtime.js';

/** A return that waits for the buyer to cancel it; one open case per order. */
const PLAYBOOK = `playbook: once
case_type: return
currency: CNY
fields:
  order_id: { type: string }
  paid: { type: money }
paid_field: paid
order_id_field: order_id
one_open_case_per: [order_id]
events:
  buyer.cancelled: { payload: {} }
steps:
  - id: wait_cancel
    wait: { events: [{ event: buyer.cancelled }], timeout: 7d, on_timeout: done }
  - id: done
    end: { outcome: cancelled, reason: buyer_cancelled }
`;

const runtime = useRuntime(async ({ db }) => {
  const compiled = validatePlaybook(PLAYBOOK, 'once.yaml').plan!;
  await publishPlaybook(db.pool, PLAYBOOK, compiled, 'test');
});
const http = useApi(runtime, { agent: ['agent', 'Lei'], otherAgent: ['agent', 'Mei'] });

const order = (id: string, extra: Record<string, unknown> = {}) => ({
  playbook: 'once',
  data: { order_id: id, paid: { amount: 5_000, currency: 'CNY' } },
  ...extra,
});

function post(url: string, body: unknown, headers: Record<string, string> = {}, key = http.keys.agent): Promise<LightMyRequestResponse> {
  return http.api.inject({
    method: 'POST',
    url,
    payload: JSON.stringify(body),
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}`, ...headers },
  });
}

async function closeCase(caseId: string) {
  expect((await post(`/v1/cases/${caseId}/events`, { type: 'buyer.cancelled', id: `${caseId}-cancel`, payload: {} })).statusCode).toBe(202);
  await runtime.env.client.workflow.getHandle(workflowIdFor(caseId)).result();
  await expect.poll(async () => (await runtime.db.pool.query(`SELECT status FROM cases WHERE case_id = $1`, [caseId])).rows[0].status).toBe('closed');
}

const casesOfOrder = async (orderId: string) =>
  (await runtime.db.pool.query(`SELECT case_id FROM cases WHERE order_id = $1`, [orderId])).rows.map((r) => r.case_id);

describe('Idempotency-Key', () => {
  it('a retry with the same key and body gets the first answer, and opens nothing more', async () => {
    const first = await post('/v1/cases', order('IK-1'), { 'idempotency-key': 'open-IK-1' });
    expect(first.statusCode).toBe(201);
    const again = await post('/v1/cases', order('IK-1'), { 'idempotency-key': 'open-IK-1' });
    expect(again.statusCode).toBe(201);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.json()).toEqual(first.json());
    expect(await casesOfOrder('IK-1')).toEqual([first.json().caseId]);
  });

  it('the same key with another body is refused with 422', async () => {
    const other = await post('/v1/cases', order('IK-2'), { 'idempotency-key': 'open-IK-1' });
    expect(other.statusCode).toBe(422);
    expect(other.json()).toMatchObject({ type: 'https://casebook.dev/problems/idempotency-key-reused', errors: [{ pointer: '/headers/idempotency-key' }] });
    expect(await casesOfOrder('IK-2')).toEqual([]);
  });

  it('keys are per API key: another agent’s same key is another request', async () => {
    const theirs = await post('/v1/cases', order('IK-3'), { 'idempotency-key': 'open-IK-1' }, http.keys.otherAgent);
    expect(theirs.statusCode).toBe(201);
    expect(await casesOfOrder('IK-3')).toHaveLength(1);
  });

  it('ten concurrent retries open one case', async () => {
    const answers = await Promise.all(Array.from({ length: 10 }, () => post('/v1/cases', order('IK-4'), { 'idempotency-key': 'open-IK-4' })));
    expect(answers.every((a) => [201, 409].includes(a.statusCode))).toBe(true);
    expect(answers.filter((a) => a.statusCode === 201).length).toBeGreaterThanOrEqual(1);
    expect(await casesOfOrder('IK-4')).toHaveLength(1);
  });

  it('a malformed key is a 400 with a pointer', async () => {
    const bad = await post('/v1/cases', order('IK-5'), { 'idempotency-key': 'with space' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ errors: [{ pointer: '/headers/idempotency-key' }] });
  });
});

describe('case ids and open cases', () => {
  it('re-posting a closed case id is 409 with a link, and runs nothing again', async () => {
    expect((await post('/v1/cases', order('CL-1', { caseId: 'closed-1' }))).statusCode).toBe(201);
    await closeCase('closed-1');
    const handle = runtime.env.client.workflow.getHandle(workflowIdFor('closed-1'));
    const before = await handle.describe();
    const again = await post('/v1/cases', order('CL-1', { caseId: 'closed-1' }));
    expect(again.statusCode).toBe(409);
    expect(again.json()).toMatchObject({ type: 'https://casebook.dev/problems/case-closed', caseId: 'closed-1', case: '/v1/cases/closed-1' });
    const after = await handle.describe();
    expect(after.runId).toBe(before.runId);
    expect(after.status.name).toBe('COMPLETED');
  });

  it('one open case per order: a second is 409 naming the first, and allowed once the first closed', async () => {
    expect((await post('/v1/cases', order('OP-1', { caseId: 'open-1' }))).statusCode).toBe(201);
    const second = await post('/v1/cases', order('OP-1', { caseId: 'open-2' }));
    expect(second.statusCode).toBe(409);
    expect(second.json()).toMatchObject({ type: 'https://casebook.dev/problems/duplicate-case', caseId: 'open-1' });
    expect(await casesOfOrder('OP-1')).toEqual(['open-1']);
    await closeCase('open-1');
    expect((await post('/v1/cases', order('OP-1', { caseId: 'open-3' }))).statusCode).toBe(201);
  });

  it('the same open case id again is the same case: 200, created false', async () => {
    expect((await post('/v1/cases', order('SA-1', { caseId: 'same-1' }))).statusCode).toBe(201);
    const again = await post('/v1/cases', order('SA-1', { caseId: 'same-1' }));
    expect(again.statusCode).toBe(200);
    expect(again.json()).toMatchObject({ caseId: 'same-1', created: false });
  });
});
