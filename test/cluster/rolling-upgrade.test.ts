/**
 * A rolling upgrade to a build with a changed interpreter (a new history shape), as a team runs it:
 * `casebook start --api` and two `--worker` processes of the previous release on the production-shaped
 * Temporal (the server built from its Go module, Postgres persistence and SQL visibility;
 * test/support/cluster.ts) and Casebook's Postgres; cases run to a wait; the workers are replaced one by one
 * by workers of this release (a new one started before an old one stops: never a moment without a
 * worker), then the API. The cases opened before finish with the old shape, those opened after with
 * the new one, each with exactly one refund, and every history replays on the new build.
 *
 * The old build is real code run as a release runs it, a prebuilt bundle (`CASEBOOK_WORKFLOW_BUNDLE`):
 * this release's workflow code bundled with src/workflows/history-versions.ts replaced by
 * test/support/previous-release/history-versions.ts, which does not know the newest shape. The
 * previous release's API opened cases of its newest shape; this release's API does so with
 * CASEBOOK_HISTORY_SHAPE held at it, the first step of the upgrade (docs/operations.md).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import proto from '@temporalio/proto';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HISTORY_SHAPE, workflowIdFor, type CaseInput, type CaseResult } from '../../src/plan/case.js';
import { composeServices } from '../../src/stack/compose.js';
import { planReferencesIn, withPlanReferences } from '../../src/stack/plan-references.js';
import { WorkflowReplayer } from '../../src/stack/replayer.js';
import { WORKFLOWS_PATH } from '../../src/stack/worker.js';
import { workflowBundlerOptions } from '../../src/stack/workflow-bundler.js';
import { createApiKey } from '../../src/store/api-keys.js';
import { findCase } from '../../src/store/cases.js';
import { publishPlaybook } from '../../src/store/playbooks.js';
import { NEWEST_SHAPE } from '../../src/workflows/history-versions.js';
import { startCasebookProcess, startTestCluster, type CasebookProcess, type TestCluster } from '../support/cluster.js';
import type { TestDatabase } from '../support/database.js';
import { compileSmallPlaybook, RECEIPT_THEN_REFUND } from '../support/small-playbooks.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

const { temporal } = proto;
type History = proto.temporal.api.history.v1.History;

const OLD_CASES = 8;
const NEW_CASES = 8;
const PREVIOUS_SHAPE = HISTORY_SHAPE - 1;

const dataDir = mkdtempSync(join(tmpdir(), 'casebook-rolling-'));
const oldBundle = join(dataDir, 'previous-release.js');
const newBundle = join(dataDir, 'this-release.js');
let cluster: TestCluster;
let db: TestDatabase;
let adminKey: string;
let connection: Connection;
let client: Client;

/** As the workflow code imports it (webpack maps `.js` to the `.ts` source). */
const HISTORY_VERSIONS_JS = fileURLToPath(new URL('../../src/workflows/history-versions.js', import.meta.url));
const PREVIOUS_RELEASE = fileURLToPath(new URL('../support/previous-release/history-versions.ts', import.meta.url));

/** The workflow code as the worker bundles it, with the history versions of the release before this one. */
async function bundlePreviousRelease(): Promise<string> {
  const { code } = await bundleWorkflowCode({
    workflowsPath: WORKFLOWS_PATH,
    ...workflowBundlerOptions,
    logger: new DefaultLogger('WARN'),
    webpackConfigHook: (config) => {
      const ours = workflowBundlerOptions.webpackConfigHook(config);
      ours.plugins = [
        ...(ours.plugins ?? []),
        {
          apply: (compiler) =>
            compiler.hooks.normalModuleFactory.tap('previous-release', (factory) =>
              factory.hooks.beforeResolve.tap('previous-release', (data) => {
                if (data.contextInfo.issuer !== PREVIOUS_RELEASE && resolve(data.context, data.request) === HISTORY_VERSIONS_JS)
                  data.request = PREVIOUS_RELEASE;
              }),
            ),
        },
      ];
      return ours;
    },
  });
  return code;
}

/** `casebook bundle <file>`, as a team builds the bundle of a release. */
function casebookBundle(file: string): Promise<string> {
  const child = spawn(process.execPath, ['bin/casebook.js', 'bundle', file], { cwd: ROOT });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return new Promise((resolve, reject) =>
    child.once('exit', (code) => (code === 0 ? resolve(output) : reject(new Error(`casebook bundle exited with ${code}:\n${output}`)))),
  );
}

beforeAll(async () => {
  // The two builds are bundled while the server starts.
  const [, previous] = await Promise.all([startTestCluster().then((started) => (cluster = started)), bundlePreviousRelease(), casebookBundle(newBundle)]);
  db = cluster.db;
  writeFileSync(oldBundle, previous);
  ({ key: adminKey } = await createApiKey(db.pool, 'admin', 'rolling upgrade test'));
  await publishPlaybook(db.pool, '', compileSmallPlaybook('rolling', RECEIPT_THEN_REFUND), 'test');
  connection = await Connection.connect({ address: cluster.address });
  client = new Client({ connection, dataConverter: withPlanReferences(planReferencesIn(db.pool)) });
}, 240_000);

afterAll(async () => {
  await connection?.close();
  await cluster?.stop();
  rmSync(dataDir, { recursive: true, force: true });
}, 60_000);

/** `casebook start --api` or `--worker` on the cluster, with `env`. */
const start = (role: 'api' | 'worker', env: NodeJS.ProcessEnv = {}): Promise<CasebookProcess> => startCasebookProcess(cluster, role, env);

/** SIGTERM: the worker drains (its activities finish) and exits, as a rolling upgrade stops it. */
async function stop(casebook: CasebookProcess): Promise<void> {
  casebook.child.kill('SIGTERM');
  expect(await casebook.exited).toBe(0);
}

async function post(api: string, path: string, body: unknown): Promise<number> {
  const response = await fetch(`${api}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${adminKey}` },
    body: JSON.stringify(body),
  });
  return response.status;
}

const openCase = (api: string, caseId: string) =>
  post(api, '/v1/cases', { playbook: 'rolling', caseId, data: { paid: { amount: 1_000, currency: 'CNY' }, order_id: caseId } });

const waitingForReceipt = async (caseId: string) => (await findCase(db.pool, caseId))?.waitingFor;
const statusOf = async (caseId: string) => (await findCase(db.pool, caseId))?.status;

const historyOf = async (caseId: string): Promise<History> =>
  temporal.api.history.v1.History.fromObject(await client.workflow.getHandle(workflowIdFor(caseId)).fetchHistory());

/** Which worker processes (by PID) started the workflow tasks of a history. */
const workersIn = (history: History): Set<number> =>
  new Set(
    history.events.flatMap((event) =>
      event.workflowTaskStartedEventAttributes ? [Number(event.workflowTaskStartedEventAttributes.identity?.split('@')[0])] : [],
    ),
  );

const failedTasksIn = (history: History): string[] =>
  history.events.flatMap((event) => (event.workflowTaskFailedEventAttributes ? [event.workflowTaskFailedEventAttributes.failure?.message ?? ''] : []));

const patchMarkersIn = (history: History): string[] =>
  history.events.flatMap((event) => (event.markerRecordedEventAttributes?.markerName === 'core_patch' ? ['core_patch'] : []));

const inputOf = (history: History): CaseInput => {
  const payload = history.events[0]!.workflowExecutionStartedEventAttributes!.input!.payloads![0]!;
  return JSON.parse(Buffer.from(payload.data!).toString()) as CaseInput;
};

const resultOf = (caseId: string) => client.workflow.getHandle(workflowIdFor(caseId)).result() as Promise<CaseResult>;

describe('a rolling upgrade to a build with a new history shape', () => {
  it('this release knows one shape more than the previous one, and gives it to new cases', () => {
    expect(NEWEST_SHAPE).toBe(HISTORY_SHAPE);
    expect(readFileSync(oldBundle, 'utf8')).toContain('previous-release');
    expect(readFileSync(newBundle, 'utf8')).not.toContain('previous-release');
  });

  it('running cases keep the old shape, new cases take the new one; one refund each; every history replays on the new build', async () => {
    const oldIds = Array.from({ length: OLD_CASES }, (_, i) => `rolling-old-${i}`);
    const newIds = Array.from({ length: NEW_CASES }, (_, i) => `rolling-new-${i}`);

    // The previous release: its API opens cases of its newest shape; its workers run them to the wait.
    // One after another: processes starting at the same moment race for the migrations' lock.
    const oldApi = await start('api', { CASEBOOK_HISTORY_SHAPE: String(PREVIOUS_SHAPE) });
    const oldWorkers = [await start('worker', { CASEBOOK_WORKFLOW_BUNDLE: oldBundle }), await start('worker', { CASEBOOK_WORKFLOW_BUNDLE: oldBundle })];
    const oldApiUrl = oldApi.apiUrl!;
    expect(await Promise.all(oldIds.map((id) => openCase(oldApiUrl, id)))).toEqual(oldIds.map(() => 201));
    for (const id of oldIds) await expect.poll(() => waitingForReceipt(id), { timeout: 60_000, interval: 250 }).toEqual(['warehouse.received']);

    // A case of the new shape, opened (by a process of this release) while only old workers run: they
    // refuse it (its workflow task fails) rather than run it as the old shape, until a new worker takes it.
    const early = 'rolling-early';
    await composeServices({ client, pool: db.pool }).cases.open({
      caseId: early,
      playbook: 'rolling',
      data: { paid: { amount: 1_000, currency: 'CNY' }, order_id: early },
    });
    await expect
      .poll(async () => failedTasksIn(await historyOf(early)), { timeout: 30_000, interval: 250 })
      .toContainEqual(expect.stringContaining(`this case records history shape ${HISTORY_SHAPE}, newer than this worker runs (up to ${PREVIOUS_SHAPE})`));
    expect(await statusOf(early)).toBe('open');

    // The workers, one by one: a new one started, then an old one stopped.
    const newWorkers: CasebookProcess[] = [];
    for (const old of oldWorkers) {
      newWorkers.push(await start('worker', { CASEBOOK_WORKFLOW_BUNDLE: newBundle }));
      await stop(old);
    }
    // Then the API: this release's, which opens cases of the new shape.
    const newApi = await start('api');
    await stop(oldApi);
    const newApiUrl = newApi.apiUrl!;
    expect(await Promise.all(newIds.map((id) => openCase(newApiUrl, id)))).toEqual(newIds.map(() => 201));
    await expect.poll(() => statusOf(early), { timeout: 60_000, interval: 250 }).not.toBe('open');

    const all = [...oldIds, early, ...newIds];
    for (const id of all) await expect.poll(() => waitingForReceipt(id), { timeout: 60_000, interval: 250 }).toEqual(['warehouse.received']);
    for (const id of all) expect(await post(newApiUrl, `/v1/cases/${id}/events`, { type: 'warehouse.received', id: `receipt-${id}`, payload: {} })).toBe(202);
    for (const id of all) await expect.poll(() => statusOf(id), { timeout: 60_000, interval: 250 }).toBe('closed');

    // Exactly one refund per case.
    const refunds = (
      await db.pool.query<{ case_id: string; n: number }>(`SELECT case_id, count(*)::int AS n FROM refunds WHERE case_id LIKE 'rolling-%' GROUP BY case_id`)
    ).rows;
    expect(Object.fromEntries(refunds.map((row) => [row.case_id, row.n]))).toEqual(Object.fromEntries(all.map((id) => [id, 1])));

    const oldPids = new Set(oldWorkers.map((worker) => worker.pid));
    const newPids = new Set(newWorkers.map((worker) => worker.pid));
    const replayer = new WorkflowReplayer({ plans: planReferencesIn(db.pool), code: readFileSync(newBundle, 'utf8') });
    for (const id of all) {
      const history = await historyOf(id);
      const result = await resultOf(id);
      expect(result).toMatchObject({ outcome: 'resolved', reason: 'refunded' });
      const workers = [...workersIn(history)];
      if (oldIds.includes(id)) {
        // Begun on an old worker, finished on a new one, in the old shape throughout: the step records
        // still in its result (shape 6 leaves them to the audit trail alone).
        expect(inputOf(history).historyShape).toBe(PREVIOUS_SHAPE);
        expect(workers.some((pid) => oldPids.has(pid)) && workers.some((pid) => newPids.has(pid))).toBe(true);
        expect(result.steps.map((record) => record.step)).toEqual(['wait_receipt', 'refund', 'done']);
      } else {
        expect(inputOf(history).historyShape).toBe(HISTORY_SHAPE);
        // The early case's first task failed on an old worker; every task of the others ran on new ones.
        expect(workers.some((pid) => oldPids.has(pid))).toBe(id === early);
        expect(workers.some((pid) => newPids.has(pid))).toBe(true);
        expect(result.steps).toEqual([]);
      }
      // The shape travels in the input: no patch marker in any history.
      expect(patchMarkersIn(history)).toEqual([]);
      expect(await replayer.replay(workflowIdFor(id), history)).toMatchObject({ deterministic: true });
    }
  }, 420_000);
});
