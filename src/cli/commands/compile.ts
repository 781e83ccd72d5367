import { readFileSync } from 'node:fs';
import { formatDiagnostic } from '../../playbook/index.js';
import { validateWithMarketplace } from '../../playbook/marketplace-packs.js';
import { readCalendarFolder, readMarketplaceFolder, subPlaybooksInFolder } from '../../services/playbooks.js';
import type { HashedPlan } from '../../plan/plan.js';

export const USAGE = 'usage: casebook compile <playbook.yaml>\n';

/** Compiles one playbook, or prints its diagnostics to stderr and returns undefined. */
export function compileFile(file: string | undefined, command: string): HashedPlan | undefined {
  if (!file) {
    process.stderr.write(`usage: casebook ${command} <playbook.yaml>\n`);
    return undefined;
  }
  let source: Buffer;
  try {
    source = readFileSync(file);
  } catch (error) {
    process.stderr.write(`${file}:1:1: error IO001: cannot read the file: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}\n`);
    return undefined;
  }
  const marketplaces = readMarketplaceFolder();
  for (const d of marketplaces.diagnostics) process.stderr.write(formatDiagnostic(d) + '\n');
  const calendars = readCalendarFolder();
  for (const d of calendars.diagnostics) process.stderr.write(formatDiagnostic(d) + '\n');
  const options = { marketplaces, calendars: calendars.calendars };
  const result = validateWithMarketplace(source, file, { ...options, playbooks: subPlaybooksInFolder(file, source, options) });
  for (const d of result.diagnostics) process.stderr.write(formatDiagnostic(d) + '\n');
  return result.plan;
}

/** Prints the plan (JSON, with its hash) that the workflow would run. */
export async function run(args: string[]): Promise<number> {
  const compiled = compileFile(args[0], 'compile');
  if (!compiled) return 1;
  process.stdout.write(JSON.stringify({ hash: compiled.hash, plan: compiled.plan }, null, 2) + '\n');
  return 0;
}
