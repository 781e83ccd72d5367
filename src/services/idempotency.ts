/** The Idempotency-Key ledger: a POST's key claimed (per API key), its answer recorded, or the claim released when it failed. */
export { claimIdempotencyKey, recordIdempotentAnswer, releaseIdempotencyKey } from '../store/idempotency.js';
