/** Whether the parts the API needs answer. */
import { pingDatabase } from '../store/databases.js';
import type { Pool } from '../store/pool.js';

export const databaseAnswers = (pool: Pool) => pingDatabase(pool);
