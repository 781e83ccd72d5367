-- Up Migration

-- The figures (src/store/figures.ts, docs/figures.md) read a date range of each table by the instant
-- that places a row in the range: a week or a month of a year of cases reads its own rows by index.
-- Cases closed per day read cases_closed (309); tasks by due time and escalations by opening read
-- migration 311's tasks_due and escalations_newest; refunds and reminders are read per case
-- (refunds_case, outbox_case).

-- Return, exchange, presale and review cases opened in the range.
CREATE INDEX cases_type_opened ON cases (case_type, opened_at);
-- Warehouse receipts (and payments) received in the range.
CREATE INDEX case_events_type_received ON case_events (type, received_at);
-- Refunds whose deadline passed before they were paid.
CREATE INDEX refunds_late ON refunds (late_at) WHERE late_at IS NOT NULL;
-- Clocks that ran out (a `clock` audit row with `breached`).
CREATE INDEX audit_events_clock_breaches ON audit_events (at) WHERE kind = 'clock' AND detail ? 'breached';

-- Down Migration
DROP INDEX audit_events_clock_breaches;
DROP INDEX refunds_late;
DROP INDEX case_events_type_received;
DROP INDEX cases_type_opened;
