import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { temporalTestServerExecutable } from '../../src/stack/temporal-binaries.js';
import { LOG_DIR, TEMPORAL_LOG, TEST_SERVER_LOG, TEST_SERVER_WRAPPER } from './logs.js';

const quoted = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`;

/**
 * Each run starts its logs afresh. The time-skipping test server writes straight to the test process's
 * output (the SDK forwards it), so it is run through a script that sends its output to TEST_SERVER_LOG.
 */
export default function setup() {
  mkdirSync(LOG_DIR, { recursive: true });
  writeFileSync(TEMPORAL_LOG, '');
  writeFileSync(TEST_SERVER_LOG, '');
  const executable = temporalTestServerExecutable();
  if (executable.type === 'existing-path') {
    writeFileSync(TEST_SERVER_WRAPPER, `#!/bin/sh\nexec ${quoted(executable.path)} "$@" >>${quoted(TEST_SERVER_LOG)} 2>&1\n`, { mode: 0o755 });
  } else {
    rmSync(TEST_SERVER_WRAPPER, { force: true });
  }
}
