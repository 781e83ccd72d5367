/**
 * A case worker in its own process whose payment provider records the refund and then never answers,
 * as a worker does when it is killed mid-activity. Prints "ready" once polling.
 * Args: <temporal address> <task queue> <database url>
 */
import { NativeConnection } from '@temporalio/worker';
import type { Adapters } from '../../src/connectors/ports.js';
import { createPool } from '../../src/store/pool.js';
import { composeWorker } from '../../src/stack/compose.js';
import { installTemporalLogging } from '../../src/stack/logging.js';
import { temporalTestLogger } from './logs.js';

const [address, taskQueue, databaseUrl] = process.argv.slice(2);
installTemporalLogging(temporalTestLogger(() => 'test/support/crashing-worker.ts'));
const pool = createPool(databaseUrl!);
const recordThenHang = (local: Adapters): Adapters => ({
  ...local,
  payments: {
    async refund(request) {
      await local.payments.refund(request);
      process.stdout.write('refund recorded\n');
      return new Promise<never>(() => {});
    },
  },
});
const connection = await NativeConnection.connect({ address: address! });
const worker = await composeWorker({ connection, pool, taskQueue: taskQueue!, wrap: recordThenHang });
process.stdout.write('ready\n');
await worker.run();
