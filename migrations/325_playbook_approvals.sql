-- Up Migration

-- An optional approval before a version becomes current (issue 25, point 3). A playbook's setting is
-- the last row of its settings (none: no approval required); each approval is an ops lead's or admin's
-- of one version, never its publisher's. Both append-only: a change is a new row.
CREATE TABLE playbook_settings (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name text NOT NULL,
  approval_required boolean NOT NULL,
  reason text NOT NULL CHECK (length(reason) BETWEEN 1 AND 500),
  changed_at timestamptz NOT NULL DEFAULT now(),
  changed_by_key_id text,
  changed_by_name text NOT NULL
);
CREATE INDEX playbook_settings_name ON playbook_settings (name, id DESC);

CREATE TABLE playbook_version_approvals (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name text NOT NULL,
  version integer NOT NULL,
  reason text NOT NULL CHECK (length(reason) BETWEEN 1 AND 500),
  approved_at timestamptz NOT NULL DEFAULT now(),
  approved_by_key_id text NOT NULL,
  approved_by_name text NOT NULL,
  FOREIGN KEY (name, version) REFERENCES playbook_versions (name, version),
  UNIQUE (name, version, approved_by_key_id)
);

REVOKE ALL ON playbook_settings, playbook_version_approvals FROM casebook_app;
GRANT SELECT, INSERT ON playbook_settings, playbook_version_approvals TO casebook_app;

-- Down Migration

DROP TABLE playbook_version_approvals;
DROP TABLE playbook_settings;
