import { TestWorkflowEnvironment } from '@temporalio/testing';
import { temporalTestServerExecutable } from '../../src/stack/temporal-binaries.js';

/** Temporal's real time-skipping test server, from the binary provisioned into .tools/. */
export function startTimeSkippingServer(): Promise<TestWorkflowEnvironment> {
  return TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: temporalTestServerExecutable() },
  });
}
