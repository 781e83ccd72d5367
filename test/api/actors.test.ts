/**
 * Who did what (issue 12): one key publishes the playbook, another opens the case, a third delivers its
 * event, a fourth a warehouse receipt; the audit trail and the case's history name each of them, and
 * what Casebook did on its own says `casebook`.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { CASEBOOK_ACTOR, type Actor } from '../../src/plan/case.js';
import { verifyAuditTrail } from '../../src/store/audit-chain.js';
import { keyIdOf, useApi } from '../support/api.js';
import { useRuntime } from '../support/runtime.js';

const RETURN_YAML = readFileSync(fileURLToPath(new URL('../../playbooks/return.yaml', import.meta.url)), 'utf8');
const DAY = 86_400_000;

const runtime = useRuntime();
const http = useApi(runtime, {
  publisher: ['ops-lead', 'Mei, ops lead'],
  opener: ['agent', 'Lei, after-sale'],
  deliverer: ['warehouse', 'Depot Hangzhou'],
  hook: ['warehouse', 'Depot webhook'],
  auditor: ['auditor', 'Audit'],
});
const ids = {} as Record<'publisher' | 'opener' | 'deliverer' | 'hook', string>;

const actor = (who: keyof typeof ids, name: string): Actor => ({ keyId: ids[who], name });

async function caseData(orderId: string) {
  const now = await runtime.env.currentTimeMs();
  return {
    order_id: orderId,
    buyer_name: 'Wang',
    order_total: { amount: 10_000, currency: 'CNY' },
    outbound_shipping: { amount: 800, currency: 'CNY' },
    shipped_free: false,
    signed_at: new Date(now - DAY).toISOString(),
    reason: 'no_reason',
    shipping_insurance: false,
  };
}

beforeAll(async () => {
  for (const who of ['publisher', 'opener', 'deliverer', 'hook'] as const) ids[who] = keyIdOf(http.keys[who]);
});

describe('actors', () => {
  it('names who published, who opened and who delivered; Casebook’s own steps say casebook', async () => {
    const published = await http.call('PUT', '/v1/playbooks/return', http.keys.publisher, RETURN_YAML);
    expect(published.statusCode).toBe(201);
    const { rows: publishedRows } = await runtime.db.pool.query(
      `SELECT case_id, seq, actor_key_id, actor_name, detail FROM audit_events WHERE kind = 'published'`,
    );
    expect(publishedRows).toEqual([
      {
        case_id: null,
        seq: null,
        actor_key_id: ids.publisher,
        actor_name: 'Mei, ops lead',
        detail: { name: 'return', version: 1, hash: published.json().hash },
      },
    ]);
    // Published again: the same version, no second row.
    expect((await http.call('PUT', '/v1/playbooks/return', http.keys.publisher, RETURN_YAML)).statusCode).toBe(200);
    expect((await runtime.db.pool.query(`SELECT count(*)::int AS n FROM audit_events WHERE kind = 'published'`)).rows).toEqual([{ n: 1 }]);

    const data = await caseData('TB-ACT-1');
    expect((await http.call('POST', '/v1/cases', http.keys.opener, { playbook: 'return', caseId: 'act-1', data })).statusCode).toBe(201);
    const { rows: openedRows } = await runtime.db.pool.query(
      `SELECT seq, actor_key_id, actor_name, detail FROM audit_events WHERE case_id = 'act-1' AND kind = 'opened'`,
    );
    expect(openedRows).toEqual([
      {
        seq: null,
        actor_key_id: ids.opener,
        actor_name: 'Lei, after-sale',
        detail: { data, playbook: { name: 'return', version: 1, hash: published.json().hash } },
      },
    ]);

    const event = { type: 'warehouse.received', id: 'wh-act-1', payload: { condition: 'resellable' } };
    expect((await http.call('POST', '/v1/cases/act-1/events', http.keys.deliverer, event)).statusCode).toBe(202);
    await runtime.env.client.workflow.getHandle('case-act-1').result();

    const history = (await http.call('GET', '/v1/cases/act-1/history', http.keys.auditor)).json();
    expect(history.opened).toEqual({ at: expect.any(String), by: actor('opener', 'Lei, after-sale') });
    expect(history.events).toEqual([expect.objectContaining({ id: 'wh-act-1', by: actor('deliverer', 'Depot Hangzhou') })]);
    expect(history.steps.length).toBeGreaterThan(3);
    for (const step of history.steps as { step: string; detail: { by?: Actor | null }; by: Actor }[]) {
      // A record that took an event names who delivered it (when the workflow records it); every other says casebook.
      const expected = step.detail.by ? actor('deliverer', 'Depot Hangzhou') : CASEBOOK_ACTOR;
      expect(step.by, step.step).toEqual(expected);
      if (step.detail.by) expect(step.detail.by).toEqual(actor('deliverer', 'Depot Hangzhou'));
    }
    expect(history.steps.filter((s: { by: Actor }) => s.by.name === 'casebook').map((s: { step: string }) => s.step)).toEqual(
      expect.arrayContaining(['check_window', 'approve', 'compute_refund', 'refund_no_reason', 'end_refunded']),
    );
    expect(await verifyAuditTrail(runtime.db.pool)).toMatchObject({ intact: true, problems: [] });
  });

  it('attributes a warehouse webhook’s receipt to the key that called', async () => {
    expect((await http.call('POST', '/v1/cases', http.keys.opener, { playbook: 'return', caseId: 'act-2', data: await caseData('TB-ACT-2') })).statusCode).toBe(
      201,
    );
    await expect
      .poll(async () => (await http.call('GET', '/v1/cases/act-2', http.keys.auditor)).json().waitingFor, { timeout: 10_000 })
      .toEqual(['buyer.kept_return', 'buyer.chose_exchange']);
    const routed = await http.call('POST', '/v1/webhooks/warehouse', http.keys.hook, {
      receiptId: 'rcpt-act-2',
      orderId: 'TB-ACT-2',
      payload: { condition: 'resellable' },
    });
    expect(routed.json()).toEqual({ status: 'accepted', caseId: 'act-2' });
    await runtime.env.client.workflow.getHandle('case-act-2').result();
    const history = (await http.call('GET', '/v1/cases/act-2/history', http.keys.auditor)).json();
    expect(history.events).toEqual([expect.objectContaining({ id: 'rcpt-act-2', by: actor('hook', 'Depot webhook') })]);
    const { rows } = await runtime.db.pool.query(`SELECT actor_key_id, actor_name FROM case_events WHERE case_id = 'act-2'`);
    expect(rows).toEqual([{ actor_key_id: ids.hook, actor_name: 'Depot webhook' }]);
    expect(await verifyAuditTrail(runtime.db.pool, { caseId: 'act-2' })).toMatchObject({ intact: true, rows: expect.any(Number) });
  });
});
