-- Up Migration

-- Outbound webhooks (issue 23): every attempt to deliver a side effect to a configured destination,
-- kept for the case's page and for whoever asks why a refund or a message did not arrive. A row is
-- written when the attempt starts (`outcome` NULL while it is in flight: one left NULL was cut short
-- by a crash) and finished once with what happened. `webhook_id` is the side effect's idempotency key,
-- the same on every attempt; `attempt` counts them per key and sets the place in the retry schedule.
CREATE TABLE webhook_attempts (
  id               bigserial   PRIMARY KEY,
  destination      text        NOT NULL,
  webhook_id       text        NOT NULL,
  case_id          text,
  step_id          text,
  type             text        NOT NULL,
  attempt          integer     NOT NULL CHECK (attempt >= 1),
  started_at       timestamptz NOT NULL DEFAULT now(),
  latency_ms       integer     CHECK (latency_ms >= 0),
  http_status      integer     CHECK (http_status BETWEEN 100 AND 599),
  error_kind       text,
  response_excerpt text        CHECK (octet_length(response_excerpt) <= 4096),
  outcome          text        CHECK (outcome IN ('delivered', 'pending', 'refused', 'failed')),
  UNIQUE (webhook_id, attempt),
  CONSTRAINT webhook_attempts_finished_whole CHECK ((outcome IS NULL) = (latency_ms IS NULL))
);
CREATE INDEX webhook_attempts_case ON webhook_attempts (case_id, id);

-- Only the columns that finish an attempt may change, and only once; nothing is removed.
REVOKE UPDATE, DELETE ON webhook_attempts FROM casebook_app;
GRANT UPDATE (latency_ms, http_status, error_kind, response_excerpt, outcome) ON webhook_attempts TO casebook_app;

-- Down Migration

DROP TABLE webhook_attempts;
