/**
 * The hand-written return workflows' worker, run as its own process (see ./process.ts): task queue
 * bench-handwritten, Casebook's own activities on the app role's Postgres, Casebook's worker settings.
 * Env: TEMPORAL_ADDRESS, DATABASE_URL.
 */
import { NativeConnection, Worker } from '@temporalio/worker';
import { createActivities } from '../../src/activities/index.js';
import { LOCAL_CONNECTORS } from '../../src/connectors/config.js';
import { composeAdapters } from '../../src/stack/compose.js';
import { workflowBundlerOptions } from '../../src/stack/workflow-bundler.js';
import { createPool } from '../../src/store/pool.js';
import { HANDWRITTEN_TASK_QUEUE } from './contract.js';
import { HANDWRITTEN_WORKFLOWS_PATH, WORKER_RUNNING } from './process.js';

const { TEMPORAL_ADDRESS, DATABASE_URL } = process.env;
if (!TEMPORAL_ADDRESS || !DATABASE_URL) throw new Error('TEMPORAL_ADDRESS and DATABASE_URL are needed');

const pool = createPool(DATABASE_URL);
const connection = await NativeConnection.connect({ address: TEMPORAL_ADDRESS });
const worker = await Worker.create({
  connection,
  taskQueue: HANDWRITTEN_TASK_QUEUE,
  workflowsPath: HANDWRITTEN_WORKFLOWS_PATH,
  workflowThreadPoolSize: 2,
  activities: createActivities(pool, composeAdapters(LOCAL_CONNECTORS, pool)),
  bundlerOptions: { webpackConfigHook: workflowBundlerOptions.webpackConfigHook },
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => worker.shutdown());
const running = worker.run();
console.log(WORKER_RUNNING);
await running;
await connection.close();
await pool.end();
