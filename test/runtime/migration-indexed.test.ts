/**
 * Moving a case whose namespace has Casebook's search attributes (every `casebook start`), on the real
 * Temporal dev server: the update also upserts PlaybookVersion, so Temporal's visibility finds the case
 * under its new version, and the case goes on to its end; a looping case moved before it continues as new
 * runs on the new version in its next run.
 */
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { migrateCase } from '../../src/cases/migration.js';
import { workflowIdFor, type CaseResult } from '../../src/plan/case.js';
import { composeServices } from '../../src/stack/compose.js';
import { ensureSearchAttributes } from '../../src/stack/search-attributes.js';
import { startTemporalDevServer, type DevServerHandle } from '../../src/stack/temporal-dev-server.js';
import { publishPlaybook } from '../../src/store/playbooks.js';
import { devServerOptions } from '../support/dev-server.js';
import { composeTestWorker } from '../support/runtime.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { caseViewQuery } from '../../src/case-contract/messages.js';
import { compileSmallPlaybook, countTicksTo, openSmallCase } from '../support/small-playbooks.js';

const dataDir = mkdtempSync(join(tmpdir(), 'casebook-migration-'));
let server: DevServerHandle;
let db: TestDatabase;

beforeAll(async () => {
  const options = await devServerOptions(dataDir, { dynamicConfig: { 'limit.historyCount.suggestContinueAsNew': 120 } });
  [server, db] = await Promise.all([startTemporalDevServer(options), createTestDatabase()]);
}, 90_000);
afterAll(async () => {
  await server?.stop();
  await db?.drop();
  rmSync(dataDir, { recursive: true, force: true });
});

const receipt = (timeout: string) =>
  compileSmallPlaybook(
    'indexed-receipt',
    `events:\n  warehouse.received: { payload: {} }\nsteps:\n  - id: wait_receipt\n    wait: { events: [{ event: warehouse.received }], timeout: ${timeout}, on_timeout: late }\n  - id: done\n    end: { outcome: resolved, reason: received }\n  - id: late\n    end: { outcome: escalated, reason: late }\n`,
  );

it('a moved indexed case is found under its new PlaybookVersion and completes', async () => {
  const connection = await Connection.connect({ address: server.address });
  const workerConnection = await NativeConnection.connect({ address: server.address });
  try {
    await ensureSearchAttributes(connection, 'default');
    const client = new Client({ connection });
    const worker = await composeTestWorker({ connection: workerConnection, pool: db.pool, taskQueue: 'migration-indexed' });
    await worker.runUntil(async () => {
      const { cases, inbox } = composeServices({ client, pool: db.pool, taskQueue: 'migration-indexed', indexed: true });
      await openSmallCase(cases, db.pool, receipt('7d'), 'indexed-1');
      await expect.poll(async () => (await cases.describe('indexed-1'))?.status, { timeout: 30_000 }).toBe('waiting');
      const v2 = (await publishPlaybook(db.pool, '', receipt('9d'), 'test')).version;
      const moved = await migrateCase(db.pool, cases, 'indexed-1', { toVersion: v2.version, mapping: {}, by: { keyId: null, name: 'Mei' }, reason: 'longer' });
      expect(moved).toMatchObject({ kind: 'migrated' });
      const found = async () => {
        const ids: string[] = [];
        for await (const w of client.workflow.list({ query: `PlaybookVersion = ${v2.version} AND CaseType = 'return'` })) ids.push(w.workflowId);
        return ids;
      };
      await expect.poll(found, { timeout: 15_000 }).toEqual([workflowIdFor('indexed-1')]);
      await inbox.deliverEvent('indexed-1', { type: 'warehouse.received', id: 'indexed-1-received', payload: {} });
      const result = (await client.workflow.getHandle(workflowIdFor('indexed-1')).result()) as CaseResult;
      expect(result).toMatchObject({ outcome: 'resolved', reason: 'received' });
    });
  } finally {
    await connection.close();
    await workerConnection.close();
  }
}, 120_000);

it('a looping case moved before it continues as new runs on the new version in its next run', async () => {
  const connection = await Connection.connect({ address: server.address });
  const workerConnection = await NativeConnection.connect({ address: server.address });
  try {
    const client = new Client({ connection });
    const worker = await composeTestWorker({ connection: workerConnection, pool: db.pool, taskQueue: 'migration-loop' });
    await worker.runUntil(async () => {
      const { cases, inbox } = composeServices({ client, pool: db.pool, taskQueue: 'migration-loop' });
      await openSmallCase(cases, db.pool, compileSmallPlaybook('loop-move', countTicksTo(60)), 'loop-1', { count: 0 });
      await expect.poll(async () => (await cases.describe('loop-1'))?.waitingFor, { timeout: 10_000 }).toEqual(['tick']);
      // The next version waits two days for each tick.
      const v2 = (await publishPlaybook(db.pool, '', compileSmallPlaybook('loop-move', countTicksTo(60).replace('timeout: 1d', 'timeout: 2d')), 'test'))
        .version;
      const moved = await migrateCase(db.pool, cases, 'loop-1', {
        toVersion: v2.version,
        mapping: {},
        by: { keyId: null, name: 'Mei' },
        reason: 'slower ticks',
      });
      expect(moved).toMatchObject({ kind: 'migrated' });
      for (let i = 0; i < 30; i++) {
        await expect.poll(async () => (await cases.describe('loop-1'))?.waitingFor, { timeout: 10_000 }).toEqual(['tick']);
        await inbox.deliverEvent('loop-1', { type: 'tick', id: `loop-tick-${i}`, payload: { n: 1 } });
      }
      const runs: { runId: string; startTime: Date }[] = [];
      for await (const execution of client.workflow.list({ query: `WorkflowId = '${workflowIdFor('loop-1')}'` })) runs.push(execution);
      expect(runs.length).toBeGreaterThan(1);
      const view = await client.workflow.getHandle(workflowIdFor('loop-1')).query(caseViewQuery);
      expect(view.playbook).toEqual({ name: 'loop-move', version: v2.version, hash: v2.hash });
      // Its wait, started right after the last tick was taken, times out two days later (one on v1).
      const wait = view.deadlines.find((d) => d.kind === 'timeout')!;
      const lastTick = view.steps.filter((s) => s.step === 'wait_tick').at(-1)!;
      expect(wait.step).toBe('wait_tick');
      expect(Date.parse(wait.at) - Date.parse(lastTick.at)).toBeGreaterThan(1.5 * 86_400_000);
    });
  } finally {
    await connection.close();
    await workerConnection.close();
  }
}, 120_000);
