/** Order lines in the language: the line fields' shapes and a refund's `line` are checked at publish, with positions (PB300-PB305). */
import { describe, expect, it } from 'vitest';
import { validatePlaybook, type Diagnostic } from '../../src/playbook/index.js';
import type { RefundStep } from '../../src/plan/steps/refund.js';
import { checkOrderLines } from '../../src/plan/order-lines.js';

const LINE = `        id: { type: string }
        item: { type: string }
        quantity: { type: integer }
        paid: { type: money }
`;

/** A playbook with `lineFields` under fields (after order_id), `top` at the top level and `refund` extra in its refund step. */
const source = (lineFields: string, top: string, refund = '      line: data.returned[0]\n') => `playbook: lines
case_type: return
currency: CNY
fields:
  order_id: { type: string }
${lineFields}${top}events:
  warehouse.received: { payload: {} }
steps:
  - id: refund_line
    refund:
${refund}      amount: "100"
      reason: returned
      within: 24h
      from: warehouse.received
      on_breach: done
      on_declined: done
  - id: done
    end: { outcome: resolved, reason: refunded }
`;
const LINES = `  lines:
    type: list
    items:
      type: object
      fields:
${LINE}  returned: { type: list, items: { type: string } }
`;
const TOP = 'order_id_field: order_id\norder_lines_field: lines\nconcerned_lines_field: returned\n';

const errors = (yaml: string): Pick<Diagnostic, 'code' | 'line' | 'column'>[] =>
  validatePlaybook(yaml, 'lines.yaml')
    .diagnostics.filter((d) => d.severity === 'error')
    .map(({ code, line, column }) => ({ code, line, column }));

describe('order lines at publish', () => {
  it('compiles the line fields and a refund naming a line', () => {
    const compiled = validatePlaybook(source(LINES, TOP), 'lines.yaml');
    expect(compiled.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const { plan } = compiled.plan!;
    expect(plan).toMatchObject({ orderLinesField: 'lines', concernedLinesField: 'returned' });
    expect((plan.steps.refund_line as RefundStep).line).toMatchObject({ cel: 'data.returned[0]' });
    // A refund without `line` compiles as it always did.
    expect(validatePlaybook(source(LINES, TOP, ''), 'lines.yaml').plan!.plan.steps.refund_line).not.toHaveProperty('line');
  });

  it('PB300: order_lines_field naming no declared field, at the name', () => {
    expect(errors(source(LINES, TOP.replace('order_lines_field: lines', 'order_lines_field: line')))).toContainEqual({ code: 'PB300', line: 17, column: 20 });
  });

  it('PB301: a field that is not a list of lines, at the member or the type', () => {
    expect(errors(source(LINES.replace('        quantity: { type: integer }\n', ''), TOP))).toContainEqual({ code: 'PB301', line: 10, column: 7 });
    expect(errors(source(LINES.replace('quantity: { type: integer }', 'quantity: { type: string }'), TOP))).toContainEqual({
      code: 'PB301',
      line: 13,
      column: 9,
    });
    expect(errors(source(LINES.replace('paid: { type: money }', 'paid: { type: money, required: false }'), TOP))).toContainEqual({
      code: 'PB301',
      line: 14,
      column: 9,
    });
    expect(errors(source('  lines: { type: list, items: { type: string } }\n  returned: { type: list, items: { type: string } }\n', TOP))).toContainEqual({
      code: 'PB301',
      line: 6,
      column: 18,
    });
  });

  it('PB302: concerned_lines_field naming no field or not a list of strings', () => {
    expect(errors(source(LINES, TOP.replace('concerned_lines_field: returned', 'concerned_lines_field: returns')))).toContainEqual({
      code: 'PB302',
      line: 18,
      column: 24,
    });
    expect(errors(source(LINES.replace('returned: { type: list, items: { type: string } }', 'returned: { type: string }'), TOP))).toContainEqual({
      code: 'PB302',
      line: 15,
      column: 21,
    });
  });

  it('PB303, PB304, PB305: what lines need', () => {
    expect(errors(source(LINES, 'order_id_field: order_id\nconcerned_lines_field: returned\n'))).toEqual(
      expect.arrayContaining([
        { code: 'PB303', line: 17, column: 1 },
        { code: 'PB305', line: 23, column: 7 },
      ]),
    );
    expect(errors(source(LINES, 'order_lines_field: lines\nconcerned_lines_field: returned\n'))).toContainEqual({ code: 'PB304', line: 16, column: 1 });
    // A refund with lines and no paid_field needs nothing more; without either, PB117.
    expect(errors(source(LINES, TOP))).toEqual([]);
    expect(errors(source(LINES, 'order_id_field: order_id\n', ''))).toContainEqual(expect.objectContaining({ code: 'PB117' }));
  });

  it('a line expression must be a string', () => {
    expect(errors(source(LINES, TOP, '      line: size(data.returned)\n'))).toContainEqual(expect.objectContaining({ code: 'PB202' }));
  });

  it('checks case data beyond types: lines hold together, concerned lines are among them', () => {
    const plan = validatePlaybook(source(LINES, TOP), 'lines.yaml').plan!.plan;
    const line = (id: string, amount: number, quantity = 1) => ({ id, item: 'x', quantity, paid: { amount, currency: 'CNY' } });
    expect(checkOrderLines(plan, { order_id: 'O', lines: [line('A', 1), line('B', 2)], returned: ['B'] })).toEqual([]);
    expect(checkOrderLines(plan, { order_id: 'O', lines: [line('A', 1), line('A', 2, 0)], returned: ['C'] })).toEqual([
      { pointer: '/data/lines/1/id', message: expect.stringMatching(/given twice/) },
      { pointer: '/data/lines/1/quantity', message: expect.stringMatching(/at least 1/) },
      { pointer: '/data/returned/0', message: expect.stringMatching(/'C' is not a line of the order/) },
    ]);
    const withPaid = validatePlaybook(source(`  paid: { type: money, required: false }\n${LINES}`, `${TOP}paid_field: paid\n`), 'lines.yaml').plan!.plan;
    const lines = [line('A', 100), line('B', 250)];
    expect(checkOrderLines(withPaid, { order_id: 'O', lines, returned: [], paid: { amount: 350, currency: 'CNY' } })).toEqual([]);
    expect(checkOrderLines(withPaid, { order_id: 'O', lines, returned: [] })).toEqual([]);
    expect(checkOrderLines(withPaid, { order_id: 'O', lines, returned: [], paid: { amount: 300, currency: 'CNY' } })).toEqual([
      { pointer: '/data/paid/amount', message: "says 300 was paid, but the order's lines add up to 350: what was paid is the sum of its lines" },
    ]);
    expect(checkOrderLines(plan, { order_id: 'O', lines: [line('A', Number.MAX_SAFE_INTEGER - 1), line('B', 5)], returned: [] })).toEqual([
      { pointer: '/data/lines', message: expect.stringMatching(/more than the .* minor units the ledger holds/) },
    ]);
  });
});
