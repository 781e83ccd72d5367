/**
 * Order lines on the real stack (Temporal test server, Postgres as casebook_app): a three-line order
 * with two lines returned refunds exactly those lines; no path (two cases on one line, a loop of refund
 * steps, an activity retry, a repair retry) gives a line back more than it was paid, and the database
 * refuses an over-refund written by hand.
 */
import { describe, expect, it } from 'vitest';
import { Context } from '@temporalio/activity';
import { buildApi } from '../../src/api/app.js';
import { DeliveryFailure, type Adapters } from '../../src/connectors/ports.js';
import { createApiKey } from '../../src/store/api-keys.js';
import { workflowIdFor, type CaseResult } from '../../src/plan/case.js';
import { publishPlaybook } from '../../src/store/playbooks.js';
import { validatePlaybook } from '../../src/playbook/index.js';
import { orderLedger, orderLines } from '../../src/store/orders.js';
import { recordHistory } from '../support/histories.js';
import { useRuntime } from '../support/runtime.js';
import { caseRecords } from '../support/records.js';

/** Provider answers the tests script per case: the answer lost after paying (retried), or a failure for good after paying (repair). */
const lost = new Map<string, 'answer-lost' | 'fails-for-good'>();
const payments = new Map<string, number>();
const wrap = (adapters: Adapters): Adapters => ({
  ...adapters,
  payments: {
    refund: async (request, attempt) => {
      const outcome = await adapters.payments.refund(request, attempt);
      payments.set(request.key, (payments.get(request.key) ?? 0) + 1);
      const fault = lost.get(request.caseId);
      if (fault === 'answer-lost' && Context.current().info.attempt === 1) throw new Error('connection reset after the provider paid (scripted)');
      if (fault === 'fails-for-good') {
        lost.delete(request.caseId);
        throw new DeliveryFailure('the provider answered 400 after paying (scripted)', undefined);
      }
      return outcome;
    },
  },
});
const runtime = useRuntime(async () => {}, { wrap });

const LINES_FIELDS = `fields:
  order_id: { type: string }
  lines:
    type: list
    items:
      type: object
      fields:
        id: { type: string }
        item: { type: string }
        quantity: { type: integer }
        paid: { type: money }
  returned: { type: list, items: { type: string } }
  last_line: { type: string, required: false }
order_id_field: order_id
order_lines_field: lines
concerned_lines_field: returned
events:
  warehouse.received: { early: true, payload: {} }
  again: { payload: {} }
`;
const PAID_OF = (index: string) => `data.lines.filter(l, l.id == data.returned[${index}])[0].paid.amount`;
const refund = (line: string, amount: string, next = '') =>
  `refund: { line: "${line}", amount: "${amount}", reason: returned, within: 24h, from: warehouse.received, on_breach: late, on_declined: declined${next} }`;

/** Refunds each returned line (one or two) in full once the warehouse has them. */
const RETURN_LINES = `playbook: lines-return
case_type: return
currency: CNY
${LINES_FIELDS}steps:
  - id: wait_receipt
    wait: { events: [{ event: warehouse.received }], timeout: 10d, on_timeout: declined }
  - id: refund_first
    ${refund('data.returned[0]', PAID_OF('0'))}
  - id: more
    branch:
      cases:
        - when: size(data.returned) > 1
          goto: refund_second
      otherwise: done
  - id: refund_second
    ${refund('data.returned[1]', PAID_OF('1'))}
  - id: done
    end: { outcome: resolved, reason: refunded }
  - id: late
    end: { outcome: resolved, reason: refunded_late }
  - id: declined
    end: { outcome: escalated, reason: refund_declined }
`;

/** Refunds the first returned line again each time \`again\` comes: a loop of refund steps. */
const LOOP = `playbook: lines-loop
case_type: return
currency: CNY
${LINES_FIELDS}steps:
  - id: wait_receipt
    wait: { events: [{ event: warehouse.received }], timeout: 10d, on_timeout: declined }
  - id: refund_line
    ${refund('data.returned[0]', PAID_OF('0'))}
  - id: wait_again
    wait: { events: [{ event: again, goto: refund_line }], timeout: 10d, on_timeout: done }
  - id: done
    end: { outcome: resolved, reason: refunded }
  - id: late
    end: { outcome: resolved, reason: refunded_late }
  - id: declined
    end: { outcome: escalated, reason: refund_declined }
`;

/** Names a line by a fixed id (the case may not concern it), for half of it. */
const FIXED = (line: string) => `playbook: lines-fixed
case_type: return
currency: CNY
${LINES_FIELDS}steps:
  - id: wait_receipt
    wait: { events: [{ event: warehouse.received }], timeout: 10d, on_timeout: declined }
  - id: refund_line
    ${refund(`'${line}'`, '2000')}
  - id: done
    end: { outcome: resolved, reason: refunded }
  - id: late
    end: { outcome: resolved, reason: refunded_late }
  - id: declined
    end: { outcome: escalated, reason: refund_declined }
`;

/** Refunds each line id of the list \`in\` names, one after another, in a for_each: the amount looked up in the order's lines. */
const FOR_EACH = (list: string) => `playbook: lines-for-each
case_type: return
currency: CNY
${LINES_FIELDS}steps:
  - id: wait_receipt
    wait: { events: [{ event: warehouse.received }], timeout: 10d, on_timeout: declined }
  - id: refund_lines
    for_each:
      in: "${list}"
      as: line_id
      max: 50
      collect: line_id
      steps:
        - id: refund_line
          refund: { line: line_id, amount: "data.lines.filter(l, l.id == line_id)[0].paid.amount", reason: returned, within: 24h, from: warehouse.received, on_breach: line_done, on_declined: line_done }
        - id: line_done
          set: { last_line: line_id }
  - id: done
    end: { outcome: resolved, reason: refunded }
  - id: declined
    end: { outcome: escalated, reason: refund_declined }
`;
const RETURNED = 'data.returned';

const money = (amount: number) => ({ amount, currency: 'CNY' });
/** A three-line order: a coat, two shirts, a scarf. */
const LINES = [
  { id: 'L1', item: 'coat', quantity: 1, paid: money(30_000) },
  { id: 'L2', item: 'shirt', quantity: 2, paid: money(12_000) },
  { id: 'L3', item: 'scarf', quantity: 1, paid: money(5_000) },
];
const data = (orderId: string, returned: string[], lines: unknown[] = LINES) => ({ order_id: orderId, lines, returned });

const published = new Map<string, number>();
async function publish(source: string): Promise<string> {
  const compiled = validatePlaybook(source, 'lines.yaml');
  if (!compiled.plan) throw new Error(`does not compile: ${JSON.stringify(compiled.diagnostics)}`);
  const { version } = await publishPlaybook(runtime.db.pool, source, compiled.plan, 'test');
  published.set(version.name, version.version);
  return version.name;
}

async function open(source: string, caseId: string, caseData: Record<string, unknown>) {
  const name = await publish(source);
  return runtime.service.open({ caseId, playbook: name, version: published.get(name)!, data: caseData });
}

const handle = (caseId: string) => runtime.env.client.workflow.getHandle(workflowIdFor(caseId));
const receive = async (caseId: string) =>
  expect(await runtime.inbox.deliverEvent(caseId, { type: 'warehouse.received', id: `${caseId}-rcv`, payload: {} })).toEqual({ status: 'accepted' });
async function run(source: string, caseId: string, caseData: Record<string, unknown>): Promise<CaseResult> {
  expect(await open(source, caseId, caseData)).toMatchObject({ kind: 'opened', created: true });
  await receive(caseId);
  return { ...((await handle(caseId).result()) as CaseResult), steps: await caseRecords(runtime.db.pool, caseId) };
}
const refundsOf = async (orderId: string) =>
  (await runtime.db.pool.query(`SELECT case_id, line_id, amount, status, decline_reason FROM refunds WHERE order_id = $1 ORDER BY id`, [orderId])).rows;
/** What the provider paid out per line of an order, from its own record. */
const paidOut = async (orderId: string) =>
  Object.fromEntries(
    (
      await runtime.db.pool.query(
        `SELECT r.line_id, sum(p.amount)::int AS paid FROM provider_refunds p JOIN refunds r USING (idempotency_key) WHERE r.order_id = $1 GROUP BY r.line_id`,
        [orderId],
      )
    ).rows.map((row) => [row.line_id, row.paid]),
  );

describe('order lines', () => {
  it('a three-line order with two lines returned refunds exactly those lines', async () => {
    const outcome = await run(RETURN_LINES, 'lines-1', data('ORDER-L1', ['L1', 'L3']));
    expect(outcome).toMatchObject({ outcome: 'resolved', reason: 'refunded' });
    await recordHistory(handle('lines-1'), 'refund-order-lines');
    expect(await refundsOf('ORDER-L1')).toEqual([
      { case_id: 'lines-1', line_id: 'L1', amount: 30_000, status: 'issued', decline_reason: null },
      { case_id: 'lines-1', line_id: 'L3', amount: 5_000, status: 'issued', decline_reason: null },
    ]);
    expect(await paidOut('ORDER-L1')).toEqual({ L1: 30_000, L3: 5_000 });
    const ledger = await orderLedger(runtime.db.pool, 'ORDER-L1');
    expect(ledger).toMatchObject({ paid: 47_000, givenBack: 35_000 });
    expect(ledger!.lines).toEqual([
      { lineId: 'L1', item: 'coat', quantity: 1, paid: 30_000, refunded: 30_000, requested: 0, left: 0, cases: ['lines-1'] },
      { lineId: 'L2', item: 'shirt', quantity: 2, paid: 12_000, refunded: 0, requested: 0, left: 12_000, cases: [] },
      { lineId: 'L3', item: 'scarf', quantity: 1, paid: 5_000, refunded: 5_000, requested: 0, left: 0, cases: ['lines-1'] },
    ]);
    const records = outcome.steps.filter((step) => step.kind === 'refund').map((step) => step.detail);
    expect(records).toMatchObject([
      { line: 'L1', amount: 30_000 },
      { line: 'L3', amount: 5_000 },
    ]);
  });

  it('two cases on two lines of one order both run; a second case on the same line gets nothing more', async () => {
    expect(await run(RETURN_LINES, 'lines-2a', data('ORDER-L2', ['L2']))).toMatchObject({ reason: 'refunded' });
    expect(await run(RETURN_LINES, 'lines-2b', data('ORDER-L2', ['L3']))).toMatchObject({ reason: 'refunded' });
    expect(await run(RETURN_LINES, 'lines-2c', data('ORDER-L2', ['L2']))).toMatchObject({ reason: 'refund_declined' });
    expect(await refundsOf('ORDER-L2')).toMatchObject([
      { case_id: 'lines-2a', line_id: 'L2', amount: 12_000, status: 'issued' },
      { case_id: 'lines-2b', line_id: 'L3', amount: 5_000, status: 'issued' },
      {
        case_id: 'lines-2c',
        line_id: 'L2',
        amount: 12_000,
        status: 'declined',
        decline_reason: expect.stringMatching(/line L2 of order ORDER-L2 would total 24000 > 12000/),
      },
    ]);
    expect(await paidOut('ORDER-L2')).toEqual({ L2: 12_000, L3: 5_000 });
    expect((await orderLedger(runtime.db.pool, 'ORDER-L2'))!.lines.find((line) => line.lineId === 'L2')).toMatchObject({ cases: ['lines-2a', 'lines-2c'] });
  });

  it('a loop of refund steps refunds a line once', async () => {
    expect(await open(LOOP, 'lines-3', data('ORDER-L3', ['L3']))).toMatchObject({ kind: 'opened' });
    await receive('lines-3');
    await expect.poll(async () => (await runtime.service.describe('lines-3'))?.waitingFor ?? [], { timeout: 20_000 }).toContain('again');
    expect(await runtime.inbox.deliverEvent('lines-3', { type: 'again', id: 'lines-3-again', payload: {} })).toEqual({ status: 'accepted' });
    expect(await handle('lines-3').result()).toMatchObject({ reason: 'refund_declined' });
    expect(await refundsOf('ORDER-L3')).toMatchObject([
      { line_id: 'L3', amount: 5_000, status: 'issued' },
      { line_id: 'L3', amount: 5_000, status: 'declined' },
    ]);
    expect(await paidOut('ORDER-L3')).toEqual({ L3: 5_000 });
  });

  it('a for_each over the returned lines refunds exactly those lines, each under its item key', async () => {
    expect(await run(FOR_EACH(RETURNED), 'lines-8', data('ORDER-L8', ['L3', 'L1']))).toMatchObject({ reason: 'refunded' });
    const { rows } = await runtime.db.pool.query(`SELECT idempotency_key, line_id, amount, status FROM refunds WHERE order_id = 'ORDER-L8' ORDER BY id`);
    expect(rows).toEqual([
      { idempotency_key: 'lines-8/refund_line@0/1', line_id: 'L3', amount: 5_000, status: 'issued' },
      { idempotency_key: 'lines-8/refund_line@1/1', line_id: 'L1', amount: 30_000, status: 'issued' },
    ]);
    expect(await paidOut('ORDER-L8')).toEqual({ L1: 30_000, L3: 5_000 });
  });

  it('a for_each naming a line twice refunds it once', async () => {
    expect(await run(FOR_EACH(`${RETURNED} + ${RETURNED}`), 'lines-9', data('ORDER-L9', ['L2']))).toMatchObject({ reason: 'refunded' });
    expect(await refundsOf('ORDER-L9')).toMatchObject([
      { line_id: 'L2', amount: 12_000, status: 'issued' },
      { line_id: 'L2', amount: 12_000, status: 'declined', decline_reason: expect.stringMatching(/would total 24000 > 12000/) },
    ]);
    expect(await paidOut('ORDER-L9')).toEqual({ L2: 12_000 });
  });

  it('an activity retried after the provider paid pays the line once', async () => {
    lost.set('lines-4', 'answer-lost');
    expect(await run(RETURN_LINES, 'lines-4', data('ORDER-L4', ['L1']))).toMatchObject({ reason: 'refunded' });
    expect([...payments].filter(([key]) => key.startsWith('lines-4/')).map(([, calls]) => calls)).toEqual([2]);
    expect(await refundsOf('ORDER-L4')).toMatchObject([{ line_id: 'L1', amount: 30_000, status: 'issued' }]);
    expect(await paidOut('ORDER-L4')).toEqual({ L1: 30_000 });
  });

  // A repair retries the step under a new key (a new visit); the first refund's reservation still holds
  // the line, so the retry is declined and the case escalates: the provider paid once.
  it('a repair retry of a refund that failed after paying pays the line once', async () => {
    lost.set('lines-5', 'fails-for-good');
    expect(await open(RETURN_LINES, 'lines-5', data('ORDER-L5', ['L1']))).toMatchObject({ kind: 'opened' });
    await receive('lines-5');
    await expect.poll(async () => (await runtime.service.describe('lines-5'))?.status, { timeout: 20_000 }).toBe('failed');
    expect(await runtime.service.repair('lines-5', { action: 'retry', reason: 'provider fixed', by: { keyId: null, name: 'test' } })).toMatchObject({
      kind: 'repaired',
    });
    expect(await handle('lines-5').result()).toMatchObject({ reason: 'refund_declined' });
    expect(await paidOut('ORDER-L5')).toEqual({ L1: 30_000 });
    expect(await refundsOf('ORDER-L5')).toMatchObject([
      { line_id: 'L1', amount: 30_000, status: 'requested' },
      { line_id: 'L1', amount: 30_000, status: 'declined', decline_reason: expect.stringMatching(/would total 60000 > 30000/) },
    ]);
    expect((await orderLedger(runtime.db.pool, 'ORDER-L5'))!.lines[0]).toMatchObject({ lineId: 'L1', requested: 30_000, left: 0 });
  });

  it('a refund may name only a line its case concerns', async () => {
    expect(await run(FIXED('L2'), 'lines-6', data('ORDER-L6', ['L1']))).toMatchObject({ reason: 'refund_declined' });
    expect(await run(FIXED('L9'), 'lines-6b', data('ORDER-L6', ['L1']))).toMatchObject({ reason: 'refund_declined' });
    expect(await refundsOf('ORDER-L6')).toMatchObject([
      { line_id: 'L2', status: 'declined', decline_reason: expect.stringMatching(/case lines-6 does not concern line L2 of order ORDER-L6/) },
      { line_id: 'L9', status: 'declined', decline_reason: expect.stringMatching(/order ORDER-L6 has no line L9/) },
    ]);
  });

  it('the database refuses an over-refund of a line written by hand, and keeps lines and concerned lines as recorded', async () => {
    const insert = (key: string, caseId: string, line: string, amount: number) =>
      runtime.db.pool.query(
        `INSERT INTO refunds (idempotency_key, case_id, step_id, order_id, line_id, amount, currency, reason, covers, status)
         VALUES ($1, $2, 'manual', 'ORDER-L1', $3, $4, 'CNY', 'by hand', 'payment', 'issued')`,
        [key, caseId, line, amount],
      );
    // L1 was refunded in full by lines-1: one fen more is refused, as is L2 (lines-1 does not concern it).
    await expect(insert('by-hand-1', 'lines-1', 'L1', 1)).rejects.toThrow(/line L1 of order ORDER-L1 would total 30001 > 30000/);
    await expect(insert('by-hand-2', 'lines-1', 'L2', 100)).rejects.toThrow(/case lines-1 does not concern line L2/);
    await expect(insert('by-hand-3', 'lines-1', 'L7', 100)).rejects.toThrow(/order ORDER-L1 has no line L7/);
    for (const sql of [
      `UPDATE order_lines SET paid_amount = 99999`,
      `DELETE FROM order_lines`,
      `DELETE FROM case_lines`,
      `UPDATE case_lines SET line_id = 'L2'`,
      `UPDATE refunds SET line_id = NULL`,
    ]) {
      await expect(runtime.db.pool.query(sql), sql).rejects.toThrow(/permission denied/);
    }
    // Another line for a recorded order, even by its own case, breaks the sum; by another case, the lines recorded once.
    await expect(
      runtime.db.pool.query(
        `INSERT INTO order_lines (order_id, line_id, item, quantity, paid_amount, position, recorded_by_case) VALUES ('ORDER-L1', 'L4', 'hat', 1, 100, 3, 'other')`,
      ),
    ).rejects.toThrow(/were recorded by another case/);
    await expect(
      runtime.db.pool.query(
        `INSERT INTO order_lines (order_id, line_id, item, quantity, paid_amount, position, recorded_by_case) VALUES ('ORDER-L1', 'L4', 'hat', 1, 100, 3, 'lines-1')`,
      ),
    ).rejects.toThrow(/add up to 47100, the order was paid 47000/);
    await expect(runtime.db.pool.query(`INSERT INTO case_lines (case_id, order_id, line_id) VALUES ('lines-2a', 'ORDER-L1', 'L1')`)).rejects.toThrow(
      /case lines-2a is not a case of order ORDER-L1/,
    );
  });

  it('a case stating other lines than its order recorded is refused at opening, pointing at the line', async () => {
    const other = [LINES[0], { ...LINES[1], paid: money(13_000) }, LINES[2]];
    const conflict = await open(RETURN_LINES, 'lines-7', data('ORDER-L1', ['L2'], other));
    expect(conflict).toMatchObject({
      kind: 'order-lines-conflict',
      orderId: 'ORDER-L1',
      problems: [{ pointer: '/data/lines/1/paid', message: "line 'L2' was recorded as paid 12000, not 13000" }],
    });
    const fewer = await open(RETURN_LINES, 'lines-7', data('ORDER-L1', ['L2'], LINES.slice(0, 2)));
    expect(fewer).toMatchObject({ kind: 'order-lines-conflict', problems: [{ pointer: '/data/lines', message: expect.stringMatching(/also has line L3/) }] });
    const extra = await open(RETURN_LINES, 'lines-7', data('ORDER-L1', ['L2'], [...LINES, { id: 'L4', item: 'hat', quantity: 1, paid: money(0) }]));
    expect(extra).toMatchObject({ kind: 'order-lines-conflict', problems: [{ pointer: '/data/lines/3/id' }] });
    expect((await runtime.db.pool.query(`SELECT 1 FROM cases WHERE case_id = 'lines-7'`)).rowCount).toBe(0);
    expect((await runtime.db.pool.query(`SELECT 1 FROM order_lines WHERE order_id = 'ORDER-L1'`)).rowCount).toBe(3);
  });

  it('cases of a new order opened at once record its lines once; one stating other amounts at the same moment is refused', async () => {
    await publish(RETURN_LINES);
    const version = published.get('lines-return')!;
    const openAt = (caseId: string, lines: unknown[]) =>
      runtime.service.open({ caseId, playbook: 'lines-return', version, data: data('ORDER-L10', ['L2'], lines) });
    const other = [LINES[0], { ...LINES[1], paid: money(13_000) }, LINES[2]];
    const answers = await Promise.all([
      ...Array.from({ length: 6 }, (_, i) => openAt(`lines-10-${i}`, LINES)),
      openAt('lines-10-other', other),
      ...Array.from({ length: 6 }, (_, i) => openAt(`lines-10-${i + 6}`, LINES)),
    ]);
    const kinds = answers.map((answer) => answer.kind);
    const recorded = (await orderLines(runtime.db.pool, 'ORDER-L10')).map((line) => line.paid);
    if (kinds[6] === 'opened') {
      // The other amounts came first: every case stating the first lines is refused.
      expect(recorded).toEqual([30_000, 13_000, 5_000]);
      expect(kinds.filter((kind) => kind === 'order-lines-conflict')).toHaveLength(12);
    } else {
      expect(recorded).toEqual([30_000, 12_000, 5_000]);
      expect(kinds).toEqual([...Array(6).fill('opened'), 'order-lines-conflict', ...Array(6).fill('opened')]);
    }
    const concerning = await runtime.db.pool.query(`SELECT count(*)::int AS n FROM case_lines WHERE order_id = 'ORDER-L10' AND line_id = 'L2'`);
    expect(concerning.rows[0].n).toBe(kinds.filter((kind) => kind === 'opened').length);
  });

  it('the API answers 422 and 409 with pointers, never 500, and the ledger shows each line', async () => {
    const api = await buildApi({ pool: runtime.db.pool, cases: runtime.service, inbox: runtime.inbox, audit: runtime.audit, temporalReady: async () => true });
    try {
      const { key } = await createApiKey(runtime.db.pool, 'agent', 'Lei');
      const post = (caseData: Record<string, unknown>) =>
        api.inject({
          method: 'POST',
          url: '/v1/cases',
          headers: { authorization: `Bearer ${key}` },
          payload: { playbook: 'lines-return', data: caseData },
        });
      const cases: [Record<string, unknown>, number, string, string][] = [
        [data('ORDER-A1', [], []), 422, 'invalid-case-data', '/data/lines'],
        [data('ORDER-A1', ['L1'], [LINES[0], LINES[0]]), 422, 'invalid-case-data', '/data/lines/1/id'],
        [data('ORDER-A1', ['L1'], [{ ...LINES[0], quantity: 0 }]), 422, 'invalid-case-data', '/data/lines/0/quantity'],
        [data('ORDER-A1', ['L5']), 422, 'invalid-case-data', '/data/returned/0'],
        [data('ORDER-A1', ['L1', 'L1']), 422, 'invalid-case-data', '/data/returned/1'],
        [data('ORDER-A1', ['L1'], [{ ...LINES[0], paid: money(2 ** 53) }]), 422, 'invalid-case-data', '/data/lines/0/paid/amount'],
        [data('ORDER-A1', ['L1'], [{ ...LINES[0], paid: { amount: 1, currency: 'USD' } }]), 422, 'invalid-case-data', '/data/lines/0/paid/currency'],
        [data('ORDER-A1', ['L1'], [{ id: 'L1', item: 'coat', quantity: 1 }]), 422, 'invalid-case-data', '/data/lines/0/paid'],
        [data('ORDER-L1', ['L1'], [{ ...LINES[0], item: 'jacket' }, LINES[1], LINES[2]]), 409, 'order-lines-conflict', '/data/lines/0/item'],
      ];
      for (const [body, status, type, pointer] of cases) {
        const response = await post(body);
        expect(response.statusCode, JSON.stringify(body)).toBe(status);
        expect(response.json(), JSON.stringify(body)).toMatchObject({ type: expect.stringMatching(new RegExp(`/${type}$`)), errors: [{ pointer }] });
      }
      const auditor = (await createApiKey(runtime.db.pool, 'auditor', 'Zhao')).key;
      const ledger = await api.inject({ method: 'GET', url: '/v1/orders/ORDER-L2/ledger', headers: { authorization: `Bearer ${auditor}` } });
      expect(ledger.statusCode).toBe(200);
      expect(ledger.json()).toMatchObject({
        paid: 47_000,
        lines: [
          { lineId: 'L1', item: 'coat', quantity: 1, paid: 30_000, refunded: 0, left: 30_000, cases: [] },
          { lineId: 'L2', paid: 12_000, refunded: 12_000, left: 0, cases: ['lines-2a', 'lines-2c'] },
          { lineId: 'L3', paid: 5_000, refunded: 5_000, left: 0, cases: ['lines-2b'] },
        ],
        refunds: [{ caseId: 'lines-2a', lineId: 'L2' }, { lineId: 'L3' }, { lineId: 'L2', status: 'declined' }],
      });
      const history = await api.inject({ method: 'GET', url: '/v1/cases/lines-1/history', headers: { authorization: `Bearer ${auditor}` } });
      expect(history.json().refunds).toMatchObject([
        { lineId: 'L1', amount: 30_000 },
        { lineId: 'L3', amount: 5_000 },
      ]);
    } finally {
      await api.close();
    }
  });
});
