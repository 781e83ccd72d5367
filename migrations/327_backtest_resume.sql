-- Up Migration

-- A backtest survives a restart of the API (issue 25): it keeps what it compares (the candidate plan,
-- its options, the current version of the playbook when it started, the baseline) and the closed cases
-- it selected, each with its result once re-run, so `casebook start` resumes it at its first case
-- without a result. `resumable`: started by the API (a `casebook backtest` ends with its process).
ALTER TABLE backtests
  ADD COLUMN candidate         jsonb,
  ADD COLUMN options           jsonb,
  ADD COLUMN candidate_version integer,
  ADD COLUMN baseline_version  integer,
  ADD COLUMN baseline_hash     text,
  ADD COLUMN resumable         boolean NOT NULL DEFAULT false;

CREATE TABLE backtest_cases (
  backtest_id  text        NOT NULL REFERENCES backtests (id) ON DELETE CASCADE,
  position     integer     NOT NULL,
  case_id      text        NOT NULL,
  -- The case's comparison (src/backtest/run.ts, CaseBacktest); null until it is re-run.
  result       jsonb,
  at           timestamptz,
  PRIMARY KEY (backtest_id, position),
  UNIQUE (backtest_id, case_id)
);

-- Down Migration

DROP TABLE backtest_cases;
ALTER TABLE backtests DROP COLUMN candidate, DROP COLUMN options, DROP COLUMN candidate_version,
  DROP COLUMN baseline_version, DROP COLUMN baseline_hash, DROP COLUMN resumable;
