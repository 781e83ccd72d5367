/** `cancel_on` handlers and `compensations`: what they compile to, and each mistake's code at its position. */
import { describe, expect, it } from 'vitest';
import { validatePlaybook } from '../../src/playbook/index.js';
import { smallPlaybookSource } from '../support/small-playbooks.js';

const EVENTS = `events:
  warehouse.received: { payload: {} }
  buyer.cancelled: { payload: { reason: { type: string } } }
templates:
  cancelled: { text: "cancelled" }
`;

/** The small playbook's source: `body` after the events and templates; lines are counted from the file's start. */
const source = (body: string) => smallPlaybookSource('cancellable', `${EVENTS}${body}`);
const compile = (body: string) => validatePlaybook(source(body), 'cancellable.yaml');
const lineOf = (body: string, text: string) =>
  source(body)
    .split('\n')
    .findIndex((line) => line.includes(text)) + 1;
const lastLineOf = (body: string, text: string) => {
  const lines = source(body).split('\n');
  return lines.length - [...lines].reverse().findIndex((line) => line.includes(text));
};
/** The diagnostics' codes and positions, in the file's order. */
const codes = (body: string) =>
  compile(body)
    .diagnostics.map((d) => ({ code: d.code, line: d.line, column: d.column }))
    .sort((a, b) => a.line - b.line || a.column - b.column);

const STEPS = `steps:
  - id: flag_order
    remark: { text: flagged, flag: red }
    compensate: unflag_order
  - id: wait_warehouse
    wait: { events: [{ event: warehouse.received }], timeout: 7d, on_timeout: done }
  - id: done
    end: { outcome: resolved, reason: received }
`;

describe('cancel_on and compensations compile', () => {
  it('into the plan: the handler with its condition and reason, the step naming its compensation', () => {
    const body = `cancel_on:
  buyer.cancelled:
    where: event.reason != ""
    reason: "buyer withdrew: {{ event.reason }}"
${STEPS}compensations:
  - id: unflag_order
    remark: { text: unflagged, flag: grey }
`;
    const { plan, diagnostics } = compile(body);
    expect(diagnostics).toEqual([]);
    expect(plan!.plan.cancelOn).toEqual({
      'buyer.cancelled': {
        where: expect.objectContaining({ cel: 'event.reason != ""' }),
        reason: { text: 'buyer withdrew: {{ event.reason }}', placeholders: [expect.objectContaining({ cel: 'event.reason' })] },
      },
    });
    expect(plan!.plan.steps.flag_order).toMatchObject({ compensate: 'unflag_order' });
    expect(plan!.plan.compensations!.unflag_order).toMatchObject({ kind: 'remark', flag: 'grey' });
  });

  it('a playbook without them compiles to the same plan as before (no new keys)', () => {
    const { plan } = compile(STEPS.replace('    compensate: unflag_order\n', ''));
    expect(plan!.plan).not.toHaveProperty('cancelOn');
    expect(plan!.plan).not.toHaveProperty('compensations');
    expect(plan!.plan.steps.flag_order).not.toHaveProperty('compensate');
  });
});

describe('mistakes, each with its code where it is written', () => {
  const compensations = `compensations:
  - id: unflag_order
    remark: { text: unflagged, flag: grey }
`;

  it('PB345: cancel_on naming an undeclared event', () => {
    const body = `cancel_on:\n  buyer.canceled: {}\n${STEPS}${compensations}`;
    expect(codes(body)).toEqual([{ code: 'PB345', line: lineOf(body, 'buyer.canceled'), column: 3 }]);
    expect(compile(body).diagnostics[0]!.hint).toMatch(/buyer\.cancelled/);
  });

  it('PB346: cancel_on naming an event a step waits for', () => {
    const body = `cancel_on:\n  warehouse.received: {}\n${STEPS}${compensations}`;
    expect(codes(body)).toEqual([{ code: 'PB346', line: lineOf(body, '  warehouse.received: {}'), column: 3 }]);
  });

  it('PB202 and PB201: a where that is not a condition, a reason reading an unknown payload field', () => {
    const body = `cancel_on:\n  buyer.cancelled:\n    where: event.reason\n    reason: "{{ event.why }}"\n${STEPS}${compensations}`;
    expect(codes(body).map((d) => [d.code, d.line])).toEqual([
      ['PB202', lineOf(body, 'where: event.reason')],
      ['PB201', lineOf(body, 'event.why')],
    ]);
  });

  it('PB347: compensate naming no compensation', () => {
    const body = `${STEPS.replace('compensate: unflag_order', 'compensate: unflag')}${compensations}`;
    expect(codes(body)).toEqual([
      { code: 'PB347', line: lineOf(body, 'compensate: unflag'), column: 17 },
      { code: 'PB352', line: lineOf(body, '- id: unflag_order'), column: 5 },
    ]);
  });

  it('PB348: compensate on a step with nothing to undo, or on a refund', () => {
    const body = `${STEPS.replace('    wait: { events', '    compensate: unflag_order\n    wait: { events')}${compensations}`;
    expect(codes(body)).toEqual([{ code: 'PB348', line: lineOf(body, 'id: wait_warehouse') + 1, column: 5 }]);
  });

  it('PB349, PB350, PB351: a compensation that waits, one compensated itself, one going to a step', () => {
    const body = `${STEPS}compensations:
  - id: unflag_order
    remark: { text: unflagged, flag: grey }
    next: done
  - id: wait_more
    delay: 1h
  - id: tell_buyer
    send: { to: buyer, template: cancelled }
    compensate: unflag_order
`;
    expect(codes(body)).toEqual([
      { code: 'PB351', line: lineOf(body, 'next: done'), column: 11 },
      { code: 'PB352', line: lineOf(body, 'id: wait_more'), column: 5 },
      { code: 'PB349', line: lineOf(body, 'delay: 1h'), column: 5 },
      { code: 'PB352', line: lineOf(body, 'id: tell_buyer'), column: 5 },
      { code: 'PB350', line: lastLineOf(body, 'compensate: unflag_order'), column: 5 },
    ]);
  });

  it('PB101: a compensation with the id of a step', () => {
    const body = `${STEPS}compensations:
  - id: unflag_order
    remark: { text: unflagged, flag: grey }
  - id: done
    remark: { text: again }
`;
    expect(codes(body)).toEqual([{ code: 'PB101', line: lastLineOf(body, '- id: done'), column: 9 }]);
  });
});
