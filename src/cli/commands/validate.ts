import { readFileSync } from 'node:fs';
import { formatDiagnostic, type Diagnostic } from '../../playbook/index.js';
import { validateWithMarketplace } from '../../playbook/marketplace-packs.js';
import { readScenarioFile } from '../../scenarios/read.js';
import { readCalendarFolder, readMarketplaceFolder, subPlaybooksInFolder } from '../../services/playbooks.js';

export const USAGE = 'usage: casebook validate [--format text|json] <playbook.yaml | scenario.test.yaml>...\n';

/** Scenario files sit beside their playbooks (`return.test.yaml`), so a glob of a folder takes both. */
const isScenarioFile = (file: string) => /\.test\.ya?ml$/.test(file);

/**
 * Prints one line per diagnostic (`path:line:column: severity code: message`); exit 1 on any error.
 * A scenario file is checked as one (its schema), a playbook as a playbook.
 */
export async function run(args: string[]): Promise<number> {
  let format = 'text';
  const files: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--format') format = args[++i] ?? '';
    else if (arg.startsWith('--format=')) format = arg.slice('--format='.length);
    else if (arg.startsWith('-')) {
      process.stderr.write(`casebook validate: unknown option ${arg}\n${USAGE}`);
      return 2;
    } else files.push(arg);
  }
  if (files.length === 0 || (format !== 'text' && format !== 'json')) {
    process.stderr.write(USAGE);
    return 2;
  }
  const marketplaces = readMarketplaceFolder();
  const calendars = readCalendarFolder();
  const diagnostics: Diagnostic[] = [...marketplaces.diagnostics, ...calendars.diagnostics];
  for (const file of files) {
    let source: Buffer;
    try {
      source = readFileSync(file);
    } catch (error) {
      diagnostics.push({
        severity: 'error',
        code: 'IO001',
        message: `cannot read the file: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
        file,
        line: 1,
        column: 1,
        endLine: 1,
        endColumn: 1,
      });
      continue;
    }
    diagnostics.push(
      ...(isScenarioFile(file)
        ? readScenarioFile(source, file).diagnostics
        : validateWithMarketplace(source, file, {
            marketplaces,
            calendars: calendars.calendars,
            playbooks: subPlaybooksInFolder(file, source, { marketplaces, calendars: calendars.calendars }),
          }).diagnostics),
    );
  }
  if (format === 'json') process.stdout.write(JSON.stringify(diagnostics, null, 2) + '\n');
  else for (const d of diagnostics) process.stdout.write(formatDiagnostic(d) + '\n');
  return diagnostics.some((d) => d.severity === 'error') ? 1 : 0;
}
