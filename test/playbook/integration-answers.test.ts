/** Integrations that answer: responses declared per operation, and expressions reading them checked at publish. */
import { describe, expect, it } from 'vitest';
import { validatePlaybook, type Diagnostic } from '../../src/playbook/index.js';
import { smallPlaybookSource } from '../support/small-playbooks.js';

const INTEGRATIONS = `integrations:
  warehouse:
    operations:
      extend_receipt:
        response:
          new_deadline: { type: timestamp }
          ticket: { type: string }
          label: { type: object, required: false, fields: { carrier: { type: string } } }
      ship_replacement: {}
`;

/** A playbook calling `extend_receipt` as step `extend`, then `then` (steps written after it). */
const withCall = (then: string, integrations = INTEGRATIONS) =>
  smallPlaybookSource(
    'answers',
    `${integrations}templates:
  told: { text: "x" }
steps:
  - id: extend
    call: { integration: warehouse, operation: extend_receipt, input: { order_id: data.order_id } }
  - id: ship
    call: { integration: warehouse, operation: ship_replacement }
${then}  - id: done
    end: { outcome: resolved, reason: done }
`,
  );

const errors = (source: string): Diagnostic[] => validatePlaybook(source, 'answers.yaml').diagnostics.filter((d) => d.severity === 'error');

describe('declaring what an integration answers', () => {
  it('compiles each operation, and the response of those that declare one', () => {
    const { plan } = validatePlaybook(withCall(''), 'answers.yaml').plan!;
    expect(plan.integrations.warehouse).toEqual({
      operations: ['extend_receipt', 'ship_replacement'],
      responses: {
        extend_receipt: {
          new_deadline: { type: 'timestamp', required: true },
          ticket: { type: 'string', required: true },
          label: { type: 'object', required: false, fields: { carrier: { type: 'string', required: true } } },
        },
      },
    });
  });

  it('a list of operations and a map without responses compile to the same plan and hash', () => {
    const listed = validatePlaybook(withCall('', 'integrations:\n  warehouse: { operations: [extend_receipt, ship_replacement] }\n'), 'a.yaml').plan!;
    const mapped = validatePlaybook(withCall('', 'integrations:\n  warehouse: { operations: { extend_receipt: {}, ship_replacement: {} } }\n'), 'a.yaml').plan!;
    expect(mapped.hash).toBe(listed.hash);
    expect(listed.plan.integrations.warehouse).toEqual({ operations: ['extend_receipt', 'ship_replacement'] });
  });

  it('later steps read the answer with its declared types', () => {
    const source = withCall(`  - id: check
    branch:
      cases:
        - when: steps.extend.result.new_deadline > now && steps.extend.result.ticket != "" && has(steps.extend.result.label)
          goto: tell
      otherwise: done
  - id: tell
    remark: { text: "deadline {{ steps.extend.result.new_deadline }}, ticket {{ steps.extend.result.ticket }}, by {{ steps.extend.result.label.carrier }}" }
`);
    expect(errors(source)).toEqual([]);
  });

  it('reading a property the response does not declare is PB145 at the property, with the declared ones', () => {
    const source = withCall(`  - id: tell
    remark: { text: "ticket {{ steps.extend.result.tiket }}" }
`);
    const [error, ...others] = errors(source);
    expect(others).toEqual([]);
    const line = source.split('\n').findIndex((l) => l.includes('tiket')) + 1;
    const column = source.split('\n')[line - 1]!.indexOf('tiket') + 1;
    expect(error).toMatchObject({ code: 'PB145', line, column });
    expect(error!.message).toContain("declares no property 'tiket'");
    expect(error!.hint).toContain('ticket');
  });

  it('a nested property the response does not declare, a step without a response and a step that is no call are PB145', () => {
    const source = withCall(`  - id: tell
    remark: { text: "{{ steps.extend.result.label.driver }} {{ steps.ship.result.x }} {{ steps.tell.result.x }}" }
`);
    const found = errors(source);
    expect(found.map((d) => d.code)).toEqual(['PB145', 'PB145', 'PB145']);
    expect(found[0]!.message).toContain("declares no property 'label.driver'");
    expect(found[1]!.message).toContain('warehouse.ship_replacement, which declares no response');
    expect(found[2]!.message).toContain("'tell' is not a call step whose operation declares a response");
  });

  it('a comprehension variable named steps is not the answers', () => {
    const source = withCall(`  - id: check
    branch: { cases: [{ when: "[1, 2].all(steps, steps > 0) && steps.extend.result.ticket != ''", goto: done }] }
`);
    expect(errors(source)).toEqual([]);
  });

  it('a step reached without the call having answered is warned (PB146), one reached only after its answer is not', () => {
    const answered = (source: string) => validatePlaybook(source, 'answers.yaml');
    const afterOnError = answered(
      withCall(`  - id: tell
    send: { to: buyer, template: told_ticket }
`)
        .replace('input: { order_id: data.order_id } }', 'input: { order_id: data.order_id }, on_error: tell }')
        .replace('told: { text: "x" }', 'told: { text: "x" }\n  told_ticket: { text: "ticket {{ steps.extend.result.ticket }}" }'),
    );
    expect(afterOnError.plan).toBeDefined();
    expect(afterOnError.diagnostics).toMatchObject([
      { code: 'PB146', severity: 'warning', message: expect.stringContaining("step 'tell' reads steps.extend.result") },
    ]);
    const onlyAfter = answered(
      withCall(`  - id: tell
    remark: { text: "ticket {{ steps.extend.result.ticket }}" }
`).replace('input: { order_id: data.order_id } }', 'input: { order_id: data.order_id }, on_error: done }'),
    );
    expect(onlyAfter.diagnostics).toEqual([]);
  });

  it('PB146 looks inside blocks: a branch reading a call of another branch is warned, a read after a join-all or later in the body is not', () => {
    /** The PB146 warnings: each message's start, and the line it points at. */
    const warned = (steps: string) => {
      const source = smallPlaybookSource('answers', `${INTEGRATIONS}steps:\n${steps}  - id: done\n    end: { outcome: resolved, reason: done }\n`);
      return validatePlaybook(source, 'answers.yaml')
        .diagnostics.filter((d) => d.code === 'PB146')
        .map((d) => [d.message.slice(0, d.message.indexOf(',')), source.split('\n')[d.line - 1]!.trim()]);
    };
    const call = 'call: { integration: warehouse, operation: extend_receipt, input: { order_id: data.order_id } }';
    const race = (join: string) => `  - id: both
    parallel:
      join: ${join}
      branches:
        - id: asks
          steps:
            - id: extend
              ${call}
        - id: reads
          steps:
            - id: pause
              delay: 1h
            - id: tell
              remark: { text: "ticket {{ steps.extend.result.ticket }}" }
  - id: after
    remark: { text: "ticket {{ steps.extend.result.ticket }}" }
`;
    expect(warned(race('all'))).toEqual([["step 'tell' reads steps.extend.result", '- id: tell']]);
    expect(warned(race('any'))).toEqual([
      ["step 'tell' reads steps.extend.result", '- id: tell'],
      ["step 'after' reads steps.extend.result", '- id: after'],
    ]);
    const loop = (onError: string) => `  - id: each
    for_each:
      in: "[1, 2]"
      as: n
      max: 5
      steps:
        - id: extend
          ${call.replace(' }', ` }${onError}`)}
        - id: tell
          remark: { text: "ticket {{ steps.extend.result.ticket }}" }
`;
    expect(warned(loop(''))).toEqual([]);
    expect(warned(loop(', on_error: tell'))).toEqual([["step 'tell' reads steps.extend.result", '- id: tell']]);
  });

  it('a declared property of the wrong type for its place is a type error', () => {
    const wrongPlace = errors(
      withCall(`  - id: count
    set: { count: steps.extend.result.ticket }
`),
    );
    expect(wrongPlace).toMatchObject([{ code: 'PB202' }]);
    const wrongOperator = errors(
      withCall(`  - id: check
    branch: { cases: [{ when: steps.extend.result.new_deadline > 3, goto: done }] }
`),
    );
    expect(wrongOperator).toMatchObject([{ code: 'PB201' }]);
  });

  it('a response of an unknown field type is refused by the schema', () => {
    const source = withCall('', INTEGRATIONS.replace('ticket: { type: string }', 'ticket: { type: text }'));
    expect(errors(source)[0]).toMatchObject({ code: expect.stringMatching(/^SCHEMA/) });
  });
});
