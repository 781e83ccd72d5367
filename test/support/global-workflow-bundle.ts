import type { TestProject } from 'vitest/node';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleCaseWorkflows } from '../../src/stack/worker.js';

/**
 * The case workflows bundled once for the whole run, as `casebook bundle` does for
 * CASEBOOK_WORKFLOW_BUNDLE: the test files whose subject is not bundling take it instead of
 * bundling the same code again in every file (a few seconds of CPU each).
 */
export default async function setup(project: TestProject) {
  const dir = mkdtempSync(join(tmpdir(), 'casebook-test-bundle-'));
  const path = join(dir, 'workflows.js');
  writeFileSync(path, await bundleCaseWorkflows());
  project.provide('workflowBundle', path);
  return () => rmSync(dir, { recursive: true, force: true });
}

declare module 'vitest' {
  export interface ProvidedContext {
    workflowBundle: string;
  }
}
