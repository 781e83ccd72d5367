import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import type { EventInbox } from '../../src/cases/inbox.js';
import type { CaseService } from '../../src/cases/service.js';
import { composeServices } from '../../src/stack/compose.js';
import { workflowIdFor, type CaseResult } from '../../src/plan/case.js';
import type { PlaybookVersion } from '../../src/store/playbooks.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { composeTestWorker } from '../support/runtime.js';
import { openCase, publishStandardPlaybook, recordAdvance } from '../support/playbooks.js';
import { startTimeSkippingServer } from '../support/temporal.js';
import { caseRecords } from '../support/records.js';

const DAY = 86_400_000;
let db: TestDatabase;
let env: TestWorkflowEnvironment;
let service: CaseService;
let inbox: EventInbox;
let playbook: PlaybookVersion;
let worker: Worker;
let running: Promise<void>;

beforeAll(async () => {
  [db, env] = await Promise.all([createTestDatabase(), startTimeSkippingServer()]);
  playbook = await publishStandardPlaybook(db.pool, 'return');
  ({ cases: service, inbox } = composeServices({ client: env.client, pool: db.pool }));
  worker = await composeTestWorker({ connection: env.nativeConnection, pool: db.pool });
  running = worker.run();
});
afterAll(async () => {
  worker?.shutdown();
  await running;
  await env?.teardown();
  await db?.drop();
});

/** Case data for an order signed for two days ago, by the test server's clock (it skips ahead). */
async function returnData(overrides: Record<string, unknown> = {}) {
  const now = await env.currentTimeMs();
  return {
    order_id: 'TB-1001',
    buyer_name: 'Li Lei',
    order_total: { amount: 19_900, currency: 'CNY' },
    outbound_shipping: { amount: 1_000, currency: 'CNY' },
    shipped_free: false,
    signed_at: new Date(now - 2 * DAY).toISOString(),
    reason: 'no_reason',
    shipping_insurance: false,
    ...overrides,
  };
}

/** Runs `fn` while a worker of its own polls `taskQueue`; the worker is shut down afterwards. */
async function withWorker<T>(taskQueue: string, fn: () => Promise<T>): Promise<T> {
  // No sticky cache: the time-skipping test server never hands a stopped worker's sticky workflow
  // tasks back to the shared queue (the real server does, after a timeout), so an update would hang.
  const own = await composeTestWorker({ connection: env.nativeConnection, pool: db.pool, taskQueue, tuning: { maxCachedWorkflows: 0 } });
  return own.runUntil(fn);
}

const result = async (caseId: string): Promise<CaseResult> => ({
  ...((await env.client.workflow.getHandle(workflowIdFor(caseId)).result()) as CaseResult),
  steps: await caseRecords(db.pool, caseId),
});

async function rows(table: string, caseId: string) {
  return (await db.pool.query(`SELECT * FROM ${table} WHERE case_id = $1 ORDER BY id`, [caseId])).rows;
}

describe('return case on the time-skipping server', () => {
  it('(a) happy path: exchange offered, return address sent, exact refund issued once, case resolved', async () => {
    const outcome = await (async () => {
      await openCase(service, { caseId: 'ret-a', playbook: playbook.name, version: playbook.version, data: await returnData() });
      expect(await inbox.deliverEvent('ret-a', { type: 'buyer.shipped', id: 'ship-1', payload: { tracking_number: 'SF123' } })).toEqual({ status: 'accepted' });
      expect(await inbox.deliverEvent('ret-a', { type: 'warehouse.received', id: 'wh-1', payload: { condition: 'resellable' } })).toEqual({
        status: 'accepted',
      });
      return result('ret-a');
    })();
    expect(outcome).toMatchObject({ outcome: 'resolved', reason: 'refunded' });
    const refunds = await rows('refunds', 'ret-a');
    expect(refunds).toHaveLength(1);
    expect(refunds[0]).toMatchObject({ amount: 18_900, currency: 'CNY', status: 'issued', idempotency_key: 'ret-a/refund_no_reason/1' });
    const messages = await rows('outbox_messages', 'ret-a');
    expect(messages.map((m) => m.template)).toEqual(['offer_exchange', 'return_address', 'refund_sent']);
    expect(messages[1].body).toContain('TB-1001');
    const projection = (await db.pool.query(`SELECT status, outcome, return_tracking FROM cases WHERE case_id = 'ret-a'`)).rows[0];
    expect(projection).toEqual({ status: 'closed', outcome: 'resolved', return_tracking: 'SF123' });
  });

  it('(b) no warehouse receipt: escalates exactly at the playbook timeout, days in seconds', async () => {
    const started = performance.now();
    const outcome = await (async () => {
      await openCase(service, { caseId: 'ret-b', playbook: playbook.name, version: playbook.version, data: await returnData({ order_id: 'TB-1002' }) });
      await inbox.deliverEvent('ret-b', { type: 'buyer.shipped', id: 'ship-b', payload: { tracking_number: 'SF456' } });
      return result('ret-b');
    })();
    const wallMs = performance.now() - started;
    console.log(`test (b): 10 days of playbook time in ${Math.round(wallMs)} ms of wall clock`);
    expect(outcome).toMatchObject({ outcome: 'escalated', reason: 'parcel_not_received' });
    const timedOut = outcome.steps.find((s) => s.step === 'wait_receipt')!;
    expect(timedOut.detail).toMatchObject({ goto: 'escalate_missing_parcel' });
    const since = Date.parse(timedOut.detail!.since as string);
    const timeout = Date.parse(timedOut.detail!.timeout as string);
    expect(timeout - since).toBe(10 * DAY);
    expect(Date.parse(timedOut.at) - timeout).toBeGreaterThanOrEqual(0);
    expect(Date.parse(timedOut.at) - timeout).toBeLessThan(1_000);
    const escalations = await rows('escalations', 'ret-b');
    expect(escalations).toHaveLength(1);
    expect(escalations[0]).toMatchObject({ queue: 'after-sale-supervisor', severity: 'high', reason: 'parcel_not_received' });
    expect(await rows('refunds', 'ret-b')).toHaveLength(0);
  });

  it('(c) the same warehouse.received delivered twice: exactly one refund', async () => {
    const outcome = await (async () => {
      await openCase(service, {
        caseId: 'ret-c',
        playbook: playbook.name,
        version: playbook.version,
        data: await returnData({
          order_id: 'TB-1003',
          reason: 'quality',
          advanced_return_shipping: { amount: 1_200, currency: 'CNY' },
          refund_account: 'alipay li@example.com',
        }),
      });
      await recordAdvance(db.pool, 'TB-1003', 1_200);
      await inbox.deliverEvent('ret-c', { type: 'buyer.shipped', id: 'ship-c', payload: { tracking_number: 'SF789' } });
      const receipt = { type: 'warehouse.received', id: 'wh-c', payload: { condition: 'damaged' } };
      const first = await inbox.deliverEvent('ret-c', receipt);
      const second = await inbox.deliverEvent('ret-c', receipt);
      expect([first.status, second.status]).toEqual(['accepted', 'duplicate']);
      return result('ret-c');
    })();
    expect(outcome.outcome).toBe('resolved');
    const refunds = await rows('refunds', 'ret-c');
    expect(refunds.map((r) => [r.amount, r.covers, r.reason, r.status])).toEqual([
      [19_900, 'payment', 'quality_return', 'issued'],
      [1_200, 'return_shipping', 'advanced_return_shipping', 'issued'],
    ]);
    expect(await inbox.deliverEvent('ret-c', { type: 'warehouse.received', id: 'wh-c', payload: { condition: 'damaged' } })).toEqual({ status: 'duplicate' });
  });

  it('(d) a new worker picks up a waiting case after the first one shut down', async () => {
    const queue = 'casebook-restart';
    const restartService = composeServices({ client: env.client, pool: db.pool, taskQueue: queue }).cases;
    await withWorker(queue, async () => {
      await openCase(restartService, { caseId: 'ret-d', playbook: playbook.name, version: playbook.version, data: await returnData({ order_id: 'TB-1004' }) });
      await expect
        .poll(async () => (await restartService.describe('ret-d'))?.waitingFor, { timeout: 10_000 })
        .toEqual(['buyer.kept_return', 'buyer.chose_exchange']);
    });
    expect((await db.pool.query(`SELECT status FROM cases WHERE case_id = 'ret-d'`)).rows[0].status).toBe('waiting');
    const outcome = await withWorker(queue, async () => {
      await inbox.deliverEvent('ret-d', { type: 'warehouse.received', id: 'wh-d', payload: { condition: 'resellable' } });
      return result('ret-d');
    });
    expect(outcome).toMatchObject({ outcome: 'resolved', reason: 'refunded' });
    expect(await rows('refunds', 'ret-d')).toHaveLength(1);
  });
});
