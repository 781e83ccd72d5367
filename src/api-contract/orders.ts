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
  refunds: list(
    open({
      caseId: string,
      stepId: string,
      covers: string,
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
