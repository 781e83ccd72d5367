-- Up Migration

-- Who did what, and evidence that the audit trail was not rewritten (issue 12; docs/auditing.md).
--
-- Every audit row names its actor: an API key (its id and name) or `casebook` itself. Rows without a
-- case (a playbook published) have no case_id; rows the workflow does not number (opened, archived,
-- published) have no seq.
--
-- Every row is chained: `position` is its place in one global chain (1, 2, 3...), `prev_hash` the hash
-- of the row before it (32 zero bytes before the first), and `hash` = sha256(prev_hash || content),
-- the content rendered by audit_event_content() below, which `casebook audit verify` uses as well.
-- A BEFORE INSERT trigger sets the three, under a transaction-scoped advisory lock so that two
-- transactions inserting at once cannot both chain onto the same row.

ALTER TABLE audit_events
  ADD COLUMN position      bigint,
  ADD COLUMN prev_hash     bytea,
  ADD COLUMN hash          bytea,
  ADD COLUMN actor_key_id  text,
  ADD COLUMN actor_name    text NOT NULL DEFAULT 'casebook',
  ALTER COLUMN case_id DROP NOT NULL,
  ALTER COLUMN seq DROP NOT NULL,
  ADD CONSTRAINT audit_events_seq_has_case CHECK (seq IS NULL OR case_id IS NOT NULL);

-- Repairs recorded before actors were: the workflow wrote who decided as `detail.by` (a key's name).
UPDATE audit_events SET actor_name = detail->>'by' WHERE jsonb_typeof(detail->'by') = 'string';

-- The one rendering of a row's content that is hashed: a JSON array (so no field can run into the
-- next), `at` in UTC to the microsecond, the detail as Postgres prints the jsonb (keys in its order).
CREATE FUNCTION audit_event_content(
  case_id text, seq integer, at timestamptz, kind text, step_id text, actor_key_id text, actor_name text, detail jsonb
) RETURNS bytea AS $$
  SELECT convert_to(jsonb_build_array(
    case_id, seq, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), kind, step_id, actor_key_id, actor_name, detail::text
  )::text, 'UTF8')
$$ LANGUAGE sql STABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp;

-- What the first row chains onto.
CREATE FUNCTION audit_chain_genesis() RETURNS bytea AS $$
  SELECT '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea
$$ LANGUAGE sql IMMUTABLE PARALLEL SAFE;

-- The existing rows, chained in id order.
DO $$
DECLARE
  row_   record;
  prev   bytea := audit_chain_genesis();
  n      bigint := 0;
BEGIN
  FOR row_ IN SELECT * FROM audit_events ORDER BY id LOOP
    n := n + 1;
    UPDATE audit_events SET position = n, prev_hash = prev,
      hash = sha256(prev || audit_event_content(row_.case_id, row_.seq, row_.at, row_.kind, row_.step_id, row_.actor_key_id, row_.actor_name, row_.detail))
    WHERE id = row_.id
    RETURNING hash INTO prev;
  END LOOP;
END
$$;

ALTER TABLE audit_events
  ALTER COLUMN position SET NOT NULL,
  ALTER COLUMN prev_hash SET NOT NULL,
  ALTER COLUMN hash SET NOT NULL,
  ADD CONSTRAINT audit_events_position_unique UNIQUE (position),
  ADD CONSTRAINT audit_events_hash_length CHECK (length(hash) = 32 AND length(prev_hash) = 32);
-- The archived rows of a case, by run (verify joins them to case_histories).
CREATE INDEX audit_events_archived ON audit_events (case_id, (detail->>'runId')) WHERE kind = 'archived';

-- Sets position, prev_hash and hash of each new row, whatever the inserter gave. The lock (one key for
-- the whole table) is held to the end of the inserting transaction: the next inserter waits, then
-- reads this row as the last one. Rows inserted earlier by the same statement are visible here.
CREATE FUNCTION audit_events_chain() RETURNS trigger AS $$
DECLARE
  last_position  bigint;
  last_hash      bytea;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext('casebook:audit_events chain'));
  SELECT a.position, a.hash INTO last_position, last_hash FROM public.audit_events a ORDER BY a.position DESC LIMIT 1;
  NEW.position := COALESCE(last_position, 0) + 1;
  NEW.prev_hash := COALESCE(last_hash, public.audit_chain_genesis());
  NEW.hash := sha256(NEW.prev_hash || public.audit_event_content(NEW.case_id, NEW.seq, NEW.at, NEW.kind, NEW.step_id, NEW.actor_key_id, NEW.actor_name, NEW.detail));
  RETURN NEW;
END;
$$ LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp;

CREATE TRIGGER audit_events_chain
  BEFORE INSERT ON audit_events
  FOR EACH ROW EXECUTE FUNCTION audit_events_chain();

-- Append-only for the application (305 granted SELECT and INSERT only; said again here so that it stays so).
REVOKE UPDATE, DELETE, TRUNCATE ON audit_events FROM casebook_app;

-- Who delivered each event a case accepted; NULL on events accepted before actors were recorded.
ALTER TABLE case_events ADD COLUMN actor_key_id text, ADD COLUMN actor_name text;

-- Down Migration
ALTER TABLE case_events DROP COLUMN actor_key_id, DROP COLUMN actor_name;
DROP TRIGGER audit_events_chain ON audit_events;
DROP FUNCTION audit_events_chain();
DROP INDEX audit_events_archived;
DELETE FROM audit_events WHERE case_id IS NULL OR seq IS NULL;
ALTER TABLE audit_events
  DROP CONSTRAINT audit_events_seq_has_case,
  DROP COLUMN position, DROP COLUMN prev_hash, DROP COLUMN hash, DROP COLUMN actor_key_id, DROP COLUMN actor_name,
  ALTER COLUMN case_id SET NOT NULL,
  ALTER COLUMN seq SET NOT NULL;
DROP FUNCTION audit_chain_genesis();
DROP FUNCTION audit_event_content(text, integer, timestamptz, text, text, text, text, jsonb);
