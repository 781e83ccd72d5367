/**
 * Issue 21: records kept after a crash. `casebook start` is killed with kill -9 while 50 warehouse
 * receipts are being delivered at once (each to its own return case, which refunds and closes on it).
 * Started again, Casebook finishes every delivery the kill interrupted, without a resend: every receipt
 * is in `case_events` and its case's history, whatever moment the process died (also those a case had
 * acted on, refunding, in a workflow task the kill cut short), each case refunded once; sending all 50
 * again answers `duplicate` for each.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { RECEIPT_THEN_REFUND, smallPlaybookSource } from '../support/small-playbooks.js';
import { startCasebook, startOnFreePorts, stopCasebook, type Casebook } from './casebook-process.js';

const CASES = 50;
const dataDir = mkdtempSync(join(tmpdir(), 'casebook-inbox-crash-'));
let running: Casebook | undefined;
let db: pg.Pool | undefined;

afterAll(async () => {
  await db?.end();
  if (running && running.child.exitCode === null) await stopCasebook(running);
  rmSync(dataDir, { recursive: true, force: true });
});

const caseIds = Array.from({ length: CASES }, (_, i) => `kr-${i}`);
const receiptOf = (caseId: string) => ({ receiptId: `wh-${caseId}`, orderId: `KR-${caseId}`, payload: {} });

describe('kill -9 during 50 concurrent receipts', () => {
  it('keeps every receipt a case took in case_events and its history; resends are duplicate', async () => {
    const { casebook: first, ports, env } = await startOnFreePorts(dataDir);
    running = first;
    const api = `http://127.0.0.1:${ports.api}`;
    const admin = readFileSync(join(dataDir, 'admin.key'), 'utf8').trim();
    const call = async (method: string, path: string, key: string, body?: unknown, type = 'application/json') => {
      const response = await fetch(`${api}${path}`, {
        method,
        headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': type }) },
        ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
      });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    };
    // The database as its owner (the restart stops and starts the embedded Postgres: a new pool then).
    const connect = () => new pg.Pool({ connectionString: `postgres://casebook:casebook@127.0.0.1:${ports.postgres}/casebook`, max: 2 });
    db = connect();

    const source = smallPlaybookSource('crash-return', RECEIPT_THEN_REFUND.replace('timeout: 10d', 'timeout: 30d'));
    expect((await call('PUT', '/v1/playbooks/crash-return', admin, source, 'application/yaml')).status).toBe(201);
    const warehouse = (await call('POST', '/v1/keys', admin, { role: 'warehouse', name: 'Depot Hangzhou' })).body.key as string;
    for (const caseId of caseIds) {
      const opened = await call('POST', '/v1/cases', admin, {
        playbook: 'crash-return',
        caseId,
        data: { paid: { amount: 1_000, currency: 'CNY' }, order_id: `KR-${caseId}` },
      });
      expect(opened.status).toBe(201);
    }
    const waiting = async () =>
      (await db!.query(`SELECT count(*)::int AS n FROM cases WHERE case_id LIKE 'kr-%' AND waiting_for = '["warehouse.received"]'::jsonb`)).rows[0].n as number;
    await expect.poll(waiting, { timeout: 30_000, interval: 250 }).toBe(CASES);

    // All 50 at once; the process dies when the first few have answered, the rest in flight.
    let answered = 0;
    const sent = caseIds.map((caseId) =>
      call('POST', '/v1/webhooks/warehouse', warehouse, receiptOf(caseId)).then(
        (answer) => {
          answered += 1;
          return answer.status;
        },
        () => 'cut off',
      ),
    );
    await expect.poll(() => answered, { timeout: 30_000, interval: 5 }).toBeGreaterThanOrEqual(3);
    first.child.kill('SIGKILL');
    await first.exited;
    const cutOff = (await Promise.all(sent)).filter((status) => status === 'cut off').length;

    const positions = async () =>
      (
        await db!.query(
          `SELECT c.case_id, c.status, EXISTS (SELECT 1 FROM case_events e WHERE e.case_id = c.case_id AND e.event_id = 'wh-' || c.case_id) AS recorded,
              (SELECT count(*)::int FROM refunds r WHERE r.case_id = c.case_id) AS refunds
       FROM cases c WHERE c.case_id LIKE 'kr-%' ORDER BY c.case_id`,
        )
      ).rows as { case_id: string; status: string; recorded: boolean; refunds: number }[];
    // What the kill left (Postgres outlives it until the restart): cases that refunded on a receipt case_events does not have.
    const left = await positions();
    const unrecorded = left.filter((row) => row.refunds > 0 && !row.recorded).length;
    // A receipt the kill stopped before Casebook wrote it down was never received: only a resend brings it.
    const kept = new Set((await db.query(`SELECT event_id FROM event_inbox WHERE event_id LIKE 'wh-kr-%'`)).rows.map((row) => row.event_id as string));
    const received = (caseId: string) => kept.has(`wh-${caseId}`);
    console.log(
      `kill -9 with ${cutOff} of ${CASES} receipts unanswered (${kept.size} in the inbox): ` +
        `${left.filter((row) => row.refunds > 0).length} refunds issued, ${unrecorded} of them on a receipt not in case_events`,
    );
    await db.end();

    running = await startCasebook(env);
    const restarted = Date.now();
    db = connect();

    // No resend: the restarted Casebook finishes what the kill interrupted.
    const done = (row: Awaited<ReturnType<typeof positions>>[number]) => row.status === 'closed' && row.recorded && row.refunds === 1;
    const untouched = (row: Awaited<ReturnType<typeof positions>>[number]) => row.status === 'waiting' && !row.recorded && row.refunds === 0;
    const settled = (rows: Awaited<ReturnType<typeof positions>>) => rows.every((row) => (received(row.case_id) ? done(row) : untouched(row)));
    await expect
      .poll(async () => settled(await positions()), { timeout: 90_000, interval: 500 })
      .toBe(true)
      .catch(async (error: Error) => {
        const rows = await positions();
        throw new Error(`${error.message}\n${JSON.stringify(rows.filter((row) => !settled([row])))}\n${running!.output().slice(-3000)}`);
      });
    console.log(
      `all ${kept.size} receipts Casebook had received in case_events, each case refunded once, ${((Date.now() - restarted) / 1000).toFixed(1)} s after the restart`,
    );
    expect(running.output()).toMatch(/casebook: finished \d+ interrupted deliveries from the event inbox/);
    for (const caseId of caseIds.filter(received)) {
      const history = await call('GET', `/v1/cases/${caseId}/history`, admin);
      expect(history.body.events, caseId).toEqual([
        expect.objectContaining({ id: `wh-${caseId}`, type: 'warehouse.received', by: expect.objectContaining({ name: 'Depot Hangzhou' }) }),
      ]);
    }

    // The warehouse sends all 50 again, at once: a duplicate for each receipt Casebook had received, the others delivered now.
    const resent = await Promise.all(
      caseIds.map(async (caseId) => [caseId, await call('POST', '/v1/webhooks/warehouse', warehouse, receiptOf(caseId))] as const),
    );
    for (const [caseId, answer] of resent) {
      expect([answer.status, answer.body], caseId).toEqual(received(caseId) ? [200, { status: 'duplicate', caseId }] : [202, { status: 'accepted', caseId }]);
    }
    await expect.poll(async () => (await positions()).every(done), { timeout: 30_000, interval: 500 }).toBe(true);
    expect((await db.query(`SELECT count(*)::int AS n FROM event_inbox WHERE event_id LIKE 'wh-kr-%' AND status NOT IN ('routed', 'duplicate')`)).rows).toEqual(
      [{ n: 0 }],
    );
  }, 300_000);
});
