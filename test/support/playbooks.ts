import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { validatePlaybook } from '../../src/playbook/index.js';
import type { Plan } from '../../src/plan/plan.js';
import { publishPlaybook } from '../../src/store/playbooks.js';
import type { Pool } from '../../src/store/pool.js';
import type { PlaybookRef } from '../../src/plan/case.js';

export const playbookPath = (name: string): string => fileURLToPath(new URL(`../../playbooks/${name}.yaml`, import.meta.url));

/** Compiles a standard playbook and publishes it (version 1 in a fresh database), as the API would. */
export async function publishStandardPlaybook(pool: Pool, name: string): Promise<{ ref: PlaybookRef; plan: Plan }> {
  const file = playbookPath(name);
  const source = readFileSync(file, 'utf8');
  const result = validatePlaybook(source, file);
  if (!result.plan) throw new Error(`playbook ${name} does not compile: ${JSON.stringify(result.diagnostics)}`);
  const { version } = await publishPlaybook(pool, source, result.plan, 'test');
  return { ref: { name: version.name, version: version.version, hash: version.hash }, plan: result.plan.plan };
}
