-- Up Migration

-- Moving running cases to another playbook version (issue 25 point 2) runs as a bulk job with
-- operation `migrate` (its params: the reason, the target version and the step mapping).
ALTER TABLE bulk_jobs DROP CONSTRAINT bulk_jobs_operation_check;
ALTER TABLE bulk_jobs ADD CONSTRAINT bulk_jobs_operation_check CHECK (operation IN ('cancel', 'retry', 'escalate', 'migrate'));

-- Down Migration

DELETE FROM bulk_job_cases WHERE job_id IN (SELECT id FROM bulk_jobs WHERE operation = 'migrate');
DELETE FROM bulk_jobs WHERE operation = 'migrate';
ALTER TABLE bulk_jobs DROP CONSTRAINT bulk_jobs_operation_check;
ALTER TABLE bulk_jobs ADD CONSTRAINT bulk_jobs_operation_check CHECK (operation IN ('cancel', 'retry', 'escalate'));
