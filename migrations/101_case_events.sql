-- Up Migration

-- Every event a case accepted, by the sender's id: answers "duplicate" even after the case closed.
CREATE TABLE case_events (
  case_id      text        NOT NULL,
  event_id     text        NOT NULL,
  type         text        NOT NULL,
  payload      jsonb       NOT NULL,
  received_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (case_id, event_id)
);

-- Down Migration
DROP TABLE case_events;
