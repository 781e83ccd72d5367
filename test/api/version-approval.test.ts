/**
 * The optional approval of a playbook version (issue 25, point 3): a playbook can require that an ops
 * lead or admin other than a version's publisher approves it before it becomes current. On the real
 * stack: the API, Postgres as the application role, Temporal opening the cases.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { run as playbooksCommand } from '../../src/cli/commands/playbooks.js';
import { verifyAuditTrail } from '../../src/store/audit-chain.js';
import { keyIdOf, useApi } from '../support/api.js';
import { playbookPath, returnCaseData } from '../support/playbooks.js';
import { useRuntime } from '../support/runtime.js';

const RETURN_YAML = readFileSync(playbookPath('return'), 'utf8');
const V2 = RETURN_YAML.replace('refund_sla: 24h', 'refund_sla: 12h');
const V3 = RETURN_YAML.replace('refund_sla: 24h', 'refund_sla: 36h');
const DAY = 86_400_000;
const PROBLEMS = 'https://casebook.dev/problems/';

const runtime = useRuntime();
const http = useApi(runtime, {
  lead: ['ops-lead', 'Mei, ops lead'],
  second: ['ops-lead', 'Jun, ops lead'],
  admin: ['admin', 'Admin'],
  agent: ['agent', 'Lei'],
  auditor: ['auditor', 'Audit'],
});

/** Opens a return case without naming a version; answers the version it took. */
async function openedVersion(caseId: string): Promise<number> {
  const now = await runtime.env.currentTimeMs();
  const data = returnCaseData(caseId, now - DAY);
  const opened = await http.call('POST', '/v1/cases', http.keys.agent, { playbook: 'return', caseId, data });
  expect(opened.statusCode).toBe(201);
  return opened.json().version;
}

describe('approving a playbook version before it becomes current', () => {
  it('a playbook requiring approval takes a version only once another ops lead approved it, audited', async () => {
    expect((await http.call('PUT', '/v1/playbooks/return', http.keys.lead, RETURN_YAML)).statusCode).toBe(201);
    const setting = await http.call('PUT', '/v1/playbooks/return/settings', http.keys.admin, { approvalRequired: true, reason: 'Double 11: four eyes' });
    expect([setting.statusCode, setting.json()]).toEqual([200, { name: 'return', approvalRequired: true }]);
    expect((await http.call('PUT', '/v1/playbooks/return', http.keys.lead, V2)).json()).toMatchObject({ version: 2, current: 1, madeCurrent: false });

    const unapproved = await http.call('POST', '/v1/playbooks/return/current', http.keys.lead, { version: 2, reason: 'a faster refund deadline' });
    expect(unapproved.statusCode).toBe(409);
    const why =
      'playbook return requires an approval before a version becomes current, and version 2 has none: an ops lead or admin other than its publisher approves it with POST /v1/playbooks/return/versions/2/approve';
    expect(unapproved.json()).toMatchObject({ type: `${PROBLEMS}version-cannot-be-current`, detail: why, errors: [{ pointer: '/version', message: why }] });
    // Publishing with make_current publishes, but an unapproved version does not become current.
    const published = await http.call('PUT', '/v1/playbooks/return?make_current=true', http.keys.lead, V3);
    expect(published.json()).toMatchObject({ version: 3, current: 1, madeCurrent: false });
    expect(await openedVersion('ap-1')).toBe(1);

    const own = await http.call('POST', '/v1/playbooks/return/versions/2/approve', http.keys.lead, { reason: 'mine is fine' });
    expect([own.statusCode, own.json().type, own.json().detail]).toEqual([
      403,
      `${PROBLEMS}own-version-approval`,
      'version 2 of return was published by this key: another ops lead or admin approves it',
    ]);
    const approved = await http.call('POST', '/v1/playbooks/return/versions/2/approve', http.keys.second, { reason: 'checked the 12h SLA with finance' });
    expect(approved.statusCode).toBe(201);
    const jun = { keyId: keyIdOf(http.keys.second), name: 'Jun, ops lead' };
    expect(approved.json()).toEqual({
      name: 'return',
      created: true,
      approval: { id: expect.any(String), version: 2, reason: 'checked the 12h SLA with finance', at: expect.any(String), by: jun },
    });
    const again = await http.call('POST', '/v1/playbooks/return/versions/2/approve', http.keys.second, { reason: 'again' });
    expect([again.statusCode, again.json().created, again.json().approval.id]).toEqual([200, false, approved.json().approval.id]);

    const made = await http.call('POST', '/v1/playbooks/return/current', http.keys.lead, { version: 2, reason: 'a faster refund deadline' });
    expect(made.json()).toMatchObject({ current: 2, changed: true });
    expect(await openedVersion('ap-2')).toBe(2);
    // Going back needs an approval too: version 1 has none.
    expect((await http.call('POST', '/v1/playbooks/return/current', http.keys.second, { version: 1, reason: 'back' })).statusCode).toBe(409);

    const versions = (await http.call('GET', '/v1/playbooks/return', http.keys.auditor)).json();
    expect(versions).toMatchObject({ current: 2, approvalRequired: true, approvals: [{ version: 2, by: jun }] });

    const { rows } = await runtime.db.pool.query(
      `SELECT actor_key_id, actor_name, detail FROM audit_events WHERE kind = 'version-approved' AND case_id IS NULL AND seq IS NULL ORDER BY position`,
    );
    expect(rows.map((r) => [r.actor_key_id, r.actor_name, r.detail])).toEqual([
      [jun.keyId, jun.name, { name: 'return', approval: approved.json().approval.id, version: 2, reason: 'checked the 12h SLA with finance' }],
    ]);
    const settings = await runtime.db.pool.query(
      `SELECT actor_name, detail->>'approvalRequired' AS required, detail->>'reason' AS reason FROM audit_events
       WHERE kind = 'approval-setting-changed' AND case_id IS NULL AND seq IS NULL ORDER BY position`,
    );
    expect(settings.rows).toEqual([{ actor_name: 'Admin', required: 'true', reason: 'Double 11: four eyes' }]);
    expect(await verifyAuditTrail(runtime.db.pool)).toMatchObject({ intact: true, problems: [] });

    // The application role cannot change or remove an approval or a setting.
    for (const sql of ['UPDATE playbook_version_approvals SET reason = $1', 'DELETE FROM playbook_settings WHERE reason <> $1']) {
      await expect(runtime.db.pool.query(sql, ['x'])).rejects.toThrow(/permission denied/);
    }
  }, 60_000);

  it('casebook playbooks current refuses an unapproved version and lists approvals; turning the setting off lets it through', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    const writeErr = process.stderr.write.bind(process.stderr);
    process.stdout.write = ((chunk: string) => out.push(chunk) > 0) as typeof process.stdout.write;
    process.stderr.write = ((chunk: string) => err.push(chunk) > 0) as typeof process.stderr.write;
    try {
      expect(await playbooksCommand(['current', 'return', '3', '--reason', 'x', '--by', 'Mei'], runtime.db.url)).toBe(1);
      expect(await playbooksCommand(['current', 'return'], runtime.db.url)).toBe(0);
    } finally {
      process.stdout.write = write;
      process.stderr.write = writeErr;
    }
    expect(err.join('')).toContain('version 3 has none');
    expect(out.join('')).toContain('a version needs an approval by a second ops lead before it becomes current\n');
    expect(out.join('')).toMatch(/ {2}v2 approved by Jun, ops lead: checked the 12h SLA with finance\n/);

    expect((await http.call('PUT', '/v1/playbooks/return/settings', http.keys.lead, { approvalRequired: false, reason: 'after Double 11' })).statusCode).toBe(
      200,
    );
    expect((await http.call('POST', '/v1/playbooks/return/current', http.keys.lead, { version: 3, reason: 'the 36h SLA' })).json()).toMatchObject({
      current: 3,
      changed: true,
    });
    expect((await http.call('GET', '/v1/playbooks/return', http.keys.auditor)).json().approvalRequired).toBe(false);
  }, 60_000);

  it('refuses approvals and settings it cannot take, and people who may not', async () => {
    const missing = await http.call('POST', '/v1/playbooks/return/versions/9/approve', http.keys.admin, { reason: 'x' });
    expect([missing.statusCode, missing.json().type]).toEqual([404, `${PROBLEMS}unknown-playbook-version`]);
    const unknown = await http.call('PUT', '/v1/playbooks/nothing/settings', http.keys.admin, { approvalRequired: true, reason: 'x' });
    expect([unknown.statusCode, unknown.json().type]).toEqual([404, `${PROBLEMS}unknown-playbook`]);
    for (const [url, body] of [
      ['/v1/playbooks/return/versions/1/approve', {}],
      ['/v1/playbooks/return/versions/1/approve', { reason: ' ' }],
      ['/v1/playbooks/return/versions/0/approve', { reason: 'x' }],
      ['/v1/playbooks/return/settings', { approvalRequired: 'yes', reason: 'x' }],
      ['/v1/playbooks/return/settings', { approvalRequired: true }],
    ] as const) {
      const method = url.endsWith('settings') ? 'PUT' : 'POST';
      const bad = await http.call(method, url, http.keys.admin, body);
      expect([bad.statusCode, bad.json().type]).toEqual([400, `${PROBLEMS}invalid-request`]);
    }
    for (const key of [http.keys.agent, http.keys.auditor]) {
      expect((await http.call('POST', '/v1/playbooks/return/versions/1/approve', key, { reason: 'x' })).statusCode).toBe(403);
      expect((await http.call('PUT', '/v1/playbooks/return/settings', key, { approvalRequired: true, reason: 'x' })).statusCode).toBe(403);
    }
  });
});
