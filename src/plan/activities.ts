/** The side effects a case can cause. Each is idempotent by `key`, derived from case id and step. */
import type { ProgressReport } from './case.js';
import type { Channel, FlagColor, Severity } from './plan.js';

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
  body: string;
}

export interface RefundRequest {
  key: string;
  caseId: string;
  stepId: string;
  /** Integer minor units. */
  amount: number;
  currency: string;
  reason: string;
  covers: 'payment' | 'return_shipping';
  deadlineAt: string;
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
}

export interface IntegrationRequest {
  key: string;
  caseId: string;
  stepId: string;
  integration: string;
  operation: string;
  input: Record<string, unknown>;
}

export interface CaseActivities {
  sendMessage(request: MessageRequest): Promise<{ messageId: number }>;
  issueRefund(request: RefundRequest): Promise<RefundReceipt>;
  openEscalation(request: EscalationRequest): Promise<{ escalationId: number }>;
  openTask(request: TaskRequest): Promise<{ taskId: number }>;
  closeTask(closure: TaskClosure): Promise<void>;
  writeOrderNote(request: OrderNoteRequest): Promise<void>;
  callIntegration(request: IntegrationRequest): Promise<unknown>;
  recordProgress(report: ProgressReport): Promise<void>;
}
