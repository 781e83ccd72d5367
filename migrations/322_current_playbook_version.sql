-- Up Migration

-- A current version per playbook (issue 25): new cases take it, not the highest version. Publishing
-- makes a version; making one current (or going back to an earlier one) is an act of its own, kept
-- here, append-only: the playbook's current version is the one its last change made current.
CREATE TABLE playbook_current_changes (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name text NOT NULL,
  from_version integer,
  to_version integer NOT NULL,
  reason text NOT NULL CHECK (length(reason) BETWEEN 1 AND 500),
  changed_at timestamptz NOT NULL DEFAULT now(),
  changed_by_key_id text,
  changed_by_name text NOT NULL,
  FOREIGN KEY (name, to_version) REFERENCES playbook_versions (name, version),
  FOREIGN KEY (name, from_version) REFERENCES playbook_versions (name, version)
);
CREATE INDEX playbook_current_changes_name ON playbook_current_changes (name, id DESC);

-- Until now new cases took the highest version: it stays current.
INSERT INTO playbook_current_changes (name, from_version, to_version, reason, changed_by_name)
SELECT name, NULL, max(version), 'the highest version when current versions began (migration 322)', 'casebook'
FROM playbook_versions GROUP BY name ORDER BY name;

REVOKE ALL ON playbook_current_changes FROM casebook_app;
GRANT SELECT, INSERT ON playbook_current_changes TO casebook_app;

-- Down Migration

DROP TABLE playbook_current_changes;
