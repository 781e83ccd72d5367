/**
 * Plans by reference in case histories (docs/decisions/0018-plans-by-reference-in-histories.md), on the
 * real Temporal dev server and Postgres: the codec on its own (what it rewrites, what it leaves alone,
 * one lookup per plan), a standard return opened through the composed client whose history names its
 * plan by hash, run to its refund and replayed from Temporal and from the archive, a looping case whose
 * continued runs name it too, `casebook replay` and `casebook export`, a replayer that cannot find the
 * plan, and an old history with its plan inline.
 */
import { Client, Connection } from '@temporalio/client';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { NativeConnection } from '@temporalio/worker';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { HistoryArchiver } from '../../src/cases/archive.js';
import { migrateCase } from '../../src/cases/migration.js';
import { replayCase } from '../../src/cases/replay.js';
import { run as exportCommand } from '../../src/cli/commands/export.js';
import { run as replayCommand } from '../../src/cli/commands/replay.js';
import { workflowIdFor, type CaseResult } from '../../src/plan/case.js';
import { composeReplayer, composeServices, connectClient, type Services } from '../../src/stack/compose.js';
import { AUDIT_THREAD_DEFAULTS } from '../../src/stack/config.js';
import { PLAN_REFERENCE, PlanReferenceCodec, planReferenceOf, UnknownPlanError } from '../../src/stack/plan-references.js';
import { WorkflowReplayer } from '../../src/stack/replayer.js';
import { startTemporalDevServer, type DevServerHandle } from '../../src/stack/temporal-dev-server.js';
import { getPlaybook, publishedPlanByHash, publishPlaybook } from '../../src/store/playbooks.js';
import { devServerOptions } from '../support/dev-server.js';
import { composeTestWorker } from '../support/runtime.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { HISTORIES, recordPlansFrom, selfContained } from '../support/histories.js';
import { openCase, publishStandardPlaybook } from '../support/playbooks.js';
import { compileSmallPlaybook, countTicksTo, openSmallCase } from '../support/small-playbooks.js';

const DAY = 86_400_000;
const TASK_QUEUE = 'plan-references';
const dataDir = mkdtempSync(join(tmpdir(), 'casebook-plan-refs-'));
let server: DevServerHandle;
let db: TestDatabase;
/** The composed client (plans by hash), and a plain one (plans inline, as every case before 0018). */
let composed: { connection: Connection; client: Client };
let plainConnection: Connection;
let plain: Client;
let shared: WorkflowReplayer | undefined;
/** The composed replayer, its workflow code bundled once for the file. */
const replayer = () => (shared ??= composeReplayer(db.pool));

beforeAll(async () => {
  [server, db] = await Promise.all([
    startTemporalDevServer(await devServerOptions(dataDir, { dynamicConfig: { 'limit.historyCount.suggestContinueAsNew': 60 } })),
    createTestDatabase(),
  ]);
  composed = await connectClient(server.address, 'default', db.pool);
  plainConnection = await Connection.connect({ address: server.address });
  plain = new Client({ connection: plainConnection });
}, 90_000);
afterAll(async () => {
  await composed?.connection.close();
  await plainConnection?.close();
  await server?.stop();
  await db?.drop();
  rmSync(dataDir, { recursive: true, force: true });
});

async function withWorker<T>(fn: (services: { composed: Services; plain: Services }) => Promise<T>): Promise<T> {
  const workerConnection = await NativeConnection.connect({ address: server.address });
  const worker = await composeTestWorker({ connection: workerConnection, pool: db.pool, taskQueue: TASK_QUEUE });
  try {
    return await worker.runUntil(() =>
      fn({
        composed: composeServices({ client: composed.client, pool: db.pool, taskQueue: TASK_QUEUE }),
        plain: composeServices({ client: plain, pool: db.pool, taskQueue: TASK_QUEUE }),
      }),
    );
  } finally {
    await workerConnection.close();
  }
}

const historyOf = async (caseId: string, runId?: string) =>
  temporal.api.history.v1.History.fromObject(await composed.client.workflow.getHandle(workflowIdFor(caseId), runId).fetchHistory());
const bytesOf = (history: temporal.api.history.v1.IHistory) => temporal.api.history.v1.History.encode(history).finish().length;
const startInput = (history: temporal.api.history.v1.IHistory) => history.events![0]!.workflowExecutionStartedEventAttributes!.input!.payloads![0]! as Payload;
const json = (payload: Payload) => JSON.parse(new TextDecoder().decode(payload.data!));

/** A standard quality-free return (`no_reason`) driven to its refund, through `services`. */
async function standardReturn({ cases, inbox }: Services, caseId: string, playbook: { name: string; version: number }): Promise<void> {
  await openCase(cases, {
    caseId,
    playbook: playbook.name,
    version: playbook.version,
    data: {
      order_id: `TB-${caseId}`,
      buyer_name: 'Han Meimei',
      order_total: { amount: 19_900, currency: 'CNY' },
      outbound_shipping: { amount: 1_000, currency: 'CNY' },
      shipped_free: false,
      signed_at: new Date(Date.now() - 2 * DAY).toISOString(),
      reason: 'no_reason',
      shipping_insurance: false,
    },
  });
  await expect.poll(async () => (await cases.describe(caseId))?.waitingFor, { timeout: 15_000 }).toContain('buyer.kept_return');
  await inbox.deliverEvent(caseId, { type: 'buyer.kept_return', id: `${caseId}-kept`, payload: {} });
  await expect.poll(async () => (await cases.describe(caseId))?.waitingFor, { timeout: 15_000 }).toContain('buyer.shipped');
  await inbox.deliverEvent(caseId, { type: 'buyer.shipped', id: `${caseId}-ship`, payload: { tracking_number: 'SF1001' } });
  await expect.poll(async () => (await cases.describe(caseId))?.waitingFor, { timeout: 15_000 }).toEqual(['warehouse.received']);
  await inbox.deliverEvent(caseId, { type: 'warehouse.received', id: `${caseId}-wh`, payload: { condition: 'resellable' } });
  expect((await composed.client.workflow.getHandle(workflowIdFor(caseId)).result()) as CaseResult).toMatchObject({ outcome: 'resolved', reason: 'refunded' });
}

describe('the plan-reference codec', () => {
  it('sends a published plan by its hash, in place, and puts the same plan back; one lookup per plan', async () => {
    const version = await publishStandardPlaybook(db.pool, 'return');
    const { plan } = (await getPlaybook(db.pool, 'return', version.version))!;
    const lookups: string[] = [];
    const codec = new PlanReferenceCodec((hash) => {
      lookups.push(hash);
      return publishedPlanByHash(db.pool, hash);
    });
    const input = {
      caseId: 'c-1',
      playbook: { name: 'return', version: version.version, hash: version.hash },
      plan,
      data: { order_id: 'TB-1' },
      historyShape: 4,
    };
    const payload = defaultPayloadConverter.toPayload(input);
    const [encoded] = await codec.encode([payload]);
    expect(planReferenceOf(encoded)).toBe(version.hash);
    expect(encoded!.data!.length).toBeLessThan(1_000);
    expect(payload.data!.length).toBeGreaterThan(10_000);
    // Same keys in the same order, the plan left null: a reader without the codec still reads the rest.
    expect(Object.keys(json(encoded!))).toEqual(Object.keys(input));
    expect(json(encoded!)).toEqual({ ...input, plan: null });

    const [decoded] = await codec.decode([encoded!]);
    expect(decoded!.metadata![PLAN_REFERENCE]).toBeUndefined();
    expect(defaultPayloadConverter.fromPayload(decoded!)).toEqual(input);
    // A migration's target is the same shape, the same plan again: no second lookup.
    const [migration] = await codec.encode([defaultPayloadConverter.toPayload({ plan, playbook: version, mapping: {} })]);
    expect(planReferenceOf(migration)).toBe(version.hash);
    await codec.decode([encoded!, encoded!]);
    expect(lookups).toEqual([version.hash]);

    // The same plan with its keys in another order is the same version (its hash says so): sent by hash,
    // it comes back as published.
    const reordered = Object.fromEntries(Object.entries(plan).reverse());
    const [byHash] = await codec.encode([defaultPayloadConverter.toPayload({ ...input, plan: reordered })]);
    expect(planReferenceOf(byHash)).toBe(version.hash);
    expect(Object.keys(defaultPayloadConverter.fromPayload<typeof input>((await codec.decode([byHash!]))[0]!).plan)).toEqual(Object.keys(plan));
  });

  it('leaves alone what is not a published plan under its own hash', async () => {
    const version = await publishStandardPlaybook(db.pool, 'return');
    const { plan } = (await getPlaybook(db.pool, 'return', version.version))!;
    const unpublished = compileSmallPlaybook('never-published', 'steps:\n  - id: done\n    end: { outcome: resolved, reason: nothing }\n');
    const codec = new PlanReferenceCodec((hash) => publishedPlanByHash(db.pool, hash));
    const payloads = [
      defaultPayloadConverter.toPayload({ type: 'buyer.shipped', id: 'e-1', payload: { tracking_number: 'SF1' } }),
      defaultPayloadConverter.toPayload(null),
      defaultPayloadConverter.toPayload(new Uint8Array([1, 2, 3])),
      defaultPayloadConverter.toPayload({ caseId: 'c-2', playbook: { name: 'never-published', version: 1, hash: unpublished.hash }, plan: unpublished.plan }),
      // The published hash, but another plan (a hand-made input): its plan stays inline.
      defaultPayloadConverter.toPayload({ caseId: 'c-3', playbook: version, plan: { ...plan, start: 'elsewhere' } }),
      defaultPayloadConverter.toPayload({ caseId: 'c-4', playbook: version, plan: [plan] }),
    ];
    const encoded = await codec.encode(payloads);
    expect(encoded.every((payload, i) => payload === payloads[i])).toBe(true);
    expect(await codec.decode(payloads)).toEqual(payloads);
  });

  it('a payload naming a plan the database has not published fails to decode, saying which', async () => {
    const codec = new PlanReferenceCodec(async () => undefined);
    const named: Payload = {
      metadata: { encoding: new TextEncoder().encode('json/plain'), [PLAN_REFERENCE]: new TextEncoder().encode('ab12') },
      data: new TextEncoder().encode('{"plan":null}'),
    };
    await expect(codec.decode([named])).rejects.toThrow(UnknownPlanError);
    await expect(codec.decode([named])).rejects.toThrow(/plan ab12 .*no playbook version with that hash is published/);
  });
});

describe('cases whose histories name their plan by hash', () => {
  const caseId = 'ref-ret-1';
  let version: { name: string; version: number; hash: string };

  it('a standard return opened through the composed client: a start event under 2 KB naming the plan, refunded, replayed from Temporal', async () => {
    version = await publishStandardPlaybook(db.pool, 'return');
    await withWorker(async (services) => {
      await standardReturn(services.composed, caseId, version);
      await standardReturn(services.plain, 'inline-ret-1', version);
    });
    expect((await db.pool.query(`SELECT case_id, amount FROM refunds WHERE case_id IN ($1, 'inline-ret-1') ORDER BY case_id`, [caseId])).rows).toEqual([
      { case_id: 'inline-ret-1', amount: 18_900 },
      { case_id: caseId, amount: 18_900 },
    ]);
    const history = await historyOf(caseId);
    const input = startInput(history);
    expect(planReferenceOf(input)).toBe(version.hash);
    expect(temporal.api.common.v1.Payload.encode(input).finish().length).toBeLessThan(2_048);
    expect(json(input)).toMatchObject({ caseId, playbook: { name: 'return', version: version.version, hash: version.hash }, plan: null });
    const inline = await historyOf('inline-ret-1');
    expect(planReferenceOf(startInput(inline))).toBeUndefined();
    const [after, before] = [bytesOf(history), bytesOf(inline)];
    console.log(`history bytes per standard return: ${before} with the plan inline, ${after} with the plan by hash`);
    expect(before - after).toBeGreaterThan(10_000);

    const replay = await replayCase(db.pool, composed.client, replayer(), caseId);
    expect(replay).toMatchObject({ kind: 'replayed', deterministic: true, source: 'temporal', divergence: null, planHash: version.hash });
    if (replay.kind !== 'replayed') return;
    expect(replay.timeline.map(({ record }) => record.step)).toContain('refund_no_reason');
    expect(replay.auditTrail).toMatchObject({ matches: true });
  }, 120_000);

  it("the API's audit threads (their own client and replayer on their own pool) replay it", async () => {
    const services = composeServices({
      client: composed.client,
      pool: db.pool,
      auditThreads: { databaseUrl: db.url, temporal: { address: server.address, namespace: 'default' }, settings: AUDIT_THREAD_DEFAULTS },
    });
    try {
      expect(await services.audit.replay(caseId)).toMatchObject({ kind: 'replayed', deterministic: true, source: 'temporal', divergence: null });
    } finally {
      await services.close();
    }
  }, 120_000);

  it('replays from the archive, and `casebook replay` and `casebook export` work on it', async () => {
    const archiver = new HistoryArchiver(composed.client, db.pool);
    expect(await archiver.archivePending()).toBe(2);
    // No Temporal client: the archive answers.
    const replay = await replayCase(db.pool, undefined, replayer(), caseId);
    expect(replay).toMatchObject({ kind: 'replayed', deterministic: true, source: 'archive', divergence: null });

    const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const file = join(dataDir, 'export.jsonl');
    try {
      // The command's own replayer, composed on its database.
      expect(await replayCommand([caseId], { databaseUrl: db.url, temporalAddress: server.address, namespace: 'default' })).toBe(0);
      expect(out.mock.calls.map((c) => String(c[0])).join('')).toMatch(
        new RegExp(`^case ${caseId} \\(workflow \\S+, plan ${version.hash.slice(0, 12)}\\): deterministic\\n`),
      );
      expect(await exportCommand([caseId, '--out', file], { databaseUrl: db.url, temporalAddress: server.address, namespace: 'default' })).toBe(0);
    } finally {
      out.mockRestore();
      err.mockRestore();
    }
    const lines = readFileSync(file, 'utf8')
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    // The export carries the plan once, beside the history that names it by hash.
    expect(lines.find((l) => l.type === 'plan').plan).toMatchObject({ name: 'return' });
    expect(lines.find((l) => l.type === 'history')).toMatchObject({ source: 'archive' });
    expect(lines.at(-1)).toMatchObject({ type: 'verification', intact: true });
  }, 120_000);

  it('a replayer that cannot find the plan says which plan it misses, not a nondeterminism', async () => {
    const history = await historyOf(caseId);
    const elsewhere = new WorkflowReplayer({ plans: new PlanReferenceCodec(async () => undefined), code: await replayer().workflowCode() });
    await expect(elsewhere.replay(workflowIdFor(caseId), history)).rejects.toThrow(new UnknownPlanError(version.hash).message);
    await expect(new WorkflowReplayer({ code: await replayer().workflowCode() }).replay(workflowIdFor(caseId), history)).rejects.toThrow(UnknownPlanError);
  }, 60_000);

  it('a looping case that continues as new names its plan in every run, and replays', async () => {
    const compiled = compileSmallPlaybook('ref-ticks', countTicksTo(16));
    await withWorker(async ({ composed: { cases, inbox } }) => {
      await openSmallCase(cases, db.pool, compiled, 'ref-ticks-1', { count: 0 });
      for (let i = 0; i < 16; i++) {
        await expect.poll(async () => (await cases.describe('ref-ticks-1'))?.waitingFor, { timeout: 10_000 }).toEqual(['tick']);
        await inbox.deliverEvent('ref-ticks-1', { type: 'tick', id: `ref-tick-${i}`, payload: { n: 1 } });
      }
      await composed.client.workflow.getHandle(workflowIdFor('ref-ticks-1')).result();
    });
    const replay = await replayCase(db.pool, composed.client, replayer(), 'ref-ticks-1');
    expect(replay).toMatchObject({ kind: 'replayed', deterministic: true, source: 'temporal' });
    if (replay.kind !== 'replayed') return;
    expect(replay.runs.length).toBeGreaterThan(1);
    for (const run of replay.runs) {
      const input = startInput(await historyOf('ref-ticks-1', run.runId));
      expect(planReferenceOf(input)).toBe(compiled.hash);
      expect(json(input).plan).toBeNull();
    }
    expect(replay.timeline.filter(({ record }) => record.step === 'count')).toHaveLength(16);

    // A golden history is recorded self-contained: the continued run replays with no database.
    recordPlansFrom(db.pool);
    const resumed = await selfContained(await historyOf('ref-ticks-1', replay.runs[1]!.runId), 'ref-ticks-resumed');
    expect(planReferenceOf(startInput(resumed))).toBeUndefined();
    expect(json(startInput(resumed)).plan).toEqual(compiled.plan);
    const withoutPlans = new WorkflowReplayer({ code: await replayer().workflowCode() });
    expect(await withoutPlans.replay(workflowIdFor('ref-ticks-1'), resumed)).toMatchObject({ deterministic: true });
  }, 180_000);

  it('a migration sends its target plan by hash too, and the migrated case replays', async () => {
    const first = compileSmallPlaybook('ref-moving', countTicksTo(3));
    const later = compileSmallPlaybook('ref-moving', countTicksTo(2));
    await withWorker(async ({ composed: { cases, inbox } }) => {
      await openSmallCase(cases, db.pool, first, 'ref-moving-1', { count: 0 });
      await expect.poll(async () => (await cases.describe('ref-moving-1'))?.waitingFor, { timeout: 10_000 }).toEqual(['tick']);
      const { version } = await publishPlaybook(db.pool, '', later, 'test');
      const moved = await migrateCase(db.pool, cases, 'ref-moving-1', {
        toVersion: version.version,
        mapping: {},
        by: { keyId: null, name: 'Mei' },
        reason: 'fewer ticks',
      });
      expect(moved).toMatchObject({ kind: 'migrated' });
      for (let i = 0; i < 2; i++) {
        await expect.poll(async () => (await cases.describe('ref-moving-1'))?.waitingFor, { timeout: 10_000 }).toEqual(['tick']);
        await inbox.deliverEvent('ref-moving-1', { type: 'tick', id: `ref-moving-${i}`, payload: { n: 1 } });
      }
      expect(await composed.client.workflow.getHandle(workflowIdFor('ref-moving-1')).result()).toMatchObject({ reason: 'counted' });
    });
    const history = await historyOf('ref-moving-1');
    const accepted = history.events
      .map((e) => e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input)
      .find((input) => input?.name === 'migrateCase');
    const target = accepted!.args!.payloads![0]! as Payload;
    expect(planReferenceOf(target)).toBe(later.hash);
    expect(json(target).plan).toBeNull();
    expect(await replayer().replay(workflowIdFor('ref-moving-1'), history)).toMatchObject({ deterministic: true });
  }, 120_000);

  it('an old history with its plan inline replays through the composed replayer unchanged', async () => {
    const history = temporal.api.history.v1.History.decode(readFileSync(`${HISTORIES}return-quality.history`));
    expect(planReferenceOf(startInput(history))).toBeUndefined();
    expect(await replayer().replay('return-quality', history)).toMatchObject({ deterministic: true });
  }, 60_000);
});
