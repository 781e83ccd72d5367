/** What the API needs from the rest of Casebook; `buildApi` hands it to every route. */
import type { CaseService } from '../cases/service.js';
import type { Pool } from '../store/pool.js';

export interface ApiDependencies {
  pool: Pool;
  cases: CaseService;
  /** Whether the Temporal side is reachable, for /readyz. */
  temporalReady: () => Promise<boolean>;
}
