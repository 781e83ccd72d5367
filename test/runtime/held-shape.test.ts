/**
 * CASEBOOK_HISTORY_SHAPE held at the previous shape (docs/operations.md, "Rolling upgrades"): the cases
 * the case service opens and the child cases a worker's activity opens both start with it, and run it.
 */
import { describe, expect, it } from 'vitest';
import { HISTORY_SHAPE, workflowIdFor, type CaseInput, type CaseResult } from '../../src/plan/case.js';
import { validatePlaybook } from '../../src/playbook/index.js';
import { subPlaybooksOf } from '../../src/services/playbooks.js';
import { composeServices } from '../../src/stack/compose.js';
import { publishPlaybook } from '../../src/store/playbooks.js';
import { useRuntime } from '../support/runtime.js';
import { smallPlaybookSource } from '../support/small-playbooks.js';

const HELD = HISTORY_SHAPE - 1;

const CHILD = smallPlaybookSource('held-child', 'steps:\n  - id: done\n    end: { outcome: resolved, reason: done }\n');
const PARENT = smallPlaybookSource(
  'held-parent',
  `steps:
  - id: child
    playbook:
      name: held-child
      input: { order_id: data.order_id, paid: data.paid }
      outcomes: { done: finished }
      on_error: finished
  - id: finished
    end: { outcome: resolved, reason: child_done }
`,
);

const runtime = useRuntime(undefined, { historyShape: HELD });

async function publish(source: string) {
  const result = validatePlaybook(source, 'p.yaml', { playbooks: await subPlaybooksOf(runtime.db.pool, source) });
  if (!result.plan) throw new Error(JSON.stringify(result.diagnostics));
  return (await publishPlaybook(runtime.db.pool, source, result.plan, 'test')).version;
}

const startedWith = async (caseId: string): Promise<CaseInput> => {
  const { events } = await runtime.env.client.workflow.getHandle(workflowIdFor(caseId)).fetchHistory();
  const payload = events![0]!.workflowExecutionStartedEventAttributes!.input!.payloads![0]!;
  return JSON.parse(Buffer.from(payload.data!).toString()) as CaseInput;
};

describe('new cases held at the previous history shape', () => {
  it('a case opened by the service and the child case its step opens both take the held shape and run it', async () => {
    await publish(CHILD);
    const parent = await publish(PARENT);
    const { cases } = composeServices({ client: runtime.env.client, pool: runtime.db.pool, historyShape: HELD });
    await cases.open({
      caseId: 'held-1',
      playbook: 'held-parent',
      version: parent.version,
      data: { paid: { amount: 1_000, currency: 'CNY' }, order_id: 'held-1' },
    });
    const result = (await runtime.env.client.workflow.getHandle(workflowIdFor('held-1')).result()) as CaseResult;
    expect(result).toMatchObject({ outcome: 'resolved', reason: 'child_done' });
    const child = 'held-1.child.1';
    expect((await startedWith('held-1')).historyShape).toBe(HELD);
    expect((await startedWith(child)).historyShape).toBe(HELD);
    // The held shape's behaviour: before shape 6 a case's result carries its step records again.
    expect(result.steps.length).toBeGreaterThan(0);
    expect(((await runtime.env.client.workflow.getHandle(workflowIdFor(child)).result()) as CaseResult).steps.length).toBeGreaterThan(0);
  });
});
