/** `integration_calls`: requests to named integrations (warehouse, logistics...), for the receiving team. */
import type { IntegrationRequest } from '../plan/activities.js';
import type { Queryable } from './transaction.js';

/** Logs the call once, with its input. */
export async function logIntegrationCall(db: Queryable, call: IntegrationRequest): Promise<void> {
  await db.query(
    `INSERT INTO integration_calls (idempotency_key, case_id, step_id, integration, operation, input) VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (idempotency_key) DO NOTHING`,
    [call.key, call.caseId, call.stepId, call.integration, call.operation, JSON.stringify(call.input)],
  );
}
