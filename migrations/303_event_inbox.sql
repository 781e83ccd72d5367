-- Up Migration

-- Every inbound event (the events route, the warehouse webhook) is written here first, then routed
-- to a case. One row per delivery: the sender's event id is unique per source (and, for the events
-- route, per the case it names, as event ids always were), so a replay finds its row: a delivered
-- row answers "duplicate", any other row (still 'received' after a crash, unrouted, refused) is
-- routed again. A row is never deleted: no event is lost.
CREATE TABLE event_inbox (
  id               bigserial   PRIMARY KEY,
  -- 'api': POST /v1/cases/{caseId}/events (target_case_id set); 'warehouse': POST /v1/webhooks/warehouse.
  source           text        NOT NULL CHECK (source IN ('api', 'warehouse')),
  event_id         text        NOT NULL,
  type             text        NOT NULL,
  payload          jsonb       NOT NULL,
  -- Target hints: the case the sender named, or the order and return tracking number a receipt names.
  target_case_id   text,
  order_id         text,
  return_tracking  text,
  received_at      timestamptz NOT NULL DEFAULT now(),
  -- received: written, not yet delivered (a crash in between leaves it so; a replay delivers it again,
  --   to routed_case_id when the crash came after a case was chosen);
  -- routed: the case took it; duplicate: the case already had an event with this id;
  -- unrouted: no case (or more than one) takes it, see reason; refused: the case refused it, see reason.
  status           text        NOT NULL DEFAULT 'received'
                               CHECK (status IN ('received', 'routed', 'duplicate', 'unrouted', 'refused')),
  routed_case_id   text,
  reason           text,
  updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX event_inbox_delivery ON event_inbox (source, event_id, (COALESCE(target_case_id, '')));
CREATE INDEX event_inbox_status ON event_inbox (status, id DESC);
CREATE INDEX event_inbox_order ON event_inbox (order_id) WHERE order_id IS NOT NULL;

-- Down Migration
DROP TABLE event_inbox;
