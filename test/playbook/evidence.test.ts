/** Evidence of a decision (src/plan/evidence.ts): the CEL printer, the terms a condition reads, values as people read them. */
import { Environment } from '@marcbachmann/cel-js';
import { describe, expect, it } from 'vitest';
import { eventConditionEnvironment, expressionEnvironment, toCelPolicy, toCelRecord } from '../../src/plan/cel.js';
import type { CelNode } from '../../src/plan/cost.js';
import { boundedJson, comparisonOperands, evidenceTerms, evidenceText, isoInZone, memberPaths, printCel, readableDuration } from '../../src/plan/evidence.js';
import type { Expr, Plan } from '../../src/plan/plan.js';
import { compileStandardPlaybook } from '../support/playbooks.js';

const astOf = (parsed: unknown) => (parsed as { ast: CelNode }).ast;

const env = new Environment()
  .registerVariable('data', 'map')
  .registerVariable('x', 'int')
  .registerVariable('y', 'int')
  .registerVariable('z', 'int')
  .registerVariable('a', 'bool')
  .registerVariable('b', 'bool')
  .registerVariable('c', 'bool')
  .registerVariable('s', 'string');
const context = { data: { l: [1n, 5n, 9n], m: { k: 'v' }, min: 4n, name: 'Li' }, x: 7n, y: 3n, z: 2n, a: true, b: false, c: true, s: 'say "hi"\n' };
const print = (cel: string) => printCel(astOf(env.parse(cel)));

describe('the CEL printer', () => {
  const expressions = [
    'x + y * z',
    '(x + y) * z',
    'x - (y - z)',
    'x - y - z',
    '(x + 1) * 2 > 3',
    'x / (y * z)',
    'x % y == 1',
    '!(a && b)',
    '!a && b',
    'a || b && c',
    '(a || b) && c',
    'a ? x : y',
    '(a ? b : c) ? x : y',
    'a ? x : b ? y : z',
    'a == (b == c)',
    '-x < -(y + z)',
    '-(-x)',
    '1.0 + 2.5 > 0.5',
    '7u > 3u',
    'b"ab" == b"ab"',
    's == "say \\"hi\\"\\n"',
    's.size() > 2',
    '[1, 2, 3][1] == 2',
    '{"k": 1}["k"] == 1',
    'data.m.k == "v"',
    'data.l.exists(i, i > data.min)',
    'data.l.map(i, i * 2)[2] == 18',
    'data.l.filter(i, i < x).size() == 2',
    'has(data.m.k) && !has(data.m.q)',
    '"Li" in [string(data.name), "Wang"]',
    'size(data.l) >= 3',
    'int("12") + 1 == 13',
    'string(x) + "!" == "7!"',
    'null == null',
    'x in [1, 7]',
  ];

  it.each(expressions)('%s prints back to CEL that parses to the same text and value', (cel) => {
    const printed = print(cel);
    expect(print(printed)).toBe(printed);
    expect(env.evaluate(printed, context)).toEqual(env.evaluate(cel, context));
  });

  it('parenthesizes only where the grammar needs it', () => {
    expect(print('((x + y)) * z')).toBe('(x + y) * z');
    expect(print('x + (y * z)')).toBe('x + y * z');
    expect(print('(x - y) - z')).toBe('x - y - z');
    expect(print('x - (y - z)')).toBe('x - (y - z)');
    expect(print('-(-x)')).toBe('- -x');
    expect(print('1.0 + 2e3')).toBe('1.0 + 2000.0');
    expect(print('data["a b"].c')).toBe('data["a b"].c');
  });

  it('prints operands that evaluate, alone, to what they were inside the comparison', () => {
    const cel = '(x + y) * z > data.l.map(i, i * 2)[1] && s.size() != x - (y - z)';
    const operands = comparisonOperands(astOf(env.parse(cel)));
    expect(operands).toEqual(['(x + y) * z', 'data.l.map(i, i * 2)[1]', 's.size()', 'x - (y - z)']);
    expect(operands.map((operand) => env.evaluate(operand, context))).toEqual([20n, 10n, 9n, 6n]);
  });
});

/** Every condition and amount of a compiled plan, with the environment it is evaluated in. */
function expressionsOf(plan: Plan): { expr: Expr; env: Environment }[] {
  const base = expressionEnvironment(plan);
  const out: { expr: Expr; env: Environment }[] = [];
  for (const step of Object.values(plan.steps) as unknown as Record<string, unknown>[]) {
    if (step.kind === 'branch') for (const entry of step.cases as { when: Expr }[]) out.push({ expr: entry.when, env: base });
    if (step.kind === 'refund') out.push({ expr: step.amount as Expr, env: base });
    if (step.kind === 'wait') {
      for (const [event, taken] of Object.entries(step.on as Record<string, { where?: Expr }>)) {
        if (taken.where) out.push({ expr: taken.where, env: eventConditionEnvironment(base, plan.events[event]!) });
      }
    }
  }
  return out;
}

const compiled = (name: string) => compileStandardPlaybook(name).plan.plan;

describe('what the standard playbooks’ decisions read', () => {
  it.each(['return', 'exchange', 'presale', 'review-recovery'])('%s: every term of every condition and amount parses in the plan’s environment', (name) => {
    const plan = compiled(name);
    const all = expressionsOf(plan);
    expect(all.length).toBeGreaterThan(2);
    for (const { expr, env: planEnv } of all) {
      const ast = astOf(planEnv.parse(expr.cel));
      const terms = evidenceTerms(ast);
      expect(terms.length, expr.cel).toBeGreaterThan(0);
      for (const term of terms) expect(() => planEnv.parse(term), `${term} of ${expr.cel}`).not.toThrow();
      // The whole condition printed parses back to the same text.
      expect(printCel(astOf(planEnv.parse(printCel(ast))))).toBe(printCel(ast));
    }
  });

  const termsOf = (name: string, cel: string) => {
    const found = expressionsOf(compiled(name)).find(({ expr }) => expr.cel === cel);
    if (!found) throw new Error(`${name} has no expression ${cel}`);
    const ast = astOf(found.env.parse(cel));
    return { operands: comparisonOperands(ast), paths: memberPaths(ast), terms: evidenceTerms(ast) };
  };

  it('return: the window check reads the time since signing and the window', () => {
    expect(termsOf('return', 'now - data.signed_at <= policy.return_window')).toEqual({
      operands: ['now - data.signed_at', 'policy.return_window'],
      paths: ['now', 'data.signed_at', 'policy.return_window'],
      terms: ['now - data.signed_at', 'policy.return_window', 'now', 'data.signed_at'],
    });
  });

  it('return: the marketplace window reads the counting rule and the end of the last day', () => {
    expect(termsOf('return', 'policy.window_counting == "marketplace" && now <= end_of_day(data.signed_at, policy.return_window.getHours() / 24)')).toEqual({
      operands: ['policy.window_counting', 'now', 'end_of_day(data.signed_at, policy.return_window.getHours() / 24)'],
      paths: ['policy.window_counting', 'now', 'data.signed_at', 'policy.return_window'],
      terms: ['policy.window_counting', 'now', 'end_of_day(data.signed_at, policy.return_window.getHours() / 24)', 'data.signed_at', 'policy.return_window'],
    });
  });

  it('return: a reason among a list, a field that may be absent, an amount', () => {
    expect(termsOf('return', 'data.reason in ["quality", "not_as_described", "damaged_in_transit", "wrong_item"]').terms).toEqual(['data.reason']);
    expect(termsOf('return', 'has(data.window_override)')).toEqual({ operands: [], paths: ['data.window_override'], terms: ['data.window_override'] });
    expect(termsOf('return', 'data.shipped_free ? data.order_total.amount : data.order_total.amount - data.outbound_shipping.amount').terms).toEqual([
      'data.shipped_free',
      'data.order_total.amount',
      'data.outbound_shipping.amount',
    ]);
    expect(termsOf('return', 'events.warehouse.received.condition != "resellable"').terms).toEqual(['events.warehouse.received.condition']);
  });

  it('exchange: the price comparison; review-recovery: a wait condition on the event', () => {
    expect(termsOf('exchange', 'data.wanted_price.amount < data.original_price.amount').terms).toEqual([
      'data.wanted_price.amount',
      'data.original_price.amount',
    ]);
    expect(termsOf('review-recovery', 'event.new_rating == "positive"').terms).toEqual(['event.new_rating']);
  });

  it('leaves out what a comprehension binds', () => {
    const ast = astOf(env.parse('data.l.exists(i, i > data.min) && data.l.all(i, i != x)'));
    expect(comparisonOperands(ast)).toEqual(['data.min', 'x']);
    expect(memberPaths(ast)).toEqual(['data.l', 'data.min', 'x']);
  });
});

describe('values as people read them', () => {
  const policyEnv = expressionEnvironment({ fields: {}, events: {}, policy: {} });
  const duration = (text: string) => policyEnv.evaluate(`duration("${text}")`, {});

  it('spans in days, hours, minutes and seconds', () => {
    expect(evidenceText(duration('183600s'), 'UTC')).toBe('2d 3h');
    expect(evidenceText(duration('74460s'), 'UTC')).toBe('20h 41m');
    expect(readableDuration(-(3 * 3_600_000 + 2 * 60_000))).toBe('-3h 2m');
    expect(readableDuration(500)).toBe('0s');
  });

  it('instants in ISO 8601 in the playbook’s time zone', () => {
    expect(evidenceText(new Date('2026-11-20T01:00:00Z'), 'Asia/Shanghai')).toBe('2026-11-20T09:00:00+08:00');
    expect(isoInZone(Date.parse('2026-11-20T01:00:00.250Z'), 'UTC')).toBe('2026-11-20T01:00:00.250Z');
    expect(isoInZone(Date.parse('2026-07-01T12:00:00Z'), 'America/New_York')).toBe('2026-07-01T08:00:00-04:00');
  });

  it('money, numbers, booleans and text; long text cut at 200 characters', () => {
    const fields = { total: { type: 'money' as const } };
    const money = toCelRecord(fields, { total: { amount: 19_900, currency: 'CNY' } }).total;
    expect(evidenceText(money, 'UTC')).toBe('199.00 CNY');
    expect(evidenceText(toCelPolicy({ fee: { type: 'money', amount: 500, currency: 'JPY' } }).fee, 'UTC')).toBe('500 JPY');
    expect(evidenceText(19_900n, 'UTC')).toBe('19900');
    expect(evidenceText(false, 'UTC')).toBe('false');
    expect(evidenceText('quality', 'UTC')).toBe('quality');
    expect(evidenceText(['a', 1n], 'UTC')).toBe('["a",1]');
    const long = evidenceText('x'.repeat(500), 'UTC');
    expect(long).toHaveLength(200);
    expect(long.endsWith('…')).toBe(true);
  });

  it('results kept to about 2 KB: small ones whole, large ones by their keys', () => {
    expect(boundedJson({ ok: true, n: 3 })).toEqual({ ok: true, n: 3 });
    const large = boundedJson({ status: 'shipped', log: 'y'.repeat(5000), tail: 1 }) as Record<string, unknown>;
    expect(Object.keys(large)).toEqual(['status', 'log', 'tail']);
    expect(large.status).toBe('shipped');
    expect(large.log as string).toHaveLength(200);
    expect(JSON.stringify(large).length).toBeLessThanOrEqual(2048);
    const many = boundedJson(Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`key${i}`, 'v'.repeat(20)]))) as Record<string, unknown>;
    expect(JSON.stringify(many).length).toBeLessThanOrEqual(2100);
    expect(many['…']).toMatch(/^\d+ more keys$/);
    expect(boundedJson('z'.repeat(3000)) as string).toHaveLength(2048);
  });
});
