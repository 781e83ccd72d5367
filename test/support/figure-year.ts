/**
 * A year of synthetic cases for the figures: 20,000 cases over 365 days from 2025-11-25 (Shanghai), a
 * third of them returns, each with its event, refund or reminder, task, escalation and audit rows,
 * then analyzed. Read by the figures' index test (test/api/figures.test.ts) and bench/figures.bench.ts.
 */
import pg from 'pg';
import type { Queryable } from '../../src/store/transaction.js';

/** Seeds through `pool` (the application's role suffices) and analyzes as the owner at `ownerUrl`, as autovacuum would. */
export async function seedYearOfCases(pool: Queryable, ownerUrl: string): Promise<void> {
  await pool.query(
    `INSERT INTO playbook_versions (name, version, hash, source_yaml, plan) VALUES ('return', 1, 'h', '', '{"shop":{"name":"Casebook Store"}}'), ('presale', 1, 'h2', '', '{}')`,
  );
  // 20,000 cases over 365 days, a third of them returns, each received, refunded, messaged, tasked and escalated.
  await pool.query(
    `INSERT INTO cases (case_id, workflow_id, playbook, version, plan_hash, case_type, order_id, data, status, outcome, opened_at, closed_at, paid_amount, currency)
     SELECT 'c' || i, 'case-c' || i, p, 1, CASE p WHEN 'return' THEN 'h' ELSE 'h2' END, CASE p WHEN 'return' THEN 'return' ELSE 'presale' END, 'O-' || i,
            jsonb_build_object('reason', (ARRAY['quality', 'wrong_size', 'changed_mind'])[1 + i % 3], 'payment_method', 'online'),
            CASE WHEN i % 4 = 0 THEN 'waiting' ELSE 'closed' END, CASE WHEN i % 4 = 0 THEN NULL ELSE 'resolved' END,
            timestamptz '2025-11-25 00:00+08' + i * interval '1577 seconds', CASE WHEN i % 4 = 0 THEN NULL ELSE timestamptz '2025-11-26 00:00+08' + i * interval '1577 seconds' END,
            19900, 'CNY'
     FROM generate_series(1, 20000) AS i, LATERAL (SELECT CASE WHEN i % 3 = 0 THEN 'return' ELSE 'presale' END AS p) AS kind`,
  );
  await pool.query(`INSERT INTO orders (order_id, currency, paid_amount, recorded_by_case) SELECT order_id, 'CNY', 19900, case_id FROM cases`);
  await pool.query(
    `INSERT INTO case_events (case_id, event_id, type, payload, received_at)
     SELECT case_id, 'e-' || case_id, CASE playbook WHEN 'return' THEN 'warehouse.received' ELSE 'order.paid' END, '{}', opened_at + interval '3 days' FROM cases`,
  );
  await pool.query(
    `INSERT INTO refunds (idempotency_key, case_id, step_id, order_id, amount, currency, reason, covers, status, created_at, answered_at, late_at)
     SELECT case_id || '/r', case_id, 'refund_no_reason', order_id, 100, 'CNY', 'no_reason_return', 'payment', 'issued',
            opened_at + interval '3 days 20 hours', opened_at + interval '3 days 20 hours', CASE WHEN random() < 0.1 THEN opened_at + interval '4 days' END
     FROM cases WHERE playbook = 'return'`,
  );
  await pool.query(
    `INSERT INTO outbox_messages (idempotency_key, case_id, step_id, recipient_kind, channel, template, body, created_at)
     SELECT case_id || '/m', case_id, 'remind_pay', 'buyer', 'chat', 'pay_now_ships_today', 'text', opened_at + interval '4 hours' FROM cases WHERE playbook = 'presale'`,
  );
  await pool.query(
    `INSERT INTO tasks (idempotency_key, case_id, step_id, role, title, outcomes, due_at, status, completed_at)
     SELECT case_id || '/t', case_id, 'decide_damaged', 'after-sale-agent', 'Decide', '["a"]', opened_at + interval '5 days', 'breached', opened_at + interval '5 days' FROM cases`,
  );
  await pool.query(
    `INSERT INTO escalations (idempotency_key, case_id, step_id, queue, severity, reason, created_at)
     SELECT case_id || '/e', case_id, 'escalate', 'finance', 'high', 'refund_declined', opened_at + interval '5 days' FROM cases`,
  );
  await pool.query(
    `INSERT INTO audit_events (idempotency_key, case_id, seq, at, kind, step_id, detail)
     SELECT case_id || '/audit/' || n, case_id, n, opened_at + n * interval '1 hour', CASE n WHEN 2 THEN 'clock' ELSE 'wait' END, 'wait_reply',
            CASE n WHEN 2 THEN '{"clock": "recovery", "breached": "x", "queue": "cs-supervisor"}'::jsonb ELSE '{}'::jsonb END
     FROM cases, generate_series(1, 2) AS n`,
  );
  // As autovacuum would: only the owner may analyze the tables.
  const owner = new pg.Client({ connectionString: ownerUrl });
  await owner.connect();
  await owner.query('ANALYZE');
  await owner.end();
}
