/**
 * Setup file of every test file: the Temporal SDK's lines (worker states, webpack's bundle reports, the
 * activity failures the fault tests provoke, the core's warnings) go to TEMPORAL_LOG instead of the
 * test output. The Runtime is installed once per test process, before any worker or connection: it
 * outlives a test file (the SDK reinstalls it with the same options after a file's last worker has shut
 * it down), so the file being run is read from a global.
 */
import { Runtime } from '@temporalio/worker';
import { relative } from 'node:path';
import { expect } from 'vitest';
import { installTemporalLogging } from '../../src/stack/logging.js';
import { temporalTestLogger } from './logs.js';

const current = globalThis as { casebookTestFile?: string };
current.casebookTestFile = relative(process.cwd(), expect.getState().testPath ?? '');

if (Runtime.instantiator === undefined)
  installTemporalLogging(
    temporalTestLogger(() => current.casebookTestFile ?? ''),
    'INFO',
  );
