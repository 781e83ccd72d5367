-- Up Migration

-- Sub-playbooks (issue 24): a case a `playbook` step opened names its parent case and the step that
-- opened it, and the idempotency key of that step's visit; the parent finds its children by the index.
ALTER TABLE cases
  ADD COLUMN parent_case_id text REFERENCES cases (case_id),
  ADD COLUMN parent_step text,
  ADD COLUMN parent_key text UNIQUE,
  ADD CONSTRAINT cases_parent_whole CHECK ((parent_case_id IS NULL) = (parent_step IS NULL) AND (parent_case_id IS NULL) = (parent_key IS NULL));
CREATE INDEX cases_parent ON cases (parent_case_id, opened_at) WHERE parent_case_id IS NOT NULL;

-- Down Migration

DROP INDEX cases_parent;
ALTER TABLE cases DROP CONSTRAINT cases_parent_whole, DROP COLUMN parent_key, DROP COLUMN parent_step, DROP COLUMN parent_case_id;
