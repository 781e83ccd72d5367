/**
 * A call's `retry` on the real stack (time-skipping Temporal server, Postgres, the local adapters
 * wrapped to fail): its attempts and its timeout decide when `on_error` is taken, and the case replays.
 */
import { Worker } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import type { IntegrationRequest } from '../../src/plan/activities.js';
import { workflowIdFor, type CaseResult } from '../../src/plan/case.js';
import { WORKFLOWS_PATH } from '../../src/stack/worker.js';
import { workflowBundlerOptions } from '../../src/stack/workflow-bundler.js';
import { compileSmallPlaybook, openSmallCase } from '../support/small-playbooks.js';
import { useRuntime } from '../support/runtime.js';
import { caseRecords } from '../support/records.js';

/** Attempts each case's call made, by case id. */
const attempts = new Map<string, number>();
/** How long the warehouse takes to answer a case's call, in real milliseconds (absent: it fails at once). */
const answersAfter = new Map<string, number>();

const rt = useRuntime(async () => {}, {
  wrap: (local) => ({
    ...local,
    integrations: {
      call: async (request: IntegrationRequest) => {
        attempts.set(request.caseId, (attempts.get(request.caseId) ?? 0) + 1);
        const after = answersAfter.get(request.caseId);
        if (after === undefined) throw new Error('warehouse system unavailable');
        await new Promise((resolve) => setTimeout(resolve, after));
        return {};
      },
    },
  }),
});

const playbook = (name: string, retry: string) =>
  compileSmallPlaybook(
    name,
    `integrations:
  warehouse: { operations: [ship_replacement] }
steps:
  - id: ship
    call: { integration: warehouse, operation: ship_replacement, input: { order_id: data.order_id }, on_error: escalate${retry} }
  - id: done
    end: { outcome: resolved, reason: shipped }
  - id: escalate
    end: { outcome: escalated, reason: replacement_not_shipped }
`,
  );

async function run(name: string, retry: string, caseId: string): Promise<CaseResult> {
  await openSmallCase(rt.service, rt.db.pool, playbook(name, retry), caseId);
  return { ...((await rt.env.client.workflow.getHandle(workflowIdFor(caseId)).result()) as CaseResult), steps: await caseRecords(rt.db.pool, caseId) };
}

/** The retry policy of each integration call the case scheduled, in seconds. */
async function scheduledCalls(caseId: string) {
  const history = await rt.env.client.workflow.getHandle(workflowIdFor(caseId)).fetchHistory();
  return history
    .events!.flatMap((e) => e.activityTaskScheduledEventAttributes ?? [])
    .filter((a) => a.activityType?.name === 'callIntegration')
    .map((a) => ({
      attempts: a.retryPolicy?.maximumAttempts,
      timeout: Number(a.startToCloseTimeout?.seconds),
      backoff: Number(a.retryPolicy?.initialInterval?.seconds),
      maxBackoff: Number(a.retryPolicy?.maximumInterval?.seconds),
    }));
}

describe("a call's retry", () => {
  it('retry: { attempts: 2 } takes on_error after exactly 2 attempts, where the default makes 5; the case replays', async () => {
    const stated = await run('two-attempts', ', retry: { attempts: 2 }', 'two-1');
    expect(attempts.get('two-1')).toBe(2);
    expect(stated).toMatchObject({ outcome: 'escalated', reason: 'replacement_not_shipped' });
    expect(stated.steps.find((s) => s.step === 'ship')!.detail).toMatchObject({ failed: 'warehouse system unavailable', goto: 'escalate' });

    const byDefault = await run('default-attempts', '', 'default-1');
    expect(attempts.get('default-1')).toBe(5);
    expect(byDefault).toMatchObject({ outcome: 'escalated' });

    const history = await rt.env.client.workflow.getHandle(workflowIdFor('two-1')).fetchHistory();
    expect(await scheduledCalls('two-1')).toEqual([{ attempts: 2, timeout: 60, backoff: 1, maxBackoff: 60 }]);
    // Today's values when the step states none.
    expect(await scheduledCalls('default-1')).toEqual([{ attempts: 5, timeout: 60, backoff: 1, maxBackoff: 60 }]);
    await Worker.runReplayHistory({ workflowsPath: WORKFLOWS_PATH, bundlerOptions: workflowBundlerOptions }, history, workflowIdFor('two-1'));
  }, 120_000);

  it('retry.backoff and retry.timeout go into the activity the call schedules', async () => {
    await run('backoff', ', retry: { attempts: 3, timeout: 30s, backoff: 2m }', 'backoff-1');
    expect(attempts.get('backoff-1')).toBe(3);
    expect(await scheduledCalls('backoff-1')).toEqual([{ attempts: 3, timeout: 30, backoff: 120, maxBackoff: 120 }]);
  }, 120_000);

  it('an attempt that takes longer than retry.timeout fails; one within it answers', async () => {
    answersAfter.set('slow-1', 3_000);
    const timedOut = await run('slow', ', retry: { attempts: 2, timeout: 1s }', 'slow-1');
    expect(attempts.get('slow-1')).toBe(2);
    expect(timedOut).toMatchObject({ outcome: 'escalated' });
    expect(timedOut.steps.find((s) => s.step === 'ship')!.detail).toMatchObject({
      failed: 'the last of 2 attempts took longer than its timeout of 1s (START_TO_CLOSE)',
    });

    answersAfter.set('patient-1', 1_500);
    const answered = await run('patient', ', retry: { attempts: 2, timeout: 5s }', 'patient-1');
    expect(attempts.get('patient-1')).toBe(1);
    expect(answered).toMatchObject({ outcome: 'resolved', reason: 'shipped' });
  }, 120_000);
});
