/** The `cases` table: one row per case, the projection people query; the workflow keeps it current. */
import type { CaseView } from '../plan/case.js';
import type { Queryable } from './transaction.js';

/** What opening a case writes: the case's identity, playbook version and what it was opened with. */
export interface NewCase {
  caseId: string;
  workflowId: string;
  playbook: string;
  version: number;
  planHash: string;
  caseType: string;
  orderId: string | null;
  data: Record<string, unknown>;
  /** What the buyer paid: the ceiling for the sum of payment refunds (see the refunds trigger). */
  paid: { amount: number; currency: string } | null;
  /** What makes the case unique while open (see `one_open_case_per`), or null. */
  openKey: string | null;
  /** The plan's first step: where the case is until its workflow reports otherwise. */
  step: string;
  returnTracking: string | null;
  /** The case and step that opened it, for a child case (a `playbook` step's). */
  parent?: CaseParent;
}

/** Where a child case comes from: its parent case, the `playbook` step, and that step's visit key. */
export interface CaseParent {
  caseId: string;
  step: string;
  key: string;
}

/** Inserting a case whose open key an open case already holds. */
export class OpenKeyTaken extends Error {
  constructor(readonly openKey: string) {
    super(`an open case already holds ${openKey}`);
  }
}

/** A case as the projection holds it: the workflow's last reported view, with its playbook version. */
export type StoredCase = Omit<CaseView, 'playbook' | 'steps'> & { workflowId: string; playbook: string; version: number; planHash: string };

/**
 * Inserts the case once; `false` when a case with this id already exists (it is left unchanged).
 * Throws OpenKeyTaken when an open case holds the same open key.
 */
export async function insertCase(db: Queryable, row: NewCase): Promise<boolean> {
  try {
    const inserted = await db.query(
      `INSERT INTO cases (case_id, workflow_id, playbook, version, plan_hash, case_type, order_id, data, paid_amount, currency, open_key, current_step, return_tracking,
                          parent_case_id, parent_step, parent_key)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
       ON CONFLICT (case_id) DO NOTHING`,
      [
        row.caseId,
        row.workflowId,
        row.playbook,
        row.version,
        row.planHash,
        row.caseType,
        row.orderId,
        JSON.stringify(row.data),
        row.paid?.amount ?? null,
        row.paid?.currency ?? null,
        row.openKey,
        row.step,
        row.returnTracking,
        row.parent?.caseId ?? null,
        row.parent?.step ?? null,
        row.parent?.key ?? null,
      ],
    );
    return inserted.rowCount === 1;
  } catch (error) {
    if ((error as { constraint?: string }).constraint !== 'cases_one_open_per_key') throw error;
    throw new OpenKeyTaken(row.openKey!);
  }
}

/** The open case holding an open key, if any. */
export async function openCaseWithKey(db: Queryable, openKey: string): Promise<string | undefined> {
  const { rows } = await db.query<{ case_id: string }>(`SELECT case_id FROM cases WHERE open_key = $1 AND status <> 'closed'`, [openKey]);
  return rows[0]?.case_id;
}

export async function findCase(db: Queryable, caseId: string): Promise<StoredCase | undefined> {
  const { rows } = await db.query(
    `SELECT case_id, workflow_id, playbook, version, plan_hash, status, current_step, waiting_for, deadlines, data, outcome, reason
     FROM cases WHERE case_id = $1`,
    [caseId],
  );
  const row = rows[0];
  if (!row) return undefined;
  return {
    caseId: row.case_id,
    workflowId: row.workflow_id,
    playbook: row.playbook,
    version: row.version,
    planHash: row.plan_hash,
    status: row.status,
    step: row.current_step,
    waitingFor: row.waiting_for,
    deadlines: row.deadlines,
    data: row.data,
    outcome: row.outcome ? { outcome: row.outcome, reason: row.reason ?? '' } : null,
  };
}

/** A case's links to other cases: the case and step that opened it (a child case), and the cases its `playbook` steps opened. */
export interface CaseLinks {
  parent: { caseId: string; step: string } | null;
  children: { caseId: string; step: string; playbook: string; version: number; status: string; outcome: string | null }[];
}

export async function caseLinks(db: Queryable, caseId: string): Promise<CaseLinks> {
  const { rows } = await db.query<{
    case_id: string;
    parent_case_id: string | null;
    parent_step: string | null;
    playbook: string;
    version: number;
    status: string;
    outcome: string | null;
  }>(
    `SELECT case_id, parent_case_id, parent_step, playbook, version, status, outcome FROM cases
     WHERE case_id = $1 OR parent_case_id = $1 ORDER BY opened_at, case_id`,
    [caseId],
  );
  const own = rows.find((row) => row.case_id === caseId);
  return {
    parent: own?.parent_case_id ? { caseId: own.parent_case_id, step: own.parent_step! } : null,
    children: rows
      .filter((row) => row.parent_case_id === caseId)
      .map((row) => ({ caseId: row.case_id, step: row.parent_step!, playbook: row.playbook, version: row.version, status: row.status, outcome: row.outcome })),
  };
}

/** Who opened a case: the actor of its `opened` audit row (a child case is opened on their behalf). */
export async function openerOf(db: Queryable, caseId: string): Promise<{ keyId: string | null; name: string } | undefined> {
  const { rows } = await db.query<{ actor_key_id: string | null; actor_name: string }>(
    `SELECT actor_key_id, actor_name FROM audit_events WHERE case_id = $1 AND kind = 'opened'`,
    [caseId],
  );
  return rows[0] ? { keyId: rows[0].actor_key_id, name: rows[0].actor_name } : undefined;
}
