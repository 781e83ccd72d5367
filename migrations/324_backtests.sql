-- Up Migration

-- A backtest (issue 25): a playbook file re-run on closed cases of its playbook, each case once with
-- the version it ran and once with the file, on a scratch stack. Only the report is kept here; the
-- re-runs never touch this database. `report` is null while it runs (then `done` of `total` cases).
CREATE TABLE backtests (
  id           text        PRIMARY KEY,
  playbook     text        NOT NULL,
  plan_hash    text        NOT NULL,
  started_by   text        NOT NULL,
  status       text        NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'done', 'failed')),
  total        integer     NOT NULL DEFAULT 0,
  done         integer     NOT NULL DEFAULT 0,
  report       jsonb,
  problem      text,
  started_at   timestamptz NOT NULL DEFAULT now(),
  finished_at  timestamptz
);
CREATE INDEX backtests_playbook ON backtests (playbook, started_at DESC);

-- Down Migration
DROP TABLE backtests;
