-- Up Migration

-- Who sent each inbound event (issue 21). A delivery a crash interrupted (the row still `received`) is
-- finished by Casebook itself, and the case's event must name its sender then as on arrival. NULL on
-- rows written before senders were kept.
ALTER TABLE event_inbox ADD COLUMN actor_key_id text, ADD COLUMN actor_name text;

-- Down Migration

ALTER TABLE event_inbox DROP COLUMN actor_key_id, DROP COLUMN actor_name;
