/** Activity implementations: every write is keyed by an idempotency key and safe to repeat. */
import { ApplicationFailure } from '@temporalio/activity';
import type { Pool } from '../store/pool.js';
import { localAdapters, type Adapters } from './adapters.js';
import { REFUND_DECLINED, type CaseActivities } from './types.js';

export function createActivities(pool: Pool, adapters: Adapters = localAdapters(pool)): CaseActivities {
  return {
    async sendMessage(request) {
      const inserted = await pool.query<{ id: number }>(
        `INSERT INTO outbox_messages (idempotency_key, case_id, step_id, recipient_kind, recipient, channel, template, body)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (idempotency_key) DO UPDATE SET idempotency_key = EXCLUDED.idempotency_key
         RETURNING id`,
        [request.key, request.caseId, request.stepId, request.recipient.kind, request.recipient.name ?? null, request.channel, request.template, request.body],
      );
      const messageId = inserted.rows[0]!.id;
      await adapters.channel.deliver({ ...request, messageId });
      return { messageId };
    },

    async issueRefund(request) {
      const outcome = await adapters.payments.refund(request);
      if (!outcome.issued) {
        throw ApplicationFailure.create({ type: REFUND_DECLINED, message: outcome.declineReason, nonRetryable: true });
      }
      const { rows } = await pool.query<{ id: number }>(`SELECT id FROM refunds WHERE idempotency_key = $1`, [request.key]);
      return { refundId: rows[0]?.id ?? 0, providerReference: outcome.providerReference };
    },

    async openEscalation(request) {
      const { rows } = await pool.query<{ id: number }>(
        `INSERT INTO escalations (idempotency_key, case_id, step_id, queue, severity, reason, note)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (idempotency_key) DO UPDATE SET idempotency_key = EXCLUDED.idempotency_key
         RETURNING id`,
        [request.key, request.caseId, request.stepId, request.queue, request.severity, request.reason, request.note ?? null],
      );
      return { escalationId: rows[0]!.id };
    },

    async openTask(request) {
      const { rows } = await pool.query<{ id: number }>(
        `INSERT INTO tasks (idempotency_key, case_id, step_id, role, title, outcomes, due_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (idempotency_key) DO UPDATE SET idempotency_key = EXCLUDED.idempotency_key
         RETURNING id`,
        [request.key, request.caseId, request.stepId, request.role, request.title, JSON.stringify(request.outcomes), request.dueAt],
      );
      return { taskId: rows[0]!.id };
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
