/**
 * Cancelling a case on the time-skipping server and Postgres: a buyer's cancel (a `cancel_on` event)
 * during the wait for the warehouse ends the case `cancelled`, cancels the wait's timer, runs the
 * compensations of the completed steps in reverse order of completion, escalates the refund already
 * paid (never taking it back), and the case replays from its history. A person's cancel through the
 * API: roles, bad input with a JSON pointer, 404, 409 once closed, idempotent; a failed case too.
 */
import { Worker } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import { run as cancelCommand } from '../../src/cli/commands/cancel.js';
import { workflowIdFor, type CaseResult } from '../../src/plan/case.js';
import { validatePlaybook } from '../../src/playbook/index.js';
import { WORKFLOWS_PATH } from '../../src/stack/worker.js';
import { workflowBundlerOptions } from '../../src/stack/workflow-bundler.js';
import { useApi } from '../support/api.js';
import { recordHistory } from '../support/histories.js';
import { useRuntime } from '../support/runtime.js';
import { compileSmallPlaybook, openSmallCase, smallPlaybookSource } from '../support/small-playbooks.js';
import { caseRecords } from '../support/records.js';

/** The payment provider and the integrations are down for the cases whose id starts with `down-`: their refunds stay in flight, their calls fail. */
const runtime = useRuntime(async () => {}, {
  wrap: (adapters) => ({
    ...adapters,
    payments: {
      refund: (request, attempt) =>
        request.key.startsWith('down-') ? Promise.reject(new Error('provider unreachable')) : adapters.payments.refund(request, attempt),
    },
    integrations: {
      call: (request, attempt) =>
        request.caseId.startsWith('down-') ? Promise.reject(new Error('warehouse unreachable')) : adapters.integrations.call(request, attempt),
    },
  }),
});
const http = useApi(runtime, {
  agent: ['agent', 'Lei'],
  opsLead: ['ops-lead', 'Mei'],
  admin: ['admin', 'Root'],
  warehouse: ['warehouse', 'Depot'],
  auditor: ['auditor', 'Audit'],
});

/** A return that flags the order, refunds the shipping, tells the buyer, then waits a week for the warehouse. */
const RETURN = compileSmallPlaybook(
  'cancellable-return',
  `events:
  warehouse.received: { payload: {} }
  buyer.cancelled: { payload: { reason: { type: string } } }
cancel_on:
  buyer.cancelled:
    where: event.reason != ""
    reason: "buyer withdrew: {{ event.reason }}"
templates:
  address: { text: "Please send the item to our warehouse." }
  cancelled: { text: "Your return of order {{ data.order_id }} is cancelled." }
steps:
  - id: flag_order
    remark: { text: "return requested", flag: red }
    compensate: unflag_order
  - id: refund_shipping
    refund: { amount: "300", reason: shipping, within: 24h, from: case.opened, on_breach: late, on_declined: late }
  - id: tell_buyer
    send: { to: buyer, template: address }
    compensate: tell_buyer_cancelled
  - id: wait_warehouse
    wait: { events: [{ event: warehouse.received }], timeout: 7d, on_timeout: late }
  - id: done
    end: { outcome: resolved, reason: received }
  - id: late
    end: { outcome: escalated, reason: late }
compensations:
  - id: unflag_order
    remark: { text: "return cancelled", flag: grey }
  - id: tell_buyer_cancelled
    send: { to: buyer, template: cancelled }
`,
);

const handle = (caseId: string) => runtime.env.client.workflow.getHandle(workflowIdFor(caseId));
const waitingFor = async (caseId: string, event: string) =>
  expect.poll(async () => (await runtime.service.describe(caseId))?.waitingFor ?? [], { timeout: 15_000 }).toContain(event);
const rows = async (sql: string, caseId: string) => (await runtime.db.pool.query(sql, [caseId])).rows;
const cancel = (caseId: string, key: string, payload: unknown = { reason: 'opened by mistake' }, headers: Record<string, string> = {}) =>
  http.api.inject({ method: 'POST', url: `/v1/cases/${caseId}/cancel`, payload: payload as object, headers: { authorization: `Bearer ${key}`, ...headers } });

describe('a buyer cancels a return while it waits for the warehouse', () => {
  it('ends cancelled: the wait and its timer cancelled, compensations in reverse order, the paid refund escalated, replayable', async () => {
    await openSmallCase(runtime.service, runtime.db.pool, RETURN, 'cancel-1');
    await waitingFor('cancel-1', 'warehouse.received');
    const by = { keyId: 'k-buyer', name: 'marketplace' };
    expect(await runtime.inbox.deliverEvent('cancel-1', { type: 'buyer.cancelled', id: 'c-1', payload: { reason: 'changed my mind' }, by })).toEqual({
      status: 'accepted',
    });
    const result = { ...((await handle('cancel-1').result()) as CaseResult), steps: await caseRecords(runtime.db.pool, 'cancel-1') };
    expect(result).toMatchObject({ outcome: 'cancelled', reason: 'buyer withdrew: changed my mind' });

    // What the case did, in order: the cancel, then the completed steps answered for last first.
    const after = result.steps.slice(result.steps.findIndex((s) => s.kind === 'cancelled'));
    expect(after.map((s) => [s.step, s.kind])).toEqual([
      ['wait_warehouse', 'cancelled'],
      ['tell_buyer_cancelled', 'compensation'],
      ['tell_buyer_cancelled', 'send'],
      ['refund_shipping', 'refund_paid_before_cancel'],
      ['unflag_order', 'compensation'],
      ['unflag_order', 'remark'],
    ]);
    expect(after[0]!.detail).toEqual({ by, reason: 'buyer withdrew: changed my mind', event: { type: 'buyer.cancelled', id: 'c-1' } });
    expect(after[1]!.detail).toEqual({ compensates: 'tell_buyer', key: 'cancel-1/tell_buyer/1/compensate' });

    // The refund stays paid; finance has the escalation.
    expect(await rows(`SELECT amount, status FROM refunds WHERE case_id = $1`, 'cancel-1')).toEqual([{ amount: 300, status: 'issued' }]);
    expect(await rows(`SELECT queue, reason, step_id FROM escalations WHERE case_id = $1 ORDER BY id`, 'cancel-1')).toEqual([
      { queue: 'finance', reason: 'refund_paid_before_cancel', step_id: 'refund_shipping' },
    ]);
    expect((await rows(`SELECT body FROM outbox_messages WHERE case_id = $1 ORDER BY id`, 'cancel-1')).map((r) => r.body)).toEqual([
      'Please send the item to our warehouse.',
      'Your return of order cancel-1 is cancelled.',
    ]);
    expect(await rows(`SELECT remark, flag FROM order_notes WHERE case_id = $1 ORDER BY id`, 'cancel-1')).toEqual([
      expect.objectContaining({ flag: 'red' }),
      expect.objectContaining({ flag: 'grey' }),
    ]);

    // Who and why, in the projection and the audit trail.
    expect(await runtime.service.describe('cancel-1')).toMatchObject({
      status: 'closed',
      outcome: { outcome: 'cancelled', reason: 'buyer withdrew: changed my mind' },
    });
    expect(await rows(`SELECT kind, step_id, actor_name FROM audit_trail WHERE case_id = $1 AND kind = 'cancelled'`, 'cancel-1')).toEqual([
      { kind: 'cancelled', step_id: 'wait_warehouse', actor_name: 'marketplace' },
    ]);

    // The wait's 7-day timer was cancelled: the history has it cancelled, and it never fired.
    const history = await handle('cancel-1').fetchHistory();
    expect(history.events!.some((e) => e.timerCanceledEventAttributes)).toBe(true);
    expect(history.events!.some((e) => e.timerFiredEventAttributes)).toBe(false);
    await Worker.runReplayHistory({ workflowsPath: WORKFLOWS_PATH, bundlerOptions: workflowBundlerOptions }, history, workflowIdFor('cancel-1'));
    await recordHistory(handle('cancel-1'), 'return-cancelled-by-buyer');
  }, 120_000);

  it('a cancel event whose `where` does not hold is recorded and the case goes on; events after the close are refused', async () => {
    await openSmallCase(runtime.service, runtime.db.pool, RETURN, 'cancel-2');
    await waitingFor('cancel-2', 'warehouse.received');
    expect(await runtime.inbox.deliverEvent('cancel-2', { type: 'buyer.cancelled', id: 'c-2', payload: { reason: '' } })).toEqual({ status: 'accepted' });
    expect(await runtime.inbox.deliverEvent('cancel-2', { type: 'warehouse.received', id: 'w-2', payload: {} })).toEqual({ status: 'accepted' });
    const result = { ...((await handle('cancel-2').result()) as CaseResult), steps: await caseRecords(runtime.db.pool, 'cancel-2') };
    expect(result).toMatchObject({ outcome: 'resolved' });
    expect(result.steps.filter((s) => s.kind === 'cancel_on').map((s) => s.detail)).toEqual([{ event: 'buyer.cancelled', eventId: 'c-2', cancels: false }]);
    expect(await runtime.inbox.deliverEvent('cancel-2', { type: 'buyer.cancelled', id: 'c-3', payload: { reason: 'late' } })).toMatchObject({
      status: 'closed',
    });
  }, 120_000);

  it("a buyer's cancel sent for the order (not the case) is routed to the case its cancel_on names", async () => {
    await openSmallCase(runtime.service, runtime.db.pool, RETURN, 'cancel-routed');
    await waitingFor('cancel-routed', 'warehouse.received');
    const routed = await runtime.inbox.deliverInbound(
      { source: 'inbound:marketplace', eventId: 'mk-cancel-1', type: 'buyer.cancelled', payload: { reason: 'bought elsewhere' }, orderId: 'cancel-routed' },
      { keyId: null, name: 'marketplace' },
    );
    expect(routed).toMatchObject({ status: 'delivered', caseId: 'cancel-routed', result: { status: 'accepted' } });
    expect(await handle('cancel-routed').result()).toMatchObject({ outcome: 'cancelled', reason: 'buyer withdrew: bought elsewhere' });
  }, 120_000);

  it('continue-as-new carries what a cancel must answer for', async () => {
    const LOOP = compileSmallPlaybook(
      'cancel-after-loop',
      `events:
  buyer.cancelled: { payload: {} }
cancel_on:
  buyer.cancelled: {}
steps:
  - id: flag_order
    remark: { text: "flagged", flag: red }
    compensate: unflag_order
  - id: tick
    delay: 1s
  - id: count
    set: { count: data.count + 1 }
    compensate: note_rounds
  - id: again
    branch: { cases: [{ when: data.count >= 0, goto: tick }], otherwise: done }
  - id: done
    end: { outcome: resolved, reason: stopped }
compensations:
  - id: unflag_order
    remark: { text: "unflagged", flag: grey }
  - id: note_rounds
    remark: { text: "stopped after {{ data.count }} rounds" }
`,
    );
    await openSmallCase(runtime.service, runtime.db.pool, LOOP, 'cancel-loop', { count: 0 });
    const first = (await handle('cancel-loop').describe()).runId;
    for (let i = 0; i < 30 && (await handle('cancel-loop').describe()).runId === first; i++) await runtime.env.sleep(60_000);
    expect((await handle('cancel-loop').describe()).runId).not.toBe(first);
    expect(await runtime.inbox.deliverEvent('cancel-loop', { type: 'buyer.cancelled', id: 'c-loop', payload: {} })).toEqual({ status: 'accepted' });
    const result = { ...((await handle('cancel-loop').result()) as CaseResult), steps: await caseRecords(runtime.db.pool, 'cancel-loop') };
    expect(result).toMatchObject({ outcome: 'cancelled', reason: 'buyer.cancelled received' });
    // The looped step is compensated once, for its latest round, before the step that completed first.
    expect(result.steps.filter((s) => s.kind === 'compensation').map((s) => s.step)).toEqual(['note_rounds', 'unflag_order']);
    const notes = await rows(`SELECT remark, flag FROM order_notes WHERE case_id = $1 ORDER BY id`, 'cancel-loop');
    expect(notes.map((n) => n.flag)).toEqual(['red', null, 'grey']);
    expect(notes[1].remark).toMatch(/^stopped after [1-9]\d* rounds$/);
    // What the next run carries does not grow with the rounds: one entry per step.
    const input = await handle('cancel-loop').fetchHistory();
    const carried = JSON.parse(new TextDecoder().decode(input.events![0]!.workflowExecutionStartedEventAttributes!.input!.payloads![0]!.data!));
    expect(carried.resume.completed.map((c: { step: string }) => c.step)).toEqual(['flag_order', 'count']);
  }, 300_000);
});

describe('a refund being paid when the cancel comes', () => {
  it('is escalated to finance as possibly paid; the steps before it are compensated, those after it never ran', async () => {
    await openSmallCase(runtime.service, runtime.db.pool, RETURN, 'down-1');
    await expect.poll(async () => (await runtime.service.describe('down-1'))?.step, { timeout: 15_000 }).toBe('refund_shipping');
    expect((await cancel('down-1', http.keys.agent, { reason: 'buyer called' })).statusCode).toBe(202);
    const result = { ...((await handle('down-1').result()) as CaseResult), steps: await caseRecords(runtime.db.pool, 'down-1') };
    expect(result).toMatchObject({ outcome: 'cancelled', reason: 'buyer called' });
    const after = result.steps.slice(result.steps.findIndex((s) => s.kind === 'cancelled'));
    expect(after.map((s) => [s.step, s.kind])).toEqual([
      ['refund_shipping', 'cancelled'],
      ['refund_shipping', 'refund_paid_before_cancel'],
      ['unflag_order', 'compensation'],
      ['unflag_order', 'remark'],
    ]);
    expect(after[1]!.detail).toMatchObject({ key: 'down-1/refund_shipping/1', inFlight: true });
    expect(await rows(`SELECT queue, reason, note FROM escalations WHERE case_id = $1`, 'down-1')).toEqual([
      { queue: 'finance', reason: 'refund_paid_before_cancel', note: expect.stringContaining('was being paid when the case was cancelled') },
    ]);
  }, 120_000);
});

describe('a compensation that fails', () => {
  it('is recorded and escalated to the admins; the other compensations still run and the case ends cancelled', async () => {
    const FAILING = compileSmallPlaybook(
      'cancel-failing-compensation',
      `events:
  warehouse.received: { payload: {} }
integrations:
  warehouse: { operations: [hold_parcel, release_parcel] }
steps:
  - id: flag_order
    remark: { text: flagged, flag: red }
    compensate: unflag_order
  - id: hold_parcel
    remark: { text: "parcel held" }
    compensate: release_parcel
  - id: wait_warehouse
    wait: { events: [{ event: warehouse.received }], timeout: 7d, on_timeout: done }
  - id: done
    end: { outcome: resolved, reason: received }
compensations:
  - id: unflag_order
    remark: { text: unflagged, flag: grey }
  - id: release_parcel
    call: { integration: warehouse, operation: release_parcel, retry: { attempts: 1 } }
`,
    );
    await openSmallCase(runtime.service, runtime.db.pool, FAILING, 'down-comp');
    await waitingFor('down-comp', 'warehouse.received');
    expect((await cancel('down-comp', http.keys.agent, { reason: 'opened twice' })).statusCode).toBe(202);
    const result = { ...((await handle('down-comp').result()) as CaseResult), steps: await caseRecords(runtime.db.pool, 'down-comp') };
    expect(result).toMatchObject({ outcome: 'cancelled', reason: 'opened twice' });
    const after = result.steps.slice(result.steps.findIndex((s) => s.kind === 'cancelled'));
    expect(after.map((s) => [s.step, s.kind])).toEqual([
      ['wait_warehouse', 'cancelled'],
      ['release_parcel', 'compensation'],
      ['release_parcel', 'compensation_failed'],
      ['unflag_order', 'compensation'],
      ['unflag_order', 'remark'],
    ]);
    expect(after[2]!.detail).toMatchObject({ compensates: 'hold_parcel', failed: expect.stringContaining('warehouse unreachable') });
    expect(await rows(`SELECT queue, reason, step_id FROM escalations WHERE case_id = $1`, 'down-comp')).toEqual([
      { queue: 'casebook-admin', reason: 'compensation_failed', step_id: 'release_parcel' },
    ]);
  }, 120_000);
});

describe('compensations of steps in a for_each', () => {
  it("each item's completed step is compensated, the last item first", async () => {
    const source = smallPlaybookSource(
      'cancel-items',
      `events:
  warehouse.received: { payload: {} }
steps:
  - id: notify_lines
    for_each:
      in: data.lines
      as: line
      max: 10
      steps:
        - id: note_line
          remark: { text: "line {{ line.id }} returned" }
          compensate: unnote_line
  - id: wait_warehouse
    wait: { events: [{ event: warehouse.received }], timeout: 7d, on_timeout: done }
  - id: done
    end: { outcome: resolved, reason: received }
compensations:
  - id: unnote_line
    remark: { text: "a line's return withdrawn" }
`,
    ).replace(
      '  count: { type: integer, required: false }\n',
      '  count: { type: integer, required: false }\n  lines: { type: list, required: false, items: { type: object, fields: { id: { type: string } } } }\n',
    );
    const compiled = validatePlaybook(source, 'cancel-items.yaml');
    expect(compiled.diagnostics).toEqual([]);
    await openSmallCase(runtime.service, runtime.db.pool, compiled.plan!, 'cancel-items', { lines: [{ id: 'L1' }, { id: 'L2' }, { id: 'L3' }] });
    await waitingFor('cancel-items', 'warehouse.received');
    expect((await cancel('cancel-items', http.keys.agent, { reason: 'wrong order' })).statusCode).toBe(202);
    const result = { ...((await handle('cancel-items').result()) as CaseResult), steps: await caseRecords(runtime.db.pool, 'cancel-items') };
    expect(result.steps.filter((s) => s.kind === 'compensation').map((s) => s.detail!.key)).toEqual([
      'cancel-items/note_line@2/1/compensate',
      'cancel-items/note_line@1/1/compensate',
      'cancel-items/note_line@0/1/compensate',
    ]);
    expect((await rows(`SELECT remark FROM order_notes WHERE case_id = $1 ORDER BY id`, 'cancel-items')).map((r) => r.remark)).toEqual([
      'line L1 returned',
      'line L2 returned',
      'line L3 returned',
      "a line's return withdrawn",
      "a line's return withdrawn",
      "a line's return withdrawn",
    ]);
  }, 120_000);
});

describe('a workflow cancelled in Temporal (a parent case cancels its children so)', () => {
  it('is cancelled as a person cancels it: compensated, refund escalated, ended cancelled', async () => {
    await openSmallCase(runtime.service, runtime.db.pool, RETURN, 'cancel-temporal');
    await waitingFor('cancel-temporal', 'warehouse.received');
    await handle('cancel-temporal').cancel();
    const result = { ...((await handle('cancel-temporal').result()) as CaseResult), steps: await caseRecords(runtime.db.pool, 'cancel-temporal') };
    expect(result).toMatchObject({ outcome: 'cancelled', reason: expect.stringContaining('cancelled in Temporal') });
    expect(result.steps.filter((s) => s.kind === 'compensation').map((s) => s.step)).toEqual(['tell_buyer_cancelled', 'unflag_order']);
    expect(await rows(`SELECT reason FROM escalations WHERE case_id = $1`, 'cancel-temporal')).toEqual([{ reason: 'refund_paid_before_cancel' }]);
    await Worker.runReplayHistory(
      { workflowsPath: WORKFLOWS_PATH, bundlerOptions: workflowBundlerOptions },
      await handle('cancel-temporal').fetchHistory(),
      workflowIdFor('cancel-temporal'),
    );
  }, 120_000);
});

describe('casebook cancel', () => {
  it('cancels a case from a shell as the named person; 1 once closed, 2 for an unknown case or no reason', async () => {
    await openSmallCase(runtime.service, runtime.db.pool, RETURN, 'cancel-cli');
    await waitingFor('cancel-cli', 'warehouse.received');
    const where = { databaseUrl: runtime.db.url, temporalAddress: runtime.env.address, namespace: 'default' };
    expect(await cancelCommand(['cancel-cli'], where)).toBe(2);
    expect(await cancelCommand(['cancel-cli', '--reason', '   '], where)).toBe(2);
    expect(await cancelCommand(['no-such-case', '--reason', 'x'], where)).toBe(2);
    expect(await cancelCommand(['cancel-cli', '--reason', 'duplicate of cancel-1', '--by', 'Mei on call'], where)).toBe(0);
    const result = { ...((await handle('cancel-cli').result()) as CaseResult), steps: await caseRecords(runtime.db.pool, 'cancel-cli') };
    expect(result).toMatchObject({ outcome: 'cancelled', reason: 'duplicate of cancel-1' });
    expect(result.steps.find((s) => s.kind === 'cancelled')!.detail).toMatchObject({ by: { keyId: null, name: 'Mei on call' } });
    expect(await cancelCommand(['cancel-cli', '--reason', 'again'], where)).toBe(1);
  }, 120_000);
});

describe('POST /v1/cases/{id}/cancel', () => {
  it('an agent cancels a waiting case: 202, then 200 with the same key, 409 once closed; the cancel and its actor are recorded', async () => {
    await openSmallCase(runtime.service, runtime.db.pool, RETURN, 'cancel-api');
    await waitingFor('cancel-api', 'warehouse.received');
    const first = await cancel('cancel-api', http.keys.agent, { reason: ' opened by mistake ' }, { 'idempotency-key': 'cancel-api-1' });
    expect(first.statusCode).toBe(202);
    expect(first.json()).toEqual({ status: 'accepted' });
    const again = await cancel('cancel-api', http.keys.agent, { reason: ' opened by mistake ' }, { 'idempotency-key': 'cancel-api-1' });
    expect([again.statusCode, again.json()]).toEqual([202, { status: 'accepted' }]);
    const result = { ...((await handle('cancel-api').result()) as CaseResult), steps: await caseRecords(runtime.db.pool, 'cancel-api') };
    expect(result).toMatchObject({ outcome: 'cancelled', reason: 'opened by mistake' });
    expect(result.steps.find((s) => s.kind === 'cancelled')!.detail).toEqual({ by: { keyId: expect.any(String), name: 'Lei' }, reason: 'opened by mistake' });
    expect(await rows(`SELECT actor_name FROM audit_trail WHERE case_id = $1 AND kind = 'cancelled'`, 'cancel-api')).toEqual([{ actor_name: 'Lei' }]);
    const closed = await cancel('cancel-api', http.keys.opsLead);
    expect(closed.statusCode).toBe(409);
    expect(closed.json()).toMatchObject({ type: 'https://casebook.dev/problems/case-closed', caseId: 'cancel-api' });
  }, 120_000);

  it('a second cancel while the compensations run answers 200 duplicate; the case ends once, cancelled by the first', async () => {
    // The compensation texts the buyer, held until quiet hours end two hours on: the cancel is under way meanwhile.
    const start = new Date(await runtime.env.currentTimeMs());
    const hh = (h: number) => `${String((h + 24) % 24).padStart(2, '0')}:00`;
    const QUIET = compileSmallPlaybook(
      'cancel-quiet',
      `events:
  warehouse.received: { payload: {} }
templates:
  sorry: { text: "Your return is cancelled." }
steps:
  - id: flag_order
    remark: { text: flagged, flag: red }
    compensate: text_buyer
  - id: wait_warehouse
    wait: { events: [{ event: warehouse.received }], timeout: 7d, on_timeout: done }
  - id: done
    end: { outcome: resolved, reason: received }
compensations:
  - id: text_buyer
    send: { to: buyer, template: sorry, channel: sms }
`,
      `quiet_hours: { start: "${hh(start.getUTCHours())}", end: "${hh(start.getUTCHours() + 2)}" }\n`,
    );
    await openSmallCase(runtime.service, runtime.db.pool, QUIET, 'cancel-twice');
    await waitingFor('cancel-twice', 'warehouse.received');
    expect((await cancel('cancel-twice', http.keys.agent, { reason: 'first' })).statusCode).toBe(202);
    await expect.poll(async () => (await runtime.service.describe('cancel-twice'))?.waitingFor, { timeout: 15_000 }).toEqual([]);
    const second = await cancel('cancel-twice', http.keys.opsLead, { reason: 'second' });
    expect([second.statusCode, second.json()]).toEqual([200, { status: 'duplicate' }]);
    const result = { ...((await handle('cancel-twice').result()) as CaseResult), steps: await caseRecords(runtime.db.pool, 'cancel-twice') };
    expect(result).toMatchObject({ outcome: 'cancelled', reason: 'first' });
    expect(result.steps.filter((s) => s.kind === 'cancelled')).toHaveLength(1);
    expect(await rows(`SELECT channel, status FROM outbox_messages WHERE case_id = $1`, 'cancel-twice')).toEqual([{ channel: 'sms', status: 'sent' }]);
  }, 120_000);

  it('refuses bad input with a JSON pointer, other roles, unknown cases', async () => {
    await openSmallCase(runtime.service, runtime.db.pool, RETURN, 'cancel-bad');
    await waitingFor('cancel-bad', 'warehouse.received');
    const bad: [unknown, string][] = [
      [{}, '/reason'],
      [{ reason: '' }, '/reason'],
      [{ reason: '   ' }, '/reason'],
      [{ reason: 'x'.repeat(501) }, '/reason'],
      [{ reason: 'ok', extra: 1 }, '/extra'],
    ];
    for (const [payload, pointer] of bad) {
      const response = await cancel('cancel-bad', http.keys.agent, payload);
      expect(response.statusCode, JSON.stringify(payload)).toBe(400);
      expect(response.json(), JSON.stringify(payload)).toMatchObject({
        type: 'https://casebook.dev/problems/invalid-request',
        errors: expect.arrayContaining([expect.objectContaining({ pointer })]),
      });
    }
    expect((await cancel('cancel-bad', http.keys.warehouse)).statusCode).toBe(403);
    expect((await cancel('cancel-bad', http.keys.auditor)).statusCode).toBe(403);
    const unknown = await cancel('no-such-case', http.keys.admin);
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json()).toMatchObject({ type: 'https://casebook.dev/problems/unknown-case' });
    expect((await runtime.service.describe('cancel-bad'))?.status).toBe('waiting');
    expect((await cancel('cancel-bad', http.keys.opsLead)).statusCode).toBe(202);
    const second = await cancel('cancel-bad', http.keys.admin);
    expect([200, 409]).toContain(second.statusCode);
    expect(await handle('cancel-bad').result()).toMatchObject({ outcome: 'cancelled' });
  }, 120_000);

  it('a failed case waiting for repair can be cancelled', async () => {
    const FAILING = compileSmallPlaybook(
      'cancel-failed',
      `steps:
  - id: flag_order
    remark: { text: "flagged", flag: red }
    compensate: unflag_order
  - id: divide
    set: { count: "10 / (has(data.count) ? data.count : 0)" }
  - id: done
    end: { outcome: resolved, reason: divided }
compensations:
  - id: unflag_order
    remark: { text: "unflagged", flag: grey }
`,
    );
    await openSmallCase(runtime.service, runtime.db.pool, FAILING, 'cancel-failed-1');
    await expect.poll(async () => (await runtime.service.describe('cancel-failed-1'))?.status, { timeout: 15_000 }).toBe('failed');
    expect((await cancel('cancel-failed-1', http.keys.admin, { reason: 'cannot be fixed' })).statusCode).toBe(202);
    const result = { ...((await handle('cancel-failed-1').result()) as CaseResult), steps: await caseRecords(runtime.db.pool, 'cancel-failed-1') };
    expect(result).toMatchObject({ outcome: 'cancelled', reason: 'cannot be fixed' });
    expect(result.steps.filter((s) => s.kind === 'remark').map((s) => s.step)).toEqual(['flag_order', 'unflag_order']);
    expect(await runtime.service.describe('cancel-failed-1')).toMatchObject({ status: 'closed', waitingFor: [], step: null });
  }, 120_000);
});
