/**
 * Integrations that answer, on the time-skipping server and Postgres: the answer of a `call` is checked
 * against the response its operation declares and read by later steps; one that does not fit takes
 * `on_error` with the JSON pointer of the problem, or without `on_error` fails the case for an admin.
 * The integration is the real local one (it logs each call in `integration_calls`), wrapped to answer
 * what each case's test scripts, as scenarios script faults.
 */
import { describe, expect, it } from 'vitest';
import type { Adapters } from '../../src/connectors/ports.js';
import { workflowIdFor, type CaseResult } from '../../src/plan/case.js';
import { useRuntime } from '../support/runtime.js';
import { compileSmallPlaybook, openSmallCase } from '../support/small-playbooks.js';

const answers = new Map<string, unknown>();
const answering = (adapters: Adapters): Adapters => ({
  ...adapters,
  integrations: {
    call: async (request) => {
      await adapters.integrations.call(request);
      return answers.get(request.caseId);
    },
  },
});

const runtime = useRuntime(undefined, { wrap: answering });

const playbook = (onError: boolean) =>
  compileSmallPlaybook(
    onError ? 'answers' : 'answers-no-exit',
    `integrations:
  warehouse:
    operations:
      extend_receipt:
        response:
          new_deadline: { type: timestamp }
          ticket: { type: string }
          parcels: { type: list, required: false, items: { type: object, fields: { weight: { type: integer } } } }
steps:
  - id: extend
    call: { integration: warehouse, operation: extend_receipt, input: { order_id: data.order_id }${onError ? ', on_error: not_extended' : ''} }
  - id: check
    branch:
      cases:
        - when: steps.extend.result.new_deadline > now && steps.extend.result.ticket.startsWith("T-")
          goto: tell
      otherwise: not_extended
  - id: tell
    remark: { text: "receipt deadline extended to {{ steps.extend.result.new_deadline }}, ticket {{ steps.extend.result.ticket }}" }
  - id: done
    end: { outcome: resolved, reason: extended }
  - id: not_extended
    end: { outcome: escalated, reason: not_extended }
`,
  );

async function run(caseId: string, answer: unknown, onError = true): Promise<CaseResult> {
  answers.set(caseId, answer);
  await openSmallCase(runtime.service, runtime.db.pool, playbook(onError), caseId);
  return (await runtime.env.client.workflow.getHandle(workflowIdFor(caseId)).result()) as CaseResult;
}

const recordOf = (result: CaseResult, step: string) => result.steps.find((s) => s.step === step)?.detail;

describe('integrations that answer', () => {
  it('a valid answer is kept and read by later steps', async () => {
    const result = await run('answer-ok', { new_deadline: '2031-01-15T10:00:00Z', ticket: 'T-42', parcels: [{ weight: 1200 }] });
    expect(result).toMatchObject({ outcome: 'resolved', reason: 'extended' });
    expect(recordOf(result, 'extend')).toMatchObject({ integration: 'warehouse', operation: 'extend_receipt', result: { ticket: 'T-42' } });
    const remarks = (await runtime.db.pool.query(`SELECT remark FROM order_notes WHERE case_id = 'answer-ok'`)).rows;
    expect(remarks).toEqual([{ remark: expect.stringMatching(/^receipt deadline extended to 2031-01-15.*10:00.*, ticket T-42$/) }]);
    const calls = (await runtime.db.pool.query(`SELECT integration, operation FROM integration_calls WHERE case_id = 'answer-ok'`)).rows;
    expect(calls).toEqual([{ integration: 'warehouse', operation: 'extend_receipt' }]);
  }, 60_000);

  it.each([
    ['a property of the wrong type', { new_deadline: 'next week', ticket: 'T-1' }, '/new_deadline'],
    ['a missing property', { new_deadline: '2031-01-15T10:00:00Z' }, '/ticket'],
    ['a property not declared', { new_deadline: '2031-01-15T10:00:00Z', ticket: 'T-1', extended: true }, '/extended'],
    [
      'a nested item of the wrong type',
      { new_deadline: '2031-01-15T10:00:00Z', ticket: 'T-1', parcels: [{ weight: 1 }, { weight: '2kg' }] },
      '/parcels/1/weight',
    ],
    ['no answer at all', null, ''],
  ])(
    'an answer with %s takes on_error, its JSON pointer in the record',
    async (_, answer, pointer) => {
      const caseId = `answer-bad-${pointer.replace(/\W/g, '') || 'none'}`;
      const result = await run(caseId, answer);
      expect(result).toMatchObject({ outcome: 'escalated', reason: 'not_extended' });
      const record = recordOf(result, 'extend')!;
      expect(record).toMatchObject({ pointer, goto: 'not_extended' });
      expect(record.failed).toContain('does not fit its declared response at');
    },
    60_000,
  );

  it('without on_error, an answer that does not fit fails the case for an admin, the pointer in its reason', async () => {
    const caseId = 'answer-bad-no-exit';
    answers.set(caseId, { new_deadline: 'soon', ticket: 'T-9' });
    await openSmallCase(runtime.service, runtime.db.pool, playbook(false), caseId);
    await expect.poll(async () => (await runtime.service.describe(caseId))?.status, { timeout: 20_000 }).toBe('failed');
    expect(await runtime.service.describe(caseId)).toMatchObject({ status: 'failed', step: 'extend' });
    expect((await runtime.db.pool.query(`SELECT reason, note FROM escalations WHERE case_id = $1`, [caseId])).rows).toEqual([
      { reason: 'case_failed', note: expect.stringContaining('does not fit its declared response at /new_deadline: must be an RFC 3339 timestamp') },
    ]);
  }, 60_000);
});
