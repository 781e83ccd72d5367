-- Up Migration

-- What an order can owe, enforced for every writer: all its refunds together (every kind, every case,
-- every playbook; requested or issued) never give back more than was paid plus what the buyer advanced
-- and is owed back, as recorded with its evidence. The per-kind caps stay.

-- What the buyer advanced for an order (return shipping paid out of pocket), recorded by the warehouse,
-- an ops lead or an admin with its evidence (the waybill, the receipt), never by the data a case is
-- opened with. Append-only: an advance recorded in error is answered by an ops lead, not edited away.
CREATE TABLE order_advances (
  id           bigserial   PRIMARY KEY,
  order_id     text        NOT NULL REFERENCES orders (order_id),
  kind         text        NOT NULL CHECK (kind IN ('return_shipping')),
  amount       bigint      NOT NULL CHECK (amount > 0 AND amount < 9007199254740991),
  currency     char(3)     NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  evidence     text        NOT NULL CHECK (length(btrim(evidence)) BETWEEN 1 AND 500),
  recorded_by  text        NOT NULL CHECK (length(recorded_by) > 0),
  recorded_at  timestamptz NOT NULL DEFAULT now(),
  UNIQUE (order_id, kind, evidence)
);
REVOKE UPDATE, DELETE ON order_advances FROM casebook_app;

-- Return shipping refunded or reserved before advances were recorded stays owed: its refund is the evidence.
INSERT INTO order_advances (order_id, kind, amount, currency, evidence, recorded_by)
SELECT order_id, 'return_shipping', amount, currency, 'refund ' || idempotency_key || ' reserved before advances were recorded', 'migration 314'
FROM refunds WHERE covers = 'return_shipping' AND status IN ('requested', 'issued') AND order_id IS NOT NULL;

-- An advance is in the order's currency.
CREATE FUNCTION order_advances_in_order_currency() RETURNS trigger AS $$
DECLARE
  order_currency  char(3);
BEGIN
  SELECT currency INTO order_currency FROM orders WHERE order_id = NEW.order_id;
  IF order_currency IS DISTINCT FROM NEW.currency THEN
    RAISE EXCEPTION 'advance currency % differs from the currency % order % was paid in', NEW.currency, order_currency, NEW.order_id
      USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER order_advances_in_order_currency
  BEFORE INSERT OR UPDATE ON order_advances
  FOR EACH ROW EXECUTE FUNCTION order_advances_in_order_currency();

-- A kind's cap now comes only from the shop's policy values; NULL: no policy bound, the order's facts
-- alone bound the kind (below).
ALTER TABLE order_refund_caps ALTER COLUMN cap DROP NOT NULL;

-- Requested and issued refunds of an order stay within, per kind:
--   payment           what was paid;
--   return_shipping   what the buyer advanced (recorded advances), and the policy cap;
--   price_difference  what was paid, and the policy cap;
--   goodwill          what was paid, and the policy cap;
-- and, all kinds together, what was paid plus what the buyer advanced. A kind no case of the order
-- declared a cap for is refused, as before.
CREATE OR REPLACE FUNCTION refunds_within_order_caps() RETURNS trigger AS $$
DECLARE
  order_currency  char(3);
  paid            bigint;
  advanced        bigint;
  declared        boolean;
  policy_cap      bigint;
  cap             bigint;
  kind_total      bigint;
  order_total     bigint;
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
  SELECT COALESCE(sum(a.amount), 0) INTO advanced FROM order_advances a WHERE a.order_id = NEW.order_id;
  IF NEW.covers = 'payment' THEN
    cap := paid;
  ELSE
    SELECT true, c.cap INTO declared, policy_cap FROM order_refund_caps c WHERE c.order_id = NEW.order_id AND c.kind = NEW.covers;
    IF declared IS NULL THEN
      cap := 0;
    ELSE
      IF NEW.covers = 'return_shipping' THEN
        SELECT COALESCE(sum(a.amount), 0) INTO cap FROM order_advances a WHERE a.order_id = NEW.order_id AND a.kind = 'return_shipping';
      ELSE
        cap := paid;
      END IF;
      cap := LEAST(cap, COALESCE(policy_cap, cap));
    END IF;
  END IF;
  SELECT COALESCE(sum(amount) FILTER (WHERE covers = NEW.covers), 0), COALESCE(sum(amount), 0)
  INTO kind_total, order_total
  FROM refunds
  WHERE order_id = NEW.order_id AND status IN ('requested', 'issued') AND id <> NEW.id;
  IF kind_total + NEW.amount > cap THEN
    RAISE EXCEPTION '% refunds on order % would total % > cap %', NEW.covers, NEW.order_id, kind_total + NEW.amount, cap
      USING ERRCODE = 'check_violation';
  END IF;
  IF order_total + NEW.amount > paid + advanced THEN
    RAISE EXCEPTION 'refunds on order % would total % > % it can owe (paid % + advanced %)', NEW.order_id, order_total + NEW.amount, paid + advanced, paid, advanced
      USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END;
$$ LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp;

-- Down Migration
CREATE OR REPLACE FUNCTION refunds_within_order_caps() RETURNS trigger AS $$
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
$$ LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp;
UPDATE order_refund_caps SET cap = 0 WHERE cap IS NULL;
ALTER TABLE order_refund_caps ALTER COLUMN cap SET NOT NULL;
DROP TRIGGER order_advances_in_order_currency ON order_advances;
DROP FUNCTION order_advances_in_order_currency();
DROP TABLE order_advances;
