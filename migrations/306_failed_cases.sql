-- Up Migration

-- A case whose step failed at run time (an expression error, a broken plan, an activity past its
-- retries) is `failed`: escalated, and waiting for an admin to retry the step or close the case.
ALTER TABLE cases DROP CONSTRAINT cases_status_check,
  ADD CONSTRAINT cases_status_check CHECK (status IN ('open', 'waiting', 'failed', 'closed'));

-- Down Migration
UPDATE cases SET status = 'open' WHERE status = 'failed';
ALTER TABLE cases DROP CONSTRAINT cases_status_check,
  ADD CONSTRAINT cases_status_check CHECK (status IN ('open', 'waiting', 'closed'));
