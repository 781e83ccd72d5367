/**
 * Sub-playbooks (`playbook` steps) on the real stack: a child case of its own run as a child workflow
 * of the parent's, linked both ways; its end routes the parent, its failure takes the parent's
 * on_error; both histories replay. Publish-time checks (cycles, input types) through the publish path.
 */
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import { workflowIdFor, type CaseResult } from '../../src/plan/case.js';
import { validatePlaybook } from '../../src/playbook/index.js';
import { subPlaybooksOf } from '../../src/services/playbooks.js';
import { planReferencesIn, withPlanReferences } from '../../src/stack/plan-references.js';
import { workflowBundlerOptions } from '../../src/stack/workflow-bundler.js';
import { WORKFLOWS_PATH } from '../../src/stack/worker.js';
import { publishPlaybook } from '../../src/store/playbooks.js';
import { recordHistory } from '../support/histories.js';
import { openCase } from '../support/playbooks.js';
import { useApi } from '../support/api.js';
import { useRuntime } from '../support/runtime.js';
import { caseRecords } from '../support/records.js';

const head = (name: string) => `playbook: ${name}\ncase_type: return\ncurrency: CNY\ntimezone: UTC\n`;

/** Refunds `amount` of the order, then ends `refunded`; `fail: true` divides by zero first. */
const CHILD = `${head('pay-back')}fields:
  order_id: { type: string }
  paid: { type: money }
  amount: { type: integer }
  divisor: { type: integer, required: false }
  note: { type: enum, values: [goodwill, refund], required: false }
paid_field: paid
order_id_field: order_id
steps:
  - id: check
    branch: { cases: [{ when: has(data.divisor) && 10 / data.divisor > 0, goto: refund }] }
  - id: refund
    refund: { amount: data.amount, reason: goodwill_test, within: 24h, from: case.opened, on_breach: declined, on_declined: declined }
  - id: refunded
    end: { outcome: resolved, reason: refunded }
  - id: declined
    end: { outcome: refused, reason: refund_declined }
`;

const PARENT = `${head('parent-case')}fields:
  order_id: { type: string }
  paid: { type: money }
  divisor: { type: integer, required: false }
  note: { type: string, required: false }
paid_field: paid
order_id_field: order_id
steps:
  - id: pay_back
    playbook:
      name: pay-back
      input: { order_id: data.order_id, paid: data.paid, amount: data.paid.amount / 2, divisor: "has(data.divisor) ? data.divisor : 1", note: "has(data.note) ? data.note : 'refund'" }
      outcomes: { refunded: thanked, refund_declined: declined }
      on_error: child_failed
  - id: thanked
    end: { outcome: resolved, reason: half_refunded }
  - id: declined
    end: { outcome: refused, reason: declined }
  - id: child_failed
    end: { outcome: escalated, reason: child_failed }
`;

/** Waits for the buyer's reply, for ten days. */
const WAITING = `${head('wait-child')}fields:\n  order_id: { type: string }\nevents:\n  buyer.replied: { payload: {} }\nsteps:\n  - id: wait_reply\n    wait: { events: [{ event: buyer.replied }], timeout: 10d, on_timeout: done }\n  - id: done\n    end: { outcome: resolved, reason: replied }\n`;

const runtime = useRuntime();
const http = useApi(runtime, { agent: ['agent', 'Lei'] });

/** Publishes a playbook through the publish path's lookup of the playbooks it runs. */
async function publish(source: string) {
  const result = validatePlaybook(source, 'p.yaml', { playbooks: await subPlaybooksOf(runtime.db.pool, source) });
  if (!result.plan) throw new Error(JSON.stringify(result.diagnostics));
  return (await publishPlaybook(runtime.db.pool, source, result.plan, 'test')).version;
}

async function diagnosticsOf(source: string) {
  return validatePlaybook(source, 'p.yaml', { playbooks: await subPlaybooksOf(runtime.db.pool, source) }).diagnostics.map((d) => ({
    code: d.code,
    line: d.line,
    column: d.column,
    message: d.message,
  }));
}

async function run(caseId: string, data: Record<string, unknown>): Promise<CaseResult> {
  await publish(CHILD);
  const version = await publish(PARENT);
  await openCase(runtime.service, { caseId, playbook: 'parent-case', version: version.version, data, openedBy: 'Lei', by: { keyId: null, name: 'Lei' } });
  return {
    ...((await runtime.env.client.workflow.getHandle(workflowIdFor(caseId)).result()) as CaseResult),
    steps: await caseRecords(runtime.db.pool, caseId),
  };
}

describe('sub-playbooks', () => {
  it('publishes the child first, pinning its version and plan hash in the parent', async () => {
    const child = await publish(CHILD);
    const parent = validatePlaybook(PARENT, 'p.yaml', { playbooks: await subPlaybooksOf(runtime.db.pool, PARENT) });
    expect(parent.plan?.plan.steps.pay_back).toMatchObject({ kind: 'playbook', playbook: { name: 'pay-back', version: child.version, hash: child.hash } });
  });

  it('runs the child as a case of its own, linked both ways, and goes on by how it ended', async () => {
    const result = await run('sub-ok', { order_id: 'SUB-1', paid: { amount: 10_000, currency: 'CNY' } });
    expect(result).toMatchObject({ outcome: 'resolved', reason: 'half_refunded' });
    const childId = 'sub-ok.pay_back.1';
    const record = result.steps.find((s) => s.step === 'pay_back' && s.kind === 'playbook');
    expect(record?.detail).toMatchObject({ child: childId, playbook: 'pay-back', outcome: 'resolved', reason: 'refunded', goto: 'thanked' });
    expect(result.steps.find((s) => s.kind === 'child-opened')?.detail).toMatchObject({ child: childId });
    // The child: its own case row, history and refund, naming its parent.
    const child = await runtime.service.describe(childId);
    expect(child).toMatchObject({ status: 'closed', outcome: { outcome: 'resolved', reason: 'refunded' }, parent: { caseId: 'sub-ok', step: 'pay_back' } });
    const parent = await runtime.service.describe('sub-ok');
    expect(parent).toMatchObject({
      parent: null,
      children: [{ caseId: childId, step: 'pay_back', playbook: 'pay-back', status: 'closed', outcome: 'resolved' }],
    });
    const refunds = await runtime.db.pool.query('SELECT case_id, amount::int AS amount FROM refunds WHERE order_id = $1', ['SUB-1']);
    expect(refunds.rows).toEqual([{ case_id: childId, amount: 5_000 }]);
    const opened = await runtime.db.pool.query(`SELECT actor_name, detail FROM audit_events WHERE case_id = $1 AND kind = 'opened'`, [childId]);
    expect(opened.rows[0]).toMatchObject({ actor_name: 'Lei', detail: { parent: { caseId: 'sub-ok', step: 'pay_back' } } });
    const childResult = (await runtime.env.client.workflow.getHandle(workflowIdFor(childId)).result()) as CaseResult;
    expect(childResult).toMatchObject({ outcome: 'resolved', reason: 'refunded' });
    await recordHistory(runtime.env.client.workflow.getHandle(workflowIdFor('sub-ok')), 'sub-playbook-parent');
    await recordHistory(runtime.env.client.workflow.getHandle(workflowIdFor(childId)), 'sub-playbook-child');
  });

  it("takes the parent's on_error when the child fails: the child ends failed at once, not waiting for repair", async () => {
    const result = await run('sub-fail', { order_id: 'SUB-2', paid: { amount: 10_000, currency: 'CNY' }, divisor: 0 });
    expect(result).toMatchObject({ outcome: 'escalated', reason: 'child_failed' });
    const record = result.steps.find((s) => s.step === 'pay_back' && s.kind === 'playbook');
    expect(record?.detail).toMatchObject({ child: 'sub-fail.pay_back.1', goto: 'child_failed' });
    expect(String(record?.detail?.failed)).toContain('failed');
    const child = await runtime.service.describe('sub-fail.pay_back.1');
    expect(child).toMatchObject({ status: 'closed', outcome: { outcome: 'failed' } });
    const escalations = await runtime.db.pool.query('SELECT count(*)::int AS n FROM escalations WHERE case_id = $1', ['sub-fail.pay_back.1']);
    expect(escalations.rows[0].n).toBe(0);
  });

  it('without on_error, a failed child fails the parent for repair; a retry opens a new child', async () => {
    await publish(CHILD);
    const strict = await publish(
      PARENT.replace('parent-case', 'strict-parent')
        .replace('      on_error: child_failed\n', '')
        .replace('  - id: child_failed\n    end: { outcome: escalated, reason: child_failed }\n', ''),
    );
    await openCase(runtime.service, {
      caseId: 'sub-strict',
      playbook: 'strict-parent',
      version: strict.version,
      data: { order_id: 'SUB-6', paid: { amount: 10_000, currency: 'CNY' }, divisor: 0 },
    });
    await expect.poll(async () => (await runtime.service.describe('sub-strict'))?.status, { timeout: 10_000 }).toBe('failed');
    const escalated = await runtime.db.pool.query('SELECT queue, reason FROM escalations WHERE case_id = $1', ['sub-strict']);
    expect(escalated.rows).toEqual([{ queue: 'casebook-admin', reason: 'case_failed' }]);
    expect(await runtime.service.repair('sub-strict', { action: 'retry', by: { keyId: null, name: 'Root' }, reason: 'try again' })).toMatchObject({
      kind: 'repaired',
    });
    // The retry is the step's next visit: a new child, which fails the same way.
    await expect
      .poll(async () => (await runtime.service.describe('sub-strict'))?.children.map((c) => c.caseId), { timeout: 10_000 })
      .toEqual(['sub-strict.pay_back.1', 'sub-strict.pay_back.2']);
    // Failed again: escalated again, under the second visit's key.
    const failures = async () => (await runtime.db.pool.query('SELECT count(*)::int AS n FROM escalations WHERE case_id = $1', ['sub-strict'])).rows[0].n;
    await expect.poll(failures, { timeout: 10_000 }).toBe(2);
    await expect.poll(async () => (await runtime.service.describe('sub-strict'))?.status, { timeout: 10_000 }).toBe('failed');
    expect(await runtime.service.repair('sub-strict', { action: 'close', by: { keyId: null, name: 'Root' }, reason: 'refunded by hand' })).toMatchObject({
      kind: 'repaired',
    });
    const result = (await runtime.env.client.workflow.getHandle(workflowIdFor('sub-strict')).result()) as CaseResult;
    expect(result).toMatchObject({ outcome: 'failed', reason: 'refunded by hand' });
  });

  it('takes on_error without opening a child whose input does not fit it at run time', async () => {
    const result = await run('sub-bad-input', { order_id: 'SUB-3', paid: { amount: 10_000, currency: 'CNY' }, note: 'other' });
    expect(result).toMatchObject({ outcome: 'escalated', reason: 'child_failed' });
    const record = result.steps.find((s) => s.step === 'pay_back' && s.kind === 'playbook');
    expect(String(record?.detail?.failed)).toMatch(/does not fit playbook pay-back/);
    expect(await runtime.service.describe('sub-bad-input.pay_back.1')).toBeNull();
    expect((await runtime.service.describe('sub-bad-input'))?.children).toEqual([]);
  });

  it('shows the links both ways in the API case view', async () => {
    const get = async (caseId: string) =>
      (await http.api.inject({ method: 'GET', url: `/v1/cases/${caseId}`, headers: { authorization: `Bearer ${http.keys.agent}` } })).json();
    expect(await get('sub-ok')).toMatchObject({
      parent: null,
      children: [{ caseId: 'sub-ok.pay_back.1', step: 'pay_back', playbook: 'pay-back', version: 1, status: 'closed', outcome: 'resolved' }],
    });
    expect(await get('sub-ok.pay_back.1')).toMatchObject({ playbook: 'pay-back', parent: { caseId: 'sub-ok', step: 'pay_back' }, children: [] });
  });

  it('cancels the child it waits for when the parent case is cancelled', async () => {
    await publish(WAITING);
    const parent = await publish(
      `${head('wait-parent')}fields:\n  order_id: { type: string }\nsteps:\n  - id: ask\n    playbook: { name: wait-child, input: { order_id: data.order_id } }\n  - id: done\n    end: { outcome: resolved, reason: done }\n`,
    );
    await openCase(runtime.service, { caseId: 'sub-cancel', playbook: 'wait-parent', version: parent.version, data: { order_id: 'SUB-4' } });
    const child = 'sub-cancel.ask.1';
    await expect.poll(async () => (await runtime.service.describe(child))?.waitingFor ?? [], { timeout: 10_000 }).toContain('buyer.replied');
    // While the child runs, the parent says it waits for it, and takes no event for that.
    await expect
      .poll(() => runtime.service.describe('sub-cancel'), { timeout: 10_000 })
      .toMatchObject({ status: 'waiting', step: 'ask', waitingFor: [`case ${child}`] });
    expect(await runtime.inbox.deliverEvent('sub-cancel', { type: `case ${child}`, id: 'not-an-event', payload: {} })).toMatchObject({ status: 'refused' });
    expect(await runtime.service.cancel('sub-cancel', { by: { keyId: null, name: 'Lei' }, reason: 'opened by mistake' })).toEqual({ kind: 'accepted' });
    const result = (await runtime.env.client.workflow.getHandle(workflowIdFor('sub-cancel')).result()) as CaseResult;
    expect(result).toMatchObject({ outcome: 'cancelled' });
    const childResult = (await runtime.env.client.workflow.getHandle(workflowIdFor(child)).result()) as CaseResult;
    expect(childResult).toMatchObject({ outcome: 'cancelled' });
    expect(await runtime.service.describe(child)).toMatchObject({ status: 'closed', outcome: { outcome: 'cancelled' } });
  });

  it('a child cancelled by a person: the parent goes where outcomes.cancelled says, else takes on_error', async () => {
    await publish(WAITING);
    const parentOf = (name: string, routes: string, other: string) =>
      `${head(name)}fields:\n  order_id: { type: string }\nsteps:\n  - id: ask\n    playbook: { name: wait-child, input: { order_id: data.order_id }, ${routes} }\n  - id: done\n    end: { outcome: resolved, reason: done }\n  - id: ${other}\n`;
    const routed = await publish(
      parentOf('routes-cancel', 'outcomes: { cancelled: withdrawn }', 'withdrawn\n    end: { outcome: cancelled, reason: child_withdrawn }'),
    );
    const unrouted = await publish(
      parentOf('fails-cancel', 'outcomes: { replied: done }, on_error: broken', 'broken\n    end: { outcome: escalated, reason: child_broken }'),
    );
    for (const [caseId, version] of [
      ['sub-withdrawn', routed],
      ['sub-broken', unrouted],
    ] as const) {
      await openCase(runtime.service, { caseId, playbook: version.name, version: version.version, data: { order_id: caseId } });
      const child = `${caseId}.ask.1`;
      await expect.poll(async () => (await runtime.service.describe(child))?.waitingFor ?? [], { timeout: 10_000 }).toContain('buyer.replied');
      expect(await runtime.service.cancel(child, { by: { keyId: null, name: 'Lei' }, reason: 'buyer withdrew' })).toEqual({ kind: 'accepted' });
    }
    const resultOf = async (caseId: string): Promise<CaseResult> => ({
      ...((await runtime.env.client.workflow.getHandle(workflowIdFor(caseId)).result()) as CaseResult),
      steps: await caseRecords(runtime.db.pool, caseId),
    });
    expect(await resultOf('sub-withdrawn')).toMatchObject({ outcome: 'cancelled', reason: 'child_withdrawn' });
    const broken = await resultOf('sub-broken');
    expect(broken).toMatchObject({ outcome: 'escalated', reason: 'child_broken' });
    expect(broken.steps.find((r) => r.step === 'ask' && r.kind === 'playbook')?.detail).toMatchObject({
      child: 'sub-broken.ask.1',
      failed: 'child case sub-broken.ask.1 was cancelled: buyer withdrew',
      goto: 'broken',
    });
  });

  it('runs a child per item of a for_each, each under its item key', async () => {
    await publish(CHILD);
    const loop = await publish(`${head('loop-parent')}fields:
  order_id: { type: string }
  paid: { type: money }
  amounts: { type: list, items: { type: integer } }
paid_field: paid
order_id_field: order_id
steps:
  - id: each
    for_each:
      in: data.amounts
      as: amount
      max: 5
      steps:
        - id: pay_item
          playbook: { name: pay-back, input: { order_id: data.order_id, paid: data.paid, amount: amount }, on_error: item_failed }
          next: item_done
        - id: item_failed
          remark: { text: "item failed" }
        - id: item_done
          remark: { text: "item done" }
  - id: done
    end: { outcome: resolved, reason: paid_back }
`);
    await openCase(runtime.service, {
      caseId: 'sub-loop',
      playbook: 'loop-parent',
      version: loop.version,
      data: { order_id: 'SUB-5', paid: { amount: 10_000, currency: 'CNY' }, amounts: [300, 400] },
    });
    const result = (await runtime.env.client.workflow.getHandle(workflowIdFor('sub-loop')).result()) as CaseResult;
    expect(result).toMatchObject({ outcome: 'resolved', reason: 'paid_back' });
    const parent = await runtime.service.describe('sub-loop');
    expect(parent?.children.map((c) => [c.caseId, c.step, c.outcome])).toEqual([
      ['sub-loop.pay_item-0.1', 'pay_item', 'resolved'],
      ['sub-loop.pay_item-1.1', 'pay_item', 'resolved'],
    ]);
    const refunds = await runtime.db.pool.query('SELECT case_id, amount::int AS amount FROM refunds WHERE order_id = $1 ORDER BY id', ['SUB-5']);
    expect(refunds.rows).toEqual([
      { case_id: 'sub-loop.pay_item-0.1', amount: 300 },
      { case_id: 'sub-loop.pay_item-1.1', amount: 400 },
    ]);
  });

  it('replays the parent and the child from their histories', async () => {
    for (const caseId of ['sub-ok', 'sub-ok.pay_back.1', 'sub-fail', 'sub-fail.pay_back.1', 'sub-cancel', 'sub-cancel.ask.1']) {
      const history = await runtime.env.client.workflow.getHandle(workflowIdFor(caseId)).fetchHistory();
      await Worker.runReplayHistory(
        // A child's input, sent by the parent's worker, names its plan by hash (docs/decisions/0018-plans-by-reference-in-histories.md).
        { workflowsPath: WORKFLOWS_PATH, bundlerOptions: workflowBundlerOptions, dataConverter: withPlanReferences(planReferencesIn(runtime.db.pool)) },
        temporal.api.history.v1.History.fromObject(history),
        workflowIdFor(caseId),
      );
    }
    // The auditor's replay (GET /v1/cases/{id}/replay): the records re-derived match the audit trail, for parent and child alike.
    for (const caseId of ['sub-ok', 'sub-ok.pay_back.1', 'sub-fail.pay_back.1']) {
      expect(await runtime.audit.replay(caseId)).toMatchObject({ kind: 'replayed', caseId, deterministic: true, divergence: null });
    }
  }, 120_000);

  it('refuses a cycle, with the chain, and a playbook running itself', async () => {
    await publish(`${head('loop-b')}fields:\n  order_id: { type: string }\nsteps:\n  - id: done\n    end: { outcome: resolved, reason: done }\n`);
    const a = `${head('loop-a')}fields:\n  order_id: { type: string }\nsteps:\n  - id: run_b\n    playbook: { name: loop-b, input: { order_id: data.order_id } }\n  - id: done\n    end: { outcome: resolved, reason: done }\n`;
    await publish(a);
    // loop-b v2 runs loop-a, which runs loop-b: refused.
    const b2 = `${head('loop-b')}fields:\n  order_id: { type: string }\nsteps:\n  - id: run_a\n    playbook: { name: loop-a, input: { order_id: data.order_id } }\n  - id: done\n    end: { outcome: resolved, reason: done }\n`;
    expect(await diagnosticsOf(b2)).toEqual([
      { code: 'PB332', line: 9, column: 23, message: 'running loop-a would run loop-b again: loop-b → loop-a → loop-b' },
    ]);
    const self = `${head('loop-c')}fields:\n  order_id: { type: string }\nsteps:\n  - id: again\n    playbook: { name: loop-c }\n  - id: done\n    end: { outcome: resolved, reason: done }\n`;
    expect((await diagnosticsOf(self)).map((d) => [d.code, d.line, d.column])).toEqual([['PB332', 9, 23]]);
  });

  it('refuses input of the wrong type, unknown or missing fields, unknown outcomes and children, at their positions', async () => {
    await publish(CHILD);
    const bad = `${head('bad-parent')}fields:
  order_id: { type: string }
  paid: { type: money }
steps:
  - id: pay_back
    playbook:
      name: pay-back
      input: { order_id: data.paid, paid: data.paid, amout: "1" }
      outcomes: { refundd: done }
  - id: other
    playbook: { name: pay-bak, version: 2 }
  - id: old
    playbook: { name: pay-back, version: 99, input: { order_id: data.order_id, paid: data.paid, amount: "1" } }
  - id: done
    end: { outcome: resolved, reason: done }
`;
    expect((await diagnosticsOf(bad)).map((d) => [d.code, d.line, d.column])).toEqual([
      ['PB334', 12, 7],
      ['PB202', 12, 26],
      ['PB333', 12, 54],
      ['PB335', 13, 19],
      ['PB330', 15, 23],
      ['PB331', 17, 42],
    ]);
    const dollars = `playbook: usd-parent\ncase_type: return\ncurrency: USD\ntimezone: UTC\nfields:\n  order_id: { type: string }\n  paid: { type: money }\nsteps:\n  - id: pay_back\n    playbook: { name: pay-back, input: { order_id: data.order_id, paid: data.paid, amount: "1" } }\n  - id: done\n    end: { outcome: resolved, reason: done }\n`;
    expect((await diagnosticsOf(dollars)).map((d) => [d.code, d.line, d.column])).toEqual([['PB336', 10, 73]]);
  });
});
