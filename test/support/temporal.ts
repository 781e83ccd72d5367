import { TestWorkflowEnvironment } from '@temporalio/testing';
import { existsSync } from 'node:fs';
import { temporalTestServerExecutable } from '../../src/stack/temporal-binaries.js';
import { TEST_SERVER_WRAPPER } from './logs.js';

/**
 * Temporal's real time-skipping test server, from the binary provisioned into .tools/, its own output
 * (such as "Unbalanced lock and unlock calls" when many clients wait at once) in .logs/.
 */
export function startTimeSkippingServer(): Promise<TestWorkflowEnvironment> {
  return TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: existsSync(TEST_SERVER_WRAPPER) ? { type: 'existing-path', path: TEST_SERVER_WRAPPER } : temporalTestServerExecutable() },
  });
}
