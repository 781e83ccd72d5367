import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatDiagnostic, loadCalendars, type LoadedCalendars } from '../../playbook/index.js';
import { readMarketplacePacks, validateWithMarketplace } from '../../playbook/marketplace-packs.js';
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
  const result = validateWithMarketplace(source, file, { marketplaces, calendars: calendars.calendars });
  for (const d of result.diagnostics) process.stderr.write(formatDiagnostic(d) + '\n');
  return result.plan;
}

/** The `*.yaml` files of a folder (of the current directory, unless absolute); none when there is no such folder. */
function yamlFiles(dir: string): { file: string; text: Buffer }[] {
  let names: string[];
  try {
    names = readdirSync(dir).filter((name) => name.endsWith('.yaml')).sort();
  } catch {
    names = [];
  }
  return names.map((name) => ({ file: join(dir, name), text: readFileSync(join(dir, name)) }));
}

/** The marketplace rule packs in `marketplaces/*.yaml` of the current directory (none when it has no such folder). */
export function readMarketplaceFolder(dir = 'marketplaces'): ReturnType<typeof readMarketplacePacks> {
  return readMarketplacePacks(yamlFiles(dir));
}

/** The shared calendars in `calendars/*.yaml` of the current directory, checked (none when it has no such folder). */
export function readCalendarFolder(dir = 'calendars'): LoadedCalendars {
  return loadCalendars(yamlFiles(dir).map(({ file, text }) => ({ file, source: text })));
}

/** Prints the plan (JSON, with its hash) that the workflow would run. */
export async function run(args: string[]): Promise<number> {
  const compiled = compileFile(args[0], 'compile');
  if (!compiled) return 1;
  process.stdout.write(JSON.stringify({ hash: compiled.hash, plan: compiled.plan }, null, 2) + '\n');
  return 0;
}
