/** Activity implementations: every write is keyed by an idempotency key and safe to repeat. */
import { ApplicationFailure } from '@temporalio/activity';
import type { Pool } from '../store/pool.js';
import { localAdapters, type Adapters } from './adapters.js';
import type { CaseActivities } from '../plan/activities.js';
import { FAILURE_TYPES } from '../plan/failures.js';

/**
 * Inserts a row keyed by `idempotency_key` once and returns its id; a repeat returns the first row's
 * id. Table and column names come from this module only, never from input.
 */
async function insertOnce(pool: Pool, table: string, row: Record<string, unknown>): Promise<number> {
  const columns = Object.keys(row);
  const { rows } = await pool.query<{ id: number }>(
    `INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map((_, i) => `$${i + 1}`).join(', ')})
     ON CONFLICT (idempotency_key) DO UPDATE SET idempotency_key = EXCLUDED.idempotency_key
     RETURNING id`,
    Object.values(row),
  );
  return rows[0]!.id;
}

export function createActivities(pool: Pool, adapters: Adapters = localAdapters(pool)): CaseActivities {
  return {
    async sendMessage(request) {
      const messageId = await insertOnce(pool, 'outbox_messages', {
        idempotency_key: request.key, case_id: request.caseId, step_id: request.stepId, recipient_kind: request.recipient.kind,
        recipient: request.recipient.name ?? null, channel: request.channel, template: request.template, body: request.body,
      });
      await adapters.channel.deliver({ ...request, messageId });
      return { messageId };
    },

    async issueRefund(request) {
      const outcome = await adapters.payments.refund(request);
      if (!outcome.issued) {
        throw ApplicationFailure.create({ type: FAILURE_TYPES.RefundDeclined, message: outcome.declineReason, nonRetryable: true });
      }
      const { rows } = await pool.query<{ id: number }>(`SELECT id FROM refunds WHERE idempotency_key = $1`, [request.key]);
      return { refundId: rows[0]?.id ?? 0, providerReference: outcome.providerReference };
    },

    async openEscalation(request) {
      const escalationId = await insertOnce(pool, 'escalations', {
        idempotency_key: request.key, case_id: request.caseId, step_id: request.stepId, queue: request.queue,
        severity: request.severity, reason: request.reason, note: request.note ?? null,
      });
      return { escalationId };
    },

    async openTask(request) {
      const taskId = await insertOnce(pool, 'tasks', {
        idempotency_key: request.key, case_id: request.caseId, step_id: request.stepId, role: request.role,
        title: request.title, outcomes: JSON.stringify(request.outcomes), due_at: request.dueAt,
      });
      return { taskId };
    },

    async closeTask(closure) {
      await pool.query(
        `UPDATE tasks SET status = $2, outcome = $3, completed_at = now() WHERE idempotency_key = $1 AND status = 'open'`,
        [closure.key, closure.breached ? 'breached' : 'done', closure.outcome],
      );
    },

    writeOrderNote: (request) => adapters.orders.writeNote(request),

    callIntegration: (request) => adapters.integrations.call(request),

    async recordProgress(report) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        await client.query(
          `UPDATE cases SET status = $2, current_step = $3, waiting_for = $4, deadlines = $5, data = $6,
             outcome = $7, reason = $8, updated_at = now(),
             closed_at = CASE WHEN $2 = 'closed' THEN COALESCE(closed_at, now()) ELSE NULL END,
             return_tracking = COALESCE($9, return_tracking)
           WHERE case_id = $1`,
          [
            report.caseId, report.status, report.step, JSON.stringify(report.waitingFor), JSON.stringify(report.deadlines),
            JSON.stringify(report.data), report.outcome?.outcome ?? null, report.outcome?.reason ?? null,
            typeof report.data.return_tracking === 'string' ? report.data.return_tracking : null,
          ],
        );
        for (const { seq, record } of report.audit) {
          await client.query(
            `INSERT INTO audit_events (idempotency_key, case_id, at, kind, step_id, detail) VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (idempotency_key) DO NOTHING`,
            [`${report.caseId}/audit/${seq}`, report.caseId, record.at, record.kind, record.step, JSON.stringify(record.detail ?? {})],
          );
        }
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK');
        throw error;
      } finally {
        client.release();
      }
    },
  };
}
