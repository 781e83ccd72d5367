/**
 * The live worker's workflow threads without the SDK's promise hook. The hook serves only the
 * `__stack_trace` query (where a case's workflow code waits, as the Temporal UI's "Stack Trace" tab
 * shows it): on every promise workflow code creates it compiles two functions to find the promise's
 * workflow and records a stack resolved through the bundle's source map. That was 15% of Casebook's
 * process CPU per case (issue 26's profile); where a case waits, its own view says (`GET /v1/cases/{id}`).
 * The SDK offers no option for it and installs it in each workflow thread, so the threads start from
 * a script that turns the hook off before loading the SDK's own thread code. Workflow errors keep their
 * stacks, resolved through the source map as before. The SDK's debug mode and `promiseStacks` keep the hook.
 */
import { Worker, type Logger } from '@temporalio/worker';
import type { WorkflowCreator } from '@temporalio/worker/lib/workflow/interface.js';
import { ThreadedVMWorkflowCreator, WorkerThreadClient } from '@temporalio/worker/lib/workflow/threaded-vm.js';
import type { WorkflowBundleWithSourceMapAndFilename } from '@temporalio/worker/lib/workflow/workflow-worker-thread/input.js';
import type { CompiledWorkerOptions } from '@temporalio/worker/lib/worker-options.js';
import { createRequire } from 'node:module';
import { Worker as Thread } from 'node:worker_threads';

const require = createRequire(import.meta.url);
const sdkModule = (path: string) => JSON.stringify(require.resolve(`@temporalio/worker/lib/workflow/${path}`));

/** The SDK's workflow thread, its global handlers told to install no promise hook (stack formatting stays). */
const THREAD_WITHOUT_PROMISE_HOOK = `
require(${sdkModule('vm-shared.js')}).globalHandlers.setPromiseHook = () => {};
require(${sdkModule('workflow-worker-thread.js')});
`;

/** A Temporal worker whose workflow threads record no stack per promise. */
export class CaseWorker extends Worker {
  protected static override async createWorkflowCreator(
    workflowBundle: WorkflowBundleWithSourceMapAndFilename,
    compiledOptions: CompiledWorkerOptions,
    logger: Logger,
  ): Promise<WorkflowCreator> {
    // biome-ignore lint/complexity/noThisInStatic: the overridden static method of Worker, reached as the SDK reaches it
    if (compiledOptions.debugMode) return super.createWorkflowCreator(workflowBundle, compiledOptions, logger);
    // As ThreadedVMWorkflowCreator.create starts its threads, from another script.
    const { patchActivationCallback } = compiledOptions;
    const threads = Array.from(
      { length: compiledOptions.workflowThreadPoolSize },
      () => new WorkerThreadClient(new Thread(THREAD_WITHOUT_PROMISE_HOOK, { eval: true }), logger, patchActivationCallback),
    );
    await Promise.all(
      threads.map((thread) =>
        thread.send({
          type: 'init',
          workflowBundle,
          isolateExecutionTimeoutMs: compiledOptions.isolateExecutionTimeoutMs,
          reuseV8Context: compiledOptions.reuseV8Context ?? true,
          registeredActivityNames: new Set(compiledOptions.activities.keys()),
          hasPatchActivationCallback: patchActivationCallback !== undefined,
        }),
      ),
    );
    return new ThreadedVMWorkflowCreator(threads);
  }
}
