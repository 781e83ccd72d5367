/**
 * On the real Temporal dev server: a return case driven to its refund and closed is archived with its
 * history; after its workflow is deleted from Temporal (as retention would), `casebook replay` still
 * answers deterministic from the archive, also with Temporal stopped; a changed interpreter diverges at
 * a named event and step; a long case's continued-as-new runs are archived and replay too.
 */
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import pg from 'pg';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { HistoryArchiver, runsInTemporal } from '../../src/cases/archive.js';
import { CaseAudit } from '../../src/cases/audit.js';
import type { EventInbox } from '../../src/cases/inbox.js';
import { replayCase } from '../../src/cases/replay.js';
import type { CaseService } from '../../src/cases/service.js';
import { run as exportCommand } from '../../src/cli/commands/export.js';
import { run as replayCommand } from '../../src/cli/commands/replay.js';
import { workflowIdFor, type CaseResult } from '../../src/plan/case.js';
import { PlanReferenceCodec } from '../../src/stack/plan-references.js';
import { WorkflowReplayer } from '../../src/stack/replayer.js';
import { startTemporalDevServer, type DevServerHandle } from '../../src/stack/temporal-dev-server.js';
import { composeApi, composeServices } from '../../src/stack/compose.js';
import { createApiKey } from '../../src/store/api-keys.js';
import { verifyAuditTrail } from '../../src/store/audit-chain.js';
import { publishedPlanByHash } from '../../src/store/playbooks.js';
import { devServerOptions } from '../support/dev-server.js';
import { composeTestWorker } from '../support/runtime.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { openCase, publishStandardPlaybook } from '../support/playbooks.js';
import { compileSmallPlaybook, countTicksTo, openSmallCase, RECEIPT_THEN_REFUND } from '../support/small-playbooks.js';

const DAY = 86_400_000;
const TASK_QUEUE = 'archive-replay';
const dataDir = mkdtempSync(join(tmpdir(), 'casebook-archive-'));
let server: DevServerHandle;
let db: TestDatabase;
let connection: Connection;
let client: Client;
let archiver: HistoryArchiver;
/** The continued runs of a long case name their plan by hash (docs/decisions/0018-plans-by-reference-in-histories.md). */
const replayer = new WorkflowReplayer({ plans: new PlanReferenceCodec((hash) => publishedPlanByHash(db.pool, hash)) });

beforeAll(async () => {
  [server, db] = await Promise.all([
    startTemporalDevServer(await devServerOptions(dataDir, { dynamicConfig: { 'limit.historyCount.suggestContinueAsNew': 60 }, retentionDays: 45 })),
    createTestDatabase(),
  ]);
  connection = await Connection.connect({ address: server.address });
  client = new Client({ connection });
  archiver = new HistoryArchiver(client, db.pool);
}, 90_000);
afterAll(async () => {
  await connection?.close();
  await server?.stop();
  await db?.drop();
  rmSync(dataDir, { recursive: true, force: true });
});

async function withWorker<T>(fn: (service: CaseService, inbox: EventInbox) => Promise<T>): Promise<T> {
  const workerConnection = await NativeConnection.connect({ address: server.address });
  const worker = await composeTestWorker({ connection: workerConnection, pool: db.pool, taskQueue: TASK_QUEUE });
  try {
    const { cases, inbox } = composeServices({ client, pool: db.pool, taskQueue: TASK_QUEUE });
    return await worker.runUntil(() => fn(cases, inbox));
  } finally {
    await workerConnection.close();
  }
}

/** Runs the CLI in-process with this test's database and Temporal; its exit code and what it printed. */
async function cli(args: string[], temporalAddress = server.address) {
  const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    const code = await replayCommand(args, { databaseUrl: db.url, temporalAddress, namespace: 'default', replayer });
    return { code, stdout: out.mock.calls.map((c) => String(c[0])).join(''), stderr: err.mock.calls.map((c) => String(c[0])).join('') };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

async function auditTrail(caseId: string) {
  const { rows } = await db.pool.query(`SELECT seq, step_id, kind, detail FROM audit_trail WHERE case_id = $1 AND seq IS NOT NULL ORDER BY seq`, [caseId]);
  return rows.map((r) => ({ seq: r.seq, step: r.step_id, kind: r.kind, detail: r.detail }));
}

describe('archive and replay on the Temporal dev server', () => {
  const caseId = 'audit-ret-1';

  it('the dev server keeps closed histories as long as configured (its own default is a day)', async () => {
    const { config } = await connection.workflowService.describeNamespace({ namespace: 'default' });
    expect(Number(config?.workflowExecutionRetentionTtl?.seconds)).toBe(45 * 86_400);
  });

  it('a refunded, closed case is archived with its history and replays deterministic from Temporal', async () => {
    const playbook = await publishStandardPlaybook(db.pool, 'return');
    await withWorker(async (service, inbox) => {
      await openCase(service, {
        caseId,
        playbook: playbook.name,
        version: playbook.version,
        data: {
          order_id: 'TB-9001',
          buyer_name: 'Han Meimei',
          order_total: { amount: 19_900, currency: 'CNY' },
          outbound_shipping: { amount: 1_000, currency: 'CNY' },
          shipped_free: false,
          signed_at: new Date(Date.now() - 2 * DAY).toISOString(),
          reason: 'no_reason',
          shipping_insurance: false,
        },
      });
      await expect.poll(async () => (await service.describe(caseId))?.waitingFor, { timeout: 15_000 }).toContain('buyer.kept_return');
      await inbox.deliverEvent(caseId, { type: 'buyer.kept_return', id: 'kept-1', payload: {} });
      await expect.poll(async () => (await service.describe(caseId))?.waitingFor, { timeout: 15_000 }).toContain('buyer.shipped');
      await inbox.deliverEvent(caseId, { type: 'buyer.shipped', id: 'ship-1', payload: { tracking_number: 'SF1001' } });
      await expect.poll(async () => (await service.describe(caseId))?.waitingFor, { timeout: 15_000 }).toEqual(['warehouse.received']);

      await inbox.deliverEvent(caseId, { type: 'warehouse.received', id: 'wh-1', payload: { condition: 'resellable' } });
      expect((await client.workflow.getHandle(workflowIdFor(caseId)).result()) as CaseResult).toMatchObject({ outcome: 'resolved', reason: 'refunded' });
    });
    expect((await db.pool.query(`SELECT amount, status FROM refunds WHERE case_id = $1`, [caseId])).rows).toEqual([{ amount: 18_900, status: 'issued' }]);

    expect(await archiver.archivePending()).toBe(1);
    expect(await archiver.archivePending()).toBe(0);
    const archived = (
      await db.pool.query(
        `SELECT run_status, event_count, length(history) > 1000 AS sizeable, encode(sha256, 'hex') AS digest FROM case_histories WHERE case_id = $1`,
        [caseId],
      )
    ).rows;
    expect(archived).toEqual([{ run_status: 'completed', event_count: expect.any(Number), sizeable: true, digest: expect.stringMatching(/^[0-9a-f]{64}$/) }]);
    const chained = (await db.pool.query(`SELECT detail FROM audit_events WHERE case_id = $1 AND kind = 'archived'`, [caseId])).rows;
    expect(chained).toEqual([{ detail: expect.objectContaining({ sha256: archived[0].digest, events: archived[0].event_count }) }]);
    expect((await db.pool.query(`SELECT history_archive FROM cases WHERE case_id = $1`, [caseId])).rows).toEqual([{ history_archive: 'archived' }]);

    const replay = await replayCase(db.pool, client, replayer, caseId);
    expect(replay).toMatchObject({ kind: 'replayed', deterministic: true, source: 'temporal', divergence: null });
    if (replay.kind !== 'replayed') return;
    // The replay re-derives the audit trail the case wrote, decision by decision.
    expect(replay.timeline.map(({ seq, record }) => ({ seq, step: record.step, kind: record.kind, detail: record.detail }))).toEqual(await auditTrail(caseId));
    expect(replay.timeline.map(({ record }) => record.step)).toContain('refund_no_reason');
    expect(replay.auditTrail).toEqual({ rows: replay.timeline.length, matches: true, mismatch: null });
  }, 120_000);

  it('after the workflow is deleted from Temporal, `casebook replay` answers deterministic from the archive', async () => {
    const workflowId = workflowIdFor(caseId);
    await connection.workflowService.deleteWorkflowExecution({ namespace: 'default', workflowExecution: { workflowId } });
    // The dev server deletes asynchronously (about 30 s here).
    await expect.poll(async () => (await runsInTemporal(client, workflowId)).length, { timeout: 120_000, interval: 1_000 }).toBe(0);

    const answer = await cli([caseId]);
    expect(answer.stderr).toBe('');
    expect(answer.code).toBe(0);
    expect(answer.stdout).toMatch(
      new RegExp(
        `^case ${caseId} \\(workflow ${workflowId}, plan [0-9a-f]{12}\\): deterministic\\n  run \\S+ from the archive: \\d+ events, replayed in \\d+ ms\\n`,
      ),
    );
    expect(answer.stdout).toContain('refund_no_reason');

    const json = JSON.parse((await cli([caseId, '--json'])).stdout);
    expect(json).toMatchObject({ kind: 'replayed', deterministic: true, source: 'archive' });
    expect(json.timeline.length).toBe((await auditTrail(caseId)).length);
  }, 120_000);

  it('a deliberate interpreter change (one extra timer) diverges: the event id and the step are named, exit 1', async () => {
    const changed = new WorkflowReplayer({ interceptorModules: [fileURLToPath(new URL('../fixtures/changed-interpreter.ts', import.meta.url))] });
    const replay = await replayCase(db.pool, client, changed, caseId);
    expect(replay).toMatchObject({ kind: 'replayed', deterministic: false, source: 'archive' });
    if (replay.kind !== 'replayed') return;
    // The first message of the case is where the code now starts a timer the history does not have.
    const eventId = replay.divergence!.eventId!;
    expect(replay.divergence).toMatchObject({ step: 'offer_exchange', visit: 1, recorded: 'MarkerRecorded local activity sendMessage' });
    expect(replay.divergence!.now).toMatch(/^did not run this local activity at this point \(Missing associated machine for LocalActivity\(\d+\)/);
    expect(replay.timeline.map(({ record }) => record.step)).not.toContain('offer_exchange');

    const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      const code = await replayCommand([caseId], { databaseUrl: db.url, temporalAddress: server.address, namespace: 'default', replayer: changed });
      expect(code).toBe(1);
      const printed = out.mock.calls.map((c) => String(c[0])).join('');
      expect(printed).toContain(`DIVERGES`);
      expect(printed).toContain(
        `at history event ${eventId}, in step 'offer_exchange' (visit 1):\n  recorded: MarkerRecorded local activity sendMessage\n  the code now: did not run this local activity at this point`,
      );
    } finally {
      out.mockRestore();
    }
  }, 120_000);

  it('the API replays and exports for auditors, ops leads and admins only; the CLI exports to a file', async () => {
    // The file's replayer (its workflow code bundled once) audits, not one of its own.
    const services = { ...composeServices({ client, pool: db.pool, taskQueue: TASK_QUEUE }), audit: new CaseAudit(db.pool, client, replayer) };
    const api = await composeApi({ services, pool: db.pool });
    try {
      const auditor = (await createApiKey(db.pool, 'auditor', 'Wang, finance audit')).key;
      const agent = (await createApiKey(db.pool, 'agent', 'Lei, after-sale')).key;
      const get = (url: string, key = auditor) => api.inject({ method: 'GET', url, headers: { authorization: `Bearer ${key}` } });

      const replayed = await get(`/v1/cases/${caseId}/replay`);
      expect(replayed.statusCode).toBe(200);
      expect(replayed.json()).toMatchObject({
        kind: 'replayed',
        caseId,
        deterministic: true,
        source: 'archive',
        divergence: null,
        runs: [{ source: 'archive' }],
      });
      expect((await get(`/v1/cases/${caseId}/replay`, agent)).statusCode).toBe(403);
      const unknown = await get('/v1/cases/no-such-case/replay');
      expect(unknown.statusCode).toBe(404);
      expect(unknown.json()).toMatchObject({ type: 'https://casebook.dev/problems/unknown-case', detail: 'no case no-such-case' });

      const exported = await get(`/v1/cases/${caseId}/export`);
      expect(exported.statusCode).toBe(200);
      expect(exported.headers['content-type']).toBe('application/x-ndjson; charset=utf-8');
      const lines = exported.body
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l));
      const types = lines.map((l) => l.type);
      expect(types[0]).toBe('case');
      expect(types[1]).toBe('plan');
      expect(types.at(-1)).toBe('verification');
      expect(lines[0]).toMatchObject({ caseId, status: 'closed', historyArchive: 'archived', outcome: { outcome: 'resolved', reason: 'refunded' } });
      expect(lines[1].plan).toMatchObject({ name: 'return' });
      const audit = lines.filter((l) => l.type === 'audit');
      expect(audit.map((l) => l.kind)).toEqual(expect.arrayContaining(['opened', 'refund', 'archived']));
      expect(audit.find((l) => l.kind === 'refund')).toMatchObject({
        actor: { keyId: null, name: 'casebook' },
        detail: { amount: 18_900 },
        hash: expect.stringMatching(/^[0-9a-f]{64}$/),
      });
      const [history] = lines.filter((l) => l.type === 'history');
      const digest = (await db.pool.query(`SELECT encode(sha256, 'hex') AS d FROM case_histories WHERE case_id = $1`, [caseId])).rows[0].d;
      expect(history).toMatchObject({ source: 'archive', runStatus: 'completed', sha256: digest });
      expect(createHash('sha256').update(JSON.stringify(history.history)).digest('hex')).toBe(digest);
      expect(lines.at(-1)).toMatchObject({ type: 'verification', caseId, intact: true, problems: [] });
      expect((await get(`/v1/cases/${caseId}/export`, agent)).statusCode).toBe(403);

      const day = 86_400_000;
      const range = (from: string, to: string) => get(`/v1/audit/export?closedFrom=${encodeURIComponent(from)}&closedTo=${encodeURIComponent(to)}`);
      const inRange = await range(new Date(Date.now() - day).toISOString(), new Date(Date.now() + day).toISOString());
      expect(inRange.statusCode).toBe(200);
      const cases = inRange.body
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l))
        .filter((l) => l.type === 'case')
        .map((l) => l.caseId);
      expect(cases).toContain(caseId);
      expect((await range('2020-01-01', '2020-02-01')).body).toBe('');
      expect((await range('2026-12-01', '2026-11-01')).body).toBe('');
      const unreadable = await range('yesterday', '2026-11-01');
      expect(unreadable.statusCode).toBe(400);
      expect(unreadable.json().errors.map((e: { pointer: string }) => e.pointer)).toContain('/closedFrom');
    } finally {
      await api.close();
    }

    const file = join(dataDir, 'export.jsonl');
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      expect(await exportCommand([caseId, '--out', file], { databaseUrl: db.url, temporalAddress: server.address, namespace: 'default' })).toBe(0);
      expect(String(err.mock.calls.at(-1)?.[0])).toBe(`casebook export: 1 case to ${file}\n`);
    } finally {
      err.mockRestore();
    }
    const written = readFileSync(file, 'utf8')
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(written.map((l) => l.type)).toEqual(expect.arrayContaining(['case', 'plan', 'audit', 'history', 'verification']));
  }, 120_000);

  it('an unknown case exits 2 with a clear message', async () => {
    const answer = await cli(['no-such-case']);
    expect(answer).toMatchObject({ code: 2, stdout: '' });
    expect(answer.stderr).toBe('casebook replay: no case no-such-case\n');
  });

  it('a long case that continued as new: every run is archived (the continued ones while it still runs) and the whole case replays', async () => {
    const compiled = compileSmallPlaybook('ticks', countTicksTo(24));
    await withWorker(async (service, inbox) => {
      await openSmallCase(service, db.pool, compiled, 'ticks-1', { count: 0 });
      for (let i = 0; i < 12; i++) {
        await expect.poll(async () => (await service.describe('ticks-1'))?.waitingFor, { timeout: 10_000 }).toEqual(['tick']);
        await inbox.deliverEvent('ticks-1', { type: 'tick', id: `tick-${i}`, payload: { n: 1 } });
      }
      // Still open: the runs that continued as new are archived now, from Temporal's visibility.
      await expect
        .poll(
          async () => {
            await archiver.archivePending();
            return (await db.pool.query(`SELECT count(*)::int AS n FROM case_histories WHERE case_id = 'ticks-1' AND run_status = 'continued-as-new'`)).rows[0]
              .n;
          },
          { timeout: 20_000, interval: 1_000 },
        )
        .toBeGreaterThan(0);
      for (let i = 12; i < 24; i++) {
        await expect.poll(async () => (await service.describe('ticks-1'))?.waitingFor, { timeout: 10_000 }).toEqual(['tick']);
        await inbox.deliverEvent('ticks-1', { type: 'tick', id: `tick-${i}`, payload: { n: 1 } });
      }
      await client.workflow.getHandle(workflowIdFor('ticks-1')).result();
    });
    await archiver.archivePending();
    const runs = (await db.pool.query(`SELECT run_status FROM case_histories WHERE case_id = 'ticks-1' ORDER BY started_at`)).rows.map((r) => r.run_status);
    expect(runs.length).toBeGreaterThan(1);
    expect(runs.at(-1)).toBe('completed');
    expect(runs.slice(0, -1).every((status) => status === 'continued-as-new')).toBe(true);

    const replay = await replayCase(db.pool, client, replayer, 'ticks-1');
    expect(replay).toMatchObject({ kind: 'replayed', deterministic: true, source: 'temporal' });
    if (replay.kind !== 'replayed') return;
    expect(replay.runs).toHaveLength(runs.length);
    expect(replay.timeline.filter(({ record }) => record.step === 'count')).toHaveLength(24);
    expect(replay.timeline.map(({ seq }) => seq)).toEqual(replay.timeline.map((_, i) => i + 1));
  }, 180_000);

  it('archives 45 closed cases in one pass (written 20 at a time), each with its digest and audit row, in closing order', async () => {
    const quick = compileSmallPlaybook('archive-batch', 'steps:\n  - id: done\n    end: { outcome: resolved, reason: nothing_to_do }\n');
    const ids = Array.from({ length: 45 }, (_, i) => `batch-${String(i).padStart(2, '0')}`);
    await withWorker(async (service) => {
      for (const id of ids) await openSmallCase(service, db.pool, quick, id);
      for (const id of ids) await client.workflow.getHandle(workflowIdFor(id)).result();
    });
    await expect
      .poll(async () => (await db.pool.query(`SELECT count(*)::int AS n FROM cases WHERE case_id LIKE 'batch-%' AND status = 'closed'`)).rows[0].n)
      .toBe(45);
    expect(await archiver.archivePending()).toBe(45);
    const { rows } = await db.pool.query(
      `SELECT a.case_id, a.detail->>'sha256' = encode(h.sha256, 'hex') AS digest_matches, c.history_archive
       FROM audit_events a JOIN case_histories h ON h.case_id = a.case_id AND h.run_id = a.detail->>'runId' JOIN cases c ON c.case_id = a.case_id
       WHERE a.kind = 'archived' AND a.case_id LIKE 'batch-%' ORDER BY a.position`,
    );
    const closingOrder = (await db.pool.query(`SELECT case_id FROM cases WHERE case_id LIKE 'batch-%' ORDER BY closed_at, case_id`)).rows.map((r) => r.case_id);
    expect(rows.map((r) => r.case_id)).toEqual(closingOrder);
    expect(rows.every((r) => r.digest_matches && r.history_archive === 'archived')).toBe(true);
    expect((await verifyAuditTrail(db.pool)).problems).toEqual([]);
    expect(await archiver.archivePending()).toBe(0);
  }, 120_000);

  it('with Temporal stopped, a closed case replays from its archive; an open one exits 2 saying why', async () => {
    await withWorker(async (service) => {
      await openSmallCase(service, db.pool, compileSmallPlaybook('receipts', RECEIPT_THEN_REFUND), 'open-1');
      await expect.poll(async () => (await service.describe('open-1'))?.status, { timeout: 10_000 }).toBe('waiting');
    });
    await server.stop();
    const closed = await cli([caseId]);
    expect(closed).toMatchObject({ code: 0, stderr: '' });
    expect(closed.stdout).toContain('from the archive');
    const open = await cli(['open-1']);
    expect(open.code).toBe(2);
    expect(open.stderr).toMatch(/^casebook replay: case open-1 cannot be replayed: Temporal is unreachable \(.+\), and nothing is archived for it\n$/);
  }, 60_000);

  it('an audit row edited by the database owner no longer matches what the replay derives from the archived history', async () => {
    const owner = new pg.Client({ connectionString: db.ownerUrl });
    await owner.connect();
    let seq: number;
    try {
      const edited = await owner.query(
        `UPDATE audit_events SET detail = jsonb_set(detail, '{amount}', '1890') WHERE case_id = $1 AND kind = 'refund' RETURNING seq`,
        [caseId],
      );
      seq = edited.rows[0].seq;
    } finally {
      await owner.end();
    }
    const answer = await cli([caseId]);
    expect(answer.code).toBe(0);
    expect(answer.stdout).toContain(
      `audit trail DIFFERS from the replay at seq ${seq} (step refund_no_reason): the trail records amount = 1890; the replay derives 18900`,
    );
  });

  it('an archived history edited by the database owner: the export says so in its verification and exits 1', async () => {
    const owner = new pg.Client({ connectionString: db.ownerUrl });
    await owner.connect();
    try {
      await owner.query(`UPDATE case_histories SET history = replace(history, 'core_local_activity', 'core_local_activitX') WHERE case_id = $1`, [caseId]);
    } finally {
      await owner.end();
    }
    const file = join(dataDir, 'tampered.jsonl');
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      expect(await exportCommand([caseId, '--out', file], { databaseUrl: db.url, temporalAddress: server.address, namespace: 'default' })).toBe(1);
      expect(String(err.mock.calls.at(-1)?.[0])).toBe(`casebook export: 1 case to ${file}; 1 with an altered record (see their verification lines)\n`);
    } finally {
      err.mockRestore();
    }
    const verification = readFileSync(file, 'utf8')
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l))
      .at(-1);
    // The refund row the test before edited (its amount no longer the ledger's either), and now the archive.
    expect(verification).toMatchObject({
      type: 'verification',
      intact: false,
      problems: [
        expect.objectContaining({ problem: 'altered', kind: 'refund', caseId }),
        expect.objectContaining({ problem: 'refund-altered', kind: 'refund', caseId }),
        expect.objectContaining({ problem: 'archive-altered', caseId }),
      ],
    });
  });
});
