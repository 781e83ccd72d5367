import { bundleWorkflowCode, DefaultLogger, Worker, type NativeConnection, type WorkerOptions } from '@temporalio/worker';
import { fileURLToPath } from 'node:url';
import { createActivities } from '../activities/index.js';
import type { Adapters } from '../connectors/ports.js';
import type { Pool } from '../store/pool.js';
import type { WorkerSettings } from './config.js';
import { withPlanReferences, type PlanReferenceCodec } from './plan-references.js';
import { workflowBundlerOptions } from './workflow-bundler.js';
import { loggedActivities } from './logging.js';
import { REPLAY_SINK, type CaseSinks } from '../case-contract/messages.js';
import { CaseWorker } from './workflow-threads.js';
import { TASK_QUEUE } from '../plan/case.js';
import type { InjectedSinks } from '@temporalio/worker';
import type { Tracing } from './tracing.js';
import type { CasebookMetrics } from './metrics.js';
import type { CaseActivities } from '../plan/activities.js';

const countedBy = (metrics: Pick<CasebookMetrics, 'countActivities'> | undefined, activities: CaseActivities) =>
  metrics ? metrics.countActivities(activities) : activities;

export interface CaseWorkerOptions {
  connection: NativeConnection;
  pool: Pool;
  namespace?: string;
  taskQueue?: string;
  /** Chosen by the composition root (compose.ts). */
  adapters: Adapters;
  /** Where the plans its cases' payloads name by hash are found, and which plans it sends by hash (plan-references.ts). */
  plans: PlanReferenceCodec;
  /** Counts what the activities do (src/stack/metrics.ts); unset: nothing is counted. */
  metrics?: Pick<CasebookMetrics, 'countActivities'>;
  /** A workflow bundle `casebook bundle` wrote (CASEBOOK_WORKFLOW_BUNDLE); unset: the workflow code is bundled now. */
  workflowBundle?: string | undefined;
  /** The history shape of the child cases its activities open; unset: the newest (HISTORY_SHAPE). */
  historyShape?: number;
  /** Tuning passed through to Temporal's Worker, over the measured defaults (WORKER_DEFAULTS). */
  tuning?: WorkerSettings & Pick<WorkerOptions, 'stickyQueueScheduleToStartTimeout' | 'shutdownGraceTime' | 'shutdownForceTime'>;
  /** Its workflows' and activities' spans (src/stack/tracing.ts); unset: no interceptor at all. */
  tracing?: Pick<Tracing, 'workerInterceptors' | 'sinks'> | undefined;
  /** Keep the SDK's promise hook for the `__stack_trace` query (CASEBOOK_WORKFLOW_STACK_TRACES); off: workflow-threads.ts. */
  promiseStacks?: boolean;
}

/**
 * The worker's settings where measurement found better than the SDK's defaults (docs/operations.md has
 * the figures): with the cache full, each cached waiting case adds about 600 KiB to the process's
 * resident memory, so 900 cached cases keep it under 1 GiB however many cases wait (1,200 did not:
 * 1,064 MiB with 10,000 waiting; the SDK's default follows the heap limit: 2,310 on a 4 GiB heap); a
 * case out of the cache is replayed from its history when it wakes.
 */
export const WORKER_DEFAULTS: WorkerSettings = { maxCachedWorkflows: 900 };

const ignored = { fn: () => {}, callDuringReplay: false };

/** A case replayed in a running worker (out of its cache) reports to the replay sink; nobody listens there. */
export const NO_REPLAY_LISTENER: InjectedSinks<CaseSinks> = { [REPLAY_SINK]: { step: ignored, recorded: ignored } };

export const WORKFLOWS_PATH = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));

/** The workflow code bundled as a worker bundles it at start: what `casebook bundle` writes for CASEBOOK_WORKFLOW_BUNDLE. */
export async function bundleCaseWorkflows(): Promise<string> {
  const { code } = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, ...workflowBundlerOptions, logger: new DefaultLogger('WARN') });
  return code;
}

/**
 * A worker that runs case workflows and their activities against Postgres. Two workflow threads: a
 * workflow task that spins (until the SDK's deadlock detector stops it, after 2 s) holds one thread,
 * and the other cases go on on the other; expressions are cost-bounded before they run in any case.
 */
export function createCaseWorker(options: CaseWorkerOptions): Promise<Worker> {
  return (options.promiseStacks ? Worker : CaseWorker).create({
    connection: options.connection,
    namespace: options.namespace ?? 'default',
    taskQueue: options.taskQueue ?? TASK_QUEUE,
    ...(options.workflowBundle
      ? { workflowBundle: { codePath: options.workflowBundle } }
      : { workflowsPath: WORKFLOWS_PATH, bundlerOptions: workflowBundlerOptions }),
    workflowThreadPoolSize: 2,
    activities: countedBy(options.metrics, loggedActivities(createActivities(options.pool, options.adapters, options.historyShape))),
    ...(options.tracing
      ? { interceptors: options.tracing.workerInterceptors, sinks: { ...NO_REPLAY_LISTENER, ...options.tracing.sinks } }
      : { sinks: NO_REPLAY_LISTENER }),
    dataConverter: withPlanReferences(options.plans),
    ...WORKER_DEFAULTS,
    ...options.tuning,
  });
}
