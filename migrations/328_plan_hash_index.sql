-- Up Migration

-- A history names its plan by hash (decision 0018): a worker that meets a hash it has not cached, a
-- replay and an export find the plan by it (src/store/playbooks.ts, publishedPlanByHash), whichever
-- playbook published it; without an index that is a scan of every published version.
CREATE INDEX playbook_versions_hash ON playbook_versions (hash);

-- Down Migration

DROP INDEX playbook_versions_hash;
