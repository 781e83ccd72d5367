import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { CaseService, OpenCaseRequest, OpenedCase } from '../../src/cases/service.js';
import { validatePlaybook } from '../../src/playbook/index.js';
import { publishPlaybook, type PlaybookVersion } from '../../src/store/playbooks.js';
import type { Pool } from '../../src/store/pool.js';

export const playbookPath = (name: string): string => fileURLToPath(new URL(`../../playbooks/${name}.yaml`, import.meta.url));

/** Compiles a standard playbook and publishes it (version 1 in a fresh database), as the API would. */
export async function publishStandardPlaybook(pool: Pool, name: string): Promise<PlaybookVersion> {
  const file = playbookPath(name);
  const source = readFileSync(file, 'utf8');
  const result = validatePlaybook(source, file);
  if (!result.plan) throw new Error(`playbook ${name} does not compile: ${JSON.stringify(result.diagnostics)}`);
  return (await publishPlaybook(pool, source, result.plan, 'test')).version;
}

/** Opens a case through the service, as every entry point does; throws when it does not open. */
export async function openCase(service: CaseService, request: OpenCaseRequest): Promise<OpenedCase> {
  const opened = await service.open(request);
  if (opened.kind !== 'opened') throw new Error(`case ${request.caseId} did not open: ${opened.message}`);
  return opened;
}
