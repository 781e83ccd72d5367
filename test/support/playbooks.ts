import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { validatePlaybook } from '../../src/playbook/index.js';
import type { Plan } from '../../src/plan/plan.js';
import type { Pool } from '../../src/store/pool.js';
import type { PlaybookRef } from '../../src/plan/case.js';

export const playbookPath = (name: string): string => fileURLToPath(new URL(`../../playbooks/${name}.yaml`, import.meta.url));

/** Compiles a standard playbook and stores it as version 1, as publishing would. */
export async function publishStandardPlaybook(pool: Pool, name: string): Promise<{ ref: PlaybookRef; plan: Plan }> {
  const file = playbookPath(name);
  const source = readFileSync(file, 'utf8');
  const result = validatePlaybook(source, file);
  if (!result.plan) throw new Error(`playbook ${name} does not compile: ${JSON.stringify(result.diagnostics)}`);
  await pool.query(
    `INSERT INTO playbook_versions (name, version, hash, source_yaml, plan) VALUES ($1, 1, $2, $3, $4) ON CONFLICT DO NOTHING`,
    [result.plan.plan.name, result.plan.hash, source, JSON.stringify(result.plan.plan)],
  );
  return { ref: { name: result.plan.plan.name, version: 1, hash: result.plan.hash }, plan: result.plan.plan };
}
