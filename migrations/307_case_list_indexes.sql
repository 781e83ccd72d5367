-- Up Migration

-- Case lists are newest first, paged by (opened_at, case_id), filtered by playbook, status or order:
-- each filter has an index in that order, so a page reads its rows and no more, however many cases.
DROP INDEX cases_playbook_status;
DROP INDEX cases_order_id;
CREATE INDEX cases_newest ON cases (opened_at DESC, case_id DESC);
CREATE INDEX cases_status_newest ON cases (status, opened_at DESC, case_id DESC);
CREATE INDEX cases_playbook_status_newest ON cases (playbook, status, opened_at DESC, case_id DESC);
CREATE INDEX cases_playbook_newest ON cases (playbook, opened_at DESC, case_id DESC);
CREATE INDEX cases_order_id_newest ON cases (order_id, opened_at DESC, case_id DESC);

-- Down Migration
DROP INDEX cases_newest;
DROP INDEX cases_status_newest;
DROP INDEX cases_playbook_status_newest;
DROP INDEX cases_playbook_newest;
DROP INDEX cases_order_id_newest;
CREATE INDEX cases_playbook_status ON cases (playbook, status, opened_at DESC);
CREATE INDEX cases_order_id ON cases (order_id);
