/**
 * A case worker in its own process whose payment provider records the refund and then never answers,
 * as a worker does when it is killed mid-activity. Prints "ready" once polling.
 * Args: <temporal address> <task queue> <database url>
 */
import { NativeConnection } from '@temporalio/worker';
import { localAdapters } from '../../src/activities/adapters.js';
import { createPool } from '../../src/store/pool.js';
import { createCaseWorker } from '../../src/stack/worker.js';
import { installTemporalLogging } from '../../src/stack/logging.js';
import { temporalTestLogger } from './logs.js';

const [address, taskQueue, databaseUrl] = process.argv.slice(2);
installTemporalLogging(temporalTestLogger(() => 'test/support/crashing-worker.ts'));
const pool = createPool(databaseUrl!);
const local = localAdapters(pool);
const payments = {
  async refund(request: Parameters<typeof local.payments.refund>[0]) {
    await local.payments.refund(request);
    process.stdout.write('refund recorded\n');
    return new Promise<never>(() => {});
  },
};
const connection = await NativeConnection.connect({ address: address! });
const worker = await createCaseWorker({ connection, pool, taskQueue: taskQueue!, adapters: { ...local, payments } });
process.stdout.write('ready\n');
await worker.run();
