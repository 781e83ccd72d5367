/**
 * Backtests from the API: POST /v1/backtests starts one in the API's process (on a scratch stack the
 * composition root builds) and answers 202 at once; GET reads its progress, then its report, and lists
 * the recent ones. Bad input gets a problem with a JSON pointer.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { HistoryArchiver } from '../../src/cases/archive.js';
import { workflowIdFor } from '../../src/plan/case.js';
import { untilDeliveryInstant } from '../../src/scenarios/timer-guard.js';
import { openCase, playbookPath, publishStandardPlaybook } from '../support/playbooks.js';
import { useApi } from '../support/api.js';
import { useRuntime } from '../support/runtime.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

const live = useRuntime(async ({ db }) => {
  await publishStandardPlaybook(db.pool, 'return');
});
const http = useApi(live, { lead: ['ops-lead', 'Zhao, ops lead'], agent: ['agent', 'Lei, after-sale'] });

const post = (key: string, payload: unknown, headers: Record<string, string> = {}) =>
  http.api.inject({ method: 'POST', url: '/v1/backtests', headers: { authorization: `Bearer ${key}`, ...headers }, payload: payload as object });

/** Reads the backtest until it is no longer running. */
async function untilFinished(id: string) {
  let kept = (await get(http.keys.lead, `/v1/backtests/${id}`)).json();
  const deadline = Date.now() + 120_000;
  while (kept.status === 'running' && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    kept = (await get(http.keys.lead, `/v1/backtests/${id}`)).json();
  }
  return kept;
}
const get = (key: string, url: string) => http.api.inject({ method: 'GET', url, headers: { authorization: `Bearer ${key}` } });

/** One return case run to its end (refunded) and archived. */
async function closedReturnCase(caseId: string): Promise<void> {
  const openedAt = await live.env.currentTimeMs();
  await openCase(live.service, {
    caseId,
    playbook: 'return',
    openedBy: 'Lei, after-sale',
    data: {
      order_id: `TB-${caseId}`,
      buyer_name: 'Li',
      order_total: { amount: 19900, currency: 'CNY' },
      outbound_shipping: { amount: 1000, currency: 'CNY' },
      shipped_free: false,
      signed_at: new Date(openedAt - DAY).toISOString(),
      reason: 'changed_mind',
      shipping_insurance: false,
    },
  });
  const handle = live.env.client.workflow.getHandle(workflowIdFor(caseId));
  await untilDeliveryInstant(live.env, handle, openedAt + HOUR / 2);
  await live.inbox.deliverEvent(caseId, { type: 'buyer.kept_return', id: `kept-${caseId}`, payload: {} });
  await untilDeliveryInstant(live.env, handle, openedAt + DAY);
  await live.inbox.deliverEvent(caseId, { type: 'warehouse.received', id: `received-${caseId}`, payload: { condition: 'resellable' } });
  expect(await handle.result()).toMatchObject({ outcome: 'resolved', reason: 'refunded' });
  expect(await new HistoryArchiver(live.env.client, live.db.pool).archiveCase(caseId)).toBe(1);
}

describe('POST /v1/backtests', () => {
  it('is for ops leads and admins', async () => {
    expect((await post(http.keys.agent, { name: 'return', version: 1 })).statusCode).toBe(403);
    expect((await get(http.keys.agent, '/v1/backtests')).statusCode).toBe(403);
  });

  it('answers bad input with a problem pointing at the field, never starting a backtest', async () => {
    const cases: [unknown, number, string, string][] = [
      [{ playbook: 'playbook: return', name: 'return', version: 1 }, 400, 'invalid-request', '/name'],
      [{}, 400, 'invalid-request', '/playbook'],
      [{ name: 'return' }, 400, 'invalid-request', '/version'],
      [{ name: 'return', version: 1, since: '2026-02-30' }, 400, 'invalid-request', '/since'],
      [{ name: 'return', version: 1, since: '2026-12-06', until: '2026-12-01' }, 400, 'invalid-request', '/until'],
      [{ name: 'return', version: 1, limit: 0 }, 400, 'invalid-request', '/limit'],
      [{ name: 'return', version: 9 }, 404, 'unknown-playbook-version', '/version'],
      [{ playbook: 'playbook: [' }, 422, 'invalid-playbook', '/playbook'],
      [{ name: 'return', version: 1, cases: { status: 'open' } }, 400, 'invalid-request', '/cases/status'],
      [{ name: 'return', version: 1, cases: { breached: 'maybe' } }, 400, 'invalid-request', '/cases/breached'],
      [{ name: 'return', version: 1, cases: { openedFrom: '2026-02-30' } }, 400, 'invalid-request', '/cases/openedFrom'],
      [{ name: 'return', version: 1, cases: { version: 0 } }, 400, 'invalid-request', '/cases/version'],
    ];
    for (const [body, status, type, pointer] of cases) {
      const res = await post(http.keys.lead, body);
      expect(res.statusCode, JSON.stringify(body)).toBe(status);
      expect(res.json().type).toBe(`https://casebook.dev/problems/${type}`);
      expect(res.json().errors.map((e: { pointer: string }) => e.pointer)).toContain(pointer);
    }
    expect((await get(http.keys.lead, '/v1/backtests')).json().backtests).toEqual([]);
  });

  it('runs in the background: 202 with its id, its report by GET, listed newest first', async () => {
    await closedReturnCase('api-bt-0');
    const started = await post(http.keys.lead, { name: 'return', version: 1, limit: 5 });
    expect(started.statusCode).toBe(202);
    const { id } = started.json();
    const kept = await untilFinished(id);
    expect(kept).toMatchObject({ status: 'done', done: 1, total: 1, playbook: 'return', startedBy: expect.stringContaining('Zhao, ops lead') });
    // What the console shows the report against: the current version (1) and the candidate, that same version.
    const current = (await get(http.keys.lead, '/v1/playbooks/return/versions/1')).json();
    expect(kept).toMatchObject({ baseline: { version: 1, hash: current.hash }, candidateHash: current.hash, candidateVersion: 1, planHash: current.hash });
    expect(kept.report.totals).toMatchObject({ cases: 1, rerun: 1, changed: 0, refundsBefore: 1, refundsAfter: 1, moneyDifference: 0 });
    // A candidate as YAML: the playbook file itself.
    const fromYaml = await post(http.keys.lead, { playbook: readFileSync(playbookPath('return'), 'utf8') });
    expect(fromYaml.statusCode).toBe(202);
    const listed = (await get(http.keys.lead, '/v1/backtests')).json().backtests;
    expect(listed.map((b: { id: string }) => b.id)).toEqual([fromYaml.json().id, id]);
    expect(listed[0]).not.toHaveProperty('report');
    expect(listed[0]).toMatchObject({ baseline: { version: 1, hash: current.hash }, candidateHash: current.hash, candidateVersion: 1 });
    await untilFinished(fromYaml.json().id);
  }, 180_000);

  it('takes the closed cases the case list filters select (cases)', async () => {
    await closedReturnCase('api-bt-1');
    const started = await post(http.keys.lead, { name: 'return', version: 1, cases: { orderId: 'TB-api-bt-1', openedFrom: '2020-01-01' } });
    expect(started.statusCode).toBe(202);
    const kept = await untilFinished(started.json().id);
    expect(kept).toMatchObject({ status: 'done', done: 1, total: 1 });
    expect(kept.report.cases.map((c: { caseId: string }) => c.caseId)).toEqual(['api-bt-1']);
    expect(kept.report.options.cases).toEqual({ orderId: 'TB-api-bt-1', openedFrom: '2020-01-01T00:00:00Z' });
  }, 180_000);

  it('with an Idempotency-Key, the same request again answers the same backtest, started once', async () => {
    const body = { name: 'return', version: 1, limit: 1 };
    const before = (await get(http.keys.lead, '/v1/backtests')).json().backtests.length;
    const first = await post(http.keys.lead, body, { 'idempotency-key': 'bt-double-11' });
    expect(first.statusCode).toBe(202);
    const again = await post(http.keys.lead, body, { 'idempotency-key': 'bt-double-11' });
    expect(again.statusCode).toBe(202);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.json()).toEqual(first.json());
    const other = await post(http.keys.lead, { ...body, limit: 2 }, { 'idempotency-key': 'bt-double-11' });
    expect(other.statusCode).toBe(422);
    expect(other.json().type).toBe('https://casebook.dev/problems/idempotency-key-reused');
    const malformed = await post(http.keys.lead, body, { 'idempotency-key': 'two words' });
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json().errors.map((e: { pointer: string }) => e.pointer)).toContain('/headers/idempotency-key');
    expect((await get(http.keys.lead, '/v1/backtests')).json().backtests.length).toBe(before + 1);
    await untilFinished(first.json().id);
  }, 180_000);
});
