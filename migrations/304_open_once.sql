-- Up Migration

-- What makes a case unique while it is open, as its playbook declares (`one_open_case_per`): the case
-- type and those fields' values. Two open cases can never share it; once a case closes, its key is free.
ALTER TABLE cases ADD COLUMN open_key text;
CREATE UNIQUE INDEX cases_one_open_per_key ON cases (open_key) WHERE open_key IS NOT NULL AND status <> 'closed';

-- Answers to requests sent with an Idempotency-Key, per API key: the same key and body again gets the
-- same answer; the same key with another body is refused. A row without an answer is a request in progress.
CREATE TABLE idempotency_keys (
  api_key_id       text        NOT NULL,
  idempotency_key  text        NOT NULL,
  request_sha256   text        NOT NULL,
  response_status  integer,
  response_body    jsonb,
  created_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (api_key_id, idempotency_key)
);

-- Down Migration
DROP TABLE idempotency_keys;
DROP INDEX cases_one_open_per_key;
ALTER TABLE cases DROP COLUMN open_key;
