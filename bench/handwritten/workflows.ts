/**
 * The standard return playbook's quality path, written by hand as plain Temporal workflows: the
 * remark, the return address, a wait for the buyer's shipment and one for the warehouse receipt (an
 * Update each, with a timeout), refunds each raced against their deadline, the thank-you message.
 * Only that path is written out; the others (outside the window, a parcel never sent or received, a
 * declined refund) end the case as the playbook names them, without their side effects.
 */
import { ApplicationFailure, CancellationScope, condition, proxyActivities, setHandler, sleep } from '@temporalio/workflow';
import type { CaseActivities, RefundRequest } from '../../src/plan/activities.js';
import type { CaseEvent, CaseStatus, Deadline, StepRecord } from '../../src/plan/case.js';
import { receiveEventUpdate, type ReturnInput, type ReturnResult } from './contract.js';

// Casebook's own activity options (src/workflows/run-case.ts).
const RETRY = { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m' } as const;
const activities = proxyActivities<CaseActivities>({
  startToCloseTimeout: '30s',
  retry: { ...RETRY, nonRetryableErrorTypes: ['RefundDeclined'] },
});

const DAY = 86_400_000;
const POLICY = { returnWindowMs: 7 * DAY, shipBackWithinMs: 7 * DAY, receiptTimeoutMs: 10 * DAY, refundSlaMs: DAY };
const SHOP = { name: 'Casebook Store', returnAddress: 'Casebook Warehouse, 88 Return Road, Hangzhou' };
const EVENT_TYPES = ['buyer.shipped', 'warehouse.received'];
const QUALITY_REASONS = ['quality', 'not_as_described', 'damaged_in_transit', 'wrong_item'];

export const sameStepsReturn = (input: ReturnInput): Promise<ReturnResult> => new ReturnCase(input, true).run();
export const leanReturn = (input: ReturnInput): Promise<ReturnResult> => new ReturnCase(input, false).run();

class ReturnCase {
  private readonly events = new Map<string, CaseEvent>();
  private readonly seenEventIds = new Set<string>();
  private waitingFor: string[] = [];
  private closed = false;
  /** The steps taken, for the audit trail; `audited` of them are written already. */
  private readonly history: StepRecord[] = [];
  private audited = 0;

  constructor(
    private readonly input: ReturnInput,
    private readonly recordsProgress: boolean,
  ) {
    setHandler(
      receiveEventUpdate,
      (event) => {
        if (this.seenEventIds.has(event.id)) return { status: 'duplicate' };
        this.seenEventIds.add(event.id);
        this.events.set(event.type, event);
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

    await activities.writeOrderNote({
      key: this.key('approve'),
      caseId: this.caseId,
      orderId: this.data.order_id,
      flag: 'purple',
      remark: `${this.input.openedBy} · return approved (${this.data.reason}) · ${new Date().toISOString()}`,
    });
    this.step('approve', 'remark');
    const shipBy = new Date(openedAt + POLICY.shipBackWithinMs).toISOString();
    await this.message(
      'send_address',
      'return_address',
      `Your return of order ${this.data.order_id} is approved. Please send it to ${SHOP.returnAddress} by ${shipBy} and enter the tracking number.`,
    );
    this.step('check_insurance', 'branch');

    if (!(await this.wait('wait_shipment', ['buyer.shipped', 'warehouse.received'], POLICY.shipBackWithinMs))) return this.end('expired', 'buyer_did_not_ship');
    if (!this.events.has('warehouse.received')) {
      this.data.return_tracking = String(this.events.get('buyer.shipped')!.payload.tracking_number);
      this.step('note_tracking', 'set');
      if (!(await this.wait('wait_receipt', ['warehouse.received'], POLICY.receiptTimeoutMs))) return this.end('escalated', 'parcel_not_received');
    }
    if (!QUALITY_REASONS.includes(this.data.reason)) throw ApplicationFailure.nonRetryable('only the quality path is written out');
    this.step('compute_refund', 'branch');

    const refundDeadline = Date.now() + POLICY.refundSlaMs;
    await this.refund('refund_quality', this.data.order_total.amount, 'payment', 'quality_return', refundDeadline);
    this.step('check_advanced_shipping', 'branch');
    if (this.data.advanced_return_shipping) {
      await this.refund('refund_return_shipping', this.data.advanced_return_shipping.amount, 'return_shipping', 'advanced_return_shipping', refundDeadline);
    }
    await this.message(
      'thank_buyer',
      'refund_sent',
      `We received your parcel; the refund for order ${this.data.order_id} is on its way. Thank you for shopping at ${SHOP.name}, ${this.data.buyer_name}!`,
    );
    return this.end('resolved', 'refunded');
  }

  private key(stepId: string): string {
    return `${this.caseId}/${stepId}/1`;
  }

  private step(step: string, kind: string): void {
    this.history.push({ step, kind, at: new Date().toISOString() });
  }

  private async message(stepId: string, template: string, body: string): Promise<void> {
    await activities.sendMessage({ key: this.key(stepId), caseId: this.caseId, stepId, recipient: { kind: 'buyer' }, channel: 'chat', template, body });
    this.step(stepId, 'send');
  }

  /** Waits for one of `events` (delivered by the update) for at most `timeoutMs`; false on the timeout. */
  private async wait(stepId: string, events: string[], timeoutMs: number): Promise<boolean> {
    this.waitingFor = events;
    await this.report('waiting', stepId, [{ kind: 'timeout', step: stepId, at: new Date(Date.now() + timeoutMs).toISOString() }]);
    const arrived = await condition(() => events.some((type) => this.events.has(type)), timeoutMs);
    this.waitingFor = [];
    this.step(stepId, 'wait');
    return arrived;
  }

  /** The refund, raced against its deadline: a late refund is marked late and still waited for. */
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
    this.step(stepId, 'refund');
  }

  private async end(outcome: string, reason: string): Promise<ReturnResult> {
    this.closed = true;
    this.step(`end_${reason}`, 'end');
    await this.report('closed', null, [], { outcome, reason });
    return { outcome, reason };
  }

  /** Casebook's progress report: the cases projection and the audit events not yet written. */
  private async report(status: CaseStatus, step: string | null, deadlines: Deadline[] = [], outcome: ReturnResult | null = null): Promise<void> {
    if (!this.recordsProgress) return;
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
    });
    this.audited = this.history.length;
  }
}
