/** The HTTP API over real parts: Temporal's time-skipping server, a worker, Postgres. */
import { Ajv } from 'ajv';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApi } from '../../src/api/app.js';
import { createApiKey, revokeApiKey, ROLES, type Role } from '../../src/store/api-keys.js';
import { useRuntime } from '../support/runtime.js';

const RETURN_YAML = readFileSync(fileURLToPath(new URL('../../playbooks/return.yaml', import.meta.url)), 'utf8');
const DAY = 86_400_000;

const runtime = useRuntime();
let api: FastifyInstance;
const keys = {} as Record<Role, string>;
let revokedKey: string;

beforeAll(async () => {
  // The 401 tests below fail authentication many times from one address: lift that limit here (tested on its own below).
  api = await buildApi(
    { pool: runtime.db.pool, cases: runtime.service, inbox: runtime.inbox, audit: runtime.audit, temporalReady: async () => true },
    { authFailuresPerMinute: 10_000 },
  );
  for (const role of ROLES) keys[role] = (await createApiKey(runtime.db.pool, role, `${role} test key`)).key;
  const revoked = await createApiKey(runtime.db.pool, 'admin', 'revoked');
  await revokeApiKey(runtime.db.pool, revoked.apiKey.id);
  revokedKey = revoked.key;
});
afterAll(async () => {
  await api?.close();
});

type Call = {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH';
  url: string;
  body?: unknown;
  type?: string;
  key?: string | null;
  headers?: Record<string, string>;
};

function call({ method, url, body, type, key, headers }: Call): Promise<LightMyRequestResponse> {
  const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
  return api.inject({
    method,
    url,
    payload,
    headers: {
      ...(payload !== undefined ? { 'content-type': type ?? (typeof body === 'string' ? 'application/yaml' : 'application/json') } : {}),
      ...(key === null ? {} : { authorization: `Bearer ${key ?? keys.admin}` }),
      ...headers,
    },
  });
}

async function caseData(overrides: Record<string, unknown> = {}) {
  const now = await runtime.env.currentTimeMs();
  return {
    order_id: 'TB-9',
    buyer_name: 'Wang',
    order_total: { amount: 10_000, currency: 'CNY' },
    outbound_shipping: { amount: 800, currency: 'CNY' },
    shipped_free: false,
    signed_at: new Date(now - DAY).toISOString(),
    reason: 'no_reason',
    shipping_insurance: false,
    ...overrides,
  };
}

describe('playbooks', () => {
  it('validates without publishing', async () => {
    const ok = await call({ method: 'POST', url: '/v1/playbooks/validate', body: RETURN_YAML, key: keys['ops-lead'] });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toEqual({ valid: true, diagnostics: [] });
    const bad = await call({
      method: 'POST',
      url: '/v1/playbooks/validate',
      body: RETURN_YAML.replace('template: return_address', 'template: return_adress'),
      type: 'text/plain',
      key: keys['ops-lead'],
    });
    expect(bad.json()).toMatchObject({
      valid: false,
      diagnostics: [{ severity: 'error', code: 'PB110', line: expect.any(Number), column: expect.any(Number) }],
    });
  });

  it('publishes immutable versions: 201 new, 200 same content, 422 invalid', async () => {
    const first = await call({ method: 'PUT', url: '/v1/playbooks/return', body: RETURN_YAML, key: keys['ops-lead'] });
    expect(first.statusCode).toBe(201);
    expect(first.json()).toMatchObject({ name: 'return', version: 1, hash: expect.stringMatching(/^[0-9a-f]{64}$/) });
    const again = await call({ method: 'PUT', url: '/v1/playbooks/return', body: RETURN_YAML, key: keys['ops-lead'] });
    expect([again.statusCode, again.json().version]).toEqual([200, 1]);
    const changed = await call({ method: 'PUT', url: '/v1/playbooks/return', body: RETURN_YAML.replace('refund_sla: 24h', 'refund_sla: 12h') });
    expect([changed.statusCode, changed.json().version]).toEqual([201, 2]);
    const invalid = await call({ method: 'PUT', url: '/v1/playbooks/return', body: RETURN_YAML.replace('paid_field: order_total', 'paid_field: order_totl') });
    expect(invalid.statusCode).toBe(422);
    expect(invalid.headers['content-type']).toContain('application/problem+json');
    expect(invalid.json()).toMatchObject({ type: expect.stringContaining('invalid-playbook'), diagnostics: [{ code: 'PB002' }] });
    const versions = await call({ method: 'GET', url: '/v1/playbooks/return', key: keys.auditor });
    expect(versions.json().versions.map((v: { version: number }) => v.version)).toEqual([1, 2]);
    const v1 = await call({ method: 'GET', url: '/v1/playbooks/return/versions/1', key: keys.agent });
    expect(v1.json()).toMatchObject({ version: 1, yaml: RETURN_YAML, plan: { planVersion: 1, name: 'return' } });
    const list = await call({ method: 'GET', url: '/v1/playbooks' });
    expect(list.json().playbooks).toEqual([expect.objectContaining({ name: 'return', version: 2, versions: 2 })]);
  });
});

describe('cases and events', () => {
  it('opens a case once, runs it on the requested version and refunds exactly', async () => {
    const data = await caseData();
    const opened = await call({ method: 'POST', url: '/v1/cases', body: { playbook: 'return', version: 1, caseId: 'api-1', data }, key: keys.agent });
    expect(opened.statusCode).toBe(201);
    expect(opened.json()).toMatchObject({ caseId: 'api-1', playbook: 'return', version: 1 });
    const again = await call({ method: 'POST', url: '/v1/cases', body: { playbook: 'return', version: 1, caseId: 'api-1', data }, key: keys.agent });
    expect([again.statusCode, again.json().caseId]).toEqual([200, 'api-1']);

    const event = { type: 'warehouse.received', id: 'wh-api-1', payload: { condition: 'resellable' } };
    const sent = await call({ method: 'POST', url: '/v1/cases/api-1/events', body: event, key: keys.warehouse });
    expect(sent.statusCode).toBe(202);
    await runtime.env.client.workflow.getHandle('case-api-1').result();
    const duplicate = await call({ method: 'POST', url: '/v1/cases/api-1/events', body: event, key: keys.warehouse });
    expect([duplicate.statusCode, duplicate.json()]).toEqual([200, { status: 'duplicate' }]);
    const view = await call({ method: 'GET', url: '/v1/cases/api-1', key: keys.auditor });
    expect(view.json()).toMatchObject({ caseId: 'api-1', version: 1, status: 'closed', outcome: { outcome: 'resolved', reason: 'refunded' } });
    const refunds = (await runtime.db.pool.query(`SELECT amount FROM refunds WHERE case_id = 'api-1'`)).rows;
    expect(refunds).toEqual([{ amount: 9_200 }]);
    const history = (await call({ method: 'GET', url: '/v1/cases/api-1/history', key: keys.auditor })).json();
    expect(history).toMatchObject({
      playbook: { name: 'return', version: 1 },
      outcome: { outcome: 'resolved', reason: 'refunded' },
      events: [{ id: 'wh-api-1', type: 'warehouse.received' }],
      refunds: [{ amount: 9_200, currency: 'CNY', covers: 'payment', status: 'issued', key: 'api-1/refund_no_reason/1' }],
    });
    // Nobody answered the exchange offered first: after its four hours the return went ahead.
    expect(history.steps.map((s: { step: string }) => s.step)).toEqual([
      'check_window',
      'offer_exchange',
      'wait_exchange_answer',
      'approve',
      'send_address',
      'check_insurance',
      'wait_shipment',
      'compute_refund',
      'refund_no_reason',
      'thank_buyer',
      'end_refunded',
    ]);
    expect(history.steps[0].detail).toMatchObject({ when: 'now - data.signed_at <= policy.return_window', goto: 'offer_exchange' });
  });

  it('refuses events the case does not wait for, and invalid payloads, with reasons', async () => {
    await call({
      method: 'POST',
      url: '/v1/cases',
      body: { playbook: 'return', caseId: 'api-2', data: await caseData({ order_id: 'TB-10' }) },
      key: keys.agent,
    });
    await expect
      .poll(async () => (await call({ method: 'GET', url: '/v1/cases/api-2' })).json().waitingFor, { timeout: 10_000 })
      .toEqual(['buyer.kept_return', 'buyer.chose_exchange']);
    const kept = await call({ method: 'POST', url: '/v1/cases/api-2/events', body: { type: 'buyer.kept_return', id: 'k1', payload: {} }, key: keys.agent });
    expect(kept.statusCode).toBe(202);
    await expect
      .poll(async () => (await call({ method: 'GET', url: '/v1/cases/api-2' })).json().waitingFor, { timeout: 10_000 })
      .toEqual(['buyer.shipped', 'warehouse.received']);
    const offerOver = await call({
      method: 'POST',
      url: '/v1/cases/api-2/events',
      body: { type: 'buyer.chose_exchange', id: 'x1', payload: { wanted_item: 'size 40' } },
      key: keys.agent,
    });
    expect(offerOver.statusCode).toBe(409);
    expect(offerOver.json().detail).toContain("'buyer.chose_exchange' is not expected now");
    const unknownType = await call({ method: 'POST', url: '/v1/cases/api-2/events', body: { type: 'buyer.paid', id: 'e1', payload: {} }, key: keys.agent });
    expect(unknownType.statusCode).toBe(409);
    expect(unknownType.json().detail).toContain("declares no event 'buyer.paid'");
    const invalid = await call({
      method: 'POST',
      url: '/v1/cases/api-2/events',
      body: { type: 'buyer.shipped', id: 'e2', payload: { tracking_number: 42 } },
      key: keys.agent,
    });
    expect(invalid.statusCode).toBe(422);
    expect(invalid.json().errors).toEqual([{ pointer: '/payload/tracking_number', message: 'must be a string, not number 42' }]);
  });

  it('routes a warehouse webhook to the case by order id', async () => {
    const routed = await call({
      method: 'POST',
      url: '/v1/webhooks/warehouse',
      body: { receiptId: 'r-1', orderId: 'TB-10', payload: { condition: 'damaged' } },
      key: keys.warehouse,
    });
    expect(routed.statusCode).toBe(202);
    expect(routed.json()).toEqual({ status: 'accepted', caseId: 'api-2' });
    // A receipt no case takes is kept in the inbox, unrouted, with the reason (see test/api/inbox.test.ts).
    const unknown = await call({
      method: 'POST',
      url: '/v1/webhooks/warehouse',
      body: { receiptId: 'r-2', returnTracking: 'NOPE', payload: {} },
      key: keys.warehouse,
    });
    expect(unknown.statusCode).toBe(202);
    expect(unknown.json()).toEqual({ status: 'unrouted', inboxId: expect.any(Number), reason: 'no case has return tracking NOPE' });
  });

  it('lists cases newest first with filters and a cursor', async () => {
    for (const id of ['list-a', 'list-b', 'list-c']) {
      await call({
        method: 'POST',
        url: '/v1/cases',
        body: { playbook: 'return', caseId: id, data: await caseData({ order_id: `L-${id}` }) },
        key: keys.agent,
      });
    }
    const first = await call({ method: 'GET', url: '/v1/cases?playbook=return&limit=2', key: keys.auditor });
    const page1 = first.json();
    expect(page1.cases.map((c: { caseId: string }) => c.caseId)).toEqual(['list-c', 'list-b']);
    const second = await call({ method: 'GET', url: `/v1/cases?playbook=return&limit=2&cursor=${page1.nextCursor}`, key: keys.auditor });
    expect(second.json().cases.map((c: { caseId: string }) => c.caseId)).toEqual(['list-a', 'api-2']);
    const byOrder = await call({ method: 'GET', url: '/v1/cases?orderId=L-list-b' });
    expect(byOrder.json().cases.map((c: { caseId: string }) => c.caseId)).toEqual(['list-b']);
  });
});

describe('roles', () => {
  const endpoints: { name: string; call: Omit<Call, 'key'>; allowed: Role[] }[] = [
    { name: 'validate playbook', call: { method: 'POST', url: '/v1/playbooks/validate', body: 'playbook: x\n' }, allowed: ['ops-lead', 'admin'] },
    { name: 'publish playbook', call: { method: 'PUT', url: '/v1/playbooks/return', body: RETURN_YAML }, allowed: ['ops-lead', 'admin'] },
    { name: 'list playbooks', call: { method: 'GET', url: '/v1/playbooks' }, allowed: ['ops-lead', 'agent', 'auditor', 'admin'] },
    { name: 'playbook versions', call: { method: 'GET', url: '/v1/playbooks/return' }, allowed: ['ops-lead', 'agent', 'auditor', 'admin'] },
    { name: 'playbook version', call: { method: 'GET', url: '/v1/playbooks/return/versions/1' }, allowed: ['ops-lead', 'agent', 'auditor', 'admin'] },
    { name: 'open case', call: { method: 'POST', url: '/v1/cases', body: { playbook: 'return', caseId: 'api-1', data: {} } }, allowed: ['agent', 'admin'] },
    { name: 'list cases', call: { method: 'GET', url: '/v1/cases' }, allowed: ['ops-lead', 'agent', 'auditor', 'admin'] },
    { name: 'read case', call: { method: 'GET', url: '/v1/cases/api-1' }, allowed: ['ops-lead', 'agent', 'auditor', 'admin'] },
    { name: 'case history', call: { method: 'GET', url: '/v1/cases/api-1/history' }, allowed: ['ops-lead', 'agent', 'auditor', 'admin'] },
    { name: 'case activity', call: { method: 'GET', url: '/v1/cases/api-1/activity' }, allowed: ['ops-lead', 'agent', 'auditor', 'admin'] },
    {
      name: 'post event',
      call: { method: 'POST', url: '/v1/cases/api-1/events', body: { type: 'warehouse.received', id: 'wh-api-1', payload: { condition: 'resellable' } } },
      allowed: ['agent', 'warehouse', 'admin'],
    },
    {
      name: 'warehouse webhook',
      call: { method: 'POST', url: '/v1/webhooks/warehouse', body: { receiptId: 'wh-api-1', orderId: 'TB-9', payload: { condition: 'resellable' } } },
      allowed: ['warehouse', 'admin'],
    },
    { name: 'order ledger', call: { method: 'GET', url: '/v1/orders/TB-9/ledger' }, allowed: ['ops-lead', 'agent', 'auditor', 'admin'] },
    {
      name: 'record an advance',
      call: { method: 'POST', url: '/v1/orders/TB-9/advances', body: { kind: 'return_shipping', amount: 500, currency: 'CNY', evidence: 'waybill' } },
      allowed: ['ops-lead', 'warehouse', 'admin'],
    },
    { name: 'list inbox', call: { method: 'GET', url: '/v1/inbox?status=unrouted' }, allowed: ['ops-lead', 'agent', 'admin'] },
    { name: 'deliver from inbox', call: { method: 'POST', url: '/v1/inbox/999999/deliver', body: {} }, allowed: ['agent', 'admin'] },
    { name: 'list tasks', call: { method: 'GET', url: '/v1/tasks' }, allowed: ['ops-lead', 'agent', 'auditor', 'admin'] },
    { name: 'read task', call: { method: 'GET', url: '/v1/tasks/999999' }, allowed: ['ops-lead', 'agent', 'auditor', 'admin'] },
    { name: 'claim task', call: { method: 'POST', url: '/v1/tasks/999999/claim' }, allowed: ['ops-lead', 'agent', 'admin'] },
    { name: 'release task', call: { method: 'POST', url: '/v1/tasks/999999/release' }, allowed: ['ops-lead', 'agent', 'admin'] },
    { name: 'take over task', call: { method: 'POST', url: '/v1/tasks/999999/take-over' }, allowed: ['ops-lead', 'admin'] },
    {
      name: 'complete task',
      call: { method: 'POST', url: '/v1/tasks/999999/complete', body: { outcome: 'approve' } },
      allowed: ['ops-lead', 'agent', 'admin'],
    },
    {
      name: 'note on task',
      call: { method: 'POST', url: '/v1/tasks/999999/notes', body: { text: 'called the buyer' } },
      allowed: ['ops-lead', 'agent', 'admin'],
    },
    { name: 'list escalations', call: { method: 'GET', url: '/v1/escalations' }, allowed: ['ops-lead', 'agent', 'auditor', 'admin'] },
    { name: 'acknowledge escalation', call: { method: 'POST', url: '/v1/escalations/999999/acknowledge' }, allowed: ['ops-lead', 'agent', 'admin'] },
    {
      name: 'resolve escalation',
      call: { method: 'POST', url: '/v1/escalations/999999/resolve', body: { resolution: 'refunded' } },
      allowed: ['ops-lead', 'agent', 'admin'],
    },
    { name: 'redeliver a webhook', call: { method: 'POST', url: '/v1/deliveries/no-case%2Fstep%2F1/redeliver' }, allowed: ['admin'] },
    { name: 'list keys', call: { method: 'GET', url: '/v1/keys' }, allowed: ['admin'] },
    { name: 'create key', call: { method: 'POST', url: '/v1/keys', body: { role: 'auditor', name: 'matrix' } }, allowed: ['admin'] },
    { name: 'revoke key', call: { method: 'DELETE', url: '/v1/keys/000000000000' }, allowed: ['admin'] },
    { name: 'who am I', call: { method: 'GET', url: '/v1/me' }, allowed: ['ops-lead', 'agent', 'warehouse', 'auditor', 'admin'] },
  ];
  const matrix = endpoints.flatMap((e) => ROLES.map((role) => [e.name, role, e.allowed.includes(role)] as const));

  it.each(matrix)('%s as %s → allowed: %s', async (name, role, allowed) => {
    const endpoint = endpoints.find((e) => e.name === name)!;
    const response = await call({ ...endpoint.call, key: keys[role] });
    if (allowed) expect([401, 403]).not.toContain(response.statusCode);
    else expect(response.statusCode).toBe(403);
  });

  it.each(endpoints.map((e) => e.name))('%s without a valid key → 401, the same for every kind of bad key', async (name) => {
    const endpoint = endpoints.find((e) => e.name === name)!;
    const bodies = [];
    for (const key of [null, 'nonsense', `cb_aaaaaaaaaaaa_${'x'.repeat(43)}`, revokedKey]) {
      const response = await call({ ...endpoint.call, key });
      expect(response.statusCode).toBe(401);
      expect(response.headers['www-authenticate']).toBe('Bearer realm="casebook"');
      const { requestId: _requestId, ...body } = response.json();
      bodies.push(body);
    }
    expect(new Set(bodies.map((b) => JSON.stringify(b))).size).toBe(1);
  });

  it('lets the warehouse deliver warehouse events only', async () => {
    const response = await call({
      method: 'POST',
      url: '/v1/cases/api-2/events',
      body: { type: 'buyer.shipped', id: 'x', payload: { tracking_number: 'T' } },
      key: keys.warehouse,
    });
    expect(response.statusCode).toBe(403);
  });

  it('health, readiness and the API documentation need no key', async () => {
    expect((await call({ method: 'GET', url: '/healthz', key: null })).statusCode).toBe(200);
    expect((await call({ method: 'GET', url: '/readyz', key: null })).json()).toEqual({ status: 'ready', database: true, temporal: true });
    const spec = (await call({ method: 'GET', url: '/docs/json', key: null })).json();
    expect(Object.keys(spec.paths)).toEqual(
      expect.arrayContaining(['/v1/playbooks/{name}', '/v1/cases', '/v1/cases/{caseId}/events', '/v1/webhooks/warehouse']),
    );
    expect((await call({ method: 'GET', url: '/docs/', key: null })).headers['content-type']).toContain('text/html');
  });
});

describe('bad requests', () => {
  const huge = JSON.stringify({ playbook: 'return', data: { blob: 'x'.repeat(1_100_000) } });
  const cases: [string, Call, number, string][] = [
    ['malformed JSON', { method: 'POST', url: '/v1/cases', body: '{"playbook": ', type: 'application/json' }, 400, 'malformed-json'],
    ['empty JSON body', { method: 'POST', url: '/v1/cases', body: '', type: 'application/json' }, 400, 'malformed-json'],
    [
      'JSON sent as form data',
      { method: 'POST', url: '/v1/cases', body: 'playbook=return', type: 'application/x-www-form-urlencoded' },
      415,
      'unsupported-media-type',
    ],
    ['YAML sent as JSON', { method: 'PUT', url: '/v1/playbooks/return', body: RETURN_YAML, type: 'application/json' }, 400, 'malformed-json'],
    ['JSON body where YAML is expected', { method: 'PUT', url: '/v1/playbooks/return', body: { playbook: 'return' } }, 400, 'invalid-request'],
    ['body over 1 MiB', { method: 'POST', url: '/v1/cases', body: huge, type: 'application/json' }, 413, 'body-too-large'],
    ['unknown top-level property', { method: 'POST', url: '/v1/cases', body: { playbook: 'return', data: {}, priority: 'high' } }, 400, 'invalid-request'],
    [
      '__proto__ key in the body',
      { method: 'POST', url: '/v1/cases', body: '{"playbook":"return","data":{},"__proto__":{"admin":true}}', type: 'application/json' },
      400,
      'malformed-json',
    ],
    [
      'constructor.prototype key in the body',
      { method: 'POST', url: '/v1/cases', body: '{"playbook":"return","data":{},"constructor":{"prototype":{"x":1}}}', type: 'application/json' },
      400,
      'malformed-json',
    ],
    ['missing data', { method: 'POST', url: '/v1/cases', body: { playbook: 'return' } }, 400, 'invalid-request'],
    ['version as a string', { method: 'POST', url: '/v1/cases', body: { playbook: 'return', version: '1', data: {} } }, 400, 'invalid-request'],
    ['unpublished playbook', { method: 'POST', url: '/v1/cases', body: { playbook: 'nope', data: {} } }, 422, 'unknown-playbook'],
    ['unknown version', { method: 'POST', url: '/v1/cases', body: { playbook: 'return', version: 99, data: {} } }, 422, 'unknown-playbook'],
    [
      'negative money',
      { method: 'POST', url: '/v1/cases', body: { playbook: 'return', data: { order_total: { amount: -1, currency: 'CNY' } } } },
      422,
      'invalid-case-data',
    ],
    [
      'fractional money',
      { method: 'POST', url: '/v1/cases', body: { playbook: 'return', data: { order_total: { amount: 99.5, currency: 'CNY' } } } },
      422,
      'invalid-case-data',
    ],
    [
      'money as a string',
      { method: 'POST', url: '/v1/cases', body: { playbook: 'return', data: { order_total: { amount: '9950', currency: 'CNY' } } } },
      422,
      'invalid-case-data',
    ],
    [
      'bad currency',
      { method: 'POST', url: '/v1/cases', body: { playbook: 'return', data: { order_total: { amount: 1, currency: 'yuan' } } } },
      422,
      'invalid-case-data',
    ],
    ['bad timestamp', { method: 'POST', url: '/v1/cases', body: { playbook: 'return', data: { signed_at: 'yesterday' } } }, 422, 'invalid-case-data'],
    ['unknown case field', { method: 'POST', url: '/v1/cases', body: { playbook: 'return', data: { favourite_colour: 'red' } } }, 422, 'invalid-case-data'],
    ['bad case id', { method: 'POST', url: '/v1/cases', body: { playbook: 'return', caseId: '../etc/passwd', data: {} } }, 400, 'invalid-request'],
    ['unknown case', { method: 'GET', url: '/v1/cases/no-such-case' }, 404, 'unknown-case'],
    [
      'event for an unknown case',
      { method: 'POST', url: '/v1/cases/no-such-case/events', body: { type: 'buyer.shipped', id: 'e', payload: {} } },
      404,
      'unknown-case',
    ],
    [
      'event for a closed case',
      { method: 'POST', url: '/v1/cases/api-1/events', body: { type: 'buyer.shipped', id: 'late', payload: { tracking_number: 'T' } } },
      409,
      'case-closed',
    ],
    ['event without an id', { method: 'POST', url: '/v1/cases/api-2/events', body: { type: 'buyer.shipped', payload: {} } }, 400, 'invalid-request'],
    [
      'event type with spaces',
      { method: 'POST', url: '/v1/cases/api-2/events', body: { type: 'buyer shipped', id: 'e', payload: {} } },
      400,
      'invalid-request',
    ],
    ['cursor not issued by us', { method: 'GET', url: '/v1/cases?cursor=bm9wZQ' }, 400, 'invalid-cursor'],
    ['limit out of range', { method: 'GET', url: '/v1/cases?limit=1000' }, 400, 'invalid-request'],
    ['unknown query parameter', { method: 'GET', url: '/v1/cases?colour=red' }, 400, 'invalid-request'],
    ['playbook name with capitals', { method: 'PUT', url: '/v1/playbooks/Return', body: RETURN_YAML }, 400, 'invalid-request'],
    ['name in URL differs from the document', { method: 'PUT', url: '/v1/playbooks/returns', body: RETURN_YAML }, 422, 'name-mismatch'],
    ['unknown route', { method: 'GET', url: '/v1/refunds' }, 404, 'not-found'],
    ['wrong method on a known path', { method: 'PATCH', url: '/v1/cases/api-1' }, 405, 'method-not-allowed'],
    [
      'version beyond a 32-bit integer',
      { method: 'POST', url: '/v1/cases', body: { playbook: 'return', version: 2_147_483_648, data: {} } },
      400,
      'invalid-request',
    ],
    [
      'malformed Idempotency-Key',
      { method: 'POST', url: '/v1/cases', body: { playbook: 'return', data: {} }, headers: { 'idempotency-key': 'has spaces' } },
      400,
      'invalid-request',
    ],
    ['webhook without order id or tracking', { method: 'POST', url: '/v1/webhooks/warehouse', body: { receiptId: 'r', payload: {} } }, 400, 'invalid-request'],
  ];

  it.each(cases)('%s → %i %s', async (_name, request, status, type) => {
    const response = await call(request);
    expect(response.statusCode).toBe(status);
    expect(response.headers['content-type']).toContain('application/problem+json');
    expect(response.headers['x-request-id']).toBeTruthy();
    const body = response.json();
    expect(body).toMatchObject({ type: `https://casebook.dev/problems/${type}`, status, requestId: response.headers['x-request-id'] });
    expect(JSON.stringify(body)).not.toMatch(/at .*\.ts:\d+|node_modules/);
  });

  it('names each bad case field by JSON pointer', async () => {
    const response = await call({
      method: 'POST',
      url: '/v1/cases',
      body: { playbook: 'return', data: { order_id: 7, order_total: { amount: 1.5, currency: 'CNY' } } },
    });
    const pointers = response.json().errors.map((e: { pointer: string }) => e.pointer);
    expect(pointers).toEqual(expect.arrayContaining(['/data/order_id', '/data/order_total/amount', '/data/buyer_name', '/data/signed_at']));
  });

  it('limits the rate per key with 429 and Retry-After', async () => {
    const limited = await buildApi(
      { pool: runtime.db.pool, cases: runtime.service, inbox: runtime.inbox, audit: runtime.audit, temporalReady: async () => true },
      { rateLimits: { perKey: 3 } },
    );
    try {
      const statuses = [];
      let last: LightMyRequestResponse | undefined;
      for (let i = 0; i < 4; i++) {
        last = await limited.inject({ method: 'GET', url: '/v1/playbooks', headers: { authorization: `Bearer ${keys.auditor}` } });
        statuses.push(last.statusCode);
      }
      expect(statuses).toEqual([200, 200, 200, 429]);
      expect(Number(last!.headers['retry-after'])).toBeGreaterThan(0);
      expect(last!.json()).toMatchObject({ type: 'https://casebook.dev/problems/rate-limited', status: 429 });
    } finally {
      await limited.close();
    }
  });
});

describe('API contract edges', () => {
  const otherApi = (options: Parameters<typeof buildApi>[1], temporalReady = async () => true) =>
    buildApi({ pool: runtime.db.pool, cases: runtime.service, inbox: runtime.inbox, audit: runtime.audit, temporalReady }, options);

  it('answers a wrong method on a known path with 405 and Allow', async () => {
    const response = await call({ method: 'DELETE', url: '/v1/cases' });
    expect(response.statusCode).toBe(405);
    expect(response.headers.allow).toBe('GET, HEAD, POST');
    expect((await call({ method: 'PUT', url: '/v1/keys/abc', key: null })).headers.allow).toBe('DELETE');
    expect((await call({ method: 'DELETE', url: '/v1/playbooks/validate' })).headers.allow).toBe('POST');
  });

  it('takes a key it authenticated for keyCacheMs; one revoked through the API stops at once, elsewhere within it', async () => {
    const cached = await otherApi({ keyCacheMs: 60_000 });
    const brief = await otherApi({ keyCacheMs: 300 });
    const read = (api: typeof cached, token: string) =>
      api.inject({ method: 'GET', url: '/v1/playbooks', headers: { authorization: `Bearer ${token}` } }).then((r) => r.statusCode);
    try {
      const byCli = await createApiKey(runtime.db.pool, 'auditor', 'revoked by the CLI');
      expect([await read(cached, byCli.key), await read(brief, byCli.key)]).toEqual([200, 200]);
      // `casebook keys revoke` writes the row in another process: each API finds out when its entry ends.
      await revokeApiKey(runtime.db.pool, byCli.apiKey.id);
      expect(await read(cached, byCli.key)).toBe(200);
      await expect.poll(() => read(brief, byCli.key), { timeout: 5_000, interval: 100 }).toBe(401);

      const byApi = await createApiKey(runtime.db.pool, 'auditor', 'revoked by the API');
      expect(await read(cached, byApi.key)).toBe(200);
      const revoke = await cached.inject({ method: 'DELETE', url: `/v1/keys/${byApi.apiKey.id}`, headers: { authorization: `Bearer ${keys.admin}` } });
      expect(revoke.statusCode).toBe(204);
      expect(await read(cached, byApi.key)).toBe(401);
    } finally {
      await cached.close();
      await brief.close();
    }
  });

  it('limits failed authentications per address with 429 and Retry-After, never a valid key', async () => {
    const limited = await otherApi({ authFailuresPerMinute: 3 });
    try {
      const statuses = [];
      for (const token of ['nonsense', 'x', `cb_aaaaaaaaaaaa_${'x'.repeat(43)}`, revokedKey, 'again']) {
        statuses.push((await limited.inject({ method: 'GET', url: '/v1/playbooks', headers: { authorization: `Bearer ${token}` } })).statusCode);
      }
      expect(statuses).toEqual([401, 401, 401, 429, 429]);
      const refused = await limited.inject({ method: 'GET', url: '/v1/cases', remoteAddress: '127.0.0.1' });
      expect(refused.statusCode).toBe(429);
      expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
      expect(refused.json()).toMatchObject({ type: 'https://casebook.dev/problems/rate-limited', status: 429 });
      const valid = await limited.inject({ method: 'GET', url: '/v1/playbooks', headers: { authorization: `Bearer ${keys.auditor}` } });
      expect(valid.statusCode).toBe(200);
      const elsewhere = await limited.inject({ method: 'GET', url: '/v1/playbooks', remoteAddress: '127.0.0.2' });
      expect(elsewhere.statusCode).toBe(401);
    } finally {
      await limited.close();
    }
  });

  it('never revokes the last active admin key, not even by itself', async () => {
    const adminId = keys.admin.split('_')[1]!;
    const active = (await call({ method: 'GET', url: '/v1/keys' }))
      .json()
      .keys.filter((k: { role: string; revokedAt: string | null }) => k.role === 'admin' && !k.revokedAt);
    expect(active.map((k: { id: string }) => k.id)).toEqual([adminId]);
    const own = await call({ method: 'DELETE', url: `/v1/keys/${adminId}` });
    expect(own.statusCode).toBe(409);
    expect(own.json()).toMatchObject({ type: 'https://casebook.dev/problems/last-admin-key', status: 409 });
    const second = (await call({ method: 'POST', url: '/v1/keys', body: { role: 'admin', name: 'second admin' } })).json();
    expect((await call({ method: 'DELETE', url: `/v1/keys/${second.id}`, key: second.key })).statusCode).toBe(204);
    expect((await call({ method: 'DELETE', url: `/v1/keys/${adminId}` })).statusCode).toBe(409);
    expect((await call({ method: 'GET', url: '/v1/keys' })).statusCode).toBe(200);
  });

  it('refuses NUL, half surrogate pairs and over-deep JSON anywhere, with a pointer', async () => {
    const nulKey = await call({ method: 'POST', url: '/v1/cases/api-2/events', body: { type: 'buyer.shipped', id: 'n1', payload: { 'a\u0000': 1 } } });
    expect([nulKey.statusCode, nulKey.json().errors]).toEqual([
      400,
      [{ pointer: '/payload/a\u0000', message: 'has a property name with NUL characters or unpaired surrogates' }],
    ]);
    const surrogate = await call({
      method: 'POST',
      url: '/v1/webhooks/warehouse',
      body: '{"receiptId":"r-\\ud800","orderId":"TB-9","payload":{}}',
      type: 'application/json',
    });
    expect([surrogate.statusCode, surrogate.json().errors[0].pointer]).toEqual([400, '/receiptId']);
    const deep = await call({
      method: 'POST',
      url: '/v1/cases/api-2/events',
      body: `{"type":"buyer.shipped","id":"d1","payload":${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}}`,
      type: 'application/json',
    });
    expect([deep.statusCode, deep.json().type]).toEqual([400, 'https://casebook.dev/problems/invalid-request']);
    const inPath = await call({ method: 'GET', url: '/v1/orders/TB%00/ledger' });
    expect([inPath.statusCode, inPath.json().errors[0].pointer]).toEqual([400, '/orderId']);
    const longPath = await call({ method: 'GET', url: `/v1/orders/${'x'.repeat(500)}/ledger` });
    expect([longPath.statusCode, longPath.headers['content-type']]).toEqual([400, 'application/problem+json; charset=utf-8']);
  });

  it('readiness says only which dependency is down', async () => {
    const notReady = await otherApi({}, async () => false);
    try {
      const response = await notReady.inject({ method: 'GET', url: '/readyz' });
      expect(response.statusCode).toBe(503);
      const { requestId: _requestId, ...body } = response.json();
      expect(body).toEqual({
        type: 'https://casebook.dev/problems/not-ready',
        title: 'Service unavailable',
        status: 503,
        detail: 'database up, temporal down',
        database: true,
        temporal: false,
        instance: '/readyz',
      });
    } finally {
      await notReady.close();
    }
  });

  it('documents every route: problem+json errors and a schema for each success body', async () => {
    const spec = (await call({ method: 'GET', url: '/docs/json', key: null })).json();
    for (const [path, operations] of Object.entries<Record<string, { responses: Record<string, { content?: Record<string, unknown> }>; security?: unknown[] }>>(
      spec.paths,
    )) {
      for (const [method, operation] of Object.entries(operations)) {
        const statuses = Object.keys(operation.responses);
        expect(
          statuses.filter((s) => s.startsWith('2')),
          `${method} ${path}`,
        ).not.toEqual([]);
        expect(statuses, `${method} ${path}`).toEqual(expect.arrayContaining(['429', '500']));
        for (const status of statuses.filter((s) => Number(s) >= 400)) {
          expect(Object.keys(operation.responses[status]!.content ?? {}), `${method} ${path} ${status}`).toEqual(['application/problem+json']);
        }
        if (path === '/healthz' || path === '/readyz') expect(operation.security).toEqual([]);
        else expect(statuses).toEqual(expect.arrayContaining(['401', '403']));
      }
    }
  });
});

describe('response schemas', () => {
  // Every success body read in the tests above, checked against the schema its route declares in /docs/json.
  const reads: [string, string, string][] = [
    ['/healthz', '/healthz', '200'],
    ['/readyz', '/readyz', '200'],
    ['/v1/playbooks', '/v1/playbooks', '200'],
    ['/v1/playbooks/{name}', '/v1/playbooks/return', '200'],
    ['/v1/playbooks/{name}/versions/{version}', '/v1/playbooks/return/versions/1', '200'],
    ['/v1/cases', '/v1/cases?limit=2', '200'],
    ['/v1/cases/{caseId}', '/v1/cases/api-1', '200'],
    ['/v1/cases/{caseId}', '/v1/cases/api-2', '200'],
    ['/v1/cases/{caseId}/history', '/v1/cases/api-1/history', '200'],
    ['/v1/orders/{orderId}/ledger', '/v1/orders/TB-9/ledger', '200'],
    ['/v1/inbox', '/v1/inbox', '200'],
    ['/v1/keys', '/v1/keys', '200'],
    ['/v1/me', '/v1/me', '200'],
    ['/v1/cases/{caseId}/activity', '/v1/cases/api-1/activity', '200'],
  ];

  it.each(reads)('GET %s (%s) matches its declared schema', async (path, url, status) => {
    const spec = (await call({ method: 'GET', url: '/docs/json', key: null })).json();
    const schema = spec.paths[path].get.responses[status].content['application/json'].schema;
    const response = await call({ method: 'GET', url });
    expect(String(response.statusCode)).toBe(status);
    const validate = new Ajv({ strict: false, allErrors: true }).compile(schema);
    validate(response.json());
    expect(validate.errors ?? []).toEqual([]);
  });
});
