import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const TOOLS_DIR = fileURLToPath(new URL('../../.tools/', import.meta.url));

export type ServerExecutable = { type: 'existing-path'; path: string } | { type: 'cached-download' };

function executable(envVariable: string, provisioned: string): ServerExecutable {
  const fromEnv = process.env[envVariable];
  if (fromEnv) return { type: 'existing-path', path: fromEnv };
  const path = TOOLS_DIR + provisioned;
  if (existsSync(path)) return { type: 'existing-path', path };
  // Only reached on a machine where provisioning did not run: the SDK downloads the binary.
  return { type: 'cached-download' };
}

/** The Temporal CLI (dev server): $CASEBOOK_TEMPORAL_CLI, else .tools/temporal. */
export const temporalCliExecutable = (): ServerExecutable => executable('CASEBOOK_TEMPORAL_CLI', 'temporal');

/** The time-skipping test server: $CASEBOOK_TEMPORAL_TEST_SERVER, else .tools/temporal-test-server. */
export const temporalTestServerExecutable = (): ServerExecutable => executable('CASEBOOK_TEMPORAL_TEST_SERVER', 'temporal-test-server');

/** A binary `scripts/provision.sh` builds from Temporal's Go module: the variable's path, else .tools/<name>. */
function built(envVariable: string, name: string): string {
  return process.env[envVariable] || TOOLS_DIR + name;
}

/** The Temporal server (go.temporal.io/server/cmd/server): $CASEBOOK_TEMPORAL_SERVER, else .tools/temporal-server. */
export const temporalServerPath = (): string => built('CASEBOOK_TEMPORAL_SERVER', 'temporal-server');

/** Its SQL schema tool (go.temporal.io/server/cmd/tools/sql): $CASEBOOK_TEMPORAL_SQL_TOOL, else .tools/temporal-sql-tool. */
export const temporalSqlToolPath = (): string => built('CASEBOOK_TEMPORAL_SQL_TOOL', 'temporal-sql-tool');
