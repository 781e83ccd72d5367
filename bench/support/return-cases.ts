/** Standard return cases for benchmarks: quality returns within the window, driven through the API. */
import type { CasebookUnderTest } from './casebook.js';
import type { CaseRow, RowPoller } from './row-poller.js';

/**
 * A quality return of an order signed for two days ago, with return shipping the buyer advanced and the
 * account to refund it to: on receipt it is refunded twice (the order total, then the shipping).
 */
export function qualityReturnData(orderId: string): Record<string, unknown> {
  return {
    order_id: orderId,
    buyer_name: 'Li Lei',
    order_total: { amount: 19900, currency: 'CNY' },
    outbound_shipping: { amount: 1000, currency: 'CNY' },
    shipped_free: false,
    signed_at: new Date(Date.now() - 2 * 86_400_000).toISOString(),
    reason: 'quality',
    advanced_return_shipping: { amount: 1200, currency: 'CNY' },
    refund_account: 'alipay:li.lei@example.com',
    shipping_insurance: false,
  };
}

/**
 * Agent keys used in turn: the API limits each key to 1,200 requests a minute, which a benchmark
 * would otherwise hit and then measure the limiter instead of Casebook.
 */
export class AgentKeys {
  private next = 0;
  /** The warehouse's key, which records the return shipping a buyer advanced. */
  private constructor(
    private readonly keys: string[],
    readonly warehouse: string,
  ) {}

  static async create(casebook: CasebookUnderTest, count: number): Promise<AgentKeys> {
    const keys: string[] = [];
    for (let i = 1; i <= count; i++) keys.push(await casebook.createKey('agent', `bench agent ${i}`));
    return new AgentKeys(keys, await casebook.createKey('warehouse', 'bench warehouse'));
  }

  take(): string {
    return this.keys[this.next++ % this.keys.length]!;
  }
}

/**
 * Opens the quality return, whose buyer declines the exchange offered first, then the warehouse records
 * the return shipping its buyer advanced, which the order then owes.
 */
export async function openReturnCase(casebook: CasebookUnderTest, keys: AgentKeys, caseId: string, orderId: string): Promise<void> {
  const data = qualityReturnData(orderId);
  await casebook.request('POST', '/v1/cases', { key: keys.take(), body: { playbook: 'return', caseId, data }, expected: [201] });
  await sendEvent(casebook, keys.take(), caseId, keptReturn(caseId));
  const advanced = data.advanced_return_shipping as { amount: number; currency: string };
  await casebook.request('POST', `/v1/orders/${encodeURIComponent(orderId)}/advances`, {
    key: keys.warehouse,
    body: { kind: 'return_shipping', ...advanced, evidence: `waybill SF-${caseId}` },
    expected: [201],
  });
}

export async function sendEvent(
  casebook: CasebookUnderTest,
  key: string,
  caseId: string,
  event: { type: string; id: string; payload: Record<string, unknown> },
): Promise<void> {
  await casebook.request('POST', `/v1/cases/${encodeURIComponent(caseId)}/events`, { key, body: event, expected: [202] });
}

export const keptReturn = (caseId: string) => ({ type: 'buyer.kept_return', id: `kept-${caseId}`, payload: {} });
export const shipped = (caseId: string) => ({ type: 'buyer.shipped', id: `ship-${caseId}`, payload: { tracking_number: `SF-${caseId}` } });
export const received = (caseId: string) => ({ type: 'warehouse.received', id: `receipt-${caseId}`, payload: { condition: 'resellable' } });

/** Opens a quality return and ships it back, so that it waits for the warehouse at `wait_receipt`. */
export async function returnWaitingForReceipt(casebook: CasebookUnderTest, keys: AgentKeys, cases: RowPoller<CaseRow>, caseId: string): Promise<void> {
  await openReturnCase(casebook, keys, caseId, `ORD-${caseId}`);
  await cases.until(caseId, (row) => row.current_step === 'wait_shipment');
  await sendEvent(casebook, keys.take(), caseId, shipped(caseId));
  await cases.until(caseId, (row) => row.current_step === 'wait_receipt');
}
