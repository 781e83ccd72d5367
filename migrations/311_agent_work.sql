-- Up Migration

-- Agent work (issue 14): an agent claims a task, completes it (the workflow still closes the row with
-- its outcome; the agent who completed it is recorded beside it) and writes notes on it; an escalation
-- is acknowledged, then resolved, each by someone at some time.
ALTER TABLE tasks
  ADD COLUMN claimed_by_key_id   text,
  ADD COLUMN claimed_by_name     text,
  ADD COLUMN claimed_at          timestamptz,
  ADD COLUMN completed_by_key_id text,
  ADD COLUMN completed_by_name   text,
  ADD CONSTRAINT tasks_claim_whole CHECK (
    (claimed_at IS NULL) = (claimed_by_key_id IS NULL) AND (claimed_at IS NULL) = (claimed_by_name IS NULL)),
  ADD CONSTRAINT tasks_completer_whole CHECK ((completed_by_key_id IS NULL) = (completed_by_name IS NULL));
GRANT UPDATE (claimed_by_key_id, claimed_by_name, claimed_at, completed_by_key_id, completed_by_name) ON tasks TO casebook_app;

-- The queue reads tasks by due time, filtered by status and queue (`role`), paged by (due_at, id).
DROP INDEX tasks_open;
CREATE INDEX tasks_due ON tasks (due_at, id);
CREATE INDEX tasks_status_due ON tasks (status, due_at, id);
CREATE INDEX tasks_role_status_due ON tasks (role, status, due_at, id);
CREATE INDEX tasks_claimed_by ON tasks (claimed_by_key_id, due_at, id) WHERE claimed_by_key_id IS NOT NULL;

-- What agents wrote on a task: never changed or removed once written.
CREATE TABLE task_notes (
  id             bigserial   PRIMARY KEY,
  task_id        bigint      NOT NULL REFERENCES tasks (id),
  author_key_id  text        NOT NULL,
  author_name    text        NOT NULL,
  text           text        NOT NULL CHECK (char_length(text) BETWEEN 1 AND 2000),
  created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX task_notes_task ON task_notes (task_id, id);
REVOKE UPDATE, DELETE ON task_notes FROM casebook_app;

-- Escalations: open → acknowledged → resolved (or open → resolved). Nothing ever wrote `closed`; a row
-- that has it reads as resolved by Casebook when it was opened.
ALTER TABLE escalations
  DROP CONSTRAINT escalations_status_check,
  ADD COLUMN acknowledged_by_key_id text,
  ADD COLUMN acknowledged_by_name   text,
  ADD COLUMN acknowledged_at        timestamptz,
  ADD COLUMN resolved_by_key_id     text,
  ADD COLUMN resolved_by_name       text,
  ADD COLUMN resolved_at            timestamptz,
  ADD COLUMN resolution             text CHECK (char_length(resolution) BETWEEN 1 AND 2000);
UPDATE escalations SET status = 'resolved', resolved_by_name = 'casebook', resolved_at = created_at, resolution = 'closed'
  WHERE status = 'closed';
ALTER TABLE escalations
  ADD CONSTRAINT escalations_status_check CHECK (status IN ('open', 'acknowledged', 'resolved')),
  ADD CONSTRAINT escalations_acknowledged_whole CHECK (
    (acknowledged_at IS NULL) = (acknowledged_by_name IS NULL) AND (status <> 'acknowledged' OR acknowledged_at IS NOT NULL)),
  ADD CONSTRAINT escalations_resolved_whole CHECK (
    (status = 'resolved') = (resolved_at IS NOT NULL) AND (resolved_at IS NULL) = (resolved_by_name IS NULL)
    AND (resolved_at IS NULL) = (resolution IS NULL));
GRANT UPDATE (status, acknowledged_by_key_id, acknowledged_by_name, acknowledged_at, resolved_by_key_id, resolved_by_name, resolved_at, resolution)
  ON escalations TO casebook_app;

-- The escalation queue reads newest first, filtered by status and queue, paged by (created_at, id).
DROP INDEX escalations_open;
CREATE INDEX escalations_newest ON escalations (created_at DESC, id DESC);
CREATE INDEX escalations_status_newest ON escalations (status, created_at DESC, id DESC);
CREATE INDEX escalations_queue_status_newest ON escalations (queue, status, created_at DESC, id DESC);

-- Down Migration
DROP INDEX escalations_queue_status_newest;
DROP INDEX escalations_status_newest;
DROP INDEX escalations_newest;
CREATE INDEX escalations_open ON escalations (queue, created_at) WHERE status = 'open';
REVOKE UPDATE (status, acknowledged_by_key_id, acknowledged_by_name, acknowledged_at, resolved_by_key_id, resolved_by_name, resolved_at, resolution)
  ON escalations FROM casebook_app;
ALTER TABLE escalations
  DROP CONSTRAINT escalations_resolved_whole,
  DROP CONSTRAINT escalations_acknowledged_whole,
  DROP CONSTRAINT escalations_status_check;
UPDATE escalations SET status = CASE status WHEN 'resolved' THEN 'closed' ELSE 'open' END;
ALTER TABLE escalations
  ADD CONSTRAINT escalations_status_check CHECK (status IN ('open', 'closed')),
  DROP COLUMN acknowledged_by_key_id,
  DROP COLUMN acknowledged_by_name,
  DROP COLUMN acknowledged_at,
  DROP COLUMN resolved_by_key_id,
  DROP COLUMN resolved_by_name,
  DROP COLUMN resolved_at,
  DROP COLUMN resolution;
DROP TABLE task_notes;
DROP INDEX tasks_claimed_by;
DROP INDEX tasks_role_status_due;
DROP INDEX tasks_status_due;
DROP INDEX tasks_due;
CREATE INDEX tasks_open ON tasks (role, due_at) WHERE status = 'open';
REVOKE UPDATE (claimed_by_key_id, claimed_by_name, claimed_at, completed_by_key_id, completed_by_name) ON tasks FROM casebook_app;
ALTER TABLE tasks
  DROP CONSTRAINT tasks_completer_whole,
  DROP CONSTRAINT tasks_claim_whole,
  DROP COLUMN claimed_by_key_id,
  DROP COLUMN claimed_by_name,
  DROP COLUMN claimed_at,
  DROP COLUMN completed_by_key_id,
  DROP COLUMN completed_by_name;
