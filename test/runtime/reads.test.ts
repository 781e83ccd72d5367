/** Reading a case never asks its workflow: the projection answers, kept current by the case itself. */
import { describe, expect, it } from 'vitest';
import { composeServices } from '../../src/stack/compose.js';
import { publishStandardPlaybook } from '../support/playbooks.js';
import { useRuntime } from '../support/runtime.js';

const runtime = useRuntime(async ({ db }) => {
  await publishStandardPlaybook(db.pool, 'review-recovery');
  await publishStandardPlaybook(db.pool, 'return');
});

const DAY = 86_400_000;

describe('reading a case', () => {
  it('answers from the projection when no worker polls its task queue', async () => {
    const unattended = composeServices({ client: runtime.env.client, pool: runtime.db.pool, taskQueue: 'nobody-polls-this-queue' }).cases;
    const opened = await unattended.open({
      playbook: 'review-recovery',
      caseId: 'unattended-1',
      data: { order_id: 'RV-1', buyer_name: 'Zhou', rating: 'negative', review_text: 'slow delivery', suspected_extortion: false },
    });
    expect(opened).toMatchObject({ kind: 'opened' });
    // Without the deadline the query waits for a worker until gRPC gives up, and the read fails.
    expect(await unattended.describe('unattended-1')).toMatchObject({ caseId: 'unattended-1', playbook: 'review-recovery', status: 'open', step: 'triage' });
  });

  it('shows the wait an accepted event led to as soon as the event is answered', async () => {
    await runtime.service.open({
      playbook: 'return',
      caseId: 'fresh-1',
      data: {
        order_id: 'RF-1',
        buyer_name: 'Li',
        order_total: { amount: 30_000, currency: 'CNY' },
        outbound_shipping: { amount: 1_000, currency: 'CNY' },
        shipped_free: true,
        signed_at: new Date((await runtime.env.currentTimeMs()) - DAY).toISOString(),
        reason: 'quality',
        shipping_insurance: false,
      },
    });
    await expect.poll(async () => (await runtime.service.describe('fresh-1'))?.step, { timeout: 10_000 }).toBe('wait_exchange_answer');
    expect(await runtime.inbox.deliverEvent('fresh-1', { type: 'buyer.kept_return', id: 'k1', payload: {} })).toEqual({ status: 'accepted' });
    expect(await runtime.service.describe('fresh-1')).toMatchObject({
      status: 'waiting',
      step: 'wait_shipment',
      waitingFor: ['buyer.shipped', 'warehouse.received'],
    });
    expect(await runtime.inbox.deliverEvent('fresh-1', { type: 'buyer.shipped', id: 's1', payload: { tracking_number: 'SF-1' } })).toEqual({
      status: 'accepted',
    });
    // Read once, right after the answer: no polling.
    expect(await runtime.service.describe('fresh-1')).toMatchObject({
      status: 'waiting',
      step: 'wait_receipt',
      waitingFor: ['warehouse.received'],
      data: expect.objectContaining({ return_tracking: 'SF-1' }),
    });
  });
});
