-- Up Migration

-- The console's case search: lists by outcome or reason read an index in page order, like the other
-- filters (307); whether a case breached is asked of its breached tasks, late refunds and clock
-- breaches, each found by case through a partial index holding only those rows.
CREATE INDEX cases_outcome_newest ON cases (outcome, opened_at DESC, case_id DESC) WHERE outcome IS NOT NULL;
CREATE INDEX cases_reason_newest ON cases (reason, opened_at DESC, case_id DESC) WHERE reason IS NOT NULL;
CREATE INDEX tasks_breached_case ON tasks (case_id) WHERE status = 'breached';
CREATE INDEX refunds_late_case ON refunds (case_id) WHERE late_at IS NOT NULL;
CREATE INDEX audit_events_clock_breach_case ON audit_events (case_id) WHERE kind = 'clock' AND detail ? 'breached';

-- Down Migration
DROP INDEX cases_outcome_newest;
DROP INDEX cases_reason_newest;
DROP INDEX tasks_breached_case;
DROP INDEX refunds_late_case;
DROP INDEX audit_events_clock_breach_case;
