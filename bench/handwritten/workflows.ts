/**
 * The standard return playbook's quality path, written by hand as plain Temporal workflows: the
 * exchange offer and a wait for the buyer's answer, the approval remark, the return address, a wait for
 * the buyer's shipment and one for the warehouse receipt (an Update each, with a timeout), the refund,
 * the remark of the buyer's account, the refund of the advanced shipping and the thank-you message.
 * Only that path and the exchange are written out; the others (outside the window, a parcel never sent
 * or received, a declined refund, no account given) end the case as the playbook names them, without
 * their side effects.
 *
 * Three variants of one workflow: `same-steps` and `lean` run the side effects as ordinary activities,
 * each refund raced against a timer to its deadline (same-steps also records progress where Casebook
 * does); `expert` runs them as local activities within the workflow task, as Casebook's history shape 4
 * does (three attempts there, then an ordinary activity under the same key, a refund's ending at its
 * deadline), and checks a refund's deadline when it is paid instead of starting a timer.
 */
import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  condition,
  isCancellation,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  sleep,
  workflowInfo,
} from '@temporalio/workflow';
import type { CaseActivities, RefundRequest } from '../../src/plan/activities.js';
import type { CaseEvent, CaseStatus, Deadline, StepRecord } from '../../src/plan/case.js';
import { receiveEventUpdate, type ReturnInput, type ReturnResult } from './contract.js';

// Casebook's own activity options (src/workflows/run-case.ts).
const RETRY = { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m' } as const;
const activities = proxyActivities<CaseActivities>({
  startToCloseTimeout: '30s',
  retry: { ...RETRY, nonRetryableErrorTypes: ['RefundDeclined'] },
});
const local = proxyLocalActivities<CaseActivities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumAttempts: 3, nonRetryableErrorTypes: ['RefundDeclined', 'DeliveryFailed'] },
});

const DAY = 86_400_000;
const HOUR = 3_600_000;
const POLICY = {
  returnWindowMs: 7 * DAY,
  exchangeOfferMs: 4 * HOUR,
  shipBackWithinMs: 7 * DAY,
  reminderEveryMs: 2 * DAY,
  reminders: 2,
  receiptTimeoutMs: 10 * DAY,
  accountWithinMs: 8 * HOUR,
  refundSlaMs: DAY,
};
const SHOP = { name: 'Casebook Store', returnAddress: 'Casebook Warehouse, 88 Return Road, Hangzhou' };
const EVENT_TYPES = ['buyer.kept_return', 'buyer.chose_exchange', 'buyer.shipped', 'warehouse.received', 'buyer.gave_account'];
const QUALITY_REASONS = ['quality', 'not_as_described', 'damaged_in_transit', 'wrong_item'];

type Mode = 'same-steps' | 'lean' | 'expert';

export const sameStepsReturn = (input: ReturnInput): Promise<ReturnResult> => new ReturnCase(input, 'same-steps').run();
export const leanReturn = (input: ReturnInput): Promise<ReturnResult> => new ReturnCase(input, 'lean').run();
export const expertReturn = (input: ReturnInput): Promise<ReturnResult> => new ReturnCase(input, 'expert').run();

/** In the task first, as Casebook's quick effects: a failure other than a refusal goes on as an ordinary activity under the same key. */
const localFirst =
  <Request, Result>(inTask: (request: Request) => Promise<Result>, remote: (request: Request) => Promise<Result>) =>
  async (request: Request): Promise<Result> => {
    try {
      return await inTask(request);
    } catch (error) {
      const failure = error instanceof ActivityFailure && error.cause ? error.cause : error;
      if (isCancellation(error) || (failure instanceof ApplicationFailure && failure.nonRetryable)) throw error;
      return remote(request);
    }
  };

class ReturnCase {
  private readonly events = new Map<string, CaseEvent & { at: number }>();
  private readonly seenEventIds = new Set<string>();
  private waitingFor: string[] = [];
  private closed = false;
  /** The steps taken, for the audit trail; `audited` of them are written already. */
  private readonly history: StepRecord[] = [];
  private audited = 0;
  private readonly effects: Pick<CaseActivities, 'sendMessage' | 'writeOrderNote' | 'markRefundLate'>;

  constructor(
    private readonly input: ReturnInput,
    private readonly mode: Mode,
  ) {
    this.effects =
      mode === 'expert'
        ? {
            sendMessage: localFirst(local.sendMessage, activities.sendMessage),
            writeOrderNote: localFirst(local.writeOrderNote, activities.writeOrderNote),
            markRefundLate: localFirst(local.markRefundLate, activities.markRefundLate),
          }
        : activities;
    setHandler(
      receiveEventUpdate,
      (event) => {
        if (this.seenEventIds.has(event.id)) return { status: 'duplicate' };
        this.seenEventIds.add(event.id);
        this.events.set(event.type, { ...event, at: Date.now() });
        return { status: 'accepted' };
      },
      {
        // An event is kept until a wait takes it, like an `early` event in a playbook: the client need not
        // know where the case is. After the end nothing is taken.
        validator: (event) => {
          if (this.closed || !EVENT_TYPES.includes(event.type)) {
            throw ApplicationFailure.create({ type: 'EventRefused', message: `the case does not take ${event.type}` });
          }
        },
      },
    );
  }

  private get caseId(): string {
    return this.input.caseId;
  }

  private get data() {
    return this.input.data;
  }

  async run(): Promise<ReturnResult> {
    const openedAt = Date.now();
    await this.report('open', 'check_window');
    if (Date.now() - Date.parse(this.data.signed_at) > POLICY.returnWindowMs) return this.end('refused', 'outside_return_window');
    this.step('check_window', 'branch');

    await this.message(
      'offer_exchange',
      'offer_exchange',
      `${this.data.buyer_name}, before we take back order ${this.data.order_id}: would an exchange suit you better, for another size, colour or item? Tell us which one and we send it once yours is on its way back, or tell us to go on with the return. Without an answer by ${new Date(Date.now() + POLICY.exchangeOfferMs).toISOString()} the return goes ahead.`,
    );
    const answer = await this.wait('wait_exchange_answer', ['buyer.kept_return', 'buyer.chose_exchange'], POLICY.exchangeOfferMs);
    if (answer === 'buyer.chose_exchange') {
      const wanted = String(this.events.get('buyer.chose_exchange')!.payload.wanted_item);
      await this.remark(
        'exchange_instead',
        'blue',
        `${this.input.openedBy} · return turned into an exchange for ${wanted} (${this.data.reason}) · ${this.now()}`,
      );
      await this.message(
        'tell_exchange',
        'exchange_instead',
        `Thank you, ${this.data.buyer_name}: order ${this.data.order_id} is exchanged for ${wanted} instead of returned. Please withdraw the refund request on the marketplace; an agent of ${SHOP.name} sends you the exchange's instructions.`,
      );
      return this.end('resolved', 'exchanged_instead');
    }

    await this.remark('approve', 'purple', `${this.input.openedBy} · return approved (${this.data.reason}) · platform reason no-reason return · ${this.now()}`);
    const shipBy = new Date(openedAt + POLICY.shipBackWithinMs).toISOString();
    await this.message(
      'send_address',
      'return_address',
      `Your return of order ${this.data.order_id} is approved. When you file the refund request on the marketplace, please choose seven-day no-reason return as its reason. Please send it to ${SHOP.returnAddress} by ${shipBy} and enter the tracking number.`,
    );
    this.step('check_insurance', 'branch');

    const shipment = await this.wait('wait_shipment', ['buyer.shipped', 'warehouse.received'], POLICY.shipBackWithinMs, {
      everyMs: POLICY.reminderEveryMs,
      times: POLICY.reminders,
      body: () => `A reminder: please send back order ${this.data.order_id} to ${SHOP.returnAddress} by ${shipBy} and enter the return tracking number.`,
    });
    if (!shipment) return this.end('expired', 'buyer_did_not_ship');
    if (shipment === 'buyer.shipped') {
      this.data.return_tracking = String(this.events.get('buyer.shipped')!.payload.tracking_number);
      this.step('note_tracking', 'set');
      if (!(await this.wait('wait_receipt', ['warehouse.received'], POLICY.receiptTimeoutMs))) return this.end('escalated', 'parcel_not_received');
    }
    if (!QUALITY_REASONS.includes(this.data.reason)) throw ApplicationFailure.nonRetryable('only the quality path is written out');
    this.step('compute_refund', 'branch');

    // `from: warehouse.received`: the refunds' deadline counts from the receipt.
    const refundDeadline = this.events.get('warehouse.received')!.at + POLICY.refundSlaMs;
    await this.refund('refund_quality', this.data.order_total.amount, 'payment', 'quality_return', refundDeadline);
    this.step('check_advanced_shipping', 'branch');
    if (this.data.advanced_return_shipping) {
      if (!this.data.refund_account) {
        await this.message(
          'ask_account',
          'ask_account',
          `We refunded order ${this.data.order_id}. To refund the return shipping you advanced, please tell us your payment account (e.g. Alipay).`,
        );
        if (!(await this.wait('wait_account', ['buyer.gave_account'], POLICY.accountWithinMs))) return this.end('escalated', 'refund_account_missing');
        this.data.refund_account = String(this.events.get('buyer.gave_account')!.payload.account);
        this.step('set_account', 'set');
      }
      const advanced = this.data.advanced_return_shipping;
      await this.remark(
        'note_account',
        'purple',
        `${this.input.openedBy} · advanced return shipping ${advanced.amount} ${advanced.currency} to refund to ${this.data.refund_account} · ${this.now()}`,
      );
      await this.refund('refund_return_shipping', advanced.amount, 'return_shipping', 'advanced_return_shipping', refundDeadline);
    }
    await this.message(
      'thank_buyer',
      'refund_sent',
      `We received your parcel; the refund for order ${this.data.order_id} is on its way. Thank you for shopping at ${SHOP.name}, ${this.data.buyer_name}!`,
    );
    return this.end('resolved', 'refunded');
  }

  private now(): string {
    return new Date().toISOString();
  }

  private key(stepId: string): string {
    return `${this.caseId}/${stepId}/1`;
  }

  private step(step: string, kind: string): void {
    this.history.push({ step, kind, at: this.now() });
  }

  private async message(stepId: string, template: string, body: string): Promise<void> {
    await this.effects.sendMessage({ key: this.key(stepId), caseId: this.caseId, stepId, recipient: { kind: 'buyer' }, channel: 'chat', template, body });
    this.step(stepId, 'send');
  }

  private async remark(stepId: string, flag: 'purple' | 'blue', remark: string): Promise<void> {
    await this.effects.writeOrderNote({ key: this.key(stepId), caseId: this.caseId, orderId: this.data.order_id, flag, remark });
    this.step(stepId, 'remark');
  }

  /**
   * Waits for the first of `events` (delivered by the update) for at most `timeoutMs`, sending the
   * reminders due meanwhile; answers the event's type, or undefined on the timeout.
   */
  private async wait(
    stepId: string,
    events: string[],
    timeoutMs: number,
    remind?: { everyMs: number; times: number; body: () => string },
  ): Promise<string | undefined> {
    this.waitingFor = events;
    const timeoutAt = Date.now() + timeoutMs;
    await this.report('waiting', stepId, [{ kind: 'timeout', step: stepId, at: new Date(timeoutAt).toISOString() }]);
    const arrived = () => events.find((type) => this.events.has(type));
    let reminded = 0;
    for (;;) {
      const nextReminder = remind && reminded < remind.times ? Date.now() + remind.everyMs : Number.POSITIVE_INFINITY;
      const wakeAt = Math.min(nextReminder, timeoutAt);
      if ((await condition(() => arrived() !== undefined, Math.max(1, wakeAt - Date.now()))) || wakeAt === timeoutAt) break;
      reminded += 1;
      await this.message(`${stepId}#reminder${reminded}`, 'ship_reminder', remind!.body());
    }
    this.waitingFor = [];
    this.step(stepId, 'wait');
    return arrived();
  }

  /** The refund before its deadline; one paid late is marked late. */
  private async refund(stepId: string, amount: number, covers: RefundRequest['covers'], reason: string, deadline: number): Promise<void> {
    const deadlineAt = new Date(deadline).toISOString();
    await this.report('open', stepId, [{ kind: 'refund', step: stepId, at: deadlineAt }]);
    const request: RefundRequest = {
      key: this.key(stepId),
      caseId: this.caseId,
      stepId,
      orderId: this.data.order_id,
      amount,
      currency: this.data.order_total.currency,
      reason,
      covers,
      deadlineAt,
    };
    if (this.mode === 'expert') await this.refundInTask(request, deadline);
    else await this.refundRacingTheDeadline(request, deadline);
    this.step(stepId, 'refund');
  }

  /** In the task; one still failing goes on as an activity that ends at the deadline, so no timer races it. */
  private async refundInTask(request: RefundRequest, deadline: number): Promise<void> {
    const remote = proxyActivities<Pick<CaseActivities, 'issueRefund'>>({
      startToCloseTimeout: '30s',
      scheduleToCloseTimeout: Math.max(1, deadline - Date.now()),
      retry: { ...RETRY, maximumInterval: '10m', nonRetryableErrorTypes: ['RefundDeclined'] },
    });
    await localFirst(local.issueRefund, remote.issueRefund)(request);
    if (Date.now() > deadline) await this.effects.markRefundLate(request);
  }

  /** With a timer to its deadline: a late refund is marked late and still waited for. */
  private async refundRacingTheDeadline(request: RefundRequest, deadline: number): Promise<void> {
    const refunded = activities.issueRefund(request);
    const timer = new CancellationScope();
    const breached = timer
      .run(() => sleep(Math.max(1, deadline - Date.now())))
      .then(
        () => true,
        () => false,
      );
    if (await Promise.race([refunded.then(() => false), breached])) await activities.markRefundLate(request);
    else timer.cancel();
    await refunded;
  }

  private async end(outcome: string, reason: string): Promise<ReturnResult> {
    this.closed = true;
    this.step(`end_${reason}`, 'end');
    await this.report('closed', null, [], { outcome, reason });
    return { outcome, reason };
  }

  /** Casebook's progress report (same-steps only): the cases projection and the audit events not yet written. */
  private async report(status: CaseStatus, step: string | null, deadlines: Deadline[] = [], outcome: ReturnResult | null = null): Promise<void> {
    if (this.mode !== 'same-steps') return;
    const audit = this.history.slice(this.audited).map((record, i) => ({ seq: this.audited + i + 1, record }));
    await activities.recordProgress({
      caseId: this.caseId,
      status,
      step,
      waitingFor: this.waitingFor,
      deadlines,
      data: { ...this.data },
      outcome,
      returnTracking: this.data.return_tracking ?? null,
      audit,
      from: this.audited + 1,
      decidedIn: { at: new Date(Date.now()).toISOString(), runStartedAt: workflowInfo().runStartTime.toISOString(), task: workflowInfo().historyLength },
    });
    this.audited = this.history.length;
  }
}
