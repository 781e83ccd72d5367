import { DefaultLogger, type Logger } from '@temporalio/worker';
import { appendFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { inspect } from 'node:util';

/** Where a test run writes what would only clutter its output (README.md, "Tests"); .logs/ is git-ignored. */
export const LOG_DIR = fileURLToPath(new URL('../../.logs/', import.meta.url));
export const TEMPORAL_LOG = `${LOG_DIR}temporal-sdk.log`;
/** The time-skipping test server's own output (a Java server's warnings and stack traces). */
export const TEST_SERVER_LOG = `${LOG_DIR}temporal-test-server.log`;
/** Runs the provisioned test server with its output appended to TEST_SERVER_LOG (written by global-logs.ts). */
export const TEST_SERVER_WRAPPER = `${LOG_DIR}temporal-test-server.sh`;

/** The Temporal SDK's lines, each with `source()` (the test file it came from), appended to TEMPORAL_LOG. */
export function temporalTestLogger(source: () => string): Logger {
  return new DefaultLogger('INFO', ({ level, message, meta, timestampNanos }) => {
    const time = new Date(Number(timestampNanos / 1_000_000n)).toISOString();
    const details = meta ? ' ' + inspect(meta, { breakLength: Infinity, depth: 4 }) : '';
    appendFileSync(TEMPORAL_LOG, `${time} ${level} [${source()}] ${message}${details}\n`);
  });
}
