import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, inject } from 'vitest';
import type { ConnectorConfig } from '../../src/connectors/config.js';
import type { Adapters, ChannelAdapter } from '../../src/connectors/ports.js';
import type { Auditor } from '../../src/cases/audit.js';
import type { EventInbox } from '../../src/cases/inbox.js';
import type { CaseService } from '../../src/cases/service.js';
import { composeServices, composeWorker, type WorkerParts } from '../../src/stack/compose.js';
import { createTestDatabase, type TestDatabase } from './database.js';
import { recordPlansFrom } from './histories.js';
import { startTimeSkippingServer } from './temporal.js';

/** A case worker on the run's one workflow bundle (global-workflow-bundle.ts), not bundling the code again. */
export const composeTestWorker = (parts: WorkerParts): Promise<Worker> => composeWorker({ workflowBundle: inject('workflowBundle'), ...parts });

export interface Runtime {
  db: TestDatabase;
  env: TestWorkflowEnvironment;
  service: CaseService;
  inbox: EventInbox;
  /** Replays and exports; the workflow code is bundled for replay on first use only. */
  audit: Auditor;
}

/**
 * For a test file: its own database, Temporal's time-skipping server and a case worker, started
 * before the tests and stopped after. Read the fields inside tests (they are set in beforeAll).
 */
export function useRuntime(
  setup: (runtime: Runtime) => Promise<void> = async () => {},
  /** `connectors` is read once `setup` has run; `historyShape`: the shape of the child cases the worker opens. */
  options: { wrap?: (adapters: Adapters) => Adapters; connectors?: ConnectorConfig; historyShape?: number } = {},
): Runtime {
  const runtime = {} as Runtime;
  let worker: Worker | undefined;
  let running: Promise<void> | undefined;
  beforeAll(async () => {
    [runtime.db, runtime.env] = await Promise.all([createTestDatabase(), startTimeSkippingServer()]);
    recordPlansFrom(runtime.db.pool);
    await setup(runtime);
    worker = await composeTestWorker({
      connection: runtime.env.nativeConnection,
      pool: runtime.db.pool,
      ...(options.wrap ? { wrap: options.wrap } : {}),
      ...(options.connectors ? { connectors: options.connectors } : {}),
      ...(options.historyShape !== undefined ? { historyShape: options.historyShape } : {}),
    });
    running = worker.run();
    const services = composeServices({ client: runtime.env.client, pool: runtime.db.pool });
    runtime.service = services.cases;
    runtime.inbox = services.inbox;
    runtime.audit = services.audit;
  });
  afterAll(async () => {
    worker?.shutdown();
    await running;
    await runtime.env?.teardown();
    await runtime.db?.drop();
  });
  return runtime;
}

/** The local adapters, with every message going through `deliver` first, which hands it on to the real channel with `next`. */
export const channelThrough =
  (deliver: (message: Parameters<ChannelAdapter['deliver']>[0], next: ChannelAdapter['deliver']) => Promise<void>) =>
  (adapters: Adapters): Adapters => {
    return { ...adapters, channel: { deliver: (message) => deliver(message, (m) => adapters.channel.deliver(m)) } };
  };
