/**
 * The cost model counts text: a string function by the length it reads, `matches` by the text's length
 * times the pattern's, whatever the strings' origin (a path, a comprehension's items, a split).
 */
import { describe, expect, it } from 'vitest';
import { expressionEnvironment, parseExpression } from '../../src/plan/cel.js';
import { estimateCost, MAX_EXPRESSION_COST, type CelNode } from '../../src/plan/cost.js';
import type { FieldSpec } from '../../src/plan/plan.js';

const fields: Record<string, FieldSpec> = {
  name: { type: 'string', required: true },
  note: { type: 'string', required: true },
  count: { type: 'integer', required: true },
  tags: { type: 'list', items: { type: 'string' }, required: true },
  items: {
    type: 'list',
    items: { type: 'object', fields: { name: { type: 'string', required: true }, qty: { type: 'integer', required: true } } },
    required: true,
  },
};
const env = expressionEnvironment({ fields, events: {}, policy: {} });
const astOf = (cel: string) => (parseExpression(env, cel) as unknown as { ast: CelNode }).ast;

/** The cost with these lengths at member paths (as the workflow measures them; 0 for the others) and `longest` for strings from elsewhere. */
const cost = (cel: string, lengths: Record<string, number> = {}, longest = 0) => estimateCost(astOf(cel), (path) => lengths[path] ?? 0, longest).cost;

describe('what text costs', () => {
  it('matches: the text length times the pattern length in tens, and compiling the pattern', () => {
    expect(cost('data.name.matches("^(a+)+$")', { 'data.name': 31 })).toBe(4 + 31 + 2 * 7);
    expect(cost('data.name.matches("^(a+)+$")', { 'data.name': 200_000 })).toBeGreaterThan(MAX_EXPRESSION_COST);
    const long = `^(${'abcdefghij'.repeat(5)})$`;
    expect(cost(`data.name.matches("${long}")`, { 'data.name': 1_000 })).toBe(4 + 1_000 * 6 + 2 * 54);
  });

  it('string functions and operators: one unit per ten characters read', () => {
    expect(cost('data.name.contains("x")', { 'data.name': 1_000 })).toBe(4 + 101);
    expect(cost('data.name + data.note == "x"', { 'data.name': 500, 'data.note': 500 })).toBe(7 + 100 + 101);
    expect(cost('data.count + 1 > 2', { 'data.count': 0 })).toBe(6);
    // cel-js counts a string's code points one by one.
    expect(cost('data.items.all(i, data.note.size() > 0)', { 'data.items': 1_000, 'data.note': 1_000_000 })).toBeGreaterThan(MAX_EXPRESSION_COST);
    expect(cost('size(data.note) > 0', { 'data.note': 1_000 })).toBe(5 + 100);
    expect(cost('data.tags.size() > 0', { 'data.tags': 1_000 })).toBe(5);
  });

  it("a comprehension's items are measured by their own path, a split by its text", () => {
    const all = 'data.items.all(i, i.name.matches("^a+$"))';
    expect(cost(all, { 'data.items': 1_000, 'data.items[].name': 10 })).toBe(2 + 1_000 * (1 + 4 + 10 + 2 * 4));
    expect(cost(all, { 'data.items': 1_000, 'data.items[].name': 100_000 })).toBeGreaterThan(MAX_EXPRESSION_COST);
    // Split into one item per character, each walked: the list is as long as the text.
    expect(cost('data.note.split("").exists(c, c == "x")', { 'data.note': 100_000 })).toBeGreaterThan(MAX_EXPRESSION_COST);
    // Joined a thousand times over: the text built is counted.
    expect(cost('data.tags.map(t, data.note).join().size() > 0', { 'data.tags': 1_000, 'data.note': 100_000 })).toBeGreaterThan(MAX_EXPRESSION_COST);
  });

  it('at publish time a string from the case counts as empty: its length is only known when a case runs', () => {
    expect(estimateCost(astOf('data.name.matches("^(a+)+$")')).cost).toBe(4 + 0 + 2 * 7);
    expect(estimateCost(astOf('data.items.all(i, i.name.contains("x"))')).cost).toBe(2 + 1_000 * (1 + 4 + 1));
  });

  it('a string whose origin the model cannot follow counts as the longest the case holds', () => {
    expect(cost('string(data.count).contains("1")', { 'data.count': 0 })).toBe(5 + 4);
    expect(cost('(data.count > 0 ? data.name : data.note).matches("a")', { 'data.name': 10, 'data.note': 1_000 })).toBeGreaterThanOrEqual(1_000);
    expect(cost('data.name.matches(data.note)', { 'data.name': 0, 'data.note': 60_000 })).toBeGreaterThan(MAX_EXPRESSION_COST);
    expect(cost('{"a": data.name}["a"].contains("x")', { 'data.name': 10 }, 50_000)).toBeGreaterThan(5_000);
  });
});
