/**
 * The standard playbooks' main paths on Temporal's time-skipping server, and the determinism guard:
 * each path's history is stored under test/fixtures/histories/ and replayed against the current
 * workflow code. An interpreter change that would break running cases fails here.
 * Histories are Temporal's protobuf encoding (`temporal.api.history.v1.History`).
 * Re-record (only for intended, patched changes): RECORD_HISTORIES=1 npx vitest run test/runtime/playbook-paths.test.ts
 */
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { workflowBundlerOptions } from '../../src/stack/workflow-bundler.js';
import { WORKFLOWS_PATH } from '../../src/stack/worker.js';
import { HISTORY_SHAPE, workflowIdFor, type CaseEvent, type CaseResult } from '../../src/plan/case.js';
import { HISTORIES, recordHistory } from '../support/histories.js';
import { opensAtInstant } from '../../src/scenarios/opens-at.js';
import { openCase, publishStandardPlaybook, recordAdvance, STANDARD_CALENDARS } from '../support/playbooks.js';
import { useRuntime } from '../support/runtime.js';
import { caseRecords } from '../support/records.js';

const DAY = 86_400_000;
const HOUR = 3_600_000;

const runtime = useRuntime(async ({ db }) => {
  for (const name of ['return', 'exchange', 'presale', 'refund-and-notify', 'review-recovery', 'after-delivery']) await publishStandardPlaybook(db.pool, name);
});

/** Moves the test server's clock on to the next `spec` (`Mon 10:00`...) in Shanghai, in an ordinary week of the shop's calendar. */
async function moveTo(spec: string): Promise<number> {
  const current = await now();
  const shop = STANDARD_CALENDARS.shop!;
  const next = opensAtInstant(spec, current, 'Asia/Shanghai', (date) => date in shop.exceptions || date.slice(5) in shop.exceptions);
  if (!('at' in next)) throw new Error(next.problem);
  await runtime.env.sleep(next.at - current);
  return next.at;
}

/** Opened by an agent's key: remarks are signed with its name. */
const AGENT = 'Lei, after-sale';

async function open(caseId: string, playbook: string, data: Record<string, unknown>) {
  await openCase(runtime.service, { caseId, playbook, version: 1, data, openedBy: AGENT });
}

/** Waits (in playbook time) until the case waits for `type`, then delivers the event. */
async function deliverWhenAwaited(caseId: string, event: CaseEvent) {
  await expect.poll(async () => (await runtime.service.describe(caseId))?.waitingFor ?? [], { timeout: 10_000 }).toContain(event.type);
  expect(await runtime.inbox.deliverEvent(caseId, event)).toEqual({ status: 'accepted' });
}

async function finish(caseId: string, name: string): Promise<CaseResult> {
  const handle = runtime.env.client.workflow.getHandle(workflowIdFor(caseId));
  const result = (await handle.result()) as CaseResult;
  await recordHistory(handle, name);
  return { ...result, steps: await caseRecords(runtime.db.pool, caseId) };
}

const rows = async (table: string, caseId: string) => (await runtime.db.pool.query(`SELECT * FROM ${table} WHERE case_id = $1 ORDER BY id`, [caseId])).rows;
const now = () => runtime.env.currentTimeMs();

describe('standard playbooks, main paths', () => {
  it('return: uninsured quality return, the exchange offered declined, received before the tracking number: order total and advanced shipping refunded', async () => {
    await open('path-return-quality', 'return', {
      order_id: 'R-1',
      buyer_name: 'Li',
      order_total: { amount: 30_000, currency: 'CNY' },
      outbound_shipping: { amount: 1_000, currency: 'CNY' },
      shipped_free: true,
      signed_at: new Date((await now()) - 6 * DAY).toISOString(),
      reason: 'quality',
      advanced_return_shipping: { amount: 1_500, currency: 'CNY' },
      refund_account: 'alipay 138-0000-0001',
      shipping_insurance: false,
    });
    await recordAdvance(runtime.db.pool, 'R-1', 1_500);
    // The exchange offered first is declined.
    await deliverWhenAwaited('path-return-quality', { type: 'buyer.kept_return', id: 'k1', payload: {} });
    await deliverWhenAwaited('path-return-quality', { type: 'warehouse.received', id: 'w1', payload: { condition: 'damaged' } });
    const result = await finish('path-return-quality', 'return-quality');
    expect(result).toMatchObject({ outcome: 'resolved', reason: 'refunded' });
    expect((await rows('refunds', 'path-return-quality')).map((r) => [r.amount, r.covers])).toEqual([
      [30_000, 'payment'],
      [1_500, 'return_shipping'],
    ]);
    const notes = await rows('order_notes', 'path-return-quality');
    expect(notes[0]).toMatchObject({
      order_id: 'R-1',
      flag: 'purple',
      remark: expect.stringMatching(/^Lei, after-sale · return approved \(quality\) · /),
    });
    // The advanced shipping goes to the buyer's payment account, noted on the order.
    expect(notes[1]).toMatchObject({
      flag: 'purple',
      remark: expect.stringMatching(/^Lei, after-sale · advanced return shipping 15.00 CNY to refund to alipay 138-0000-0001 · /),
    });
    expect(notes).toHaveLength(2);
  });

  it('return: outside the seven-day window: refused with a message, no refund', async () => {
    await open('path-return-late', 'return', {
      order_id: 'R-2',
      buyer_name: 'Li',
      order_total: { amount: 30_000, currency: 'CNY' },
      outbound_shipping: { amount: 1_000, currency: 'CNY' },
      shipped_free: false,
      signed_at: new Date((await now()) - 8 * DAY).toISOString(),
      reason: 'no_reason',
      shipping_insurance: false,
    });
    const result = await finish('path-return-late', 'return-outside-window');
    expect(result).toMatchObject({ outcome: 'refused', reason: 'outside_return_window' });
    expect((await rows('outbox_messages', 'path-return-late')).map((m) => m.template)).toEqual(['refused_window']);
    expect(await rows('refunds', 'path-return-late')).toEqual([]);
  });

  it('return: the buyer takes the exchange offered: the order is flagged for an exchange with the reason, nothing refunded', async () => {
    await open('path-return-exchange', 'return', {
      order_id: 'R-4',
      buyer_name: 'Li',
      order_total: { amount: 30_000, currency: 'CNY' },
      outbound_shipping: { amount: 1_000, currency: 'CNY' },
      shipped_free: false,
      signed_at: new Date((await now()) - 2 * DAY).toISOString(),
      reason: 'wrong_size',
      shipping_insurance: false,
    });
    await deliverWhenAwaited('path-return-exchange', { type: 'buyer.chose_exchange', id: 'x1', payload: { wanted_item: 'size 40' } });
    const result = await finish('path-return-exchange', 'return-exchange-instead');
    expect(result).toMatchObject({ outcome: 'resolved', reason: 'exchanged_instead' });
    expect((await rows('outbox_messages', 'path-return-exchange')).map((m) => m.template)).toEqual(['offer_exchange', 'exchange_instead']);
    expect(await rows('refunds', 'path-return-exchange')).toEqual([]);
    expect((await rows('order_notes', 'path-return-exchange')).map((n) => [n.flag, n.remark])).toEqual([
      ['blue', expect.stringMatching(/^Lei, after-sale · return turned into an exchange for size 40 \(wrong_size\) · /)],
    ]);
  });

  it('return: two lines of a three-line order come back: each refunded what it was paid, under a key of its own', async () => {
    const line = (id: string, item: string, amount: number) => ({ id, item, quantity: 1, paid: { amount, currency: 'CNY' } });
    await open('path-return-lines', 'return', {
      order_id: 'R-5',
      buyer_name: 'Li',
      order_total: { amount: 29_900, currency: 'CNY' },
      outbound_shipping: { amount: 1_000, currency: 'CNY' },
      shipped_free: false,
      signed_at: new Date((await now()) - 2 * DAY).toISOString(),
      reason: 'changed_mind',
      shipping_insurance: false,
      order_lines: [line('L1', 'Shirt S', 9_900), line('L2', 'Jeans 32', 10_000), line('L3', 'Belt', 10_000)],
      returned_lines: ['L1', 'L3'],
    });
    await deliverWhenAwaited('path-return-lines', { type: 'buyer.kept_return', id: 'k1', payload: {} });
    await deliverWhenAwaited('path-return-lines', { type: 'warehouse.received', id: 'w1', payload: { condition: 'resellable' } });
    const result = await finish('path-return-lines', 'return-lines');
    expect(result).toMatchObject({ outcome: 'resolved', reason: 'refunded' });
    expect((await rows('refunds', 'path-return-lines')).map((r) => [r.line_id, r.amount, r.idempotency_key])).toEqual([
      ['L1', 9_900, 'path-return-lines/refund_line@0/1'],
      ['L3', 10_000, 'path-return-lines/refund_line@1/1'],
    ]);
  });

  it('return: the buyer withdraws while the case waits for the parcel: told nothing needs to come back, the flag lifted', async () => {
    await open('path-return-withdrawn', 'return', {
      order_id: 'R-6',
      buyer_name: 'Li',
      order_total: { amount: 30_000, currency: 'CNY' },
      outbound_shipping: { amount: 1_000, currency: 'CNY' },
      shipped_free: false,
      signed_at: new Date((await now()) - 2 * DAY).toISOString(),
      reason: 'no_reason',
      shipping_insurance: false,
    });
    await deliverWhenAwaited('path-return-withdrawn', { type: 'buyer.kept_return', id: 'k1', payload: {} });
    // cancel_on: taken at any step, here while the case waits for the parcel.
    await expect.poll(async () => (await runtime.service.describe('path-return-withdrawn'))?.waitingFor ?? [], { timeout: 10_000 }).toContain('buyer.shipped');
    expect(await runtime.inbox.deliverEvent('path-return-withdrawn', { type: 'buyer.cancelled', id: 'c1', payload: { reason: 'decided to keep it' } })).toEqual(
      {
        status: 'accepted',
      },
    );
    const result = await finish('path-return-withdrawn', 'return-withdrawn');
    expect(result).toMatchObject({ outcome: 'cancelled', reason: 'buyer withdrew the return: decided to keep it' });
    expect((await rows('outbox_messages', 'path-return-withdrawn')).map((m) => m.template)).toEqual(['offer_exchange', 'return_address', 'return_withdrawn']);
    expect((await rows('order_notes', 'path-return-withdrawn')).map((n) => n.flag)).toEqual(['purple', 'grey']);
  });

  it('return: buyer never answers the exchange offer and never ships: the return goes ahead, two reminders two days apart, then closed after seven days', async () => {
    await open('path-return-silent', 'return', {
      order_id: 'R-3',
      buyer_name: 'Li',
      order_total: { amount: 30_000, currency: 'CNY' },
      outbound_shipping: { amount: 1_000, currency: 'CNY' },
      shipped_free: false,
      signed_at: new Date(await now()).toISOString(),
      reason: 'no_reason',
      shipping_insurance: false,
    });
    const result = await finish('path-return-silent', 'return-not-shipped');
    expect(result).toMatchObject({ outcome: 'expired', reason: 'buyer_did_not_ship' });
    const reminders = (await rows('outbox_messages', 'path-return-silent')).filter((m) => m.template === 'ship_reminder');
    expect(reminders.map((m) => m.idempotency_key)).toEqual(['path-return-silent/wait_shipment/1/reminder-1', 'path-return-silent/wait_shipment/1/reminder-2']);
    const sent = result.steps.filter((s) => s.kind === 'reminder').map((s) => Date.parse(s.detail!.due as string));
    expect(sent[1]! - sent[0]!).toBe(2 * DAY);
  });

  it('presale: an order placed at 10:00 and never paid is reminded at 15:00 before the cut-off, then logged and closed 24 hours after it was placed', async () => {
    const openedAt = await moveTo('Wed 10:00');
    await open('path-presale-unpaid', 'presale', {
      order_id: 'P-1',
      buyer_name: 'Zhao',
      order_total: { amount: 8_800, currency: 'CNY' },
      payment_method: 'online',
      address: 'Hangzhou',
    });
    const result = await finish('path-presale-unpaid', 'presale-unpaid');
    expect(result).toMatchObject({ outcome: 'expired', reason: 'unpaid_after_reminders' });
    const messages = await rows('outbox_messages', 'path-presale-unpaid');
    expect(messages.map((m) => m.template)).toEqual(['pay_now_ships_today', 'pay_reminder', 'pay_reminder']);
    const remindedAt = result.steps.find((s) => s.step === 'wait_for_afternoon')!.detail!.until as string;
    expect(new Intl.DateTimeFormat('en-GB', { timeZone: 'Asia/Shanghai', hour: '2-digit', minute: '2-digit' }).format(new Date(remindedAt))).toBe('15:00');
    expect((await rows('integration_calls', 'path-presale-unpaid')).map((c) => c.operation)).toEqual(['log_unpaid', 'close_order']);
    // 24 hours after the case opened (its workflow starts a few milliseconds after the clock was moved).
    const closedAfter = Date.parse(result.steps.find((s) => s.step === 'wait_payment' && s.kind === 'wait')!.detail!.timeout as string) - openedAt;
    expect(closedAfter).toBeGreaterThanOrEqual(DAY);
    expect(closedAfter).toBeLessThan(DAY + 1_000);
  });

  it('presale: cash on delivery agreed, address confirmed without a courier: default courier noted', async () => {
    await open('path-presale-cod', 'presale', {
      order_id: 'P-2',
      buyer_name: 'Zhao',
      order_total: { amount: 8_800, currency: 'CNY' },
      payment_method: 'cash_on_delivery',
      address: 'Suzhou',
    });
    await deliverWhenAwaited('path-presale-cod', { type: 'buyer.agreed_cod', id: 'cod-1', payload: {} });
    await deliverWhenAwaited('path-presale-cod', { type: 'buyer.confirmed_address', id: 'addr-1', payload: {} });
    const result = await finish('path-presale-cod', 'presale-cod');
    expect(result).toMatchObject({ outcome: 'resolved', reason: 'ready_to_ship' });
    expect((await rows('order_notes', 'path-presale-cod'))[0].remark).toMatch(/^Lei, after-sale · ship with SF Express · /);
  });

  it('exchange: non-quality, resellable, cheaper item: replacement shipped with its tracking number noted, the difference refunded', async () => {
    await open('path-exchange', 'exchange', {
      order_id: 'E-1',
      buyer_name: 'Sun',
      order_total: { amount: 25_000, currency: 'CNY' },
      signed_at: new Date((await now()) - 3 * DAY).toISOString(),
      exchange_type: 'non_quality',
      exchange_reason: 'wrong_size',
      wanted_item: 'Jacket L',
      original_price: { amount: 25_000, currency: 'CNY' },
      wanted_price: { amount: 22_000, currency: 'CNY' },
    });
    await deliverWhenAwaited('path-exchange', { type: 'agent.checked_resale', id: 'chk', payload: { resellable: true } });
    await deliverWhenAwaited('path-exchange', { type: 'buyer.shipped', id: 'ship', payload: { tracking_number: 'ZT1' } });
    await deliverWhenAwaited('path-exchange', { type: 'warehouse.received', id: 'rcv', payload: { condition: 'resellable' } });
    await deliverWhenAwaited('path-exchange', { type: 'warehouse.shipped_replacement', id: 'out', payload: { tracking_number: 'YT1' } });
    await deliverWhenAwaited('path-exchange', { type: 'buyer.received_replacement', id: 'got', payload: {} });
    const result = await finish('path-exchange', 'exchange-non-quality');
    expect(result).toMatchObject({ outcome: 'resolved', reason: 'exchanged' });
    expect((await rows('refunds', 'path-exchange')).map((r) => [r.amount, r.reason])).toEqual([[3_000, 'exchange_price_difference']]);
    expect((await rows('integration_calls', 'path-exchange')).map((c) => [c.operation, c.input])).toEqual([
      ['extend_receipt_deadline', { order_id: 'E-1' }],
      ['ship_replacement', { order_id: 'E-1', item: 'Jacket L' }],
    ]);
    const notes = await rows('order_notes', 'path-exchange');
    expect(notes.map((n) => n.flag)).toEqual(['blue', 'blue', 'blue']);
    expect(notes.map((n) => n.remark)).toEqual([
      expect.stringMatching(/^Lei, after-sale · exchange for Jacket L \(wrong_size\) · return shipping paid by the buyer · /),
      expect.stringMatching(/^Lei, after-sale · return tracking ZT1 · /),
      expect.stringMatching(/^Lei, after-sale · replacement Jacket L shipped, tracking YT1 · /),
    ]);
    // The local marketplace integration answers nothing: the buyer is not told the deadline was extended, an agent is asked to.
    expect((await rows('escalations', 'path-exchange')).map((e) => e.reason)).toEqual(['receipt_deadline_not_extended']);
    expect((await rows('outbox_messages', 'path-exchange')).map((m) => m.template)).toEqual([
      'return_instructions_unextended',
      'replacement_shipped_tracked',
      'thanks',
    ]);
  });

  it('review recovery: an agent solves it within the SLA and the buyer amends the review', async () => {
    await open('path-review', 'review-recovery', {
      order_id: 'V-1',
      buyer_name: 'Qian',
      rating: 'negative',
      review_text: 'late',
      suspected_extortion: false,
    });
    await deliverWhenAwaited('path-review', { type: 'task.completed', id: 't1', payload: { task: 'contact_buyer', outcome: 'solved' } });
    await deliverWhenAwaited('path-review', { type: 'review.amended', id: 'a1', payload: { new_rating: 'positive' } });
    const result = await finish('path-review', 'review-amended');
    expect(result).toMatchObject({ outcome: 'resolved', reason: 'review_amended' });
    expect((await rows('tasks', 'path-review'))[0]).toMatchObject({ role: 'after-sale-agent', status: 'done', outcome: 'solved' });
  });

  it('review recovery: a goodwill refund by the shared refund-and-notify sub-playbook, as a child case', async () => {
    await open('path-review-goodwill', 'review-recovery', {
      order_id: 'V-4',
      buyer_name: 'Qian',
      rating: 'negative',
      review_text: 'late',
      suspected_extortion: false,
      order_total: { amount: 19_900, currency: 'CNY' },
    });
    await deliverWhenAwaited('path-review-goodwill', { type: 'task.completed', id: 't1', payload: { task: 'contact_buyer', outcome: 'goodwill' } });
    await deliverWhenAwaited('path-review-goodwill', { type: 'review.amended', id: 'a1', payload: { new_rating: 'positive' } });
    const result = await finish('path-review-goodwill', 'review-goodwill');
    expect(result).toMatchObject({ outcome: 'resolved', reason: 'review_amended' });
    const child = 'path-review-goodwill.goodwill_refund.1';
    expect(await finish(child, 'review-goodwill-child')).toMatchObject({ outcome: 'resolved', reason: 'refunded' });
    expect((await rows('refunds', child)).map((r) => [Number(r.amount), r.covers, r.order_id])).toEqual([[1_000, 'goodwill', 'V-4']]);
    expect((await rows('outbox_messages', child)).map((m) => m.template)).toEqual(['refunded']);
  });

  it('review recovery: a review on Friday at 17:00 that nobody contacts is escalated Monday at 10:00, two business hours on', async () => {
    const openedAt = await moveTo('Fri 17:00');
    await open('path-review-sla', 'review-recovery', {
      order_id: 'V-2',
      buyer_name: 'Qian',
      rating: 'medium',
      review_text: 'meh',
      suspected_extortion: false,
    });
    const result = await finish('path-review-sla', 'review-sla-breached');
    expect(result).toMatchObject({ outcome: 'escalated', reason: 'buyer_not_contacted_in_time' });
    const breach = result.steps.find((s) => s.step === 'contact_buyer')!;
    // Friday 17:00-18:00, then Monday 09:00-10:00 (from the task's opening, a few milliseconds after the case's).
    const breachedAfter = Date.parse(breach.detail!.slaBreached as string) - openedAt;
    expect(breachedAfter).toBeGreaterThanOrEqual(2 * DAY + 17 * HOUR);
    expect(breachedAfter).toBeLessThan(2 * DAY + 17 * HOUR + 1_000);
    expect((await rows('tasks', 'path-review-sla'))[0]).toMatchObject({ status: 'breached' });
    expect((await rows('escalations', 'path-review-sla'))[0]).toMatchObject({ queue: 'cs-supervisor', severity: 'high' });
  });
});

describe('standard playbooks, business time and events that end a delay', () => {
  it('after delivery: the satisfaction call is opened three days after sign-for and made within four business hours', async () => {
    const openedAt = await moveTo('Tue 10:00');
    await open('path-after-delivery', 'after-delivery', { order_id: 'D-1', buyer_name: 'Wang', signed_at: new Date(openedAt - DAY).toISOString() });
    await runtime.env.sleep(2 * DAY + 60_000);
    await deliverWhenAwaited('path-after-delivery', { type: 'task.completed', id: 'call', payload: { task: 'call_buyer', outcome: 'satisfied' } });
    const result = await finish('path-after-delivery', 'after-delivery-called');
    expect(result).toMatchObject({ outcome: 'resolved', reason: 'buyer_satisfied' });
    expect(result.steps.find((s) => s.step === 'three_days_after_sign_for')!.detail).toMatchObject({ until: new Date(openedAt + 2 * DAY).toISOString() });
    expect((await rows('tasks', 'path-after-delivery'))[0]).toMatchObject({ role: 'after-sale-agent', status: 'done', outcome: 'satisfied' });
  });

  it('presale: paid before the afternoon reminder: the delay ends on the payment and nobody is reminded', async () => {
    await moveTo('Wed 10:00');
    await open('path-presale-paid', 'presale', {
      order_id: 'P-3',
      buyer_name: 'Zhao',
      order_total: { amount: 8_800, currency: 'CNY' },
      payment_method: 'online',
      address: 'Hangzhou',
    });
    await runtime.env.sleep(2 * HOUR);
    expect(
      await runtime.inbox.deliverEvent('path-presale-paid', { type: 'order.paid', id: 'paid', payload: { paid_at: new Date(await now()).toISOString() } }),
    ).toEqual({ status: 'accepted' });
    await deliverWhenAwaited('path-presale-paid', { type: 'buyer.confirmed_address', id: 'addr', payload: {} });
    const result = await finish('path-presale-paid', 'presale-paid-before-reminder');
    expect(result).toMatchObject({ outcome: 'resolved', reason: 'ready_to_ship' });
    expect(result.steps.find((s) => s.step === 'wait_for_afternoon')!.detail).toMatchObject({ endedBy: 'order.paid', goto: 'check_address' });
    expect((await rows('outbox_messages', 'path-presale-paid')).map((m) => m.template)).toEqual(['confirm_address']);
  });

  it('review recovery: the recovery clock pauses while the buyer takes two days to answer', async () => {
    await moveTo('Mon 09:00');
    await open('path-review-clock', 'review-recovery', {
      order_id: 'V-3',
      buyer_name: 'Qian',
      rating: 'negative',
      review_text: 'broken',
      suspected_extortion: false,
    });
    await deliverWhenAwaited('path-review-clock', { type: 'task.completed', id: 't', payload: { task: 'contact_buyer', outcome: 'unreachable' } });
    await runtime.env.sleep(2 * DAY);
    await deliverWhenAwaited('path-review-clock', { type: 'buyer.replied', id: 'r', payload: { satisfied: true } });
    await deliverWhenAwaited('path-review-clock', { type: 'review.amended', id: 'a', payload: { new_rating: 'positive' } });
    const result = await finish('path-review-clock', 'review-clock-paused');
    expect(result).toMatchObject({ outcome: 'resolved', reason: 'review_amended' });
    expect(
      result.steps.filter((s) => s.kind === 'clock').map((s) => Object.keys(s.detail!).find((k) => ['started', 'paused', 'resumed', 'stopped'].includes(k))),
    ).toEqual(['started', 'paused', 'resumed', 'stopped']);
    expect(await rows('escalations', 'path-review-clock')).toEqual([]);
  });
});

describe('determinism guard', () => {
  it('replays every stored history against the current workflow code', async () => {
    const files = existsSync(HISTORIES) ? readdirSync(HISTORIES, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.history')) : [];
    expect(files.filter((f) => !f.includes('/')).length).toBeGreaterThanOrEqual(12);
    expect(files.filter((f) => f.startsWith('before-progress-markers/')).length).toBeGreaterThanOrEqual(9);
    expect(files.filter((f) => f.startsWith('before-business-time/')).length).toBeGreaterThanOrEqual(9);
    expect(files.filter((f) => f.startsWith('before-effects-in-task/')).length).toBeGreaterThanOrEqual(12);
    expect(files.filter((f) => f.startsWith('before-reports-ride/')).length).toBeGreaterThanOrEqual(26);
    expect(files.filter((f) => f.startsWith('before-lean-result/')).length).toBeGreaterThanOrEqual(26);
    const histories = files.map((file) => ({
      workflowId: file.replace(/\.history$/, ''),
      history: temporal.api.history.v1.History.decode(readFileSync(HISTORIES + file)),
    }));
    // The histories at the top are of the shape new cases record: the guard covers the code they take.
    const shapeOf = (history: temporal.api.history.v1.IHistory) => {
      const input = history.events![0]!.workflowExecutionStartedEventAttributes!.input!.payloads![0]!;
      return (JSON.parse(new TextDecoder().decode(input.data!)) as { historyShape?: number }).historyShape;
    };
    expect(histories.filter((h) => !h.workflowId.includes('/')).map((h) => [h.workflowId, shapeOf(h.history)])).toEqual(
      histories.filter((h) => !h.workflowId.includes('/')).map((h) => [h.workflowId, HISTORY_SHAPE]),
    );
    const failures: string[] = [];
    for await (const result of Worker.runReplayHistories({ workflowsPath: WORKFLOWS_PATH, bundlerOptions: workflowBundlerOptions }, histories)) {
      if (result.error) failures.push(`${result.workflowId}: ${String(result.error)}`);
    }
    expect(failures).toEqual([]);
  }, 120_000);
});
