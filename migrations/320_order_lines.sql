-- Up Migration

-- Orders with several items. The first case that states an order's lines records them, once: what the
-- order was paid is then the sum of its lines. A case names the lines it concerns (a return of one item
-- of three); a refund may name one of them. The database caps payment refunds per line by what the line
-- was paid, and refuses a refund naming a line its case does not concern, whatever the code says. The
-- caps per kind and per order (302, 314) stay.

CREATE TABLE order_lines (
  order_id          text        NOT NULL REFERENCES orders (order_id),
  line_id           text        NOT NULL CHECK (length(line_id) BETWEEN 1 AND 200),
  item              text        NOT NULL CHECK (length(item) BETWEEN 1 AND 500),
  quantity          integer     NOT NULL CHECK (quantity > 0),
  paid_amount       bigint      NOT NULL CHECK (paid_amount >= 0 AND paid_amount < 9007199254740991),
  -- Where the line stands among the order's lines, as the recording case stated them.
  position          integer     NOT NULL CHECK (position >= 0),
  recorded_by_case  text        NOT NULL,
  recorded_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (order_id, line_id)
);
REVOKE UPDATE, DELETE ON order_lines FROM casebook_app;

-- The lines of an order are recorded by one case: a later case adds none.
CREATE FUNCTION order_lines_recorded_once() RETURNS trigger AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM order_lines l WHERE l.order_id = NEW.order_id AND l.recorded_by_case <> NEW.recorded_by_case) THEN
    RAISE EXCEPTION 'the lines of order % were recorded by another case; line % cannot be added', NEW.order_id, NEW.line_id
      USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER order_lines_recorded_once
  BEFORE INSERT ON order_lines
  FOR EACH ROW EXECUTE FUNCTION order_lines_recorded_once();

-- At commit, an order's lines add up to what it was paid.
CREATE FUNCTION order_lines_sum_to_paid() RETURNS trigger AS $$
DECLARE
  paid   bigint;
  total  bigint;
BEGIN
  SELECT o.paid_amount INTO paid FROM orders o WHERE o.order_id = NEW.order_id;
  SELECT COALESCE(sum(l.paid_amount), 0) INTO total FROM order_lines l WHERE l.order_id = NEW.order_id;
  IF total IS DISTINCT FROM paid THEN
    RAISE EXCEPTION 'the lines of order % add up to %, the order was paid %', NEW.order_id, total, paid
      USING ERRCODE = 'check_violation';
  END IF;
  RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE CONSTRAINT TRIGGER order_lines_sum_to_paid
  AFTER INSERT ON order_lines
  DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW EXECUTE FUNCTION order_lines_sum_to_paid();

-- The lines each case concerns, recorded when it opens (a line of the case's own order).
CREATE TABLE case_lines (
  case_id      text        NOT NULL,
  order_id     text        NOT NULL,
  line_id      text        NOT NULL,
  recorded_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (case_id, line_id),
  FOREIGN KEY (order_id, line_id) REFERENCES order_lines (order_id, line_id)
);
CREATE INDEX case_lines_order ON case_lines (order_id, line_id);
REVOKE UPDATE, DELETE ON case_lines FROM casebook_app;

CREATE FUNCTION case_lines_of_case_order() RETURNS trigger AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM cases c WHERE c.case_id = NEW.case_id AND c.order_id = NEW.order_id) THEN
    RAISE EXCEPTION 'case % is not a case of order %: it cannot concern line %', NEW.case_id, NEW.order_id, NEW.line_id
      USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER case_lines_of_case_order
  BEFORE INSERT ON case_lines
  FOR EACH ROW EXECUTE FUNCTION case_lines_of_case_order();

-- A refund may name the line it gives back for. No foreign key: a refund the ledger declined keeps the
-- line it named, even one the order does not have; the trigger below checks the others.
ALTER TABLE refunds ADD COLUMN line_id text CHECK (length(line_id) BETWEEN 1 AND 200);
CREATE INDEX refunds_order_line ON refunds (order_id, line_id) WHERE line_id IS NOT NULL;

-- A requested or issued refund naming a line: the line is one of its order's, its case concerns it, and
-- payment refunds of the line (every case, every step) never total more than the line was paid.
-- Locks the order's row, as the order's caps do, so refunds of one order are checked one at a time.
CREATE FUNCTION refunds_within_line_caps() RETURNS trigger AS $$
DECLARE
  line_paid   bigint;
  line_total  bigint;
BEGIN
  IF NEW.status = 'declined' OR NEW.line_id IS NULL THEN
    RETURN NEW;
  END IF;
  PERFORM 1 FROM orders o WHERE o.order_id = NEW.order_id FOR UPDATE;
  SELECT l.paid_amount INTO line_paid FROM order_lines l WHERE l.order_id = NEW.order_id AND l.line_id = NEW.line_id;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'order % has no line %', NEW.order_id, NEW.line_id
      USING ERRCODE = 'check_violation';
  END IF;
  IF NOT EXISTS (SELECT 1 FROM case_lines c WHERE c.case_id = NEW.case_id AND c.order_id = NEW.order_id AND c.line_id = NEW.line_id) THEN
    RAISE EXCEPTION 'case % does not concern line % of order %', NEW.case_id, NEW.line_id, NEW.order_id
      USING ERRCODE = 'check_violation';
  END IF;
  IF NEW.covers = 'payment' THEN
    SELECT COALESCE(sum(r.amount), 0) INTO line_total FROM refunds r
    WHERE r.order_id = NEW.order_id AND r.line_id = NEW.line_id AND r.covers = 'payment'
      AND r.status IN ('requested', 'issued') AND r.id <> NEW.id;
    IF line_total + NEW.amount > line_paid THEN
      RAISE EXCEPTION 'payment refunds of line % of order % would total % > % paid for it', NEW.line_id, NEW.order_id, line_total + NEW.amount, line_paid
        USING ERRCODE = 'check_violation';
    END IF;
  END IF;
  RETURN NEW;
END;
$$ LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp;

CREATE TRIGGER refunds_within_line_caps
  BEFORE INSERT OR UPDATE ON refunds
  FOR EACH ROW EXECUTE FUNCTION refunds_within_line_caps();

-- Down Migration
DROP TRIGGER refunds_within_line_caps ON refunds;
DROP FUNCTION refunds_within_line_caps();
DROP INDEX refunds_order_line;
ALTER TABLE refunds DROP COLUMN line_id;
DROP TRIGGER case_lines_of_case_order ON case_lines;
DROP FUNCTION case_lines_of_case_order();
DROP TABLE case_lines;
DROP TRIGGER order_lines_sum_to_paid ON order_lines;
DROP FUNCTION order_lines_sum_to_paid();
DROP TRIGGER order_lines_recorded_once ON order_lines;
DROP FUNCTION order_lines_recorded_once();
DROP TABLE order_lines;
