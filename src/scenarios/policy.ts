/** A scenario's policy values in place of the playbook's: the plan as a shop's tuning would compile it. */
import { parseDuration } from '../plan/duration.js';
import type { HashedPlan, PolicyValue } from '../plan/plan.js';
import { hashPlan } from '../playbook/index.js';

/** The plan with `overrides` in its policy, and a problem per value that is undeclared or of another kind. */
export function withPolicy(compiled: HashedPlan, overrides: Record<string, unknown>): { plan: HashedPlan; problems: { key: string; message: string }[] } {
  const entries = Object.entries(overrides);
  if (entries.length === 0) return { plan: compiled, problems: [] };
  const problems: { key: string; message: string }[] = [];
  const policy: Record<string, PolicyValue> = { ...compiled.plan.policy };
  for (const [key, value] of entries) {
    const declared = compiled.plan.policy[key];
    if (!declared) {
      problems.push({ key, message: `policy.${key} is not declared by the playbook (declared: ${Object.keys(compiled.plan.policy).join(', ') || 'none'})` });
      continue;
    }
    const replaced = policyValue(declared, value, compiled.plan.currency);
    if (typeof replaced === 'string') problems.push({ key, message: `policy.${key}: ${replaced}` });
    else policy[key] = replaced;
  }
  const plan = { ...compiled.plan, policy };
  return { plan: { plan, hash: hashPlan(plan) }, problems };
}

/** The value in the declared value's kind, or why it cannot be. */
function policyValue(declared: PolicyValue, value: unknown, currency: string): PolicyValue | string {
  switch (declared.type) {
    case 'duration': {
      const ms = typeof value === 'string' ? parseDuration(value) : undefined;
      return ms === undefined || ms <= 0 ? 'expected a duration such as 12h or 7d, as the playbook declares' : { type: 'duration', ms };
    }
    case 'integer':
      return Number.isSafeInteger(value) ? { type: 'integer', value: value as number } : 'expected an integer, as the playbook declares';
    case 'boolean':
      return typeof value === 'boolean' ? { type: 'boolean', value } : 'expected true or false, as the playbook declares';
    case 'string':
      return typeof value === 'string' && parseDuration(value) === undefined
        ? { type: 'string', value }
        : 'expected a string (not a duration), as the playbook declares';
    case 'money': {
      const money = value as { amount?: unknown; currency?: unknown } | null;
      return money && typeof money === 'object' && Number.isSafeInteger(money.amount) && (money.amount as number) >= 0 && money.currency === currency
        ? { type: 'money', amount: money.amount as number, currency }
        : `expected money { amount, currency: ${currency} }, as the playbook declares`;
    }
  }
}
