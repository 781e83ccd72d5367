-- Up Migration

-- An admin delivers a webhook out of attempts once more (issue 23, POST /v1/deliveries/{webhookId}/redeliver).
-- What the side effect sent is kept once per webhook id when its first attempt starts: the `data` of the
-- envelope exactly as serialized (text, not jsonb, which would reorder its keys), with its type and
-- destination, so a redelivery sends the same request and nothing has to be rebuilt from the case.
CREATE TABLE webhook_requests (
  webhook_id  text        PRIMARY KEY,
  destination text        NOT NULL,
  type        text        NOT NULL,
  case_id     text,
  step_id     text,
  data        text        NOT NULL,
  kept_at     timestamptz NOT NULL DEFAULT now()
);
REVOKE UPDATE, DELETE ON webhook_requests FROM casebook_app;

-- Who asked for an attempt: NULL for the schedule's own, the admin's key for a redelivery.
ALTER TABLE webhook_attempts ADD COLUMN requested_by_key_id text, ADD COLUMN requested_by_name text;

-- Down Migration

ALTER TABLE webhook_attempts DROP COLUMN requested_by_key_id, DROP COLUMN requested_by_name;
DROP TABLE webhook_requests;
