/** parallel and for_each at publish: nested bodies compiled with their flow checks, positioned diagnostics, diagrams. */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { mermaidDiagram, planGraph } from '../../src/playbook/diagram.js';
import { readMarketplacePacks, validateWithMarketplace } from '../../src/playbook/marketplace-packs.js';
import { validatePlaybook, type Diagnostic } from '../../src/playbook/index.js';
import type { ForEachStep, ParallelStep } from '../../src/plan/steps/index.js';
import { smallPlaybookSource } from '../support/small-playbooks.js';

const HEAD = `events:
  parcel.shipped: { payload: {} }
  payment.received: { payload: {} }
policy:
  most_lines: 20
  too_many: 5000
  too_wide: 60
templates:
  note: { text: "line {{ line.id }}: {{ line.paid.amount }}" }
`;

/** `lines` (a list of objects) is declared beside the small playbook's fields. */
const source = (steps: string) =>
  smallPlaybookSource('blocks', `${HEAD}steps:\n${steps}`).replace(
    '  count: { type: integer, required: false }\n',
    '  count: { type: integer, required: false }\n  lines: { type: list, required: false, items: { type: object, fields: { id: { type: string }, paid: { type: money } } } }\n',
  );

const compile = (steps: string) => validatePlaybook(source(steps), 'blocks.yaml');
const problems = (steps: string): Pick<Diagnostic, 'code' | 'line' | 'severity' | 'message'>[] =>
  compile(steps).diagnostics.map(({ code, line, severity, message }) => ({ code, line, severity, message }));

const GOOD = `  - id: both
    parallel:
      join: all
      branches:
        - id: ship
          steps:
            - id: wait_ship
              wait: { events: [{ event: parcel.shipped }], timeout: 3d, on_timeout: ship_late }
            - id: shipped_note
              remark: { text: shipped }
              next: ship_done
            - id: ship_late
              remark: { text: late }
            - id: ship_done
              remark: { text: ship branch done }
          cleanup:
            - id: undo_ship
              remark: { text: shipping cancelled }
        - id: collect
          steps:
            - id: wait_pay
              wait: { events: [{ event: payment.received }], timeout: 3d, on_timeout: pay_late }
            - id: pay_late
              remark: { text: paid or late }
  - id: each_line
    for_each:
      in: data.lines
      as: line
      max: policy.most_lines
      concurrency: 2
      collect: line.paid.amount * 2
      steps:
        - id: tell_line
          send: { to: agent, template: note }
  - id: check
    branch: { cases: [{ when: "steps.each_line.results.size() > 0", goto: done }] }
  - id: done
    end: { outcome: resolved, reason: done }
`;

describe('parallel and for_each compile', () => {
  it('compiles nested bodies into the plan, each step once, with its block naming its body', () => {
    const result = compile(GOOD);
    expect(result.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const { steps } = result.plan!.plan;
    const both = steps.both as ParallelStep;
    expect(both.branches.map((b) => [b.id, b.body.start, b.body.steps.length, b.cleanup?.start])).toEqual([
      ['ship', 'wait_ship', 4, 'undo_ship'],
      ['collect', 'wait_pay', 2, undefined],
    ]);
    expect(both.next).toBe('each_line');
    // A body's last step goes to the body's end, not to the step after the block.
    expect(steps.ship_done).toMatchObject({ next: '$end' });
    expect(steps.pay_late).toMatchObject({ next: '$end' });
    const loop = steps.each_line as ForEachStep;
    expect(loop).toMatchObject({ as: 'line', max: 20, concurrency: 2, itemType: { type: 'object' }, body: { start: 'tell_line', steps: ['tell_line'] } });
    expect(loop.collect?.cel).toBe('line.paid.amount * 2');
  });

  it('types the item from its list: a property the items do not have is an error in the body', () => {
    const bad = GOOD.replace('collect: line.paid.amount * 2', 'collect: line.price');
    expect(problems(bad)).toContainEqual(expect.objectContaining({ code: 'PB201', line: 52, message: 'expression error: No such key: price' }));
  });

  it('refuses a body step going outside its body, and a step going into a body (PB310)', () => {
    expect(problems(GOOD.replace('              next: ship_done', '              next: done'))).toContainEqual(
      expect.objectContaining({ code: 'PB310', line: 32, message: expect.stringContaining("step 'done' is outside this body") }),
    );
    expect(problems(GOOD.replace('goto: done }', 'goto: tell_line }'))).toContainEqual(
      expect.objectContaining({ code: 'PB310', message: expect.stringContaining("step 'tell_line' is inside a nested body") }),
    );
  });

  it('checks ids across the whole playbook, bodies included (PB101), with where the first one is', () => {
    expect(problems(GOOD.replace('- id: pay_late', '- id: wait_ship'))).toContainEqual(
      expect.objectContaining({ code: 'PB101', line: 44, message: "duplicate step id 'wait_ship' (first used at step 1 of branch 1 of step 1)" }),
    );
  });

  it('checks the loop: its bounds (PB313), its item name (PB312), a cleanup that ends (PB314), and its cost (PB315)', () => {
    expect(problems(GOOD.replace('max: policy.most_lines', 'max: policy.too_many'))).toEqual([
      expect.objectContaining({ code: 'PB313', line: 50, message: 'policy.too_many is out of range: from 1 to 1000' }),
    ]);
    expect(problems(GOOD.replace('concurrency: 2', 'concurrency: policy.too_wide'))).toEqual([
      expect.objectContaining({ code: 'PB313', line: 51, message: 'policy.too_wide is out of range: from 1 to 50' }),
    ]);
    // The schema bounds what is written as a number.
    expect(problems(GOOD.replace('max: policy.most_lines', 'max: 5000')).map((p) => p.code)).toEqual(['SCHEMA007']);
    expect(problems(GOOD.replace('max: policy.most_lines', 'max: policy.nothing'))).toContainEqual(expect.objectContaining({ code: 'PB313' }));
    expect(problems(GOOD.replace('as: line', 'as: data'))).toContainEqual(expect.objectContaining({ code: 'PB312', line: 49 }));
    expect(problems(GOOD.replace('              remark: { text: shipping cancelled }', '              end: { outcome: resolved, reason: x }'))).toContainEqual(
      expect.objectContaining({ code: 'PB314', line: 38 }),
    );
    const nested = `  - id: outer
    for_each:
      in: data.lines
      as: line
      max: 1000
      steps:
        - id: inner
          for_each:
            in: data.lines
            as: other
            max: 10
            steps:
              - id: note_inner
                remark: { text: "{{ line.id }} {{ other.id }}" }
  - id: done
    end: { outcome: resolved, reason: done }
`;
    expect(problems(nested)).toContainEqual(
      expect.objectContaining({
        code: 'PB315',
        line: 22,
        message: "loop 'outer' may run 11000 steps (its body's steps times max 1000); a case runs at most 5000",
      }),
    );
  });

  it('checks flow inside bodies: unreachable steps, paths that never leave the body (PB103, PB108)', () => {
    const stuck = `  - id: both
    parallel:
      branches:
        - id: ship
          steps:
            - id: ship_done
              remark: { text: ship branch done }
              next: again
            - id: again
              wait: { events: [{ event: parcel.shipped, goto: ship_done }], timeout: 1d, on_timeout: ship_done }
        - id: other
          steps:
            - id: other_note
              remark: { text: other }
  - id: done
    end: { outcome: resolved, reason: done }
`;
    expect(problems(stuck)).toContainEqual(
      expect.objectContaining({ code: 'PB108', line: 27, message: "no path from step 'ship_done' ever ends the case or its body" }),
    );
    const unreachable = GOOD.replace(
      '              remark: { text: shipped }\n              next: ship_done',
      '              remark: { text: shipped }\n              next: ship_done\n            - id: orphan\n              remark: { text: never }',
    );
    expect(problems(unreachable)).toContainEqual(expect.objectContaining({ code: 'PB103', message: "step 'orphan' can never be reached" }));
  });

  it('warns of a race branch that never waits (PB317)', () => {
    expect(problems(GOOD.replace('join: all', 'join: any'))).toEqual([]);
    const instant = GOOD.replace('join: all', 'join: first').replace(
      '              wait: { events: [{ event: payment.received }], timeout: 3d, on_timeout: pay_late }',
      '              remark: { text: at once }',
    );
    expect(problems(instant)).toContainEqual(expect.objectContaining({ code: 'PB317', severity: 'warning' }));
  });

  it('draws a block as a fork or a loop, its bodies inside it, a body done going back to its block', () => {
    const plan = compile(GOOD).plan!.plan;
    const graph = planGraph(plan);
    expect(graph.nodes.find((n) => n.id === 'both')).toMatchObject({ shape: 'fork', label: 'parallel (all): ship / collect' });
    expect(graph.nodes.find((n) => n.id === 'each_line')).toMatchObject({ shape: 'loop' });
    expect(graph.edges).toContainEqual({ from: 'both', to: 'wait_ship', label: 'branch ship' });
    expect(graph.edges).toContainEqual({ from: 'both', to: 'undo_ship', label: 'cleanup ship' });
    expect(graph.edges).toContainEqual({ from: 'ship_done', to: 'both', label: 'done' });
    expect(graph.edges).toContainEqual({ from: 'each_line', to: 'tell_line', label: 'each line (2 at once)' });
    const mermaid = mermaidDiagram(plan);
    expect(mermaid).toContain('s_both[["both<br/>parallel (all): ship / collect"]]');
    expect(mermaid).toContain('subgraph s_both_0 ["branch ship"]');
    expect(mermaid).toContain('s_each_line{{"each_line<br/>for each line in data.lines (at most 20)"}}');
  });

  it("checks a refund in a loop against the marketplace's deadline, pointing into the loop's body", () => {
    const file = 'marketplaces/taobao.yaml';
    const packs = readMarketplacePacks([{ file, text: readFileSync(fileURLToPath(new URL(`../../${file}`, import.meta.url))) }]);
    const playbook = `playbook: refund-lines
case_type: presale
currency: CNY
marketplace:
  name: taobao
  rules:
    refund-before-shipping: [refund_line]
fields:
  order_id: { type: string }
  order_total: { type: money }
  lines: { type: list, items: { type: object, fields: { id: { type: string }, paid: { type: money } } } }
paid_field: order_total
order_id_field: order_id
steps:
  - id: each_line
    for_each:
      in: data.lines
      as: line
      max: 10
      steps:
        - id: refund_line
          refund: { amount: line.paid.amount, reason: cancelled_before_shipping, within: 3d, from: case.opened, on_breach: noted, on_declined: noted }
        - id: noted
          remark: { text: "{{ line.id }}" }
  - id: done
    end: { outcome: resolved, reason: refunded }
`;
    const result = validateWithMarketplace(playbook, 'refund-lines.yaml', { marketplaces: packs });
    expect(result.diagnostics).toEqual([
      expect.objectContaining({ code: 'PB150', line: 22, message: expect.stringContaining("step 'refund_line' can last 3d") }),
    ]);
  });
});
