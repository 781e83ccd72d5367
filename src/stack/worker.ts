import { Worker, type NativeConnection, type WorkerOptions } from '@temporalio/worker';
import { fileURLToPath } from 'node:url';
import { createActivities } from '../activities/index.js';
import type { Adapters } from '../activities/adapters.js';
import type { Pool } from '../store/pool.js';
import type { WorkerSettings } from './config.js';
import { workflowBundlerOptions } from './workflow-bundler.js';
import { TASK_QUEUE } from '../plan/case.js';

export interface CaseWorkerOptions {
  connection: NativeConnection;
  pool: Pool;
  namespace?: string;
  taskQueue?: string;
  adapters?: Adapters;
  /** Tuning passed through to Temporal's Worker, over the measured defaults (WORKER_DEFAULTS). */
  tuning?: WorkerSettings & Pick<WorkerOptions, 'stickyQueueScheduleToStartTimeout' | 'shutdownGraceTime' | 'shutdownForceTime'>;
}

/**
 * The worker's settings where measurement found better than the SDK's defaults on the embedded
 * default (2 cores, dev server): bench/README.md "Worker tuning" has the figures.
 */
export const WORKER_DEFAULTS: WorkerSettings = {};

export const WORKFLOWS_PATH = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));

/**
 * A worker that runs case workflows and their activities against Postgres. Two workflow threads: a
 * workflow task that spins (until the SDK's deadlock detector stops it, after 2 s) holds one thread,
 * and the other cases go on on the other; expressions are cost-bounded before they run in any case.
 */
export function createCaseWorker(options: CaseWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace ?? 'default',
    taskQueue: options.taskQueue ?? TASK_QUEUE,
    workflowsPath: WORKFLOWS_PATH,
    workflowThreadPoolSize: 2,
    activities: createActivities(options.pool, options.adapters),
    bundlerOptions: workflowBundlerOptions,
    ...WORKER_DEFAULTS,
    ...options.tuning,
  });
}
