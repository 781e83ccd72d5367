/** `opens_on`: the signed inbound event that opens a case, checked at publish with file:line:col; evaluated as the API does. */
import { describe, expect, it } from 'vitest';
import { formatDiagnostic } from '../../src/playbook/diagnostics.js';
import { validatePlaybook } from '../../src/playbook/index.js';
import { evaluateOpening } from '../../src/plan/opening.js';

const playbook = (opensOn: string) => `playbook: quality-return
case_type: return
currency: CNY
fields:
  order_id: { type: string }
  paid: { type: money }
  note: { type: string, required: false }
${opensOn}steps:
  - id: done
    end: { outcome: resolved, reason: opened }
`;

const errors = (opensOn: string) =>
  validatePlaybook(playbook(opensOn), 'quality-return.yaml')
    .diagnostics.filter((d) => d.severity === 'error')
    .map(formatDiagnostic);

const GOOD = `opens_on:
  source: marketplace
  event: refund.requested
  payload:
    order_id: { type: string }
    paid: { type: money }
    reason: { type: string }
  when: event.data.reason == "quality" && event.data.paid.amount > 0
  data:
    order_id: event.data.order_id
    paid: event.data.paid
    note: '"ticket " + event.id'
`;

describe('opens_on', () => {
  it('compiles into the plan, and maps an event to case data when its condition holds', () => {
    const result = validatePlaybook(playbook(GOOD), 'quality-return.yaml');
    expect(result.diagnostics).toEqual([]);
    const { plan } = result.plan!;
    expect(plan.opensOn).toMatchObject({
      source: 'marketplace',
      event: 'refund.requested',
      when: { cel: expect.stringContaining('quality'), at: { line: 15 } },
    });
    const event = (reason: string) => ({
      source: 'marketplace',
      type: 'refund.requested',
      id: 'msg_1',
      at: '2026-12-06T10:00:00.000Z',
      data: { order_id: 'TB-1', paid: { amount: 500, currency: 'CNY' }, reason },
    });
    expect(evaluateOpening(plan.opensOn!, plan.fields, event('quality'), new Date())).toEqual({
      opens: true,
      data: { order_id: 'TB-1', paid: { amount: 500, currency: 'CNY' }, note: 'ticket msg_1' },
    });
    expect(evaluateOpening(plan.opensOn!, plan.fields, event('changed_mind'), new Date())).toEqual({ opens: false });
  });

  it('names a mapping that fails on the event by the case field it fills', () => {
    const { plan } = validatePlaybook(playbook(GOOD.replace('"ticket " + event.id', 'string(1 / (event.data.paid.amount - 500))')), 'q.yaml').plan!;
    const event = {
      source: 'marketplace',
      type: 'refund.requested',
      id: 'm',
      at: '2026-12-06T10:00:00.000Z',
      data: { order_id: 'TB-1', paid: { amount: 500, currency: 'CNY' }, reason: 'quality' },
    };
    expect(evaluateOpening(plan.opensOn!, plan.fields, event, new Date())).toMatchObject({ failed: true, pointer: '/data/note' });
  });

  it('refuses a field the playbook does not declare, a required field left out, and a value of the wrong type, each where it is written', () => {
    expect(errors(GOOD.replace('    note:', '    notes:'))).toEqual([
      "quality-return.yaml:19:5: error PB170: opens_on.data sets 'notes', which is not a declared case field (hint: did you mean 'note'?)",
    ]);
    expect(errors(GOOD.replace('    paid: event.data.paid\n', ''))).toEqual([
      'quality-return.yaml:16:3: error PB171: opens_on.data leaves required case field paid without a value (hint: map paid from the event, e.g. paid: event.data.paid, or make the field required: false)',
    ]);
    expect(errors(GOOD.replace('order_id: event.data.order_id', 'order_id: event.data.paid'))).toEqual([
      "quality-return.yaml:17:15: error PB202: expression has type $event.data.paid; a value of the field's type (string) is needed here",
    ]);
    expect(errors(GOOD.replace('event.data.reason == "quality"', 'event.data.motive == "quality"'))[0]).toMatch(
      /^quality-return\.yaml:15:\d+: error PB201: expression error: No such key: motive/,
    );
    expect(errors(GOOD.replace('event.data.reason == "quality" && event.data.paid.amount > 0', 'event.data.paid.amount'))).toEqual([
      expect.stringMatching(/^quality-return\.yaml:15:9: error PB202: expression has type an integer; a boolean is needed here/),
    ]);
  });
});
