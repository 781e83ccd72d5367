-- Up Migration

-- API keys: only a hash of the secret is kept; the key itself is shown once, when created.
CREATE TABLE api_keys (
  id            text        PRIMARY KEY,
  name          text        NOT NULL,
  role          text        NOT NULL CHECK (role IN ('ops-lead', 'agent', 'warehouse', 'auditor', 'admin')),
  secret_sha256 text        NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  revoked_at    timestamptz,
  last_used_at  timestamptz
);

-- Down Migration
DROP TABLE api_keys;
