/** Opening cases and reading them: the client side of the case workflow (events go through the inbox, ./inbox.ts). */
import { QueryNotRegisteredError, QueryRejectedError, WorkflowExecutionAlreadyStartedError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { randomUUID } from 'node:crypto';
import { FAILURE_TYPES } from '../plan/failures.js';
import { orderIdOf, returnTrackingOf, type Plan } from '../plan/plan.js';
import { checkValues, type ValueProblem } from '../plan/values.js';
import type { Pool } from '../store/pool.js';
import { cancelCaseUpdate, migrateCaseUpdate, migrationPreviewQuery, repairCaseUpdate } from '../case-contract/messages.js';
import type { CaseCancel } from '../plan/cancellation.js';
import { CASE_STATUS, CASE_TYPE, ORDER_ID, PLAYBOOK, PLAYBOOK_VERSION } from '../case-contract/search-attributes.js';
import {
  CASEBOOK_ACTOR,
  HISTORY_SHAPE,
  RUN_CASE_WORKFLOW,
  TASK_QUEUE,
  workflowIdFor,
  type Actor,
  type CaseInput,
  type CaseMigration,
  type CaseRepair,
  type CaseStatus,
  type CaseView,
  type MigrationPreview,
  type MigrationTarget,
  type PlaybookRef,
  type RunCaseWorkflow,
} from '../plan/case.js';
import { recordOpened } from '../store/audit-chain.js';
import { caseLinks, findCase, insertCase, openCaseWithKey, OpenKeyTaken, type CaseLinks, type CaseParent } from '../store/cases.js';
import { getPlaybook } from '../store/playbooks.js';
import { isWorkflowGone } from './live-view.js';
import { OrderLinesConflict, orderLines, raiseRefundCap, recordCaseLines, recordOrderLines, recordOrderPayment, type OrderPayment } from '../store/orders.js';
import { checkOrderLines, concernedLinesOf, orderLinesOf, paidByLines } from '../plan/order-lines.js';
import { escapePointerToken } from '../plan/values.js';
import { withTransaction, type Queryable } from '../store/transaction.js';
import { refundCaps } from '../plan/steps/refund.js';

export interface OpenCaseRequest {
  /** A published playbook's name: the case runs on its current version (POST /v1/playbooks/{name}/current) unless `version` is given. */
  playbook: string;
  version?: number;
  /** The case's id; a new UUID when absent. The same id again finds the case already opened. */
  caseId?: string;
  /** Case data, checked against the playbook's fields. */
  data: Record<string, unknown>;
  /** Who opens it (the API key's name): remarks sign with it as `opened_by`. */
  openedBy?: string;
  /** Who opens it, for the audit trail's `opened` row (the API key); `casebook` when absent. */
  by?: Actor;
}

export interface OpenedCase {
  caseId: string;
  workflowId: string;
  /** False when the case id was already taken: nothing was opened, this is that case. */
  created: boolean;
  playbook: string;
  version: number;
  status: CaseStatus;
}

/** What opening a case came to. Problems point into the request (`/data/...`). */
export type OpenCaseResult =
  | ({ kind: 'opened' } & OpenedCase)
  | { kind: 'unknown-playbook'; message: string; pointer: '/playbook' | '/version' }
  | { kind: 'invalid-data'; message: string; problems: ValueProblem[] }
  | { kind: 'closed-case'; caseId: string; message: string }
  | { kind: 'order-lines-conflict'; orderId: string; message: string; problems: ValueProblem[] }
  | { kind: 'duplicate-case'; caseId: string; message: string };

/** The API's view of a case: where it is as its workflow last reported, with the playbook as name and version. */
export type CaseDescription = Omit<CaseView, 'playbook' | 'steps'> & { playbook: string; version: number } & CaseLinks;

export class CaseService {
  constructor(
    private readonly client: Client,
    private readonly pool: Pool,
    private readonly taskQueue = TASK_QUEUE,
    /** Set when the namespace has Casebook's search attributes (see ensureSearchAttributes). */
    private readonly indexed = false,
    /** The history shape of the cases it opens (CASEBOOK_HISTORY_SHAPE). */
    private readonly historyShape = HISTORY_SHAPE,
  ) {}

  /**
   * Opens a case on a published playbook: finds the version, checks the data against its fields,
   * records the case and starts its workflow. Opening the same case id again opens nothing and
   * answers the existing case with `created: false`.
   */
  async open(request: OpenCaseRequest): Promise<OpenCaseResult> {
    const stored = await getPlaybook(this.pool, request.playbook, request.version);
    if (!stored) {
      return request.version === undefined
        ? { kind: 'unknown-playbook', message: `no playbook named ${request.playbook} is published`, pointer: '/playbook' }
        : { kind: 'unknown-playbook', message: `playbook ${request.playbook} has no version ${request.version}`, pointer: '/version' };
    }
    const problems = caseDataProblems(stored.plan, request.data);
    if (problems.length > 0) return invalidData(problems);
    const caseId = request.caseId ?? randomUUID();
    const existing = await findCase(this.pool, caseId);
    if (existing?.status === 'closed') {
      return {
        kind: 'closed-case',
        caseId,
        message: `case ${caseId} is closed (${existing.outcome?.outcome ?? 'ended'}); a closed case is never run again: open a new case with another id`,
      };
    }
    try {
      const opened = await this.start(
        {
          caseId,
          playbook: { name: stored.name, version: stored.version, hash: stored.hash },
          plan: stored.plan,
          data: request.data,
          ...(request.openedBy ? { openedBy: request.openedBy } : {}),
        },
        request.by ?? CASEBOOK_ACTOR,
      );
      return { kind: 'opened', ...opened };
    } catch (error) {
      if (error instanceof OrderPaymentMismatch) {
        const field = stored.plan.paidField && request.data[stored.plan.paidField] !== undefined ? stored.plan.paidField : stored.plan.orderLinesField;
        return invalidData([{ pointer: `/data/${escapePointerToken(field ?? '')}`, message: error.message }]);
      }
      if (error instanceof OrderLinesConflict) return linesConflict(error, stored.plan.orderLinesField!);
      if (error instanceof OpenKeyTaken) {
        const open = await openCaseWithKey(this.pool, error.openKey);
        const fields = stored.plan.oneOpenCasePer!.join(', ');
        return {
          kind: 'duplicate-case',
          caseId: open ?? 'unknown',
          message: `case ${open} is already open with the same ${fields}: one open ${stored.plan.caseType} case per ${fields}`,
        };
      }
      throw error;
    }
  }

  /**
   * Records the case once (with its `opened` audit row, in the same transaction) and starts its
   * workflow with the plan pinned in its input.
   */
  private async start(input: CaseInput, by: Actor): Promise<OpenedCase> {
    const { caseId, playbook, plan } = input;
    const orderId = orderIdOf(plan, input.data);
    const workflowId = workflowIdFor(caseId);
    const created = await recordCase(this.pool, input, by);
    // A case recorded now is as it was opened; one recorded before answers as stored.
    const row = created ? { playbook: playbook.name, version: playbook.version, status: 'open' as const } : (await findCase(this.pool, caseId))!;
    // Started even when the row existed: a crash between the insert and the start must not lose the case.
    // A workflow that already ran is never run again (REJECT_DUPLICATE), whatever the projection says.
    try {
      await this.client.workflow.start<RunCaseWorkflow>(RUN_CASE_WORKFLOW, {
        taskQueue: this.taskQueue,
        workflowId,
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        args: [{ ...input, historyShape: this.historyShape, ...(this.indexed ? { indexed: true } : {}) }],
        ...(this.indexed ? { typedSearchAttributes: searchAttributes(plan, playbook.name, playbook.version, orderId) } : {}),
      });
    } catch (error) {
      if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
    }
    return { caseId, workflowId, created, playbook: row.playbook, version: row.version, status: row.status };
  }

  /** An admin's decision on a failed case, delivered to its workflow (which refuses it unless the case is failed). */
  async repair(caseId: string, repair: CaseRepair): Promise<RepairResult> {
    if (!(await findCase(this.pool, caseId))) return { kind: 'unknown-case' };
    try {
      const { status, step, iteration } = await this.client.workflow.getHandle(workflowIdFor(caseId)).executeUpdate(repairCaseUpdate, { args: [repair] });
      return { kind: 'repaired', status, step, ...(iteration !== undefined ? { iteration } : {}) };
    } catch (error) {
      const cause = error instanceof WorkflowUpdateFailedError ? error.cause : undefined;
      if (cause instanceof ApplicationFailure && cause.type === FAILURE_TYPES.RepairTargetUnclear) {
        return { kind: 'target-unclear', message: cause.message, failed: (cause.details?.[0] ?? []) as FailedStep[] };
      }
      if (error instanceof WorkflowUpdateFailedError || isWorkflowGone(error)) {
        return { kind: 'not-failed', message: error instanceof WorkflowUpdateFailedError && error.cause ? error.cause.message : 'the case is not running' };
      }
      throw error;
    }
  }

  /** A person's cancel, delivered to the case's workflow (which refuses it once the case has closed). */
  async cancel(caseId: string, cancel: CaseCancel): Promise<CancelCaseResult> {
    const stored = await findCase(this.pool, caseId);
    if (!stored) return { kind: 'unknown-case' };
    try {
      const { status } = await this.client.workflow.getHandle(workflowIdFor(caseId)).executeUpdate(cancelCaseUpdate, { args: [cancel] });
      return { kind: status };
    } catch (error) {
      if (error instanceof WorkflowUpdateFailedError || isWorkflowGone(error)) {
        const message =
          error instanceof WorkflowUpdateFailedError && error.cause ? error.cause.message : `the case is closed (${stored.outcome?.outcome ?? 'ended'})`;
        return { kind: 'closed', message };
      }
      throw error;
    }
  }

  /** What moving the case to `target` would do, as its workflow answers (the `migrationPreview` query); why not when it is not running. */
  async previewMigration(caseId: string, target: MigrationTarget): Promise<MigrationPreview | { kind: 'not-running'; message: string }> {
    try {
      return await this.client.workflow.getHandle(workflowIdFor(caseId)).query(migrationPreviewQuery, target);
    } catch (error) {
      if (isWorkflowGone(error)) return { kind: 'not-running', message: 'the case’s workflow is not running' };
      // A worker of code before migrations does not know the query: the case cannot move while it runs there.
      if (error instanceof QueryNotRegisteredError || error instanceof QueryRejectedError)
        return { kind: 'not-running', message: `the case’s workflow does not answer the preview: ${error.message}` };
      throw error;
    }
  }

  /** Moves the case to another version through its workflow (the `migrateCase` update); its validator's reasons when it refuses. */
  async migrate(
    caseId: string,
    migration: CaseMigration,
  ): Promise<{ kind: 'migrated'; preview: MigrationPreview } | { kind: 'refused'; reasons: string[]; runs?: PlaybookRef }> {
    try {
      const preview = await this.client.workflow.getHandle(workflowIdFor(caseId)).executeUpdate(migrateCaseUpdate, { args: [migration] });
      return { kind: 'migrated', preview };
    } catch (error) {
      const cause = error instanceof WorkflowUpdateFailedError ? error.cause : undefined;
      if (cause instanceof ApplicationFailure && cause.type === FAILURE_TYPES.NotMigratable) {
        const runs = cause.details?.[1] as PlaybookRef | undefined;
        return { kind: 'refused', reasons: (cause.details?.[0] ?? [cause.message]) as string[], ...(runs ? { runs } : {}) };
      }
      if (error instanceof WorkflowUpdateFailedError) return { kind: 'refused', reasons: [error.cause?.message ?? error.message] };
      if (isWorkflowGone(error)) return { kind: 'refused', reasons: ['the case’s workflow is not running'] };
      throw error;
    }
  }

  /**
   * The case as its workflow last reported it: the projection, written in the workflow task that
   * changed it (see the workflow's progress reports), so a read never asks the workflow.
   */
  async describe(caseId: string): Promise<CaseDescription | null> {
    const stored = await findCase(this.pool, caseId);
    if (!stored) return null;
    return {
      caseId,
      playbook: stored.playbook,
      version: stored.version,
      status: stored.status,
      step: stored.step,
      waitingFor: stored.waitingFor,
      deadlines: stored.deadlines,
      data: stored.data,
      outcome: stored.outcome,
      ...(await caseLinks(this.pool, caseId)),
    };
  }
}

/**
 * Records the case once, with its `opened` audit row and its order's payment, in one transaction;
 * false when the case id was already taken. A child case (`parent`) names the case and step that opened
 * it. Throws OrderPaymentMismatch, OrderLinesConflict and OpenKeyTaken.
 */
export async function recordCase(pool: Pool, input: CaseInput, by: Actor, parent?: CaseParent): Promise<boolean> {
  const { caseId, playbook, plan } = input;
  const lines = orderLinesOf(plan, input.data);
  const stated = plan.paidField ? (input.data[plan.paidField] as { amount: number; currency: string } | undefined) : undefined;
  // With lines, what the order was paid is their sum (checkOrderLines has it equal to the paid field, when given).
  const paid = stated ?? (lines ? paidByLines(lines, plan.currency) : undefined);
  const orderId = orderIdOf(plan, input.data);
  return withTransaction(pool, async (db) => {
    const inserted = await insertCase(db, {
      caseId,
      workflowId: workflowIdFor(caseId),
      playbook: playbook.name,
      version: playbook.version,
      planHash: playbook.hash,
      caseType: plan.caseType,
      orderId,
      data: input.data,
      paid: paid ?? null,
      openKey: openKeyOf(plan, input.data),
      step: plan.start,
      returnTracking: returnTrackingOf(plan, input.data),
      ...(parent ? { parent } : {}),
    });
    if (inserted && paid && orderId !== null) await recordOrderLedger(db, input, { orderId, ...paid });
    // Last in the transaction: the audit chain's lock is held from here to the commit.
    if (inserted)
      await recordOpened(db, { caseId, by, data: input.data, playbook, ...(parent ? { parent: { caseId: parent.caseId, step: parent.step } } : {}) });
    return inserted;
  });
}

/** The search attributes a case starts with (CaseStatus then follows it; see the workflow's report). */
function searchAttributes(plan: Plan, playbook: string, version: number, orderId: string | null) {
  return [
    { key: CASE_TYPE, value: plan.caseType },
    { key: PLAYBOOK, value: playbook },
    { key: PLAYBOOK_VERSION, value: version },
    { key: CASE_STATUS, value: 'open' },
    ...(orderId !== null ? [{ key: ORDER_ID, value: orderId }] : []),
  ];
}

/** What is wrong with case data under a plan's field declarations and order lines: what opening a case checks, and moving one to another version. */
export function caseDataProblems(plan: Plan, data: Record<string, unknown>): ValueProblem[] {
  const problems = checkValues(plan.fields, data, '/data', plan.currency);
  return problems.length > 0 ? problems : checkOrderLines(plan, data);
}

function invalidData(problems: ValueProblem[]): OpenCaseResult {
  return { kind: 'invalid-data', message: problems.map((p) => `${p.pointer} ${p.message}`).join('; '), problems };
}

/** The case's order lines disagree with those recorded for its order: 409, pointing at the stated lines. */
function linesConflict(error: OrderLinesConflict, field: string): OpenCaseResult {
  const at = `/data/${escapePointerToken(field)}`;
  const problems = error.disagreements.map((d) => ({
    pointer: d.index === undefined ? at : `${at}/${d.index}${d.member ? `/${d.member}` : ''}`,
    message: d.message,
  }));
  return { kind: 'order-lines-conflict', orderId: error.orderId, message: error.message, problems };
}

/** A case saying an order was paid otherwise than the order's ledger recorded. */
export class OrderPaymentMismatch extends Error {}

/**
 * Records the order's payment in its ledger (the first case of an order does), its lines (the first
 * case that states them does) and the lines the case concerns, and raises the caps of the kinds of
 * refund the playbook caps. A case that disagrees with the recorded payment or lines is refused.
 */
async function recordOrderLedger(db: Queryable, input: CaseInput, payment: OrderPayment): Promise<void> {
  const recorded = await recordOrderPayment(db, payment, input.caseId);
  const lines = orderLinesOf(input.plan, input.data);
  const recordedLines = lines ? await orderLines(db, payment.orderId) : [];
  // Lines the order has recorded are compared line by line (a differing amount shows at its line).
  if (recordedLines.length === 0) checkPayment(payment, recorded);
  if (lines) await recordOrderLines(db, payment.orderId, lines, input.caseId, recordedLines);
  for (const { kind, cap } of refundCaps(input.plan)) await raiseRefundCap(db, payment.orderId, kind, cap);
  const concerned = concernedLinesOf(input.plan, input.data);
  if (concerned) await recordCaseLines(db, input.caseId, payment.orderId, concerned);
}

function checkPayment(payment: OrderPayment, recorded: OrderPayment): void {
  if (recorded.amount !== payment.amount || recorded.currency !== payment.currency) {
    throw new OrderPaymentMismatch(
      `order ${payment.orderId} was recorded as paid ${recorded.amount} ${recorded.currency}; this case says ${payment.amount} ${payment.currency}`,
    );
  }
}

/** The case's key among open cases of its type, from the fields its playbook names (`one_open_case_per`). */
function openKeyOf(plan: Plan, data: Record<string, unknown>): string | null {
  if (!plan.oneOpenCasePer) return null;
  return `${plan.caseType}:${JSON.stringify(plan.oneOpenCasePer.map((field) => data[field]))}`;
}

/** A failed step waiting for repair: its step and, in a loop, its iteration. */
export interface FailedStep {
  step: string;
  iteration?: string;
}

export type RepairResult =
  | ({ kind: 'repaired'; status: CaseStatus } & FailedStep)
  | { kind: 'unknown-case' }
  | { kind: 'not-failed'; message: string }
  /** Several steps failed and the repair named none of them, or one that has not failed: the ones that did. */
  | { kind: 'target-unclear'; message: string; failed: FailedStep[] };

/** A cancel: `accepted` (the case is being cancelled), `duplicate` (it already was), or why it cannot be. */
export type CancelCaseResult = { kind: 'accepted' | 'duplicate' } | { kind: 'unknown-case' } | { kind: 'closed'; message: string };
