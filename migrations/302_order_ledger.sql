-- Up Migration

-- One ledger per order. What was paid for an order is recorded once, by the first case opened on it;
-- every refund on the order, from any of its cases, counts against the cap of its kind. The database
-- enforces the caps, whatever a playbook or a client says.
CREATE TABLE orders (
  order_id          text        PRIMARY KEY,
  currency          char(3)     NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  paid_amount       bigint      NOT NULL CHECK (paid_amount >= 0 AND paid_amount < 9007199254740991),
  recorded_by_case  text        NOT NULL,
  recorded_at       timestamptz NOT NULL DEFAULT now()
);

-- The cap of each kind of refund other than `payment` (capped by paid_amount): return shipping by
-- what the buyer advanced or a policy maximum, price differences, goodwill. Cases of one order that
-- declare different caps keep the largest; refunds of a kind with no cap row are refused.
CREATE TABLE order_refund_caps (
  order_id  text    NOT NULL REFERENCES orders (order_id),
  kind      text    NOT NULL CHECK (kind IN ('return_shipping', 'price_difference', 'goodwill')),
  cap       bigint  NOT NULL CHECK (cap >= 0 AND cap < 9007199254740991),
  PRIMARY KEY (order_id, kind)
);

-- Orders of existing cases, with the largest amount any of their cases said was paid.
INSERT INTO orders (order_id, currency, paid_amount, recorded_by_case)
SELECT DISTINCT ON (order_id) order_id, currency, paid_amount, case_id FROM cases
WHERE order_id IS NOT NULL AND paid_amount IS NOT NULL AND currency IS NOT NULL
ORDER BY order_id, paid_amount DESC, opened_at;

-- The refunds table becomes Casebook's ledger of refunds (the local payment provider keeps its own
-- record in provider_refunds): a refund is `requested` (reserved against its cap) before the provider
-- is asked, then `issued` or `declined`; `late_at` says when its deadline passed while it was open.
ALTER TABLE refunds ADD COLUMN order_id text, ADD COLUMN late_at timestamptz, ADD COLUMN answered_at timestamptz;
UPDATE refunds r SET order_id = c.order_id, answered_at = r.created_at FROM cases c WHERE c.case_id = r.case_id;
ALTER TABLE refunds DROP CONSTRAINT refunds_status_check,
  ADD CONSTRAINT refunds_status_check CHECK (status IN ('requested', 'issued', 'declined'));
ALTER TABLE refunds DROP CONSTRAINT refunds_covers_check,
  ADD CONSTRAINT refunds_covers_check CHECK (covers IN ('payment', 'return_shipping', 'price_difference', 'goodwill'));
CREATE INDEX refunds_order ON refunds (order_id, covers);

DROP TRIGGER refunds_within_paid_amount ON refunds;
DROP FUNCTION refunds_within_paid_amount();

-- Requested and issued refunds of an order never exceed the cap of their kind, in the order's currency.
CREATE FUNCTION refunds_within_order_caps() RETURNS trigger AS $$
DECLARE
  order_currency  char(3);
  paid            bigint;
  cap             bigint;
  total           bigint;
BEGIN
  IF NEW.status = 'declined' THEN
    RETURN NEW;
  END IF;
  IF NEW.order_id IS NULL THEN
    RAISE EXCEPTION 'refund % names no order: refunds are counted per order', NEW.idempotency_key
      USING ERRCODE = 'check_violation';
  END IF;
  SELECT currency, paid_amount INTO order_currency, paid FROM orders WHERE order_id = NEW.order_id FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'order % has no recorded payment to refund against', NEW.order_id
      USING ERRCODE = 'check_violation';
  END IF;
  IF order_currency IS DISTINCT FROM NEW.currency THEN
    RAISE EXCEPTION 'refund currency % differs from the currency % order % was paid in', NEW.currency, order_currency, NEW.order_id
      USING ERRCODE = 'check_violation';
  END IF;
  IF NEW.covers = 'payment' THEN
    cap := paid;
  ELSE
    SELECT c.cap INTO cap FROM order_refund_caps c WHERE c.order_id = NEW.order_id AND c.kind = NEW.covers;
    cap := COALESCE(cap, 0);
  END IF;
  SELECT COALESCE(sum(amount), 0) INTO total FROM refunds
  WHERE order_id = NEW.order_id AND covers = NEW.covers AND status IN ('requested', 'issued') AND id <> NEW.id;
  IF total + NEW.amount > cap THEN
    RAISE EXCEPTION '% refunds on order % would total % > cap %', NEW.covers, NEW.order_id, total + NEW.amount, cap
      USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER refunds_within_order_caps
  BEFORE INSERT OR UPDATE ON refunds
  FOR EACH ROW EXECUTE FUNCTION refunds_within_order_caps();

-- The local payment provider's own record: what it paid out, once per idempotency key.
CREATE TABLE provider_refunds (
  idempotency_key  text        PRIMARY KEY,
  amount           bigint      NOT NULL CHECK (amount > 0),
  currency         char(3)     NOT NULL,
  reference        text        NOT NULL,
  created_at       timestamptz NOT NULL DEFAULT now()
);

-- Down Migration
DROP TABLE provider_refunds;
DROP TRIGGER refunds_within_order_caps ON refunds;
DROP FUNCTION refunds_within_order_caps();
DROP INDEX refunds_order;
ALTER TABLE refunds DROP CONSTRAINT refunds_covers_check,
  ADD CONSTRAINT refunds_covers_check CHECK (covers IN ('payment', 'return_shipping'));
ALTER TABLE refunds DROP CONSTRAINT refunds_status_check,
  ADD CONSTRAINT refunds_status_check CHECK (status IN ('issued', 'declined'));
ALTER TABLE refunds DROP COLUMN order_id, DROP COLUMN late_at, DROP COLUMN answered_at;
DROP TABLE order_refund_caps, orders;
