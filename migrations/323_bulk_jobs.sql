-- Up Migration

-- Operations on many cases at once (issue 25 point 4, POST /v1/bulk-operations): a job is kept with the
-- cases its selection matched when it was submitted, and each case's result, so that a job survives a
-- restart of the API (it resumes at its first pending case) and its report can be read at any time.
CREATE TABLE bulk_jobs (
  id                 bigserial   PRIMARY KEY,
  created_by_key_id  text,
  created_by_name    text        NOT NULL,
  -- The submitter's Idempotency-Key: the same key again is the same job.
  idempotency_key    text,
  operation          text        NOT NULL CHECK (operation IN ('cancel', 'retry', 'escalate')),
  selection          jsonb       NOT NULL,
  params             jsonb       NOT NULL,
  rate_per_second    integer     NOT NULL CHECK (rate_per_second BETWEEN 1 AND 50),
  status             text        NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'finished')),
  created_at         timestamptz NOT NULL DEFAULT now(),
  finished_at        timestamptz,
  UNIQUE (created_by_key_id, idempotency_key)
);

CREATE TABLE bulk_job_cases (
  job_id    bigint      NOT NULL REFERENCES bulk_jobs (id),
  position  integer     NOT NULL,
  case_id   text        NOT NULL,
  state     text        NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done', 'skipped', 'failed')),
  detail    text,
  at        timestamptz,
  PRIMARY KEY (job_id, position),
  UNIQUE (job_id, case_id)
);
REVOKE DELETE ON bulk_jobs, bulk_job_cases FROM casebook_app;

-- Down Migration

DROP TABLE bulk_job_cases;
DROP TABLE bulk_jobs;
