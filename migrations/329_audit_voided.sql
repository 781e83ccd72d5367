-- Up Migration

-- A workflow task that fails or times out after its local activities ran leaves what they wrote: the
-- retried task may decide otherwise (an event arrived meanwhile), and a report carried ahead by a side
-- effect may tell a way the case then did not go. The audit trail is append-only, so such rows are not
-- removed: a `voided` row names them (audit_voided), and the trail the readers see leaves them out
-- (audit_trail). Each report names the workflow task that decided it (when it started, when its run
-- started, its started event); a report from a task older than the last one that reported is late and
-- changes nothing (docs/decisions/0020-audit-rows-of-failed-tasks.md).

ALTER TABLE cases
  ADD COLUMN reported_decided_at    timestamptz,
  ADD COLUMN reported_run_started_at timestamptz,
  ADD COLUMN reported_task          bigint;

CREATE TABLE audit_voided (
  audit_id  bigint PRIMARY KEY REFERENCES audit_events (id),
  voided_by bigint NOT NULL REFERENCES audit_events (id)
);
CREATE INDEX audit_voided_by ON audit_voided (voided_by);
REVOKE UPDATE, DELETE, TRUNCATE ON audit_voided FROM casebook_app;

CREATE INDEX audit_events_case_seq ON audit_events (case_id, seq) WHERE seq IS NOT NULL;

CREATE VIEW audit_trail AS
  SELECT a.* FROM audit_events a WHERE NOT EXISTS (SELECT 1 FROM audit_voided v WHERE v.audit_id = a.id);
GRANT SELECT ON audit_trail TO casebook_app;

-- One audit row as a progress report states it (src/store/progress.ts sends them as a JSON array).
CREATE TYPE audit_report_row AS (seq integer, at timestamptz, kind text, step text, detail jsonb, actor_key_id text, actor_name text);

-- A case's progress report, in one call: the projection and the audit rows it states from p_from on.
-- Rows already in the trail from p_from on that the report does not state exactly are voided first.
-- Returns false, writing nothing, for a report from a workflow task older than the last that reported.
-- A report without its task and p_from (scheduled by a build before this one) voids nothing and is never late.
CREATE FUNCTION record_case_progress(
  p_case text, p_status text, p_step text, p_waiting_for jsonb, p_deadlines jsonb, p_data jsonb,
  p_outcome text, p_reason text, p_return_tracking text,
  p_decided_at timestamptz, p_run_started_at timestamptz, p_task bigint, p_from integer, p_audit jsonb
) RETURNS boolean AS $$
DECLARE
  newest  record;
  stale   bigint[];
  voiding bigint;
BEGIN
  SELECT reported_decided_at, reported_run_started_at, reported_task INTO newest FROM public.cases WHERE case_id = p_case FOR UPDATE;
  IF NOT FOUND THEN
    RETURN false;
  END IF;
  IF newest.reported_decided_at IS NOT NULL
     AND (p_decided_at, p_run_started_at, p_task) < (newest.reported_decided_at, newest.reported_run_started_at, newest.reported_task) THEN
    RETURN false;
  END IF;

  SELECT array_agg(a.id ORDER BY a.seq) INTO stale
  FROM public.audit_trail a LEFT JOIN jsonb_populate_recordset(NULL::public.audit_report_row, p_audit) AS r ON r.seq = a.seq
  WHERE a.case_id = p_case AND a.seq >= p_from
    AND (r.seq IS NULL OR (a.at, a.kind, a.step_id, a.detail, a.actor_key_id, a.actor_name)
                          IS DISTINCT FROM (r.at, r.kind, r.step, r.detail, r.actor_key_id, r.actor_name));
  IF stale IS NOT NULL THEN
    INSERT INTO public.audit_events (idempotency_key, case_id, at, kind, detail)
    VALUES (
      p_case || '/voided/' || (SELECT count(*) + 1 FROM public.audit_events v WHERE v.case_id = p_case AND v.kind = 'voided' AND v.seq IS NULL),
      p_case, now(), 'voided',
      jsonb_build_object(
        'seqs', (SELECT jsonb_agg(a.seq ORDER BY a.seq) FROM public.audit_events a WHERE a.id = ANY (stale)),
        'task', p_task, 'decidedAt', to_char(p_decided_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
        'reason', 'not what the case decided: written by a workflow task that did not commit, or ahead of a way the case did not go'))
    RETURNING id INTO voiding;
    INSERT INTO public.audit_voided (audit_id, voided_by) SELECT unnest(stale), voiding;
  END IF;

  INSERT INTO public.audit_events (idempotency_key, case_id, seq, at, kind, step_id, detail, actor_key_id, actor_name)
  SELECT p_case || '/audit/' || r.seq || CASE WHEN taken.n = 0 THEN '' ELSE '/' || (taken.n + 1) END,
    p_case, r.seq, r.at, r.kind, r.step, r.detail, r.actor_key_id, r.actor_name
  FROM jsonb_populate_recordset(NULL::public.audit_report_row, p_audit) AS r
  CROSS JOIN LATERAL (SELECT count(*) AS n FROM public.audit_events a WHERE a.case_id = p_case AND a.seq = r.seq) taken
  WHERE NOT EXISTS (SELECT 1 FROM public.audit_trail t WHERE t.case_id = p_case AND t.seq = r.seq)
  ORDER BY r.seq;

  UPDATE public.cases SET status = p_status, current_step = p_step, waiting_for = p_waiting_for, deadlines = p_deadlines, data = p_data,
    outcome = p_outcome, reason = p_reason, updated_at = now(),
    closed_at = CASE WHEN p_status = 'closed' THEN COALESCE(closed_at, now()) ELSE NULL END,
    return_tracking = COALESCE(p_return_tracking, return_tracking),
    reported_decided_at = COALESCE(p_decided_at, reported_decided_at),
    reported_run_started_at = COALESCE(p_run_started_at, reported_run_started_at), reported_task = COALESCE(p_task, reported_task)
  WHERE case_id = p_case;
  RETURN true;
END;
$$ LANGUAGE plpgsql VOLATILE;

-- Down Migration
DROP FUNCTION record_case_progress(text, text, text, jsonb, jsonb, jsonb, text, text, text, timestamptz, timestamptz, bigint, integer, jsonb);
DROP TYPE audit_report_row;
DROP VIEW audit_trail;
DROP INDEX audit_events_case_seq;
DROP TABLE audit_voided;
ALTER TABLE cases DROP COLUMN reported_decided_at, DROP COLUMN reported_run_started_at, DROP COLUMN reported_task;
