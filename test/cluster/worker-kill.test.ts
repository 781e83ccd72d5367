/**
 * Issue 27, point 3: Casebook on the production-shaped Temporal (the server built from its Go module, on
 * Postgres with SQL visibility; test/support/cluster.ts), one `casebook start --api` and two
 * `casebook start --worker` processes. 50 return cases are sent to their refunds, one worker is killed
 * with SIGKILL while they are under way, and every case completes on the other with exactly one refund
 * in the ledger, every history replays on this build and its audit trail holds what the history decided.
 */
import type { Client, Connection } from '@temporalio/client';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { workflowIdFor } from '../../src/plan/case.js';
import { connectClient } from '../../src/stack/compose.js';
import { planReferencesIn } from '../../src/stack/plan-references.js';
import { WorkflowReplayer } from '../../src/stack/replayer.js';
import { createApiKey } from '../../src/store/api-keys.js';
import { startCasebookProcess, startTestCluster, type TestCluster } from '../support/cluster.js';
import { returnCaseData } from '../support/playbooks.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CASES = 50;
const ids = Array.from({ length: CASES }, (_, i) => `kill-${String(i + 1).padStart(2, '0')}`);

let cluster: TestCluster;
let temporal: { connection: Connection; client: Client } | undefined;
/** This build's workflow code, bundled once by `casebook bundle` while the server starts, as a release ships it to its workers. */
let bundle: string;

beforeAll(async () => {
  [cluster, bundle] = await Promise.all([startTestCluster(), casebookBundle()]);
}, 180_000);
afterAll(async () => {
  await temporal?.connection.close();
  await cluster?.stop();
}, 60_000);

async function casebookBundle(): Promise<string> {
  const file = join(mkdtempSync(join(tmpdir(), 'casebook-bundle-')), 'workflows.js');
  const child = spawn(process.execPath, ['bin/casebook.js', 'bundle', file], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  let said = '';
  child.stderr.on('data', (chunk: Buffer) => (said += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`casebook bundle exited with ${code}: ${said}`);
  return file;
}

/** `count` calls of `fn` at a time, in order. */
async function inBatches<T>(items: T[], count: number, fn: (item: T) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += count) await Promise.all(items.slice(i, i + count).map(fn));
}

describe('a worker killed mid-flight on the production-shaped Temporal', () => {
  it('50 return cases complete with exactly one refund each after kill -9 of one of two workers, every history replays and matches the trail', async () => {
    const { key } = await createApiKey(cluster.db.pool, 'admin', 'cluster test');
    // Started together: each waits for the migrations' lock in turn.
    const started = performance.now();
    const seconds = () => `${((performance.now() - started) / 1000).toFixed(0)} s`;
    const [api, first, second] = await Promise.all([
      startCasebookProcess(cluster, 'api'),
      startCasebookProcess(cluster, 'worker', { CASEBOOK_WORKFLOW_BUNDLE: bundle }),
      startCasebookProcess(cluster, 'worker', { CASEBOOK_WORKFLOW_BUNDLE: bundle }),
    ]);
    console.log(`${seconds()}: the API and two workers ready`);
    const url = api.apiUrl!;
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${key}` };
    const post = async (path: string, body: unknown, status: number) => {
      const response = await fetch(`${url}${path}`, { method: 'POST', headers, body: JSON.stringify(body) });
      expect(response.status, `${path}: ${await response.clone().text()}`).toBe(status);
    };
    const published = await fetch(`${url}/v1/playbooks/return`, {
      method: 'PUT',
      headers: { 'content-type': 'application/yaml', authorization: `Bearer ${key}` },
      body: readFileSync(join(ROOT, 'playbooks/return.yaml')),
    });
    expect(published.status).toBe(201);

    const signedAt = Date.now() - 2 * 86_400_000;
    await inBatches(ids, 10, async (id) => {
      await post('/v1/cases', { playbook: 'return', caseId: id, data: returnCaseData(`TB-${id}`, signedAt) }, 201);
      await post(`/v1/cases/${id}/events`, { type: 'buyer.kept_return', id: `${id}-kept`, payload: {} }, 202);
      await post(`/v1/cases/${id}/events`, { type: 'buyer.shipped', id: `${id}-shipped`, payload: { tracking_number: `YT${id}` } }, 202);
    });
    const waitingForReceipt = async () =>
      (
        await cluster.db.pool.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM cases WHERE case_id LIKE 'kill-%' AND status = 'waiting' AND current_step = 'wait_receipt'`,
        )
      ).rows[0]!.n;
    await expect.poll(waitingForReceipt, { timeout: 60_000, interval: 250 }).toBe(CASES);
    console.log(`${seconds()}: ${CASES} cases waiting for the receipt`);

    // The receipts, all at once: each case computes its refund and issues it, on whichever worker takes it.
    const receipts = inBatches(ids, CASES, (id) =>
      post(`/v1/cases/${id}/events`, { type: 'warehouse.received', id: `${id}-received`, payload: { condition: 'resellable' } }, 202),
    );
    const refunds = async () => (await cluster.db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM refunds WHERE case_id LIKE 'kill-%'`)).rows[0]!.n;
    await expect.poll(refunds, { timeout: 60_000, interval: 20 }).toBeGreaterThan(0);
    const atKill = await refunds();
    first.child.kill('SIGKILL');
    await first.exited;
    await receipts;
    console.log(`${seconds()}: worker ${first.pid} killed with ${atKill} of ${CASES} refunds issued`);

    const closed = async () =>
      (
        await cluster.db.pool.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM cases WHERE case_id LIKE 'kill-%' AND status = 'closed' AND outcome = 'resolved'`,
        )
      ).rows[0]!.n;
    await expect.poll(closed, { timeout: 120_000, interval: 500 }).toBe(CASES);
    console.log(`${seconds()}: every case closed`);

    const ledger = (
      await cluster.db.pool.query<{ case_id: string; status: string; n: number }>(
        `SELECT case_id, status, count(*)::int AS n FROM refunds WHERE case_id LIKE 'kill-%' GROUP BY case_id, status ORDER BY case_id`,
      )
    ).rows;
    expect(ledger).toEqual(ids.map((id) => ({ case_id: id, status: 'issued', n: 1 })));
    const paid = (
      await cluster.db.pool.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM provider_refunds WHERE idempotency_key IN (SELECT idempotency_key FROM refunds WHERE case_id LIKE 'kill-%')`,
      )
    ).rows[0]!.n;
    expect(paid).toBe(CASES);

    // Every history replays on this build; the killed worker had worked on cases the other one finished.
    temporal = await connectClient(cluster.address, cluster.namespace, cluster.db.pool);
    const replayer = new WorkflowReplayer({ code: readFileSync(bundle, 'utf8'), plans: planReferencesIn(cluster.db.pool) });
    const killed = `${first.pid}@`;
    const survivor = `${second.pid}@`;
    let takenOver = 0;
    for (const id of ids) {
      const history = await temporal.client.workflow.getHandle(workflowIdFor(id)).fetchHistory();
      const replay = await replayer.replay(workflowIdFor(id), history);
      expect(replay, id).toMatchObject({ deterministic: true });
      // The audit trail holds what the history decided, though tasks in flight on the killed worker were retried on the other.
      const audited = await fetch(`${url}/v1/cases/${id}/replay`, { headers });
      expect(await audited.json(), id).toMatchObject({ deterministic: true, auditTrail: { matches: true } });
      const identities = (history.events ?? []).map(
        (event) => event.workflowTaskCompletedEventAttributes?.identity ?? event.activityTaskStartedEventAttributes?.identity ?? undefined,
      );
      const last = identities.filter((identity): identity is string => Boolean(identity)).at(-1) ?? '';
      if (identities.some((identity) => identity?.startsWith(killed)) && last.startsWith(survivor)) takenOver++;
    }
    console.log(`${seconds()}: replayed; ${takenOver} of ${CASES} cases were worked on by the killed worker and finished by the other`);
    expect(takenOver).toBeGreaterThan(0);
    expect(second.child.exitCode).toBeNull();
    expect(api.child.exitCode).toBeNull();
  }, 420_000);
});
