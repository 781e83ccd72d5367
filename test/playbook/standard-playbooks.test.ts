import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readCalendarFolder, subPlaybooksInFolder } from '../../src/services/playbooks.js';
import { NO_MARKETPLACE_PACKS } from '../../src/playbook/marketplace-packs.js';
import { canonicalJson, hashPlan, validatePlaybook } from '../../src/playbook/index.js';

const DIR = fileURLToPath(new URL('../../playbooks/', import.meta.url));
const { calendars } = readCalendarFolder(fileURLToPath(new URL('../../calendars/', import.meta.url)));
const playbooks = readdirSync(DIR)
  .filter((f) => f.endsWith('.yaml') && !f.endsWith('.test.yaml'))
  .sort();

describe('standard playbooks', () => {
  it.each(playbooks)('%s validates with no error and starts with the schema line', (file) => {
    const source = readFileSync(DIR + file, 'utf8');
    expect(source.split('\n')[0]).toBe('# yaml-language-server: $schema=../schemas/playbook.schema.json');
    // The sub-playbooks it runs (refund-and-notify) beside it, as `casebook validate` reads them.
    const playbooks = subPlaybooksInFolder(DIR + file, source, { calendars, marketplaces: NO_MARKETPLACE_PACKS });
    const result = validatePlaybook(source, file, { calendars, playbooks });
    expect(result.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(result.plan?.plan.planVersion).toBe(1);
    expect(result.plan?.hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('compiles the same source to the same plan and hash every time', () => {
    const source = readFileSync(DIR + 'return.yaml', 'utf8');
    const a = validatePlaybook(source, 'return.yaml').plan!;
    const b = validatePlaybook(source, 'other-name.yaml').plan!;
    expect(canonicalJson(a.plan)).toBe(canonicalJson(b.plan));
    expect(a.hash).toBe(b.hash);
    expect(hashPlan(a.plan)).toBe(a.hash);
  });

  it('changes the hash when a policy number changes', () => {
    const source = readFileSync(DIR + 'return.yaml', 'utf8');
    const original = validatePlaybook(source, 'return.yaml').plan!;
    const changed = validatePlaybook(source.replace('refund_sla: 24h', 'refund_sla: 12h'), 'return.yaml').plan!;
    expect(changed.hash).not.toBe(original.hash);
    expect(changed.plan.policy.refund_sla).toEqual({ type: 'duration', ms: 12 * 3_600_000 });
  });
});
