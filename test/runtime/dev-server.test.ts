/**
 * On the real Temporal dev server (the CLI's, persisting to SQLite): long cases continue as new
 * without losing state, and 50 waiting cases survive a restart of the server.
 */
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { spawn } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventInbox } from '../../src/cases/inbox.js';
import type { CaseService } from '../../src/cases/service.js';
import { startTemporalDevServer, type DevServerHandle, type DevServerOptions } from '../../src/stack/temporal-dev-server.js';
import { freePort } from '../../src/stack/free-port.js';
import { composeServices } from '../../src/stack/compose.js';
import { caseViewQuery } from '../../src/case-contract/messages.js';
import { workflowIdFor, type CaseResult } from '../../src/plan/case.js';
import { devServerOptions } from '../support/dev-server.js';
import { composeTestWorker } from '../support/runtime.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { recordHistory, recordPlansFrom } from '../support/histories.js';
import { compileSmallPlaybook, countTicksTo, openSmallCase, RECEIPT_THEN_REFUND } from '../support/small-playbooks.js';

const dataDir = mkdtempSync(join(tmpdir(), 'casebook-devserver-'));
let options: DevServerOptions;
let server: DevServerHandle;
let db: TestDatabase;

beforeAll(async () => {
  options = await devServerOptions(dataDir, { dynamicConfig: { 'limit.historyCount.suggestContinueAsNew': 120 } });
  [server, db] = await Promise.all([startTemporalDevServer(options), createTestDatabase()]);
  recordPlansFrom(db.pool);
}, 90_000);
afterAll(async () => {
  await server?.stop();
  await db?.drop();
  rmSync(dataDir, { recursive: true, force: true });
});

async function withStack<T>(taskQueue: string, fn: (service: CaseService, client: Client, inbox: EventInbox) => Promise<T>): Promise<T> {
  const workerConnection = await NativeConnection.connect({ address: server.address });
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection });
  const worker = await composeTestWorker({ connection: workerConnection, pool: db.pool, taskQueue });
  try {
    const { cases, inbox } = composeServices({ client, pool: db.pool, taskQueue });
    return await worker.runUntil(() => fn(cases, client, inbox));
  } finally {
    await connection.close();
    await workerConnection.close();
  }
}

describe('on the Temporal dev server', () => {
  it('a long case continues as new when Temporal suggests it, keeping its data and events', async () => {
    const compiled = compileSmallPlaybook('ticker', countTicksTo(60));
    const { result, runs } = await withStack('dev-ticker', async (service, client, inbox) => {
      await openSmallCase(service, db.pool, compiled, 'ticker-1', { count: 0 });
      for (let i = 0; i < 30; i++) {
        await expect.poll(async () => (await service.describe('ticker-1'))?.waitingFor, { timeout: 10_000 }).toEqual(['tick']);
        expect(await inbox.deliverEvent('ticker-1', { type: 'tick', id: `tick-${i}`, payload: { n: 2 } })).toEqual({ status: 'accepted' });
      }
      const handle = client.workflow.getHandle(workflowIdFor('ticker-1'));
      const outcome = { ...((await handle.result()) as CaseResult), steps: (await handle.query(caseViewQuery)).steps };
      const executions = [];
      for await (const execution of client.workflow.list({ query: `WorkflowId = '${workflowIdFor('ticker-1')}'` })) executions.push(execution);
      // Golden histories of the continue-as-new shape: the first run (ending in the patch marker and the
      // continue-as-new with the state only) and the second (resumed from it).
      const [first, second] = executions.sort((a, b) => a.startTime.getTime() - b.startTime.getTime());
      await recordHistory(client.workflow.getHandle(workflowIdFor('ticker-1'), first!.runId), 'ticker-continued-as-new');
      await recordHistory(client.workflow.getHandle(workflowIdFor('ticker-1'), second!.runId), 'ticker-resumed');
      return { result: outcome, runs: executions.length };
    });
    expect(result).toMatchObject({ outcome: 'resolved', reason: 'counted' });
    expect(runs).toBeGreaterThan(1);
    // The workflow holds the last run's records; the audit trail has every run's, numbered on across them.
    expect(result.steps.filter((s) => s.step === 'count').length).toBeLessThan(30);
    const audited = (await db.pool.query(`SELECT seq, step_id FROM audit_trail WHERE case_id = 'ticker-1' AND seq IS NOT NULL ORDER BY seq`)).rows;
    expect(audited.filter((row) => row.step_id === 'count')).toHaveLength(30);
    expect(audited.map((row) => row.seq)).toEqual(audited.map((_, i) => i + 1));
    expect((await db.pool.query(`SELECT data->>'count' AS count, status FROM cases WHERE case_id = 'ticker-1'`)).rows).toEqual([
      { count: '60', status: 'closed' },
    ]);
  }, 120_000);

  it('50 waiting cases all complete after the dev server restarts on its data file', async () => {
    const compiled = compileSmallPlaybook('receipts', RECEIPT_THEN_REFUND);
    const ids = Array.from({ length: 50 }, (_, i) => `restart-${i}`);
    await withStack('dev-restart', async (service) => {
      for (const id of ids) await openSmallCase(service, db.pool, compiled, id);
      await expect
        .poll(async () => (await db.pool.query(`SELECT count(*)::int AS n FROM cases WHERE playbook = 'receipts' AND status = 'waiting'`)).rows[0].n, {
          timeout: 30_000,
        })
        .toBe(50);
    });
    const started = performance.now();
    await server.stop();
    server = await startTemporalDevServer(options);
    console.log(`dev server restarted in ${Math.round(performance.now() - started)} ms`);
    await withStack('dev-restart', async (_service, client, inbox) => {
      const answers = await Promise.all(ids.map((id) => inbox.deliverEvent(id, { type: 'warehouse.received', id: `receipt-${id}`, payload: {} })));
      expect(answers.every((a) => a.status === 'accepted')).toBe(true);
      const results = await Promise.all(ids.map((id) => client.workflow.getHandle(workflowIdFor(id)).result() as Promise<CaseResult>));
      expect(results.every((r) => r.outcome === 'resolved')).toBe(true);
    });
    const refunds = (
      await db.pool.query(
        `SELECT count(*)::int AS n, count(DISTINCT case_id)::int AS cases, sum(amount)::int AS total FROM refunds WHERE case_id LIKE 'restart-%'`,
      )
    ).rows[0];
    expect(refunds).toEqual({ n: 50, cases: 50, total: 50_000 });
  }, 180_000);

  it('a worker killed (SIGKILL) during a refund: another worker finishes the case, the buyer is refunded once', async () => {
    const compiled = compileSmallPlaybook('crash', RECEIPT_THEN_REFUND);
    const taskQueue = 'dev-crash';
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', fileURLToPath(new URL('../support/crashing-worker.ts', import.meta.url)), server.address, taskQueue, db.url],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    // The worker compiles its workflow bundle before it says ready: slow on a busy machine.
    await expect.poll(() => output, { timeout: 90_000 }).toContain('ready');
    const connection = await Connection.connect({ address: server.address });
    const client = new Client({ connection });
    const { cases: service, inbox } = composeServices({ client, pool: db.pool, taskQueue });
    try {
      await openSmallCase(service, db.pool, compiled, 'crash-1');
      await expect.poll(async () => (await service.describe('crash-1'))?.waitingFor, { timeout: 10_000 }).toEqual(['warehouse.received']);
      await inbox.deliverEvent('crash-1', { type: 'warehouse.received', id: 'w', payload: {} });
      await expect.poll(() => output, { timeout: 10_000 }).toContain('refund recorded');
      const killed = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await killed;
      const started = performance.now();
      const result = await withStack(taskQueue, async () => (await client.workflow.getHandle(workflowIdFor('crash-1')).result()) as CaseResult);
      console.log(
        `worker SIGKILLed mid-refund: case completed by a new worker ${Math.round((performance.now() - started) / 1000)} s later (the activity's 30 s timeout)`,
      );
      expect(result).toMatchObject({ outcome: 'resolved', reason: 'refunded' });
    } finally {
      await connection.close();
      if (child.exitCode === null) child.kill('SIGKILL');
    }
    const refunds = (await db.pool.query(`SELECT amount, status, idempotency_key FROM refunds WHERE case_id = 'crash-1'`)).rows;
    expect(refunds).toEqual([{ amount: 1_000, status: 'issued', idempotency_key: 'crash-1/refund/1' }]);
  }, 180_000);
});

describe('a dev server that exits during start-up', () => {
  it('is started once more, then reported with its exit code and its own words', async () => {
    const held = createServer();
    await new Promise<void>((resolve) => held.listen({ host: '127.0.0.1', port: 0 }, resolve));
    const heldPort = (held.address() as AddressInfo).port;
    const said: string[] = [];
    const scratch = mkdtempSync(join(tmpdir(), 'casebook-devserver-taken-'));
    try {
      const start = startTemporalDevServer({
        ...options,
        dataDir: scratch,
        port: heldPort,
        uiPort: await freePort(),
        httpPort: await freePort(),
        metricsPort: await freePort(),
        onRestart: (message) => said.push(message),
      });
      await expect(start).rejects.toThrow(/exited during start-up \(code [1-9]\d*\): .*address already in use/s);
      expect(said).toEqual([expect.stringMatching(/exited during start-up .*; starting it once more$/s)]);
    } finally {
      held.close();
      rmSync(scratch, { recursive: true, force: true });
    }
  }, 60_000);
});
