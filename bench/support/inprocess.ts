/**
 * Casebook driven in-process: its worker (`composeWorker`) and case services (`composeServices`) composed
 * in the bench process on the same Temporal and Postgres as a Casebook under test and a task queue of
 * their own, and a standard quality return driven through them from open to closed.
 */
import type { Client } from '@temporalio/client';
import type { Worker } from '@temporalio/worker';
import { workflowIdFor, type CaseEvent, type CaseResult } from '../../src/plan/case.js';
import { composePool, composeServices, composeWorker, connectClient, connectWorker, type Services, type WorkerParts } from '../../src/stack/compose.js';
import { installStartLogging } from '../../src/stack/logging.js';
import { recordOrderAdvance } from '../../src/store/orders.js';
import type { Pool } from '../../src/store/pool.js';
import type { CasebookUnderTest } from './casebook.js';
import { keptReturn, qualityReturnData, received, shipped } from './return-cases.js';

export interface InProcess {
  services: Services;
  client: Client;
  pool: Pool;
}

/** Worker settings beyond its connection, database and task queue. */
export type InProcessWorkerOptions = Omit<WorkerParts, 'connection' | 'pool' | 'taskQueue'>;

/** The worker and services in this process, on `taskQueue`; its cases indexed by the search attributes as `casebook start` indexes them. */
export async function startInProcess(
  casebook: CasebookUnderTest,
  taskQueue: string,
  workerOptions: InProcessWorkerOptions = {},
): Promise<{ inProcess: InProcess; stop(): Promise<void> }> {
  // The SDK's warnings and errors only, as `casebook start` logs them.
  installStartLogging('text');
  const pool = composePool(casebook.databaseUrl);
  const workerConnection = await connectWorker(casebook.temporalAddress);
  const { connection, client } = await connectClient(casebook.temporalAddress, 'default', pool);
  let worker: Worker;
  try {
    worker = await composeWorker({ ...workerOptions, connection: workerConnection, pool, taskQueue });
  } catch (error) {
    await Promise.allSettled([connection.close(), workerConnection.close(), pool.end()]);
    throw error;
  }
  const running = worker.run();
  // The Casebook under test registered the search attributes.
  const services = composeServices({ client, pool, taskQueue, indexed: true });
  return {
    inProcess: { services, client, pool },
    stop: async () => {
      worker.shutdown();
      await running;
      await services.close();
      await connection.close();
      await workerConnection.close();
      await pool.end();
    },
  };
}

/** Waits for the case's workflow result (a long poll), which must be resolved and refunded; answers ms since `started`. */
export async function untilResolved(client: Client, workflowId: string, started: number): Promise<number> {
  const result = (await client.workflow.getHandle(workflowId).result()) as CaseResult;
  if (result.outcome !== 'resolved' || result.reason !== 'refunded') throw new Error(`${workflowId} ended ${result.outcome} (${result.reason})`);
  return performance.now() - started;
}

/**
 * A quality return from open to closed, in the order the HTTP API's clients send it: open,
 * `buyer.kept_return`, the warehouse's advance (written to the order's ledger), `buyer.shipped`,
 * `warehouse.received`, each as soon as the one before is answered; answers its latency in ms.
 */
export async function driveInProcessCase({ services, client, pool }: InProcess, caseId: string): Promise<number> {
  const started = performance.now();
  const data = qualityReturnData(`order-${caseId}`);
  const opened = await services.cases.open({ playbook: 'return', caseId, data, openedBy: 'bench' });
  if (opened.kind !== 'opened') throw new Error(`${caseId} not opened: ${JSON.stringify(opened)}`);
  const deliver = async (event: CaseEvent) => {
    const delivery = await deliverOnce(services, caseId, event);
    // Duplicate: the inbox's settling (run by the Casebook under test) delivered it meanwhile.
    if (delivery.status !== 'accepted' && delivery.status !== 'duplicate') throw new Error(`${caseId}: ${event.type} ${JSON.stringify(delivery)}`);
  };
  await deliver(keptReturn(caseId));
  const advanced = data.advanced_return_shipping as { amount: number; currency: string };
  await recordOrderAdvance(pool, data.order_id as string, { kind: 'return_shipping', ...advanced, evidence: `waybill SF-${caseId}` }, 'bench warehouse');
  await deliver(shipped(caseId));
  await deliver(received(caseId));
  return untilResolved(client, workflowIdFor(caseId), started);
}

/**
 * Delivers an event as the API's clients do, again after a failure (on a loaded machine, an Update that
 * timed out, or refused while the case's workflow task is retried): the inbox takes an event id once, so
 * sending it again is safe.
 */
async function deliverOnce(services: Services, caseId: string, event: CaseEvent, attempts = 10) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await services.inbox.deliverEvent(caseId, event);
    } catch (error) {
      if (attempt >= attempts) throw error;
      await new Promise((resolve) => setTimeout(resolve, 2_000));
    }
  }
}
