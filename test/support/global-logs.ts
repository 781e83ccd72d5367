import { mkdirSync, writeFileSync } from 'node:fs';
import { LOG_DIR, TEMPORAL_LOG } from './logs.js';

/** Each run starts the log of the Temporal SDK afresh. */
export default function setup() {
  mkdirSync(LOG_DIR, { recursive: true });
  writeFileSync(TEMPORAL_LOG, '');
}
