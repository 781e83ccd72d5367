/**
 * Moving running cases to another playbook version (issue 25 point 2) on the time-skipping server and
 * Postgres: 20 return cases waiting for the parcel move to a version that waits a day longer. Each
 * deadline moves (the projection's, and the timer: between the old and the new deadline the case still
 * waits), each history shows the swap (the update and the `migrated` record, in the audit trail with its
 * actor), each replays, and each completes under the new version. A case whose step the new version
 * lacks is reported and left alone.
 */
import { describe, expect, it } from 'vitest';
import { caseViewQuery } from '../../src/case-contract/messages.js';
import { composeBulkOperations } from '../../src/stack/compose.js';
import { confirmationOf, type BulkRequest } from '../../src/cases/bulk.js';
import { migrateCase, previewMigration } from '../../src/cases/migration.js';
import { workflowIdFor, type CaseResult } from '../../src/plan/case.js';
import type { PlaybookVersion } from '../../src/store/playbooks.js';
import { recordHistory } from '../support/histories.js';
import {
  atStep,
  EXCHANGE_AT_RECEIPT,
  LONGER_OFFER,
  LONGER_RECEIPT,
  openReturnAtReceipt,
  publishReturnVersion,
  RENAMED_RECEIPT,
} from '../support/migrations.js';
import { useRuntime } from '../support/runtime.js';
import { compileSmallPlaybook, openSmallCase } from '../support/small-playbooks.js';
import { openCase, returnCaseData } from '../support/playbooks.js';
import { publishPlaybook } from '../../src/store/playbooks.js';
import { caseRecords } from '../support/records.js';

const DAY = 86_400_000;
const CASES = Array.from({ length: 20 }, (_, i) => `mig-${String(i + 1).padStart(2, '0')}`);
const BY = { keyId: 'k-mei', name: 'Mei' };

let v1: PlaybookVersion;
let v2: PlaybookVersion;
let v3: PlaybookVersion;
const runtime = useRuntime(async ({ db }) => {
  v1 = await publishReturnVersion(db.pool);
  v2 = await publishReturnVersion(db.pool, LONGER_RECEIPT);
  v3 = await publishReturnVersion(db.pool, RENAMED_RECEIPT);
});

const handle = (caseId: string) => runtime.env.client.workflow.getHandle(workflowIdFor(caseId));
const timeoutOf = async (caseId: string) =>
  (await runtime.service.describe(caseId))!.deadlines.find((d) => d.kind === 'timeout' && d.step === 'wait_receipt')?.at;

/** Runs a migration as a bulk job to its end; the report of each case. */
async function migrateAll(caseIds: string[], toVersion: number, mapping: Record<string, string> = {}) {
  const bulk = composeBulkOperations(runtime.env.client, runtime.db.pool);
  try {
    const request: BulkRequest = {
      operation: 'migrate',
      selection: { playbook: 'return', status: 'waiting', version: v1.version },
      params: { reason: 'Double 11: parcels take longer', toVersion, mapping },
    };
    const submitted = await bulk.submit({ ...request, confirmation: confirmationOf(request), ratePerSecond: 50, by: BY });
    if (submitted.kind !== 'started') throw new Error(`the job did not start: ${submitted.kind}`);
    await bulk.wait(submitted.job.id);
    const report = await bulk.report(submitted.job.id, { after: 0, limit: 1000 });
    return new Map(report.filter((r) => caseIds.includes(r.caseId)).map((r) => [r.caseId, r]));
  } finally {
    await bulk.close();
  }
}

describe('moving waiting return cases to a version with a longer receipt timeout', () => {
  it('a case at a step the new version lacks is reported and left alone', async () => {
    await openReturnAtReceipt(runtime, 'mig-left', v1);
    const before = await timeoutOf('mig-left');
    const report = await migrateAll(['mig-left'], v3.version);
    expect(report.get('mig-left')).toMatchObject({ state: 'skipped' });
    expect(report.get('mig-left')!.detail).toContain(`left on v1: version ${v3.version} has no step 'wait_receipt'`);
    const after = await runtime.service.describe('mig-left');
    expect(after).toMatchObject({ version: v1.version, status: 'waiting', step: 'wait_receipt' });
    expect(await timeoutOf('mig-left')).toBe(before);
    expect((await handle('mig-left').query(caseViewQuery)).steps.map((s) => s.kind)).not.toContain('migrated');
    // Left alone, it goes on under its own version: its case is cancelled so the next test's job does not take it.
    await runtime.service.cancel('mig-left', { by: BY, reason: 'test done' });
    await handle('mig-left').result();
  });

  it('20 cases: each deadline moves a day, they wait past the old one, complete under v2, and replay', async () => {
    for (const caseId of CASES) await openReturnAtReceipt(runtime, caseId, v1);
    const old = new Map<string, string>();
    for (const caseId of CASES) old.set(caseId, (await timeoutOf(caseId))!);

    const preview = await previewMigration(runtime.db.pool, runtime.service, 'return', { toVersion: v2.version, mapping: {}, limit: 100 });
    if (preview.kind !== 'preview') throw new Error(preview.message);
    expect(preview).toMatchObject({ count: 20, movable: 20 });
    for (const previewed of preview.cases) {
      expect(previewed.changes).toEqual([
        expect.objectContaining({
          kind: 'deadline',
          step: 'wait_receipt',
          from: old.get(previewed.caseId),
          to: new Date(Date.parse(old.get(previewed.caseId)!) + DAY).toISOString(),
        }),
      ]);
    }

    const report = await migrateAll(CASES, v2.version);
    for (const caseId of CASES) {
      expect(report.get(caseId)).toMatchObject({ state: 'done' });
      expect(report.get(caseId)!.detail).toMatch(
        /^moved from v1 to v2 at wait_receipt; the timeout of step `wait_receipt` moves from .+ to .+ \(Asia\/Shanghai\)$/,
      );
      const moved = await runtime.service.describe(caseId);
      expect(moved).toMatchObject({ version: v2.version, status: 'waiting', step: 'wait_receipt' });
      await expect.poll(() => timeoutOf(caseId)).toBe(new Date(Date.parse(old.get(caseId)!) + DAY).toISOString());
    }
    // Moving again changes nothing: they are on v2.
    const again = await migrateAll(CASES, v2.version);
    expect(again.size).toBe(0);

    // Past every old deadline, before every new one: the timer moved too, the cases still wait.
    const latestOld = Math.max(...[...old.values()].map(Date.parse));
    await runtime.env.sleep(latestOld + 3_600_000 - (await runtime.env.currentTimeMs()));
    for (const caseId of CASES) await atStep(runtime, caseId, 'wait_receipt');

    for (const caseId of CASES) {
      await runtime.inbox.deliverEvent(caseId, { type: 'warehouse.received', id: `${caseId}-received`, payload: { condition: 'resellable' } });
    }
    for (const caseId of CASES) {
      const result = (await handle(caseId).result()) as CaseResult;
      expect(result).toMatchObject({ outcome: 'resolved', reason: 'refunded' });
    }
    const rows = await runtime.db.pool.query(`SELECT case_id, version, status, plan_hash FROM cases WHERE case_id = ANY($1) ORDER BY case_id`, [CASES]);
    expect(rows.rows.map((r) => [r.version, r.status, r.plan_hash])).toEqual(CASES.map(() => [v2.version, 'closed', v2.hash]));

    for (const caseId of CASES) {
      // The swap in the history: the update accepted, and the `migrated` record in the audit trail, with its actor.
      const events = (await handle(caseId).fetchHistory()).events!;
      expect(events.filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.name === 'migrateCase')).toHaveLength(1);
      const audit = await runtime.db.pool.query(`SELECT step_id, detail, actor_key_id, actor_name FROM audit_trail WHERE case_id = $1 AND kind = 'migrated'`, [
        caseId,
      ]);
      expect(audit.rows).toEqual([
        {
          step_id: 'wait_receipt',
          actor_key_id: BY.keyId,
          actor_name: BY.name,
          detail: expect.objectContaining({
            from: { version: v1.version, hash: v1.hash },
            to: { version: v2.version, hash: v2.hash },
            mapping: {},
            by: BY,
            reason: 'Double 11: parcels take longer',
          }),
        },
      ]);
      const replay = await runtime.audit.replay(caseId);
      expect(replay).toMatchObject({ kind: 'replayed', deterministic: true, divergence: null, auditTrail: { matches: true } });
    }
    await recordHistory(handle(CASES[0]!), 'return-migrated');
  });
});

/** A wait that nudges the buyer: every `every`, three times at most, until `timeout`. */
const nudging = (every: string | null, timeout: string) =>
  compileSmallPlaybook(
    'mig-nudge',
    `events:
  warehouse.received: { payload: {} }
templates:
  nudge: { text: "Please send the parcel back." }
steps:
  - id: wait_parcel
    wait:
      events: [{ event: warehouse.received }]
      timeout: ${timeout}
      on_timeout: late
${every ? `      remind: { every: ${every}, times: 3, template: nudge }\n` : ''}  - id: done
    end: { outcome: resolved, reason: received }
  - id: late
    end: { outcome: escalated, reason: late }
`,
  );

describe('a moved wait keeps its start and its reminders', () => {
  it('no reminder is sent twice; the new timeout counts from the wait’s start; one already passed is taken at once', async () => {
    const { pool } = runtime.db;
    await openSmallCase(runtime.service, pool, nudging('1d', '10d'), 'nudge-1');
    await openSmallCase(runtime.service, pool, nudging('1d', '10d'), 'nudge-2');
    await atStep(runtime, 'nudge-1', 'wait_parcel');
    await atStep(runtime, 'nudge-2', 'wait_parcel');
    const startOf = async (caseId: string) => Date.parse((await runtime.service.describe(caseId))!.deadlines.find((d) => d.kind === 'timeout')!.at) - 10 * DAY;
    const started = await startOf('nudge-1');
    const started2 = await startOf('nudge-2');
    const later = (await publishPlaybook(pool, '', nudging('2d', '2d'), 'test')).version;
    const shorter = (await publishPlaybook(pool, '', nudging(null, '1d'), 'test')).version;
    await runtime.env.sleep(started + 1.5 * DAY - (await runtime.env.currentTimeMs()));
    const nudges = async (caseId: string) => (await runtime.db.pool.query(`SELECT template FROM outbox_messages WHERE case_id = $1`, [caseId])).rowCount;
    await expect.poll(() => nudges('nudge-1')).toBe(1);

    // Every 2 days from the start, the first already sent: the next would be at day 4, past the new timeout at day 2.
    const moved = await migrateCase(pool, runtime.service, 'nudge-1', { toVersion: later.version, mapping: {}, by: BY, reason: 'slower nudges' });
    expect(moved).toMatchObject({ kind: 'migrated' });
    expect(moved.detail).toContain('moves from');
    // A timeout of one day from the start has passed when the case moves: it is taken at once.
    const passed = await migrateCase(pool, runtime.service, 'nudge-2', { toVersion: shorter.version, mapping: {}, by: BY, reason: 'no more waiting' });
    expect(passed).toMatchObject({ kind: 'migrated' });
    const first = { ...((await handle('nudge-1').result()) as CaseResult), steps: await caseRecords(runtime.db.pool, 'nudge-1') };
    expect(first).toMatchObject({ outcome: 'escalated', reason: 'late' });
    const timedOut = first.steps.find((s) => s.kind === 'wait')!;
    expect(timedOut.detail).toMatchObject({ since: new Date(started).toISOString(), timeout: new Date(started + 2 * DAY).toISOString(), reminders: 1 });
    expect(await nudges('nudge-1')).toBe(1);

    const second = { ...((await handle('nudge-2').result()) as CaseResult), steps: await caseRecords(runtime.db.pool, 'nudge-2') };
    expect(second).toMatchObject({ outcome: 'escalated', reason: 'late' });
    const wait = second.steps.find((s) => s.kind === 'wait')!;
    expect(wait.detail).toMatchObject({ timeout: new Date(started2 + DAY).toISOString(), reminders: 1 });
    expect(await nudges('nudge-2')).toBe(1);
    expect(Date.parse(wait.at) - (started + 1.5 * DAY)).toBeLessThan(DAY / 2);
    for (const caseId of ['nudge-1', 'nudge-2']) {
      expect(await runtime.audit.replay(caseId)).toMatchObject({ kind: 'replayed', deterministic: true, auditTrail: { matches: true } });
    }
  });
});

describe('a moved delay', () => {
  it('ends at its new length from the same start', async () => {
    const pause = (length: string) =>
      compileSmallPlaybook('mig-pause', `steps:\n  - id: cool_off\n    delay: ${length}\n  - id: done\n    end: { outcome: resolved, reason: waited }\n`);
    await openSmallCase(runtime.service, runtime.db.pool, pause('3d'), 'pause-1');
    await atStep(runtime, 'pause-1', 'cool_off');
    const since = Date.parse((await runtime.service.describe('pause-1'))!.deadlines.find((d) => d.kind === 'delay')!.at) - 3 * DAY;
    const longer = (await publishPlaybook(runtime.db.pool, '', pause('5d'), 'test')).version;
    const moved = await migrateCase(runtime.db.pool, runtime.service, 'pause-1', {
      toVersion: longer.version,
      mapping: {},
      by: BY,
      reason: 'longer cooling-off',
    });
    expect(moved.detail).toMatch(/^moved from v1 to v2 at cool_off; the end of step `cool_off` moves from .+ to .+ \(UTC\)$/);
    await runtime.env.sleep(since + 4 * DAY - (await runtime.env.currentTimeMs()));
    await atStep(runtime, 'pause-1', 'cool_off');
    const result = { ...((await handle('pause-1').result()) as CaseResult), steps: await caseRecords(runtime.db.pool, 'pause-1') };
    expect(result.steps.find((s) => s.kind === 'delay')!.detail).toMatchObject({
      since: new Date(since).toISOString(),
      until: new Date(since + 5 * DAY).toISOString(),
    });
    expect(await runtime.audit.replay('pause-1')).toMatchObject({ kind: 'replayed', deterministic: true, auditTrail: { matches: true } });
  });
});

describe('a wait right after a message', () => {
  it('the preview counts from when the wait started, as its timer does', async () => {
    const offer = await publishReturnVersion(runtime.db.pool, LONGER_OFFER);
    const now = await runtime.env.currentTimeMs();
    await openCase(runtime.service, { caseId: 'offer-1', playbook: 'return', version: v1.version, data: returnCaseData('TB-offer-1', now - 2 * DAY) });
    await atStep(runtime, 'offer-1', 'wait_exchange_answer');
    const deadline = (await runtime.service.describe('offer-1'))!.deadlines.find((d) => d.kind === 'timeout')!.at;
    const preview = await previewMigration(runtime.db.pool, runtime.service, 'return', { toVersion: offer.version, mapping: {}, limit: 100 });
    if (preview.kind !== 'preview') throw new Error(preview.message);
    // From the wait's start as the preview knows it: the step's (a report riding on the message may date the wait a few ms earlier).
    const [change] = preview.cases.find((c) => c.caseId === 'offer-1')!.changes;
    expect(change).toMatchObject({ step: 'wait_exchange_answer' });
    expect(Math.abs(Date.parse(change!.from!) - Date.parse(deadline))).toBeLessThan(1_000);
    expect(Date.parse(change!.to!) - Date.parse(change!.from!)).toBe(2 * 3_600_000);
    await migrateCase(runtime.db.pool, runtime.service, 'offer-1', { toVersion: offer.version, mapping: {}, by: BY, reason: 'more time to answer' });
    await expect
      .poll(async () => Date.parse((await runtime.service.describe('offer-1'))!.deadlines.find((d) => d.kind === 'timeout')!.at))
      .toBe(Date.parse(deadline) + 2 * 3_600_000);
  });
});

describe('a move whose projection write was lost', () => {
  it('is found done when run again, and the case list then says so', async () => {
    await openSmallCase(runtime.service, runtime.db.pool, nudging(null, '10d'), 'lost-1');
    await atStep(runtime, 'lost-1', 'wait_parcel');
    const longer = (await publishPlaybook(runtime.db.pool, '', nudging(null, '12d'), 'test')).version;
    const request = { toVersion: longer.version, mapping: {}, by: BY, reason: 'longer' };
    expect(await migrateCase(runtime.db.pool, runtime.service, 'lost-1', request)).toMatchObject({ kind: 'migrated' });
    // The process stopped after the update, before the projection said the new version.
    const before = (await runtime.service.describe('lost-1'))!.version;
    await runtime.db.pool.query(`UPDATE cases SET version = 1 WHERE case_id = 'lost-1'`);
    expect(await migrateCase(runtime.db.pool, runtime.service, 'lost-1', request)).toEqual({
      kind: 'migrated',
      detail: `moved to v${longer.version} earlier; the case list now says so`,
    });
    expect(before).toBe(longer.version);
    expect((await runtime.service.describe('lost-1'))!.version).toBe(longer.version);
    expect((await handle('lost-1').query(caseViewQuery)).steps.filter((s) => s.kind === 'migrated')).toHaveLength(1);
  });
});

describe('a moved wait listens for the new step’s events', () => {
  it('an event the old wait refused is taken once the case moved', async () => {
    const exchange = await publishReturnVersion(runtime.db.pool, EXCHANGE_AT_RECEIPT);
    await openReturnAtReceipt(runtime, 'listen-1', v1);
    const choice = { type: 'buyer.chose_exchange', payload: { wanted_item: 'the blue one' } };
    expect(await runtime.inbox.deliverEvent('listen-1', { ...choice, id: 'choice-1' })).toMatchObject({
      status: 'refused',
      reason: expect.stringContaining('not expected now'),
    });
    await migrateCase(runtime.db.pool, runtime.service, 'listen-1', { toVersion: exchange.version, mapping: {}, by: BY, reason: 'late exchanges' });
    expect(await runtime.inbox.deliverEvent('listen-1', { ...choice, id: 'choice-2' })).toEqual({ status: 'accepted' });
    expect((await handle('listen-1').result()) as CaseResult).toMatchObject({ outcome: 'resolved', reason: 'exchanged_instead' });
  });
});
