/**
 * Bulk operations over the real API, Temporal test server and Postgres: a dry run counts the cases a
 * selection matches; the job cancels each, with who and why; a second run skips them; the same
 * Idempotency-Key is the same job; bad selections and confirmations are 4xx with a pointer.
 */
import type { LightMyRequestResponse } from 'fastify';
import { describe, expect, it, vi } from 'vitest';
import { run as bulkCommand } from '../../src/cli/commands/bulk.js';
import { composeApi, composeBulkOperations, composeLeases } from '../../src/stack/compose.js';
import { verifyAuditTrail } from '../../src/store/audit-chain.js';
import { useApi } from '../support/api.js';
import { useRuntime } from '../support/runtime.js';
import { compileSmallPlaybook, openSmallCase } from '../support/small-playbooks.js';

const WAITING = compileSmallPlaybook(
  'bulk-waiting',
  `events:
  warehouse.received: { payload: {} }
steps:
  - id: wait_receipt
    wait: { events: [{ event: warehouse.received }], timeout: 7d, on_timeout: done }
  - id: done
    end: { outcome: resolved, reason: received }
`,
);
const OTHER = compileSmallPlaybook(
  'bulk-other',
  `events:
  warehouse.received: { payload: {} }
steps:
  - id: wait_other
    wait: { events: [{ event: warehouse.received }], timeout: 7d, on_timeout: done }
  - id: done
    end: { outcome: resolved, reason: received }
`,
);

const runtime = useRuntime();
const http = useApi(runtime, { opsLead: ['ops-lead', 'Mei'], admin: ['admin', 'Root'], agent: ['agent', 'Lei'] });

function post(url: string, body: unknown, key = http.keys.opsLead, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
  return http.api.inject({
    method: 'POST',
    url,
    payload: JSON.stringify(body),
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}`, ...headers },
  });
}
const get = (url: string, key = http.keys.opsLead) => http.api.inject({ method: 'GET', url, headers: { authorization: `Bearer ${key}` } });

const CANCEL = { operation: 'cancel', selection: { playbook: 'bulk-waiting' }, reason: 'Double 11 orders voided by the shop' };

/** Dry run, then run with its confirmation; answers the finished job and its report. */
async function runToEnd(request: Record<string, unknown>, headers: Record<string, string> = {}) {
  const dry = await post('/v1/bulk-operations/dry-run', request);
  expect(dry.statusCode).toBe(200);
  const started = await post('/v1/bulk-operations', { ...request, confirmation: dry.json().confirmation, ratePerSecond: 50 }, http.keys.opsLead, headers);
  expect(started.statusCode).toBe(202);
  const id = started.json().id;
  await expect.poll(async () => (await get(`/v1/bulk-operations/${id}`)).json().status, { timeout: 60_000 }).toBe('finished');
  const report = (await get(`/v1/bulk-operations/${id}/cases?limit=1000`)).json();
  return { dry: dry.json(), job: (await get(`/v1/bulk-operations/${id}`)).json(), report: report.cases as { caseId: string; state: string; detail: string }[] };
}

describe('a bulk cancel', () => {
  it('cancels 100 waiting cases by a query with who and why; a second run changes nothing', async () => {
    const ids = Array.from({ length: 100 }, (_, i) => `bulk-${String(i).padStart(3, '0')}`);
    for (const id of ids) await openSmallCase(runtime.service, runtime.db.pool, WAITING, id);
    await openSmallCase(runtime.service, runtime.db.pool, OTHER, 'bulk-other-1');
    await expect
      .poll(async () => (await runtime.db.pool.query(`SELECT count(*)::int AS n FROM cases WHERE status = 'waiting'`)).rows[0].n, { timeout: 30_000 })
      .toBe(101);

    const { dry, job, report } = await runToEnd(CANCEL);
    expect(dry).toMatchObject({ operation: 'cancel', count: 100, limit: 10_000 });
    expect(dry.sample).toHaveLength(10);
    expect(dry.sample[0]).toEqual({ caseId: 'bulk-000', playbook: 'bulk-waiting', version: 1, status: 'waiting', step: 'wait_receipt' });
    expect(job).toMatchObject({ operation: 'cancel', createdBy: { name: 'Mei' }, progress: { total: 100, done: 100, skipped: 0, failed: 0, pending: 0 } });
    expect(report.map((c) => [c.caseId, c.state, c.detail])).toEqual(ids.map((id) => [id, 'done', 'cancelled']));

    for (const id of ids) {
      await expect
        .poll(async () => (await runtime.service.describe(id))?.outcome, { timeout: 30_000 })
        .toEqual({
          outcome: 'cancelled',
          reason: 'Double 11 orders voided by the shop',
        });
    }
    const audited = await runtime.db.pool.query(
      `SELECT case_id, actor_name, detail->>'reason' AS reason FROM audit_events WHERE kind = 'cancelled' ORDER BY case_id`,
    );
    expect(audited.rows).toEqual(ids.map((id) => ({ case_id: id, actor_name: 'Mei', reason: 'Double 11 orders voided by the shop' })));
    expect((await runtime.service.describe('bulk-other-1'))?.status).toBe('waiting');

    const again = await runToEnd(CANCEL);
    expect(again.job.progress).toMatchObject({ total: 100, done: 0, skipped: 100, failed: 0 });
    expect(new Set(again.report.map((c) => c.detail))).toEqual(new Set(['already cancelled']));
    expect((await runtime.db.pool.query(`SELECT count(*)::int AS n FROM audit_events WHERE kind = 'cancelled'`)).rows[0].n).toBe(100);

    // Retry failed: none of them failed, each is skipped and says why.
    const retry = await runToEnd({ operation: 'retry', selection: { playbook: 'bulk-waiting', status: 'closed' }, reason: 'provider back' });
    expect(retry.dry.count).toBe(100);
    expect(retry.job.progress).toMatchObject({ skipped: 100 });
    expect(retry.report[0]!.detail).toBe('not failed (closed)');
  }, 120_000);

  it('escalates the selected open cases once: a second run finds the escalation', async () => {
    const request = {
      operation: 'escalate',
      selection: { playbook: 'bulk-other', step: 'wait_other' },
      reason: 'carrier_strike',
      queue: 'ops',
      severity: 'high',
    };
    const first = await runToEnd(request, { 'idempotency-key': 'strike-1' });
    expect(first.report).toEqual([expect.objectContaining({ caseId: 'bulk-other-1', state: 'done', detail: expect.stringMatching(/^escalation \d+$/) })]);
    const rows = await runtime.db.pool.query(`SELECT queue, severity, reason, note FROM escalations WHERE case_id = 'bulk-other-1'`);
    expect(rows.rows).toEqual([{ queue: 'ops', severity: 'high', reason: 'carrier_strike', note: `bulk job ${first.job.id} by Mei` }]);
    const escalationId = Number(first.report[0]!.detail.split(' ')[1]);
    const audited = await runtime.db.pool.query(`SELECT actor_name, detail FROM audit_events WHERE kind = 'bulk-escalated' AND case_id = 'bulk-other-1'`);
    expect(audited.rows).toEqual([
      { actor_name: 'Mei', detail: { escalation: escalationId, queue: 'ops', severity: 'high', reason: 'carrier_strike', job: first.job.id } },
    ]);
    expect(await verifyAuditTrail(runtime.db.pool)).toMatchObject({ intact: true, problems: [] });

    // The same Idempotency-Key is the same job; with another request it is refused.
    const dry = (await post('/v1/bulk-operations/dry-run', request)).json();
    const same = await post('/v1/bulk-operations', { ...request, confirmation: dry.confirmation }, http.keys.opsLead, { 'idempotency-key': 'strike-1' });
    expect(same.statusCode).toBe(200);
    expect(same.json().id).toBe(first.job.id);
    const other = { ...request, reason: 'another' };
    const otherDry = (await post('/v1/bulk-operations/dry-run', other)).json();
    const reused = await post('/v1/bulk-operations', { ...other, confirmation: otherDry.confirmation }, http.keys.opsLead, { 'idempotency-key': 'strike-1' });
    expect(reused.statusCode).toBe(422);
    expect(reused.json().errors).toEqual([expect.objectContaining({ pointer: '/headers/idempotency-key' })]);

    const second = await runToEnd(request);
    expect(second.report).toEqual([expect.objectContaining({ state: 'skipped', detail: 'already escalated to ops for this reason' })]);
  }, 60_000);
});

describe('bad requests', () => {
  it.each([
    [{ ...CANCEL, selection: { status: 'sleeping' } }, '/selection/status'],
    [{ ...CANCEL, selection: {} }, '/selection'],
    [{ ...CANCEL, selection: { playbook: 'x', colour: 'red' } }, '/selection/colour'],
    [{ ...CANCEL, selection: { openedFrom: '0000-01-01' } }, '/selection/openedFrom'],
    [{ ...CANCEL, reason: ' ' }, '/reason'],
    [{ operation: 'escalate', selection: { playbook: 'x' }, reason: 'r' }, '/queue'],
    [{ ...CANCEL, queue: 'ops' }, ''],
  ])('%j: 400 at %s', async (body, pointer) => {
    const answer = await post('/v1/bulk-operations/dry-run', body);
    expect(answer.statusCode).toBe(400);
    expect(answer.json().errors.map((e: { pointer: string }) => e.pointer)).toContain(pointer);
  });

  it('runs only with the dry run’s confirmation for the same request', async () => {
    const dry = (await post('/v1/bulk-operations/dry-run', CANCEL)).json();
    const other = await post('/v1/bulk-operations', { ...CANCEL, reason: 'something else', confirmation: dry.confirmation });
    expect(other.statusCode).toBe(409);
    expect(other.json()).toMatchObject({ type: 'https://casebook.dev/problems/bulk-unconfirmed', errors: [{ pointer: '/confirmation' }] });
  });

  it('is for ops leads and admins; an unknown job is 404', async () => {
    expect((await post('/v1/bulk-operations/dry-run', CANCEL, http.keys.agent)).statusCode).toBe(403);
    expect((await post('/v1/bulk-operations/dry-run', CANCEL, http.keys.admin)).statusCode).toBe(200);
    expect((await get('/v1/bulk-operations/999999')).json().type).toBe('https://casebook.dev/problems/unknown-bulk-job');
    expect((await get('/v1/bulk-operations/abc')).statusCode).toBe(404);
    expect((await get('/v1/bulk-operations/dry-run')).statusCode).toBe(405);
    expect((await get('/v1/bulk-operations/0')).statusCode).toBe(400);
  });
});

describe('casebook bulk', () => {
  it('a dry run prints the count and the confirmation; with it the job cancels the cases and prints the report', async () => {
    const CLI = compileSmallPlaybook(
      'bulk-cli',
      `events:\n  warehouse.received: { payload: {} }\nsteps:\n  - id: wait_cli\n    wait: { events: [{ event: warehouse.received }], timeout: 7d, on_timeout: done }\n  - id: done\n    end: { outcome: resolved, reason: received }\n`,
    );
    for (const id of ['cli-1', 'cli-2', 'cli-3']) await openSmallCase(runtime.service, runtime.db.pool, CLI, id);
    await expect.poll(async () => (await runtime.service.describe('cli-3'))?.status, { timeout: 30_000 }).toBe('waiting');
    const where = { databaseUrl: runtime.db.url, temporalAddress: runtime.env.address, namespace: 'default' };
    const args = ['cancel', '--playbook', 'bulk-cli', '--reason', 'test orders', '--by', 'Mei on call', '--rate', '50'];
    const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      expect(await bulkCommand(['cancel', '--playbook', 'bulk-cli', '--dry-run'], where)).toBe(2);
      expect(await bulkCommand(['cancel', '--status', 'asleep', '--reason', 'x', '--dry-run'], where)).toBe(2);
      expect(await bulkCommand([...args, '--confirm', 'not-it'], where)).toBe(2);
      expect(await bulkCommand([...args, '--dry-run'], where)).toBe(0);
      const printed = out.mock.calls.map(([chunk]) => String(chunk)).join('');
      expect(printed).toContain('3 cases match');
      const token = /confirmation: (\S+)/.exec(printed)![1]!;
      out.mockClear();
      expect(await bulkCommand([...args, '--confirm', token], where)).toBe(0);
      expect(out.mock.calls.map(([chunk]) => String(chunk)).join('')).toMatch(/job \d+: 3 done, 0 skipped, 0 failed/);
      out.mockClear();
      expect(await bulkCommand([...args, '--confirm', token], where)).toBe(0);
      expect(out.mock.calls.map(([chunk]) => String(chunk)).join('')).toMatch(
        /cli-1 {2}skipped {2}(already cancelled|already being cancelled)[\s\S]*0 done, 3 skipped/,
      );
    } finally {
      out.mockRestore();
      err.mockRestore();
    }
    await expect
      .poll(async () => (await runtime.service.describe('cli-1'))?.outcome, { timeout: 30_000 })
      .toEqual({ outcome: 'cancelled', reason: 'test orders' });
    const by = await runtime.db.pool.query(`SELECT actor_name FROM audit_events WHERE kind = 'cancelled' AND case_id = 'cli-2'`);
    expect(by.rows).toEqual([{ actor_name: 'Mei on call' }]);
  }, 60_000);
});

describe('a job cut short by a restart', () => {
  it('stays running with its pending cases, and resumes at the first of them', async () => {
    const RESUMED = compileSmallPlaybook(
      'bulk-resumed',
      `events:\n  warehouse.received: { payload: {} }\nsteps:\n  - id: wait_r\n    wait: { events: [{ event: warehouse.received }], timeout: 7d, on_timeout: done }\n  - id: done\n    end: { outcome: resolved, reason: received }\n`,
    );
    for (const id of ['res-1', 'res-2', 'res-3', 'res-4']) await openSmallCase(runtime.service, runtime.db.pool, RESUMED, id);
    await expect.poll(async () => (await runtime.service.describe('res-4'))?.status, { timeout: 30_000 }).toBe('waiting');
    const first = await composeApi({ services: { cases: runtime.service, inbox: runtime.inbox, audit: runtime.audit }, pool: runtime.db.pool });
    const call = (method: 'GET' | 'POST', url: string, body?: unknown) =>
      first.inject({
        method,
        url,
        headers: { authorization: `Bearer ${http.keys.admin}`, 'content-type': 'application/json' },
        ...(body ? { payload: JSON.stringify(body) } : {}),
      });
    const request = { operation: 'cancel', selection: { playbook: 'bulk-resumed' }, reason: 'restart test' };
    const { confirmation } = (await call('POST', '/v1/bulk-operations/dry-run', request)).json();
    const id = (await call('POST', '/v1/bulk-operations', { ...request, confirmation, ratePerSecond: 1 })).json().id;
    await expect.poll(async () => (await call('GET', `/v1/bulk-operations/${id}`)).json().progress.done, { timeout: 30_000 }).toBeGreaterThanOrEqual(1);
    await first.close();
    const stopped = (
      await http.api.inject({ method: 'GET', url: `/v1/bulk-operations/${id}`, headers: { authorization: `Bearer ${http.keys.admin}` } })
    ).json();
    expect(stopped.status).toBe('running');
    expect(stopped.progress.pending).toBeGreaterThan(0);

    // Another process runs the job (it holds its lease): this one leaves it alone, until that one dies.
    const other = composeLeases(runtime.db.url);
    expect(await other.claim(`bulk-job:${id}`)).toBeDefined();
    const leases = composeLeases(runtime.db.url);
    const bulk = composeBulkOperations(runtime.env.client, runtime.db.pool, leases.claim);
    await bulk.resume();
    await bulk.wait(id);
    expect((await bulk.job(id))!.progress.pending).toBe(stopped.progress.pending);
    await other.close();
    await bulk.resume();
    await bulk.wait(id);
    await bulk.close();
    await leases.close();
    expect((await bulk.job(id))!).toMatchObject({ status: 'finished', progress: { total: 4, done: 4, pending: 0 } });
  }, 60_000);
});

describe('a bulk retry', () => {
  it('retries the failed step of each failed case, and skips the others', async () => {
    const FAILS = compileSmallPlaybook(
      'bulk-fails',
      `steps:
  - id: check
    branch: { cases: [{ when: "1 / data.count > 0", goto: done }], otherwise: done }
  - id: done
    end: { outcome: resolved, reason: checked }
`,
    );
    await openSmallCase(runtime.service, runtime.db.pool, FAILS, 'fails-1', { count: 0 });
    await openSmallCase(runtime.service, runtime.db.pool, FAILS, 'fails-2', { count: 0 });
    await expect.poll(async () => (await runtime.service.describe('fails-2'))?.status, { timeout: 30_000 }).toBe('failed');
    await expect.poll(async () => (await runtime.service.describe('fails-1'))?.status, { timeout: 30_000 }).toBe('failed');
    const { report } = await runToEnd({ operation: 'retry', selection: { playbook: 'bulk-fails', status: 'failed' }, reason: 'divisor fixed' });
    expect(report.map((c) => [c.caseId, c.state, c.detail.split(':')[0]])).toEqual([
      ['fails-1', 'done', 'retried check'],
      ['fails-2', 'done', 'retried check'],
    ]);
    const repairs = await runtime.db.pool.query(`SELECT count(*)::int AS n FROM audit_events WHERE case_id LIKE 'fails-%' AND actor_name = 'Mei'`);
    expect(repairs.rows[0].n).toBeGreaterThanOrEqual(2);
  }, 60_000);
});
