-- Up Migration

-- Signed events other systems post to POST /v1/inbound/{source} (issue 23): the warehouse, the
-- marketplace, the payment provider. A row is written only once the Standard Webhooks signature and
-- timestamp are verified, one per sender's `webhook-id` per source: a replay finds its row and is
-- answered with the first answer, and nothing new is stored. `answer` is what the event came to (the
-- cases it opened, where the inbox delivered it, why nothing was done); NULL while it is being handled
-- (or after a crash in between: the next replay handles it again, idempotently, and records it).
CREATE TABLE inbound_events (
  id           bigserial   PRIMARY KEY,
  source       text        NOT NULL,
  webhook_id   text        NOT NULL,
  type         text        NOT NULL,
  data         jsonb       NOT NULL,
  -- The sender's `webhook-timestamp`, as signed.
  sent_at      timestamptz NOT NULL,
  received_at  timestamptz NOT NULL DEFAULT now(),
  answer       jsonb,
  answered_at  timestamptz,
  UNIQUE (source, webhook_id)
);
CREATE INDEX inbound_events_received ON inbound_events (received_at DESC);
-- What a crash left unanswered, for Casebook to finish by itself.
CREATE INDEX inbound_events_unanswered ON inbound_events (id) WHERE answer IS NULL;
-- Kept for good: the application records an answer, never deletes an event.
REVOKE DELETE, TRUNCATE ON inbound_events FROM casebook_app;

-- The signed sender's event reaches cases through the event inbox like any other, as source
-- `inbound:<source>`.
ALTER TABLE event_inbox DROP CONSTRAINT event_inbox_source_check;
ALTER TABLE event_inbox ADD CONSTRAINT event_inbox_source_check
  CHECK (source IN ('api', 'warehouse') OR source LIKE 'inbound:_%');

-- Down Migration

ALTER TABLE event_inbox DROP CONSTRAINT event_inbox_source_check;
ALTER TABLE event_inbox ADD CONSTRAINT event_inbox_source_check CHECK (source IN ('api', 'warehouse'));
DROP TABLE inbound_events;
