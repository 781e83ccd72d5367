-- Up Migration

-- Numbered 301 after 001/101/201 rather than renumbering those: node-pg-migrate records each applied
-- migration by file name in schema_migrations and checks their order at every start, so databases
-- made by earlier `npm start` runs depend on the existing names. New migrations add on after 301.

-- The audit sequence number gets its own column instead of being parsed back out of the idempotency
-- key (`<caseId>/audit/<seq>`); existing rows are backfilled from their keys.
ALTER TABLE audit_events ADD COLUMN seq integer;
UPDATE audit_events SET seq = substring(idempotency_key FROM '/audit/([0-9]+)$')::integer;
ALTER TABLE audit_events ALTER COLUMN seq SET NOT NULL, ADD CONSTRAINT audit_events_seq_positive CHECK (seq > 0);

-- Nothing ever set a case to 'failed': a case that cannot go on stays open in Temporal, where it
-- can be repaired. The status is dropped from the allowed values.
ALTER TABLE cases DROP CONSTRAINT cases_status_check,
  ADD CONSTRAINT cases_status_check CHECK (status IN ('open', 'waiting', 'closed'));

-- Integration results were never written here: an integration's answer goes to the case field the
-- call step names (`result_field`), not to this log of requests.
ALTER TABLE integration_calls DROP COLUMN result;

COMMENT ON COLUMN playbook_versions.published_by IS 'who published: the API key''s name and id, or the tool that published';

-- Down Migration
COMMENT ON COLUMN playbook_versions.published_by IS NULL;
ALTER TABLE integration_calls ADD COLUMN result jsonb;
ALTER TABLE cases DROP CONSTRAINT cases_status_check,
  ADD CONSTRAINT cases_status_check CHECK (status IN ('open', 'waiting', 'closed', 'failed'));
ALTER TABLE audit_events DROP COLUMN seq;
