/**
 * Moving running cases to another playbook version over the real API, Temporal test server and
 * Postgres: the preview says per open case whether it can move, why not and how its deadline moves;
 * the run is a bulk job whose report says what became of each case; bad requests are 4xx with a pointer.
 */
import type { LightMyRequestResponse } from 'fastify';
import { describe, expect, it, vi } from 'vitest';
import { run as migrateCommand } from '../../src/cli/commands/migrate.js';
import { workflowIdFor, type CaseResult } from '../../src/plan/case.js';
import type { PlaybookVersion } from '../../src/store/playbooks.js';
import { useApi } from '../support/api.js';
import { atStep, CARRIER_REQUIRED, LONGER_RECEIPT, openReturnAtReceipt, publishReturnVersion, RENAMED_RECEIPT } from '../support/migrations.js';
import { useRuntime } from '../support/runtime.js';
import { openCase, returnCaseData } from '../support/playbooks.js';
import { caseRecords } from '../support/records.js';

const DAY = 86_400_000;
let v1: PlaybookVersion;
let v2: PlaybookVersion;
let v3: PlaybookVersion;
let v4: PlaybookVersion;
const runtime = useRuntime(async ({ db }) => {
  v1 = await publishReturnVersion(db.pool);
  v2 = await publishReturnVersion(db.pool, LONGER_RECEIPT);
  v3 = await publishReturnVersion(db.pool, RENAMED_RECEIPT);
  v4 = await publishReturnVersion(db.pool, CARRIER_REQUIRED);
});
const http = useApi(runtime, { opsLead: ['ops-lead', 'Mei'], agent: ['agent', 'Lei'] });

function post(url: string, body: unknown, key = http.keys.opsLead, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
  return http.api.inject({
    method: 'POST',
    url,
    payload: JSON.stringify(body),
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}`, ...headers },
  });
}
const get = (url: string) => http.api.inject({ method: 'GET', url, headers: { authorization: `Bearer ${http.keys.opsLead}` } });
const preview = (body: unknown, key?: string) => post('/v1/playbooks/return/migrations/preview', body, key);

describe('the migration preview', () => {
  it('says per open case whether it can move and how its deadline moves; bad requests are 4xx with a pointer', async () => {
    await openReturnAtReceipt(runtime, 'mig-api-1', v1);
    await openReturnAtReceipt(runtime, 'mig-api-2', v1);
    // Still at the exchange offer: it moves, nothing changes for it.
    const now = await runtime.env.currentTimeMs();
    await openCase(runtime.service, { caseId: 'mig-api-3', playbook: 'return', version: v1.version, data: returnCaseData('TB-mig-api-3', now - 2 * DAY) });
    await atStep(runtime, 'mig-api-3', 'wait_exchange_answer');

    const to2 = await preview({ toVersion: v2.version });
    expect(to2.statusCode).toBe(200);
    const body = to2.json();
    expect(body).toMatchObject({ playbook: 'return', toVersion: v2.version, count: 3, movable: 3 });
    expect(body.confirmation).toMatch(/^[A-Za-z0-9_-]{22}$/);
    const first = body.cases.find((c: { caseId: string }) => c.caseId === 'mig-api-1');
    expect(first).toMatchObject({ fromVersion: v1.version, status: 'waiting', step: 'wait_receipt', movable: true, reasons: [], toStep: 'wait_receipt' });
    expect(first.changes).toHaveLength(1);
    const [change] = first.changes;
    expect(Date.parse(change.to) - Date.parse(change.from)).toBe(DAY);
    expect(change.text).toMatch(/^the timeout of step `wait_receipt` moves from \d{4}-\d\d-\d\d \d\d:\d\d to \d{4}-\d\d-\d\d \d\d:\d\d \(Asia\/Shanghai\)$/);
    const offered = body.cases.find((c: { caseId: string }) => c.caseId === 'mig-api-3');
    expect(offered).toMatchObject({ movable: true, step: 'wait_exchange_answer', toStep: 'wait_exchange_answer', changes: [] });

    // v3 has no wait_receipt: reported, unless the mapping names its new id.
    const to3 = (await preview({ toVersion: v3.version })).json();
    const stuck = to3.cases.find((c: { caseId: string }) => c.caseId === 'mig-api-1');
    expect(stuck).toMatchObject({ movable: false, toStep: 'wait_receipt', changes: [] });
    expect(stuck.reasons[0]).toContain(`version ${v3.version} has no step 'wait_receipt'`);
    const mapped = (await preview({ toVersion: v3.version, mapping: { wait_receipt: 'wait_parcel' } })).json();
    expect(mapped.cases.find((c: { caseId: string }) => c.caseId === 'mig-api-1')).toMatchObject({ movable: true, toStep: 'wait_parcel' });
    expect(mapped.confirmation).not.toBe(to3.confirmation);

    // v4 declares the shipment's carrier: a case that took its shipment without one stays; one still at the offer moves.
    const to4 = (await preview({ toVersion: v4.version })).json();
    expect(to4.cases.find((c: { caseId: string }) => c.caseId === 'mig-api-1')).toMatchObject({
      movable: false,
      reasons: [`the buyer.shipped event it took does not fit version ${v4.version}: /payload/carrier required field 'carrier' (string) is missing`],
    });
    expect(to4.cases.find((c: { caseId: string }) => c.caseId === 'mig-api-3')).toMatchObject({ movable: true });

    const bad = await preview({ toVersion: v3.version, mapping: { wait_receit: 'wait_parcel', wait_receipt: 'nowhere' } });
    expect(bad.statusCode).toBe(422);
    expect(bad.json()).toMatchObject({ type: 'https://casebook.dev/problems/invalid-migration-mapping' });
    expect(bad.json().errors.map((e: { pointer: string }) => e.pointer)).toEqual(['/mapping/wait_receipt', '/mapping/wait_receit']);
    expect((await preview({ toVersion: 99 })).json()).toMatchObject({ status: 404, errors: [{ pointer: '/toVersion' }] });
    expect((await post('/v1/playbooks/nothing/migrations/preview', { toVersion: 1 })).statusCode).toBe(404);
    const invalid = await preview({ toVersion: 0 });
    expect(invalid.statusCode).toBe(400);
    expect(JSON.stringify(invalid.json())).toContain('/toVersion');
    expect((await preview({ toVersion: v2.version }, http.keys.agent)).statusCode).toBe(403);
  });

  it('runs as a bulk job: the waiting cases move, each reported; a second run changes nothing', async () => {
    await openReturnAtReceipt(runtime, 'mig-api-4', v1);
    const request = { toVersion: v3.version, mapping: { wait_receipt: 'wait_parcel' }, fromVersion: v1.version };
    const { confirmation } = (await preview(request)).json();
    expect((await post('/v1/playbooks/return/migrations', { ...request, reason: 'Double 11', confirmation: 'wrong' })).statusCode).toBe(409);
    const run = { ...request, reason: 'Double 11: parcels take a day longer', confirmation, ratePerSecond: 50 };
    const keyed = { 'idempotency-key': 'double-11-move' };
    const started = await post('/v1/playbooks/return/migrations', run, http.keys.opsLead, keyed);
    expect(started.statusCode).toBe(202);
    const job = started.json();
    // The same key again is the same job; with another request, a refusal.
    const repeated = await post('/v1/playbooks/return/migrations', run, http.keys.opsLead, keyed);
    expect([repeated.statusCode, repeated.json().id]).toEqual([200, job.id]);
    expect((await post('/v1/playbooks/return/migrations', { ...run, reason: 'other' }, http.keys.opsLead, keyed)).statusCode).toBe(422);
    expect(job).toMatchObject({
      operation: 'migrate',
      params: { reason: 'Double 11: parcels take a day longer', toVersion: v3.version, mapping: { wait_receipt: 'wait_parcel' } },
    });
    await expect.poll(async () => (await get(`/v1/bulk-operations/${job.id}`)).json().status, { timeout: 60_000 }).toBe('finished');
    const report = (await get(`/v1/bulk-operations/${job.id}/cases`)).json().cases;
    const moved = report.find((c: { caseId: string }) => c.caseId === 'mig-api-4');
    expect(moved.state).toBe('done');
    expect(moved.detail).toMatch(/^moved from v1 to v3 at wait_parcel; the timeout of step `wait_parcel` moves from .* to .* \(Asia\/Shanghai\)$/);
    expect((await runtime.service.describe('mig-api-4'))?.version).toBe(v3.version);
    await atStep(runtime, 'mig-api-4', 'wait_parcel');
    // It goes on under v3, at the step's new id, and replays.
    await runtime.inbox.deliverEvent('mig-api-4', { type: 'warehouse.received', id: 'mig-api-4-received', payload: { condition: 'resellable' } });
    const handle = runtime.env.client.workflow.getHandle(workflowIdFor('mig-api-4'));
    const result = { ...((await handle.result()) as CaseResult), steps: await caseRecords(runtime.db.pool, 'mig-api-4') };
    expect(result).toMatchObject({ outcome: 'resolved', reason: 'refunded' });
    expect(result.steps.filter((s) => s.step === 'wait_parcel').map((s) => s.kind)).toEqual(['migrated', 'wait']);
    expect(result.steps.find((s) => s.kind === 'migrated')!.detail).toMatchObject({ fromStep: 'wait_receipt', mapping: { wait_receipt: 'wait_parcel' } });
    expect(await runtime.audit.replay('mig-api-4')).toMatchObject({ kind: 'replayed', deterministic: true, auditTrail: { matches: true } });

    // Again: the cases on v3 are no longer on v1, so the selection has none of them.
    const again = (await preview(request)).json();
    expect(again.cases.map((c: { caseId: string }) => c.caseId)).not.toContain('mig-api-4');
  });

  it('casebook migrate: a dry run line per case, a prompt, then the job and its report; bad arguments exit 2', async () => {
    await openReturnAtReceipt(runtime, 'mig-cli-1', v1);
    const where = { databaseUrl: runtime.db.url, temporalAddress: runtime.env.address, namespace: 'default' };
    const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const printed = () => out.mock.calls.map(([chunk]) => String(chunk)).join('');
    try {
      expect(await migrateCommand(['return', '--to', '2'], where)).toBe(2);
      expect(await migrateCommand(['return', '--to', 'two', '--dry-run'], where)).toBe(2);
      expect(await migrateCommand(['return', '--to', '3', '--map', 'wait_receipt', '--dry-run'], where)).toBe(2);
      expect(await migrateCommand(['return', '--to', '3', '--map', 'wait_receit=wait_parcel', '--dry-run'], where)).toBe(2);
      expect(await migrateCommand(['return', '--to', '2', '--from', '1', '--dry-run'], where)).toBe(0);
      expect(printed()).toMatch(
        /^mig-cli-1 {2}v1 waiting at wait_receipt: moves to v2 at wait_receipt; the timeout of step `wait_receipt` moves from .+ to .+ \(Asia\/Shanghai\)\n1 of 1 open case of return can move to v2\n$/,
      );
      out.mockClear();
      const args = ['return', '--to', '2', '--from', '1', '--reason', 'parcels take longer', '--by', 'Mei on call', '--rate', '50'];
      expect(await migrateCommand(args, { ...where, ask: async () => 'n' })).toBe(0);
      expect((await runtime.service.describe('mig-cli-1'))?.version).toBe(v1.version);
      expect(await migrateCommand([...args, '--yes'], where)).toBe(0);
      expect(printed()).toMatch(/mig-cli-1 {2}done {2}moved from v1 to v2 at wait_receipt[\s\S]*job \d+: 1 moved, 0 left as they were, 0 failed/);
    } finally {
      out.mockRestore();
      err.mockRestore();
    }
    expect((await runtime.service.describe('mig-cli-1'))?.version).toBe(v2.version);
    await expect
      .poll(async () => (await runtime.db.pool.query(`SELECT actor_name FROM audit_events WHERE kind = 'migrated' AND case_id = 'mig-cli-1'`)).rows)
      .toEqual([{ actor_name: 'Mei on call' }]);
  });

  it('POST /v1/bulk-operations takes migrate for a selection naming its playbook', async () => {
    await openReturnAtReceipt(runtime, 'mig-bulk-1', v1);
    const request = {
      operation: 'migrate',
      selection: { playbook: 'return', version: v1.version, status: 'waiting' },
      reason: 'a day longer',
      toVersion: v2.version,
    };
    const unnamed = await post('/v1/bulk-operations/dry-run', { ...request, selection: { status: 'waiting' } });
    expect(unnamed.statusCode).toBe(400);
    expect(JSON.stringify(unnamed.json())).toContain('/selection');
    expect((await post('/v1/bulk-operations/dry-run', { ...request, toVersion: undefined })).statusCode).toBe(400);
    expect((await post('/v1/bulk-operations/dry-run', { ...request, operation: 'cancel' })).statusCode).toBe(400);
    const dry = await post('/v1/bulk-operations/dry-run', request);
    expect(dry.statusCode).toBe(200);
    expect(dry.json()).toMatchObject({ operation: 'migrate', count: 1, sample: [{ caseId: 'mig-bulk-1', version: v1.version }] });
    const started = await post('/v1/bulk-operations', { ...request, confirmation: dry.json().confirmation, ratePerSecond: 50 });
    expect(started.statusCode).toBe(202);
    const { id } = started.json();
    await expect.poll(async () => (await get(`/v1/bulk-operations/${id}`)).json().status, { timeout: 60_000 }).toBe('finished');
    expect((await get(`/v1/bulk-operations/${id}/cases`)).json().cases).toEqual([
      expect.objectContaining({ caseId: 'mig-bulk-1', state: 'done', detail: expect.stringMatching(/^moved from v1 to v2 at wait_receipt; /) }),
    ]);
    expect((await runtime.service.describe('mig-bulk-1'))?.version).toBe(v2.version);
  });
});
