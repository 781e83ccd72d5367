/** Expressions beyond CEL's own: the shop's profile, who opened the case, and local days for windows. */
import { describe, expect, it } from 'vitest';
import { expressionEnvironment } from '../../src/plan/cel.js';
import { validatePlaybook } from '../../src/playbook/index.js';

const env = (timezone: string) => expressionEnvironment({ fields: {}, events: {}, policy: {}, timezone, shop: { name: 'Casebook Store' } });
const endOfDay = (timezone: string, at: string, days: number) =>
  (env(timezone).evaluate(`end_of_day(now, ${days})`, { now: new Date(at) }) as Date).toISOString();

describe('end_of_day', () => {
  it('ends the local day n days later, in the playbook’s time zone', () => {
    // 04:00 on the 25th in Shanghai: the seventh day after is December 2nd.
    expect(endOfDay('Asia/Shanghai', '2026-11-24T20:00:00Z', 7)).toBe('2026-12-02T15:59:59.999Z');
    expect(endOfDay('Asia/Shanghai', '2026-11-24T15:59:59Z', 0)).toBe('2026-11-24T15:59:59.999Z');
    expect(endOfDay('UTC', '2026-12-28T12:00:00Z', 7)).toBe('2027-01-04T23:59:59.999Z');
  });

  it('keeps local midnight across a daylight-saving change', () => {
    // New York leaves daylight saving on 2026-11-01: the day ends at 05:00Z, not 04:00Z.
    expect(endOfDay('America/New_York', '2026-10-30T16:00:00Z', 3)).toBe('2026-11-03T04:59:59.999Z');
    expect(endOfDay('America/New_York', '2026-10-30T16:00:00Z', 1)).toBe('2026-11-01T03:59:59.999Z');
  });

  it('refuses a count of days no playbook needs', () => {
    expect(() => endOfDay('UTC', '2026-11-24T00:00:00Z', 100_000)).toThrow(/at most 3660 days/);
  });
});

describe('the shop and the agent in templates', () => {
  const playbook = (text: string) => `playbook: mini
case_type: return
currency: CNY
fields:
  order_id: { type: string }
shop:
  name: Casebook Store
templates:
  hello: { text: "${text}" }
steps:
  - id: hello
    send: { to: buyer, template: hello }
  - id: done
    end: { outcome: resolved, reason: said }
`;

  it('type-checks shop values and opened_by', () => {
    const result = validatePlaybook(playbook('{{ shop.name }} · {{ opened_by }} · {{ end_of_day(now, 7) }}'), 'mini.yaml');
    expect(result.diagnostics).toEqual([]);
    expect(result.plan?.plan.shop).toEqual({ name: 'Casebook Store' });
  });

  it('reports a shop value that is not in the profile where it is written', () => {
    const result = validatePlaybook(playbook('{{ shop.adress }}'), 'mini.yaml');
    expect(result.diagnostics.map((d) => `${d.code} ${d.line}:${d.column}`)).toEqual(['PB201 9:27']);
  });
});
