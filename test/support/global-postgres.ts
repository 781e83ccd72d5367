import type { TestProject } from 'vitest/node';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../src/util/free-port.js';

const SERVER = fileURLToPath(new URL('./postgres-server.ts', import.meta.url));

/** One real Postgres server for the whole test run; each test file makes its own database in it. */
export default async function setup(project: TestProject) {
  if (process.env.TEST_DATABASE_ADMIN_URL) {
    project.provide('postgresAdminUrl', process.env.TEST_DATABASE_ADMIN_URL);
    return;
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'casebook-test-pg-'));
  const child = spawn(process.execPath, ['--import', 'tsx', SERVER, join(dataDir, 'pg'), String(await freePort())], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const adminUrl = await new Promise<string>((resolve, reject) => {
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const line = output.split('\n').find((l) => l.startsWith('{'));
      if (line) resolve((JSON.parse(line) as { adminUrl: string }).adminUrl);
    });
    child.once('exit', (code) => reject(new Error(`the test Postgres exited with ${code}: ${output}`)));
  });
  project.provide('postgresAdminUrl', adminUrl);
  return async () => {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
    rmSync(dataDir, { recursive: true, force: true });
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    postgresAdminUrl: string;
  }
}
