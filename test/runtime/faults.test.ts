/**
 * Faults on real parts: Postgres goes away while a case works (activities retry with backoff and the
 * case completes when it returns), and an external system that keeps failing (the playbook's on_error).
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureDatabase } from '../../src/store/databases.js';
import { migrate } from '../../src/store/migrate.js';
import { applicationUrl } from '../../src/store/postgres-roles.js';
import { createPool, type Pool } from '../../src/store/pool.js';
import { startPostgresProcess, type PostgresProcess } from '../../src/store/postgres-process.js';
import { freePort } from '../../src/stack/free-port.js';
import type { Adapters } from '../../src/connectors/ports.js';
import { composeServices } from '../../src/stack/compose.js';
import { workflowIdFor, type CaseResult } from '../../src/plan/case.js';
import { compileSmallPlaybook, openSmallCase, RECEIPT_THEN_REFUND } from '../support/small-playbooks.js';
import { composeTestWorker } from '../support/runtime.js';
import { startTimeSkippingServer } from '../support/temporal.js';
import { caseRecords } from '../support/records.js';

let env: TestWorkflowEnvironment;
let postgres: PostgresProcess;
let pool: Pool;
let port: number;
const dataDir = mkdtempSync(join(tmpdir(), 'casebook-faults-'));

beforeAll(async () => {
  port = await freePort();
  [env, postgres] = await Promise.all([startTimeSkippingServer(), startPostgresProcess(join(dataDir, 'pg'), port, { persistent: true })]);
  const url = await ensureDatabase(postgres.adminUrl, 'casebook');
  await migrate(url);
  pool = createPool(applicationUrl(url));
});
afterAll(async () => {
  await pool?.end();
  await env?.teardown();
  await postgres?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('faults', () => {
  it('Postgres unavailable for a while: activities retry and the case completes, refunding once', async () => {
    const compiled = compileSmallPlaybook('outage', RECEIPT_THEN_REFUND);
    const service = composeServices({ client: env.client, pool, taskQueue: 'faults-outage' }).cases;
    const worker = await composeTestWorker({ connection: env.nativeConnection, pool, taskQueue: 'faults-outage' });
    await worker.runUntil(async () => {
      await openSmallCase(service, pool, compiled, 'outage-1', { paid: { amount: 5_000, currency: 'CNY' } });
      await expect.poll(async () => (await service.describe('outage-1'))?.waitingFor, { timeout: 10_000 }).toEqual(['warehouse.received']);
      const handle = env.client.workflow.getHandle(workflowIdFor('outage-1'));
      await postgres.stop();
      const down = performance.now();
      // The receipt arrives while Postgres is down: the workflow takes it, its activities fail and retry.
      expect(await handle.executeUpdate('deliverEvent', { args: [{ type: 'warehouse.received', id: 'w', payload: {} }] })).toEqual({ status: 'accepted' });
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      postgres = await startPostgresProcess(join(dataDir, 'pg'), port, { persistent: true });
      const result = (await handle.result()) as CaseResult;
      console.log(`Postgres outage: down ${Math.round((performance.now() - down) / 1000)} s before the case completed`);
      expect(result).toMatchObject({ outcome: 'resolved', reason: 'refunded' });
      const events = (await handle.fetchHistory()).events!;
      const retried = events.filter((e) => (e.activityTaskStartedEventAttributes?.attempt ?? 1) > 1 || localActivityAttempt(e) > 1);
      expect(retried.length).toBeGreaterThan(0);
    });
    const refunds = (await pool.query(`SELECT amount, status FROM refunds WHERE case_id = 'outage-1'`)).rows;
    expect(refunds).toEqual([{ amount: 5_000, status: 'issued' }]);
    expect((await pool.query(`SELECT status, outcome FROM cases WHERE case_id = 'outage-1'`)).rows).toEqual([{ status: 'closed', outcome: 'resolved' }]);
  }, 90_000);

  it('Postgres killed (SIGKILL) under 20 cases in flight: it is started again, every case completes, one refund each', async () => {
    const compiled = compileSmallPlaybook('killed', RECEIPT_THEN_REFUND);
    const service = composeServices({ client: env.client, pool, taskQueue: 'faults-killed' }).cases;
    const worker = await composeTestWorker({ connection: env.nativeConnection, pool, taskQueue: 'faults-killed' });
    const ids = Array.from({ length: 20 }, (_, i) => `killed-${i + 1}`);
    await worker.runUntil(async () => {
      for (const id of ids) await openSmallCase(service, pool, compiled, id, { paid: { amount: 4_000, currency: 'CNY' } });
      for (const id of ids) await expect.poll(async () => (await service.describe(id))?.waitingFor, { timeout: 10_000 }).toEqual(['warehouse.received']);
      const handles = ids.map((id) => env.client.workflow.getHandle(workflowIdFor(id)));
      const receipts = handles.map((handle) => handle.executeUpdate('deliverEvent', { args: [{ type: 'warehouse.received', id: 'w', payload: {} }] }));
      // Killed the hard way while the refunds are under way; the embedded server is started again.
      const postmaster = Number(readFileSync(join(dataDir, 'pg', 'postmaster.pid'), 'utf8').split('\n')[0]);
      process.kill(postmaster, 'SIGKILL');
      const killed = performance.now();
      expect(await Promise.all(receipts)).toEqual(ids.map(() => ({ status: 'accepted' })));
      await expect
        .poll(
          () =>
            pool.query('SELECT 1').then(
              () => true,
              () => false,
            ),
          { timeout: 30_000, interval: 200 },
        )
        .toBe(true);
      // Waited for in real time (no time skipping): the activities retry with their backoff.
      const closed = async () =>
        (await pool.query(`SELECT count(*)::int AS n FROM cases WHERE case_id LIKE 'killed-%' AND status = 'closed' AND outcome = 'resolved'`)).rows[0].n;
      await expect.poll(closed, { timeout: 60_000, interval: 500 }).toBe(20);
      console.log(`Postgres killed under 20 cases: all complete ${Math.round((performance.now() - killed) / 1000)} s later`);
    });
    const refunds = (await pool.query(`SELECT case_id, amount, status FROM refunds WHERE case_id LIKE 'killed-%' ORDER BY case_id`)).rows;
    expect(refunds).toHaveLength(20);
    expect(new Set(refunds.map((r) => r.case_id)).size).toBe(20);
    expect(refunds.every((r) => r.amount === 4_000 && r.status === 'issued')).toBe(true);
    expect((await pool.query(`SELECT count(*)::int AS n FROM provider_refunds WHERE idempotency_key LIKE 'killed-%'`)).rows).toEqual([{ n: 20 }]);
    expect((await pool.query(`SELECT DISTINCT status FROM cases WHERE case_id LIKE 'killed-%'`)).rows).toEqual([{ status: 'closed' }]);
  }, 120_000);

  it('an integration that keeps failing takes the playbook on_error path after its retries', async () => {
    const compiled = compileSmallPlaybook(
      'flaky',
      `integrations:
  warehouse: { operations: [ship_replacement] }
steps:
  - id: ship
    call: { integration: warehouse, operation: ship_replacement, input: { order_id: data.order_id }, on_error: escalate }
  - id: done
    end: { outcome: resolved, reason: shipped }
  - id: escalate
    escalate: { queue: warehouse-lead, severity: high, reason: replacement_not_shipped }
  - id: end_escalated
    end: { outcome: escalated, reason: replacement_not_shipped }
`,
    );
    let attempts = 0;
    const wrap = (local: Adapters): Adapters => ({
      ...local,
      integrations: {
        call: async () => {
          attempts += 1;
          throw new Error('warehouse system unavailable');
        },
      },
    });
    const service = composeServices({ client: env.client, pool, taskQueue: 'faults-flaky' }).cases;
    const worker = await composeTestWorker({ connection: env.nativeConnection, pool, taskQueue: 'faults-flaky', wrap });
    const result = await worker.runUntil(async () => {
      await openSmallCase(service, pool, compiled, 'flaky-1');
      return (await env.client.workflow.getHandle(workflowIdFor('flaky-1')).result()) as CaseResult;
    });
    expect(attempts).toBe(5);
    expect(result).toMatchObject({ outcome: 'escalated', reason: 'replacement_not_shipped' });
    expect((await caseRecords(pool, 'flaky-1')).find((s) => s.step === 'ship')!.detail).toMatchObject({ failed: 'warehouse system unavailable' });
    expect((await pool.query(`SELECT reason FROM escalations WHERE case_id = 'flaky-1'`)).rows).toEqual([{ reason: 'replacement_not_shipped' }]);
  }, 90_000);
});

/** The attempt a local activity's marker records (progress reports are local activities), else 0. */
function localActivityAttempt(event: {
  markerRecordedEventAttributes?: { markerName?: string | null; details?: Record<string, { payloads?: { data?: Uint8Array | null }[] | null }> | null } | null;
}): number {
  const marker = event.markerRecordedEventAttributes;
  const data = marker?.markerName === 'core_local_activity' ? marker.details?.data?.payloads?.[0]?.data : undefined;
  return data ? (JSON.parse(Buffer.from(data).toString()) as { attempt: number }).attempt : 0;
}
