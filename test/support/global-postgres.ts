import type { TestProject } from 'vitest/node';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startPostgresProcess } from '../../src/store/postgres-process.js';
import { freePort } from '../../src/stack/free-port.js';

/** One real Postgres server for the whole test run; each test file makes its own database in it. */
export default async function setup(project: TestProject) {
  if (process.env.TEST_DATABASE_ADMIN_URL) {
    project.provide('postgresAdminUrl', process.env.TEST_DATABASE_ADMIN_URL);
    return;
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'casebook-test-pg-'));
  const server = await startPostgresProcess(join(dataDir, 'pg'), await freePort());
  project.provide('postgresAdminUrl', server.adminUrl);
  return async () => {
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    postgresAdminUrl: string;
  }
}
