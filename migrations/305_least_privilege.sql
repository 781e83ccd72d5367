-- Up Migration

-- Least privilege: migrations run as the role that owns the schema (this one); Casebook's application
-- runs as `casebook_app`, which may read and write rows as its queries need and nothing more: it owns
-- nothing, so it cannot alter or drop a table, switch a trigger off or truncate; ledger and audit rows
-- are append-only for it (refunds: only the columns that settle a refund, and a settled refund never
-- changes again). The embedded Postgres creates `casebook_app` as a login role; on a managed Postgres
-- create it first (README, "Pointing Casebook at what you already run"), else it is made here, NOLOGIN.
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'casebook_app') THEN
    BEGIN
      CREATE ROLE casebook_app NOLOGIN;
    EXCEPTION
      WHEN duplicate_object OR unique_violation THEN NULL; -- made at the same moment by another migration run
      WHEN insufficient_privilege THEN
        RAISE EXCEPTION 'role casebook_app does not exist and % may not create it', current_user
          USING HINT = 'CREATE ROLE casebook_app LOGIN PASSWORD ''...'' as an administrator first (see README.md)';
    END;
  END IF;
END
$$;

REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO casebook_app;
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM PUBLIC, casebook_app;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO casebook_app;

-- Written once, never changed: published playbooks, accepted events, orders and what they paid, the
-- payment provider's record, order notes, integration calls and the audit trail.
GRANT SELECT, INSERT ON playbook_versions, case_events, orders, provider_refunds, order_notes, integration_calls, audit_events TO casebook_app;
-- Kept current by the workflow and the API.
GRANT SELECT, INSERT, UPDATE ON cases, event_inbox TO casebook_app;
GRANT SELECT, INSERT, UPDATE (response_status, response_body), DELETE ON idempotency_keys TO casebook_app;
GRANT SELECT, INSERT, UPDATE (last_used_at, revoked_at) ON api_keys TO casebook_app;
GRANT SELECT, INSERT, UPDATE (cap) ON order_refund_caps TO casebook_app;
-- Side effects inserted once per key (the repeat's `ON CONFLICT DO UPDATE SET idempotency_key` needs
-- that column), then moved along: a message is sent, a task done.
GRANT SELECT, INSERT, UPDATE (idempotency_key) ON escalations TO casebook_app;
GRANT SELECT, INSERT, UPDATE (idempotency_key, status, sent_at) ON outbox_messages TO casebook_app;
GRANT SELECT, INSERT, UPDATE (idempotency_key, status, outcome, completed_at) ON tasks TO casebook_app;
-- The ledger: a refund is reserved, then settled once; being late is noted once.
GRANT SELECT, INSERT, UPDATE (status, provider_reference, decline_reason, answered_at, late_at) ON refunds TO casebook_app;

-- The cap check reads and locks the order, which the application may not update: it runs as the owner.
ALTER FUNCTION refunds_within_order_caps() SECURITY DEFINER SET search_path = public, pg_temp;

-- A settled refund (issued or declined) never changes again, whoever updates it; only its `late_at`
-- may still be set, once.
CREATE FUNCTION refunds_settled_once() RETURNS trigger AS $$
BEGIN
  IF OLD.status <> 'requested'
     AND (to_jsonb(NEW) - 'late_at' IS DISTINCT FROM to_jsonb(OLD) - 'late_at'
          OR (OLD.late_at IS NOT NULL AND NEW.late_at IS DISTINCT FROM OLD.late_at)) THEN
    RAISE EXCEPTION 'refund % is % and cannot change', OLD.idempotency_key, OLD.status
      USING ERRCODE = 'check_violation';
  END IF;
  IF OLD.status = 'requested' AND NEW.status <> OLD.status AND NEW.answered_at IS NULL THEN
    RAISE EXCEPTION 'refund % settled without an answer time', OLD.idempotency_key
      USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER refunds_settled_once
  BEFORE UPDATE ON refunds
  FOR EACH ROW EXECUTE FUNCTION refunds_settled_once();

-- Tables later migrations add (made by this owner) are readable and writable by the application by
-- default; a migration adding an append-only table revokes UPDATE and DELETE on it, as above.
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO casebook_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE ON SEQUENCES TO casebook_app;

-- Down Migration
ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE USAGE ON SEQUENCES FROM casebook_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE SELECT, INSERT, UPDATE, DELETE ON TABLES FROM casebook_app;
DROP TRIGGER refunds_settled_once ON refunds;
DROP FUNCTION refunds_settled_once();
ALTER FUNCTION refunds_within_order_caps() SECURITY INVOKER RESET search_path;
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM casebook_app;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM casebook_app;
REVOKE USAGE ON SCHEMA public FROM casebook_app;
