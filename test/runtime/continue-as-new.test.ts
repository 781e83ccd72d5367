/**
 * A looping case continues as new carrying its state, not its record: the step records are in the
 * audit trail already, so the input of each new run stays the same size however long the case runs.
 * Before, a 1-second loop carried 268 KB into its second run after 14 simulated minutes (every step
 * record it had written), and a loop of 41 steps reached the server's payload limit at its first
 * continue-as-new. `LOOP_SIMULATED_HOURS=168` runs the first test for a simulated week (about 3 minutes:
 * the time-skipping server's clock runs ahead of a busy worker, so it makes about 8,000 rounds, not 604,800).
 */
import type { temporal } from '@temporalio/proto';
import { describe, expect, it } from 'vitest';
import { workflowIdFor } from '../../src/plan/case.js';
import { useRuntime } from '../support/runtime.js';
import { compileSmallPlaybook, openSmallCase } from '../support/small-playbooks.js';

const runtime = useRuntime();

const SIMULATED_MINUTES = Math.round(Number(process.env.LOOP_SIMULATED_HOURS ?? 0.6) * 60);
const CARRIED_LIMIT = 64 * 1024;

/** A delay of one second, again and again, until `stop`; `extra` more steps in each round. */
const loop = (extra: number) => `events:
  stop: { payload: {} }
steps:
  - id: tick
    delay: { for: 1s, unless: { stop: done } }
${Array.from(
  { length: extra },
  (_, i) => `  - id: step_${i}
    branch: { cases: [{ when: data.count + ${i} >= 0 && data.order_id.startsWith("loop"), goto: ${i === extra - 1 ? 'count' : `step_${i + 1}`} }], otherwise: done }
`,
).join('')}  - id: count
    set: { count: data.count + 1 }
  - id: again
    branch: { cases: [{ when: data.count >= 0, goto: tick }], otherwise: done }
  - id: done
    end: { outcome: resolved, reason: stopped }
`;

/** Each run of the case, newest first: its history length and the size of its input (the state carried into it), in bytes. */
async function runsOf(caseId: string): Promise<{ events: number; inputBytes: number }[]> {
  const runs: { events: number; inputBytes: number }[] = [];
  let runId: string | undefined = (await runtime.env.client.workflow.getHandle(workflowIdFor(caseId)).describe()).runId;
  while (runId) {
    const history: temporal.api.history.v1.IHistory = await runtime.env.client.workflow.getHandle(workflowIdFor(caseId), runId).fetchHistory();
    const started: temporal.api.history.v1.IWorkflowExecutionStartedEventAttributes = history.events![0]!.workflowExecutionStartedEventAttributes!;
    runs.push({ events: history.events!.length, inputBytes: (started.input?.payloads ?? []).reduce((sum: number, p) => sum + (p.data?.length ?? 0), 0) });
    runId = started.continuedExecutionRunId || undefined;
  }
  return runs;
}

/** The audit trail's sequence numbers of the case, in order. */
const auditSeqs = async (caseId: string): Promise<number[]> =>
  (await runtime.db.pool.query(`SELECT seq FROM audit_trail WHERE case_id = $1 AND seq IS NOT NULL ORDER BY seq`, [caseId])).rows.map((r) => r.seq);

async function stop(caseId: string) {
  expect(await runtime.inbox.deliverEvent(caseId, { type: 'stop', id: `${caseId}-stop`, payload: {} })).toEqual({ status: 'accepted' });
  expect(await runtime.env.client.workflow.getHandle(workflowIdFor(caseId)).result()).toMatchObject({ outcome: 'resolved', reason: 'stopped' });
}

describe('a looping case continues as new with its state only', () => {
  it(
    `a 1-second loop for ${SIMULATED_MINUTES} simulated minutes carries the same few kilobytes into every run`,
    async () => {
      await openSmallCase(runtime.service, runtime.db.pool, compileSmallPlaybook('loop', loop(0)), 'loop-1', { count: 0 });
      const started = performance.now();
      await runtime.env.sleep(SIMULATED_MINUTES * 60_000);
      const runs = await runsOf('loop-1');
      const carried = runs.slice(0, -1).map((run) => run.inputBytes);
      const rounds = (await runtime.db.pool.query(`SELECT (data->>'count')::int AS count FROM cases WHERE case_id = 'loop-1'`)).rows[0].count;
      console.log(
        `1-second loop, ${SIMULATED_MINUTES} simulated minutes in ${Math.round((performance.now() - started) / 1000)} s: ${rounds} rounds, ${runs.length} runs, carried input (newest first) ${carried.join(', ')} bytes; the first run's input ${runs.at(-1)!.inputBytes}`,
      );
      expect(runs.length).toBeGreaterThanOrEqual(3);
      for (const bytes of carried) expect(bytes).toBeLessThan(CARRIED_LIMIT);
      // Bounded, not growing with time: the latest run carries what the first continued one did, give or take a few fields' digits.
      expect(Math.abs(carried[0]! - carried.at(-1)!)).toBeLessThan(200);
      await stop('loop-1');
      const seqs = await auditSeqs('loop-1');
      expect(seqs).toEqual(seqs.map((_, i) => i + 1));
    },
    1_800_000 + SIMULATED_MINUTES * 60 * 50,
  );

  it('a loop of 41 steps passes its first continue-as-new and goes on', async () => {
    await openSmallCase(runtime.service, runtime.db.pool, compileSmallPlaybook('loop-41', loop(38)), 'loop-41', { count: 0 });
    await runtime.env.sleep(15 * 60_000);
    const runs = await runsOf('loop-41');
    console.log(
      `41-step loop, 15 simulated minutes: ${runs.length} runs, carried input ${runs
        .slice(0, -1)
        .map((r) => r.inputBytes)
        .join(', ')} bytes`,
    );
    expect(runs.length).toBeGreaterThanOrEqual(2);
    for (const run of runs.slice(0, -1)) expect(run.inputBytes).toBeLessThan(CARRIED_LIMIT);
    const count = (await runtime.db.pool.query(`SELECT (data->>'count')::int AS count FROM cases WHERE case_id = 'loop-41'`)).rows[0].count;
    await stop('loop-41');
    expect(count).toBeGreaterThan(0);
  }, 300_000);
});
