/** The side effects a case can cause. Each is idempotent by `key`, derived from case id and step. */
import type { CaseInput, PlaybookRef, ProgressReport, RidingReport } from './case.js';
import type { Channel, FlagColor, Language, Severity } from './plan.js';

/** Who a message goes to: the buyer, the case's agent (by name when known) or a group. */
export interface MessageRecipient {
  kind: 'buyer' | 'agent' | 'group';
  name?: string;
}

export interface MessageRequest {
  key: string;
  caseId: string;
  stepId: string;
  recipient: MessageRecipient;
  channel: Channel;
  template: string;
  /** The message's text (an e-mail's plain-text body). */
  body: string;
  /** From templates that give them: an e-mail's subject and HTML body. */
  subject?: string;
  html?: string;
  /** The language the message is in, when its template is written per language. */
  language?: Language;
  /** An e-mail to the buyer: the address the case's `buyer_email` field holds (absent when it holds none). */
  address?: string;
  /** History shape 5: the progress report written once the message is sent (never passed to the channel). */
  rides?: RidingReport;
}

/**
 * What a refund gives back, each kind capped per order: `payment` by what was paid, the others by the
 * caps the playbook declares (`refund_caps`), recorded when a case of the order opens.
 */
export const REFUND_KINDS = ['payment', 'return_shipping', 'price_difference', 'goodwill'] as const;
export type RefundKind = (typeof REFUND_KINDS)[number];

export interface RefundRequest {
  key: string;
  caseId: string;
  stepId: string;
  /** The order the refund is counted against: every case of an order shares its ledger. */
  orderId: string | null;
  /** Integer minor units. */
  amount: number;
  currency: string;
  reason: string;
  covers: RefundKind;
  /** The order line the refund gives back for (one its case concerns); absent: the order as a whole. */
  lineId?: string;
  deadlineAt: string;
  /** History shape 4: the case's progress report (the refund's deadline in it), written before the refund is reserved. */
  progress?: ProgressReport;
}

export interface RefundReceipt {
  refundId: number;
  providerReference: string;
}

export interface EscalationRequest {
  key: string;
  caseId: string;
  stepId: string;
  queue: string;
  severity: Severity;
  reason: string;
  note?: string;
  /** History shape 5: the progress report written once the escalation is open. */
  rides?: RidingReport;
}

export interface TaskRequest {
  key: string;
  caseId: string;
  stepId: string;
  role: string;
  title: string;
  outcomes: string[];
  dueAt: string;
}

export interface TaskClosure {
  key: string;
  outcome: string | null;
  breached: boolean;
}

export interface OrderNoteRequest {
  key: string;
  caseId: string;
  orderId: string | null;
  remark: string;
  flag?: FlagColor;
  /** History shape 5: the progress report written once the note is on the order (never passed to the shop). */
  rides?: RidingReport;
}

export interface IntegrationRequest {
  key: string;
  caseId: string;
  stepId: string;
  integration: string;
  operation: string;
  input: Record<string, unknown>;
}

/** A `playbook` step's child case, opened once per step visit (`key`) and run as the parent's child workflow. */
export interface ChildCaseRequest {
  key: string;
  /** The parent case and its step. */
  caseId: string;
  stepId: string;
  /** The child playbook version pinned at publish. */
  playbook: PlaybookRef;
  data: Record<string, unknown>;
}

export interface ChildCase {
  caseId: string;
  workflowId: string;
  /** The child workflow's input: its plan pinned, the history shape of a case opened now. */
  input: CaseInput;
  /** For the child's search attributes. */
  caseType: string;
  orderId: string | null;
}

export interface CaseActivities {
  sendMessage(request: MessageRequest): Promise<{ messageId: number }>;
  /** Reserves the refund in the order's ledger, then asks the provider, with the same key on every retry. */
  issueRefund(request: RefundRequest): Promise<RefundReceipt>;
  /** Marks a refund whose deadline passed before the provider answered; the refund itself goes on. */
  markRefundLate(request: RefundRequest): Promise<void>;
  openEscalation(request: EscalationRequest): Promise<{ escalationId: number }>;
  openTask(request: TaskRequest): Promise<{ taskId: number }>;
  closeTask(closure: TaskClosure): Promise<void>;
  writeOrderNote(request: OrderNoteRequest): Promise<void>;
  callIntegration(request: IntegrationRequest): Promise<unknown>;
  recordProgress(report: ProgressReport): Promise<void>;
  /** Records the child case (its row names the parent, its `opened` audit row too); the same key again answers the same case. */
  openChildCase(request: ChildCaseRequest): Promise<ChildCase>;
}
