/**
 * A current version per playbook (issue 25, point 3): publishing makes a version, making one current
 * (and going back to an earlier one) is an explicit, audited act, and new cases take the current one.
 * On the real stack: the API, Postgres as the application role, Temporal opening the cases.
 */
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { run as playbooksCommand } from '../../src/cli/commands/playbooks.js';
import { verifyAuditTrail } from '../../src/store/audit-chain.js';
import { keyIdOf, useApi } from '../support/api.js';
import { playbookPath, returnCaseData } from '../support/playbooks.js';
import { useRuntime } from '../support/runtime.js';

const RETURN_YAML = readFileSync(playbookPath('return'), 'utf8');
const V2 = RETURN_YAML.replace('refund_sla: 24h', 'refund_sla: 12h');
const V3 = RETURN_YAML.replace('refund_sla: 24h', 'refund_sla: 36h');
const DAY = 86_400_000;

const runtime = useRuntime();
const http = useApi(runtime, { lead: ['ops-lead', 'Mei, ops lead'], admin: ['admin', 'Admin'], agent: ['agent', 'Lei'], auditor: ['auditor', 'Audit'] });
let leadKeyId: string;

/** Opens a return case without naming a version through the API; answers the version it took. */
async function openedVersion(caseId: string): Promise<number> {
  const now = await runtime.env.currentTimeMs();
  const data = returnCaseData(caseId, now - DAY);
  const opened = await http.call('POST', '/v1/cases', http.keys.agent, { playbook: 'return', caseId, data });
  expect(opened.statusCode).toBe(201);
  const view = await http.call('GET', `/v1/cases/${caseId}`, http.keys.auditor);
  expect(view.json().version).toBe(opened.json().version);
  return opened.json().version;
}

beforeAll(() => {
  leadKeyId = keyIdOf(http.keys.lead);
});

describe('the current version of a playbook', () => {
  it('is the first version once published; a later one only when made current, and going back is audited', async () => {
    const first = await http.call('PUT', '/v1/playbooks/return', http.keys.lead, RETURN_YAML);
    expect(first.statusCode).toBe(201);
    expect(first.json()).toMatchObject({ version: 1, current: 1, madeCurrent: true });
    const second = await http.call('PUT', '/v1/playbooks/return', http.keys.lead, V2);
    expect(second.statusCode).toBe(201);
    expect(second.json()).toMatchObject({ version: 2, current: 1, madeCurrent: false });
    expect(await openedVersion('cur-1')).toBe(1);

    const lead = { keyId: leadKeyId, name: 'Mei, ops lead' };
    const forward = await http.call('POST', '/v1/playbooks/return/current', http.keys.lead, { version: 2, reason: 'a faster refund deadline' });
    expect(forward.statusCode).toBe(200);
    expect(forward.json()).toEqual({
      name: 'return',
      current: 2,
      changed: true,
      change: { id: expect.any(String), from: 1, to: 2, reason: 'a faster refund deadline', at: expect.any(String), by: lead },
    });
    expect(await openedVersion('cur-2')).toBe(2);

    const back = await http.call('POST', '/v1/playbooks/return/current', http.keys.admin, { version: 1, reason: 'v2 refunds before the parcel is checked' });
    expect(back.json()).toMatchObject({ current: 1, changed: true, change: { from: 2, to: 1, by: { name: 'Admin' } } });
    expect(await openedVersion('cur-3')).toBe(1);
    // Cases already open keep the version they run.
    expect((await http.call('GET', '/v1/cases/cur-2', http.keys.auditor)).json().version).toBe(2);

    const again = await http.call('POST', '/v1/playbooks/return/current', http.keys.lead, { version: 1, reason: 'again' });
    expect(again.json()).toEqual({ name: 'return', current: 1, changed: false, change: null });

    const versions = (await http.call('GET', '/v1/playbooks/return', http.keys.auditor)).json();
    expect(versions.current).toBe(1);
    expect(versions.changes.map((c: { from: number | null; to: number; reason: string }) => [c.from, c.to, c.reason])).toEqual([
      [2, 1, 'v2 refunds before the parcel is checked'],
      [1, 2, 'a faster refund deadline'],
      [null, 1, 'the first version published'],
    ]);
    expect((await http.call('GET', '/v1/playbooks', http.keys.agent)).json().playbooks).toEqual([
      expect.objectContaining({ name: 'return', version: 2, versions: 2, current: 1 }),
    ]);

    const { rows } = await runtime.db.pool.query(
      `SELECT actor_key_id, actor_name, detail FROM audit_events WHERE kind = 'made-current' AND case_id IS NULL AND seq IS NULL ORDER BY position`,
    );
    expect(rows.map((r) => [r.actor_name, r.detail.from, r.detail.to, r.detail.reason])).toEqual([
      ['Mei, ops lead', null, 1, 'the first version published'],
      ['Mei, ops lead', 1, 2, 'a faster refund deadline'],
      ['Admin', 2, 1, 'v2 refunds before the parcel is checked'],
    ]);
    expect(rows[1].actor_key_id).toBe(leadKeyId);
    expect(await verifyAuditTrail(runtime.db.pool)).toMatchObject({ intact: true, problems: [] });
  }, 60_000);

  it('publishing with make_current=true makes the version current in one step, audited with its reason', async () => {
    const published = await http.call('PUT', '/v1/playbooks/return?make_current=true&reason=Double%2011%20window', http.keys.lead, V3);
    expect(published.statusCode).toBe(201);
    expect(published.json()).toMatchObject({ version: 3, current: 3, madeCurrent: true });
    expect(await openedVersion('cur-4')).toBe(3);
    // The same content again with make_current: an older version becomes current again, the default reason.
    const republished = await http.call('PUT', '/v1/playbooks/return?make_current=true', http.keys.lead, V2);
    expect([republished.statusCode, republished.json().version, republished.json().current, republished.json().madeCurrent]).toEqual([200, 2, 2, true]);
    const changes = (await http.call('GET', '/v1/playbooks/return', http.keys.auditor)).json().changes;
    expect(changes.slice(0, 2).map((c: { from: number; to: number; reason: string }) => [c.from, c.to, c.reason])).toEqual([
      [3, 2, 'published and made current in one step'],
      [1, 3, 'Double 11 window'],
    ]);
    expect(await verifyAuditTrail(runtime.db.pool)).toMatchObject({ intact: true, problems: [] });
  }, 60_000);

  it('refuses what cannot be made current, with a JSON pointer, and people who may not', async () => {
    const missing = await http.call('POST', '/v1/playbooks/return/current', http.keys.lead, { version: 9, reason: 'typo' });
    expect(missing.statusCode).toBe(409);
    expect(missing.json()).toMatchObject({
      type: 'https://casebook.dev/problems/version-cannot-be-current',
      errors: [{ pointer: '/version', message: 'playbook return has no version 9: publish it first' }],
    });
    const unknown = await http.call('POST', '/v1/playbooks/nothing/current', http.keys.lead, { version: 1, reason: 'x' });
    expect([unknown.statusCode, unknown.json().type]).toEqual([404, 'https://casebook.dev/problems/unknown-playbook']);
    for (const body of [
      { version: 1 },
      { version: 1, reason: '' },
      { version: 1, reason: '   ' },
      { version: 0, reason: 'x' },
      { version: '1', reason: 'x' },
    ]) {
      const bad = await http.call('POST', '/v1/playbooks/return/current', http.keys.lead, body);
      expect([bad.statusCode, bad.json().type]).toEqual([400, 'https://casebook.dev/problems/invalid-request']);
    }
    const badQuery = await http.call('PUT', '/v1/playbooks/return?make_current=perhaps', http.keys.lead, V2);
    expect([badQuery.statusCode, badQuery.json().type]).toEqual([400, 'https://casebook.dev/problems/invalid-request']);
    for (const key of [http.keys.agent, http.keys.auditor]) {
      expect((await http.call('POST', '/v1/playbooks/return/current', key, { version: 1, reason: 'x' })).statusCode).toBe(403);
    }
  });

  it('casebook playbooks current shows the current version and its changes, and makes another current', async () => {
    const out: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string) => out.push(chunk) > 0) as typeof process.stdout.write;
    try {
      expect(await playbooksCommand(['current', 'return', '1', '--reason', 'back to the tested one', '--by', 'Mei'], runtime.db.url)).toBe(0);
      expect(await playbooksCommand(['current', 'return'], runtime.db.url)).toBe(0);
      expect(await playbooksCommand(['current', 'return', '7', '--reason', 'x'], runtime.db.url)).toBe(1);
      expect(await playbooksCommand(['current', 'return', '2'], runtime.db.url)).toBe(2);
    } finally {
      process.stdout.write = write;
    }
    expect(out[0]).toBe('return: version 1 is now current (was v2); new cases take it\n');
    expect(out[1]).toBe('return: version 1 is current (of 3)\n');
    expect(out[2]).toMatch(/^ {2}\S+ {2}v2 -> v1 {2}by Mei: back to the tested one\n$/);
    expect(await openedVersion('cur-5')).toBe(1);
  }, 60_000);
});
