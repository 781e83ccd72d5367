-- Up Migration

-- The full Temporal event history of every closed run of a case (the last one, and each one that
-- continued as new), so that a case can be replayed after Temporal's retention has dropped it. The
-- history is JSON: protobuf's object form of Temporal's History (enums by name, 64-bit integers as
-- strings, bytes in base64), which reads back to the same protobuf bytes. `sha256` is the digest of `history` (UTF-8); `casebook audit verify` recomputes it and
-- compares it with the digest the `archived` row of the hash-chained audit trail recorded.
CREATE TABLE case_histories (
  run_id       text        PRIMARY KEY,
  case_id      text        NOT NULL REFERENCES cases (case_id),
  workflow_id  text        NOT NULL,
  plan_hash    text        NOT NULL,
  -- How the run closed: completed, continued-as-new, failed, terminated, timed-out or canceled.
  run_status   text        NOT NULL,
  started_at   timestamptz NOT NULL,
  closed_at    timestamptz NOT NULL,
  event_count  integer     NOT NULL CHECK (event_count > 0),
  history      text        NOT NULL,
  sha256       bytea       NOT NULL CHECK (length(sha256) = 32),
  archived_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX case_histories_case ON case_histories (case_id, started_at);
CREATE INDEX case_histories_closed ON case_histories (closed_at);

-- Whether a closed case's history is archived: `archived`, or `lost` when Temporal no longer had it
-- (a case closed before this archive existed and past retention). The archiver reads the closed cases
-- with neither, oldest first.
ALTER TABLE cases ADD COLUMN history_archive text CHECK (history_archive IN ('archived', 'lost'));
CREATE INDEX cases_history_to_archive ON cases (closed_at) WHERE status = 'closed' AND history_archive IS NULL;
-- An auditor exports the cases closed in a date range, in close order.
CREATE INDEX cases_closed ON cases (closed_at, case_id) WHERE status = 'closed';

-- An archive is written once: the application may read and add, never change or remove.
REVOKE UPDATE, DELETE, TRUNCATE ON case_histories FROM casebook_app;

-- Down Migration
DROP TABLE case_histories;
ALTER TABLE cases DROP COLUMN history_archive;
