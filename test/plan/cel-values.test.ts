/**
 * Durations reach CEL as cel-js's own Duration values, made from milliseconds without parsing a literal
 * each time: they must be the very values the literal gives, for CEL's equality, ordering and arithmetic.
 */
import { Environment } from '@marcbachmann/cel-js';
import { describe, expect, it } from 'vitest';
import { celDurationToMs, toCelPolicy, toCelValue } from '../../src/plan/cel.js';

const literal = new Environment().registerVariable('d', 'google.protobuf.Duration');
const parts = (value: unknown) => {
  const { seconds, nanos } = value as { seconds: bigint; nanos: number };
  return { seconds, nanos };
};

describe('a duration as CEL reads it', () => {
  it.each([0, 1, 999, 1_000, 1_001, 59_999, 86_400_000, 400 * 86_400_000, 2 ** 40, -5, -1_500])('%d ms is the literal of as many milliseconds', (ms) => {
    const made = toCelValue({ type: 'duration' }, ms);
    expect(parts(made)).toEqual(parts(new Environment().evaluate(`duration("${ms}ms")`)));
    expect(literal.evaluate(`d == duration("${ms}ms")`, { d: made })).toBe(true);
    // (cel-js adds to negative durations wrongly, literals alike: arithmetic is checked on the others.)
    if (ms >= 0) expect(literal.evaluate(`d + duration("1s") > duration("${ms}ms") && d - duration("1ms") < d`, { d: made })).toBe(true);
    expect(celDurationToMs(made)).toBe(ms);
  });

  it('a policy is built with the same values', () => {
    const policy = toCelPolicy({ window: { type: 'duration', ms: 7 * 86_400_000 }, times: { type: 'integer', value: 3 } });
    expect(parts(policy.window)).toEqual(parts(new Environment().evaluate('duration("168h")')));
    expect(policy.times).toBe(3n);
  });
});
