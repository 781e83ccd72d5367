-- Up Migration

-- A plan is kept as published, key order included: jsonb reorders an object's keys (shortest first),
-- so a task's outcomes came back to the case, the queue and the graph in an order nobody wrote
-- (`reject, approve` for `{ approve, reject }`). `json` keeps the text; nothing queries inside a plan
-- but the figures' shop filter, which `json` answers alike. Versions published before keep jsonb's order.
ALTER TABLE playbook_versions ALTER COLUMN plan TYPE json USING plan::json;

-- Down Migration

ALTER TABLE playbook_versions ALTER COLUMN plan TYPE jsonb USING plan::jsonb;
