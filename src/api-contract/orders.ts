/** What the order routes answer (`/v1/orders`). */
import { exact, integer, list, nullable, nullableString, open, string, type Static } from './schema.js';

/** What was paid for an order and advanced by its buyer, the cap of each kind of refund, and every refund of its cases. */
export const Ledger = open({
  orderId: string,
  currency: string,
  paid: integer,
  advanced: integer,
  canOwe: integer,
  givenBack: integer,
  kinds: list(open({ kind: string, cap: integer, policyCap: nullable(integer), refunded: integer, requested: integer })),
  advances: list(exact({ kind: string, amount: integer, evidence: string, recordedBy: string, recordedAt: string })),
  /** The order's lines (empty when no case stated them): paid, given back by payment refunds naming the line, left, and the cases concerning it. */
  lines: list(
    exact({ lineId: string, item: string, quantity: integer, paid: integer, refunded: integer, requested: integer, left: integer, cases: list(string) }),
  ),
  refunds: list(
    open({
      caseId: string,
      stepId: string,
      covers: string,
      lineId: nullableString,
      amount: integer,
      reason: string,
      status: string,
      deadlineAt: nullableString,
      answeredAt: nullableString,
      key: string,
    }),
  ),
});
export type Ledger = Static<typeof Ledger>;
