/** Opening cases, delivering events and reading them: the client side of the case workflow. */
import {
  WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, WorkflowUpdateFailedError, type Client,
} from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { FAILURE_TYPES } from '../plan/failures.js';
import type { Plan } from '../plan/plan.js';
import type { ValueProblem } from '../plan/values.js';
import type { Pool } from '../store/pool.js';
import { CASE_STATUS, CASE_TYPE, ORDER_ID, PLAYBOOK, PLAYBOOK_VERSION } from '../plan/search-attributes.js';
import {
  TASK_QUEUE, caseViewQuery, deliverEventUpdate, workflowIdFor,
  type CaseEvent, type CaseStatus, type CaseView, type Deadline, type PlaybookRef,
} from '../plan/case.js';

export interface OpenCaseRequest {
  caseId: string;
  playbook: PlaybookRef;
  plan: Plan;
  data: Record<string, unknown>;
}

export interface OpenedCase {
  caseId: string;
  workflowId: string;
  created: boolean;
  playbook: string;
  version: number;
  status: CaseStatus | 'failed';
}

export type DeliveryResult =
  | { status: 'accepted' | 'duplicate' }
  | { status: 'refused'; reason: string }
  | { status: 'invalid'; reason: string; problems: ValueProblem[] }
  | { status: 'closed'; reason: string }
  | { status: 'unknown-case' };

/** The API's view of a case: the workflow's own view, with the playbook as name and version. */
export type CaseDescription = Omit<CaseView, 'playbook' | 'steps' | 'status'> & { playbook: string; version: number; status: string };

interface CaseRow {
  case_id: string;
  playbook: string;
  version: number;
  status: string;
  current_step: string | null;
  waiting_for: string[];
  deadlines: Deadline[];
  data: Record<string, unknown>;
  outcome: string | null;
  reason: string | null;
}

export class CaseService {
  constructor(
    private readonly client: Client,
    private readonly pool: Pool,
    private readonly taskQueue = TASK_QUEUE,
    /** Set when the namespace has Casebook's search attributes (see ensureSearchAttributes). */
    private readonly indexed = false,
  ) {}

  /** Opens a case once: the same case id again returns the existing case with `created: false`. */
  async open(request: OpenCaseRequest): Promise<OpenedCase> {
    const { plan } = request;
    const paid = plan.paidField ? (request.data[plan.paidField] as { amount: number; currency: string } | undefined) : undefined;
    const orderId = plan.orderIdField ? request.data[plan.orderIdField] : undefined;
    const workflowId = workflowIdFor(request.caseId);
    const inserted = await this.pool.query(
      `INSERT INTO cases (case_id, workflow_id, playbook, version, plan_hash, case_type, order_id, data, paid_amount, currency)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
       ON CONFLICT (case_id) DO NOTHING`,
      [
        request.caseId, workflowId, request.playbook.name, request.playbook.version, request.playbook.hash, plan.caseType,
        typeof orderId === 'string' ? orderId : null, JSON.stringify(request.data), paid?.amount ?? null, paid?.currency ?? null,
      ],
    );
    const created = inserted.rowCount === 1;
    const row = (await this.pool.query<{ playbook: string; version: number; status: CaseStatus }>(
      `SELECT playbook, version, status FROM cases WHERE case_id = $1`, [request.caseId],
    )).rows[0]!;
    // Started even when the row existed: a crash between the insert and the start must not lose the case.
    try {
      await this.client.workflow.start('runCase', {
        taskQueue: this.taskQueue,
        workflowId,
        args: [{ caseId: request.caseId, playbook: request.playbook, plan, data: request.data, ...(this.indexed ? { indexed: true } : {}) }],
        ...(this.indexed
          ? {
              typedSearchAttributes: [
                { key: CASE_TYPE, value: plan.caseType },
                { key: PLAYBOOK, value: request.playbook.name },
                { key: PLAYBOOK_VERSION, value: request.playbook.version },
                { key: CASE_STATUS, value: 'open' },
                ...(typeof orderId === 'string' ? [{ key: ORDER_ID, value: orderId }] : []),
              ],
            }
          : {}),
      });
    } catch (error) {
      if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
    }
    return { caseId: request.caseId, workflowId, created, playbook: row.playbook, version: row.version, status: row.status };
  }

  async deliverEvent(caseId: string, event: CaseEvent): Promise<DeliveryResult> {
    const known = await this.pool.query<{ status: string }>(`SELECT status FROM cases WHERE case_id = $1`, [caseId]);
    if (known.rowCount === 0) return { status: 'unknown-case' };
    const logged = await this.pool.query(`SELECT 1 FROM case_events WHERE case_id = $1 AND event_id = $2`, [caseId, event.id]);
    if ((logged.rowCount ?? 0) > 0) return { status: 'duplicate' };
    try {
      const result = await this.client.workflow.getHandle(workflowIdFor(caseId)).executeUpdate(deliverEventUpdate, { args: [event] });
      await this.pool.query(
        `INSERT INTO case_events (case_id, event_id, type, payload) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`,
        [caseId, event.id, event.type, JSON.stringify(event.payload)],
      );
      return result;
    } catch (error) {
      if (error instanceof WorkflowUpdateFailedError && error.cause instanceof ApplicationFailure) {
        const failure = error.cause;
        if (failure.type === FAILURE_TYPES.EventInvalid) {
          return { status: 'invalid', reason: failure.message, problems: (failure.details?.[0] as ValueProblem[]) ?? [] };
        }
        if (failure.type === FAILURE_TYPES.CaseClosed) return { status: 'closed', reason: failure.message };
        return { status: 'refused', reason: failure.message };
      }
      if (error instanceof WorkflowNotFoundError || isCompletedWorkflowError(error)) {
        return { status: 'closed', reason: `the case is ${known.rows[0]!.status === 'closed' ? 'closed' : 'not running'}` };
      }
      throw error;
    }
  }

  /** The live view from the workflow, or the projection once the workflow is gone. */
  async describe(caseId: string): Promise<CaseDescription | null> {
    const { rows } = await this.pool.query<CaseRow>(`SELECT * FROM cases WHERE case_id = $1`, [caseId]);
    const row = rows[0];
    if (!row) return null;
    if (row.status !== 'closed') {
      try {
        const view = await this.client.workflow.getHandle(workflowIdFor(caseId)).query(caseViewQuery);
        return {
          caseId, playbook: view.playbook.name, version: view.playbook.version, status: view.status, step: view.step,
          waitingFor: view.waitingFor, deadlines: view.deadlines, data: view.data, outcome: view.outcome,
        };
      } catch (error) {
        if (!(error instanceof WorkflowNotFoundError) && !isCompletedWorkflowError(error)) throw error;
      }
    }
    return {
      caseId, playbook: row.playbook, version: row.version, status: row.status, step: row.current_step,
      waitingFor: row.waiting_for, deadlines: row.deadlines, data: row.data,
      outcome: row.outcome ? { outcome: row.outcome, reason: row.reason ?? '' } : null,
    };
  }
}

function isCompletedWorkflowError(error: unknown): boolean {
  return error instanceof Error && /already completed|workflow execution already finished|not found/i.test(error.message);
}
