/** Starting the hand-written worker as a child process next to a benchmark's Casebook, and opening its cases. */
import { Client, Connection } from '@temporalio/client';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startChild, type Child } from '../support/child-process.js';
import type { CasebookUnderTest } from '../support/casebook.js';
import { REPOSITORY } from '../support/casebook.js';
import { insertCase } from '../../src/store/cases.js';
import { raiseRefundCap, recordOrderAdvance, recordOrderPayment } from '../../src/store/orders.js';
import type { Pool } from '../../src/store/pool.js';
import { withTransaction } from '../../src/store/transaction.js';
import type { CaseEvent } from '../../src/plan/case.js';
import { HANDWRITTEN_TASK_QUEUE, VARIANTS, receiveEventUpdate, type ReturnData, type ReturnInput, type Variant } from './contract.js';

const WORKER = fileURLToPath(new URL('./worker.ts', import.meta.url));
export const HANDWRITTEN_WORKFLOWS_PATH = fileURLToPath(new URL('./workflows.ts', import.meta.url));
/** What the worker prints once it polls. */
export const WORKER_RUNNING = 'bench-handwritten worker running';
const MAX_RETURN_SHIPPING = 3000;

/** Starts the worker (bundling its workflows takes a few seconds) and waits until it polls. */
export async function startHandwrittenWorker(casebook: CasebookUnderTest): Promise<Child> {
  const logFile = join(casebook.dataDir, 'handwritten-worker.log');
  const child = startChild(process.execPath, ['--import', 'tsx', WORKER], {
    cwd: REPOSITORY,
    logFile,
    env: { ...process.env, TEMPORAL_ADDRESS: casebook.temporalAddress, DATABASE_URL: casebook.databaseUrl },
  });
  const deadline = Date.now() + 120_000;
  while (!(existsSync(logFile) && readFileSync(logFile, 'utf8').includes(WORKER_RUNNING))) {
    if (!child.running() || Date.now() > deadline) {
      await child.stop(5_000);
      throw new Error(`the hand-written worker did not start; its log:\n${existsSync(logFile) ? readFileSync(logFile, 'utf8') : ''}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return child;
}

export async function connectClient(casebook: CasebookUnderTest): Promise<Client> {
  return new Client({ connection: await Connection.connect({ address: casebook.temporalAddress }) });
}

export const handwrittenWorkflowId = (variant: Variant, caseId: string) => `${variant}-${caseId}`;

/**
 * What opening a case writes before its workflow starts. Both variants record the order's ledger
 * (payment, return-shipping cap and the advance the warehouse records), without which the database refuses
 * those refunds; `same-steps` also inserts the case row its progress reports update, as Casebook's opening does.
 */
export async function openHandwrittenCase(pool: Pool, client: Client, variant: Variant, caseId: string, data: ReturnData): Promise<void> {
  const orderId = data.order_id;
  await withTransaction(pool, async (db) => {
    if (variant === 'same-steps') {
      // Not a literal, so that it fits NewCase both before and after `step` and `returnTracking` joined it.
      const row = {
        caseId,
        workflowId: handwrittenWorkflowId(variant, caseId),
        playbook: 'return',
        version: 1,
        planHash: 'hand-written',
        caseType: 'return',
        orderId,
        data: { ...data },
        paid: data.order_total,
        openKey: null,
        step: 'check_window',
        returnTracking: null,
      };
      await insertCase(db, row);
    }
    await recordOrderPayment(db, { orderId, ...data.order_total }, caseId);
    await raiseRefundCap(db, orderId, 'return_shipping', MAX_RETURN_SHIPPING);
  });
  if (data.advanced_return_shipping) {
    await recordOrderAdvance(pool, orderId, { kind: 'return_shipping', ...data.advanced_return_shipping, evidence: `waybill SF-${caseId}` }, 'bench warehouse');
  }
  const input: ReturnInput = { caseId, data, openedBy: 'bench' };
  await client.workflow.start(VARIANTS[variant], {
    taskQueue: HANDWRITTEN_TASK_QUEUE,
    workflowId: handwrittenWorkflowId(variant, caseId),
    args: [input],
  });
}

export async function sendHandwrittenEvent(client: Client, variant: Variant, caseId: string, event: CaseEvent): Promise<void> {
  await client.workflow.getHandle(handwrittenWorkflowId(variant, caseId)).executeUpdate(receiveEventUpdate, { args: [event] });
}
