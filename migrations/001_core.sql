-- Up Migration

-- Immutable published playbook versions. A version is never updated; a new publish adds a row.
CREATE TABLE playbook_versions (
  name          text        NOT NULL,
  version       integer     NOT NULL CHECK (version > 0),
  hash          text        NOT NULL,
  source_yaml   text        NOT NULL,
  plan          jsonb       NOT NULL,
  published_at  timestamptz NOT NULL DEFAULT now(),
  published_by  text,
  PRIMARY KEY (name, version),
  UNIQUE (name, hash)
);

-- One row per case: the projection that people query. Temporal's history stays the source of truth.
CREATE TABLE cases (
  case_id          text        PRIMARY KEY,
  workflow_id      text        NOT NULL UNIQUE,
  playbook         text        NOT NULL,
  version          integer     NOT NULL,
  plan_hash        text        NOT NULL,
  case_type        text        NOT NULL,
  order_id         text,
  return_tracking  text,
  status           text        NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'waiting', 'closed', 'failed')),
  current_step     text,
  waiting_for      jsonb       NOT NULL DEFAULT '[]',
  deadlines        jsonb       NOT NULL DEFAULT '[]',
  data             jsonb       NOT NULL,
  outcome          text,
  reason           text,
  -- What the buyer paid: the ceiling for the sum of refunds (see refunds_within_paid_amount).
  paid_amount      bigint      CHECK (paid_amount >= 0),
  currency         char(3),
  opened_at        timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  closed_at        timestamptz,
  FOREIGN KEY (playbook, version) REFERENCES playbook_versions (name, version)
);
CREATE INDEX cases_playbook_status ON cases (playbook, status, opened_at DESC);
CREATE INDEX cases_order_id ON cases (order_id);
CREATE INDEX cases_return_tracking ON cases (return_tracking);

-- Messages to buyers, agents and groups. A channel adapter delivers pending rows.
CREATE TABLE outbox_messages (
  id               bigserial   PRIMARY KEY,
  idempotency_key  text        NOT NULL UNIQUE,
  case_id          text        NOT NULL,
  step_id          text        NOT NULL,
  recipient_kind   text        NOT NULL CHECK (recipient_kind IN ('buyer', 'agent', 'group')),
  recipient        text,
  channel          text        NOT NULL,
  template         text        NOT NULL,
  body             text        NOT NULL,
  status           text        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
  created_at       timestamptz NOT NULL DEFAULT now(),
  sent_at          timestamptz
);
CREATE INDEX outbox_pending ON outbox_messages (created_at) WHERE status = 'pending';
CREATE INDEX outbox_case ON outbox_messages (case_id);

-- The refunds ledger. Money is integer minor units plus an ISO 4217 currency.
CREATE TABLE refunds (
  id                  bigserial   PRIMARY KEY,
  idempotency_key     text        NOT NULL UNIQUE,
  case_id             text        NOT NULL,
  step_id             text        NOT NULL,
  amount              bigint      NOT NULL CHECK (amount > 0 AND amount < 9007199254740991),
  currency            char(3)     NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  reason              text        NOT NULL,
  -- payment: gives back what the buyer paid (capped); return_shipping: reimburses advanced shipping.
  covers              text        NOT NULL DEFAULT 'payment' CHECK (covers IN ('payment', 'return_shipping')),
  status              text        NOT NULL CHECK (status IN ('issued', 'declined')),
  provider_reference  text,
  decline_reason      text,
  deadline_at         timestamptz,
  created_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX refunds_case ON refunds (case_id);

-- The payments given back for a case never exceed what the buyer paid, whoever writes the row.
CREATE FUNCTION refunds_within_paid_amount() RETURNS trigger AS $$
DECLARE
  paid      bigint;
  paid_cur  char(3);
  total     bigint;
BEGIN
  IF NEW.status <> 'issued' OR NEW.covers <> 'payment' THEN
    RETURN NEW;
  END IF;
  SELECT paid_amount, currency INTO paid, paid_cur FROM cases WHERE case_id = NEW.case_id FOR UPDATE;
  IF paid IS NULL THEN
    RAISE EXCEPTION 'refund for case % has no paid amount to refund against', NEW.case_id
      USING ERRCODE = 'check_violation';
  END IF;
  IF paid_cur IS DISTINCT FROM NEW.currency THEN
    RAISE EXCEPTION 'refund currency % differs from the paid currency % of case %', NEW.currency, paid_cur, NEW.case_id
      USING ERRCODE = 'check_violation';
  END IF;
  SELECT COALESCE(sum(amount), 0) INTO total FROM refunds WHERE case_id = NEW.case_id AND status = 'issued' AND covers = 'payment' AND id <> NEW.id;
  IF total + NEW.amount > paid THEN
    RAISE EXCEPTION 'refunds for case % would total % > paid %', NEW.case_id, total + NEW.amount, paid
      USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER refunds_within_paid_amount
  BEFORE INSERT OR UPDATE ON refunds
  FOR EACH ROW EXECUTE FUNCTION refunds_within_paid_amount();

-- Escalations to a queue or role.
CREATE TABLE escalations (
  id               bigserial   PRIMARY KEY,
  idempotency_key  text        NOT NULL UNIQUE,
  case_id          text        NOT NULL,
  step_id          text        NOT NULL,
  queue            text        NOT NULL,
  severity         text        NOT NULL CHECK (severity IN ('low', 'medium', 'high', 'critical')),
  reason           text        NOT NULL,
  note             text,
  status           text        NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
  created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX escalations_open ON escalations (queue, created_at) WHERE status = 'open';

-- Human tasks with an SLA.
CREATE TABLE tasks (
  id               bigserial   PRIMARY KEY,
  idempotency_key  text        NOT NULL UNIQUE,
  case_id          text        NOT NULL,
  step_id          text        NOT NULL,
  role             text        NOT NULL,
  title            text        NOT NULL,
  outcomes         jsonb       NOT NULL,
  due_at           timestamptz NOT NULL,
  status           text        NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'done', 'breached')),
  outcome          text,
  created_at       timestamptz NOT NULL DEFAULT now(),
  completed_at     timestamptz
);
CREATE INDEX tasks_open ON tasks (role, due_at) WHERE status = 'open';

-- Order remarks and flags, as the local order-system adapter records them.
CREATE TABLE order_notes (
  id               bigserial   PRIMARY KEY,
  idempotency_key  text        NOT NULL UNIQUE,
  case_id          text        NOT NULL,
  order_id         text,
  remark           text,
  flag             text        CHECK (flag IN ('grey', 'red', 'blue', 'yellow', 'purple')),
  created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX order_notes_order ON order_notes (order_id);

-- Calls to named integrations (warehouse, logistics...), with their results.
CREATE TABLE integration_calls (
  id               bigserial   PRIMARY KEY,
  idempotency_key  text        NOT NULL UNIQUE,
  case_id          text        NOT NULL,
  step_id          text        NOT NULL,
  integration      text        NOT NULL,
  operation        text        NOT NULL,
  input            jsonb       NOT NULL,
  result           jsonb,
  created_at       timestamptz NOT NULL DEFAULT now()
);

-- What happened to a case and why, for auditors; one row per interpreter decision.
CREATE TABLE audit_events (
  id          bigserial   PRIMARY KEY,
  idempotency_key text    NOT NULL UNIQUE,
  case_id     text        NOT NULL,
  at          timestamptz NOT NULL,
  kind        text        NOT NULL,
  step_id     text,
  detail      jsonb       NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_events_case ON audit_events (case_id, at);

-- Down Migration
DROP TABLE audit_events, integration_calls, order_notes, tasks, escalations, refunds, outbox_messages, cases, playbook_versions;
DROP FUNCTION refunds_within_paid_amount();
