import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { bundleCaseWorkflows } from '../../stack/worker.js';

export const USAGE = [
  'usage: casebook bundle <file>',
  '  writes the workflow code bundled as a worker bundles it at start; a worker started with',
  '  CASEBOOK_WORKFLOW_BUNDLE=<file> runs it instead of bundling (faster; the same bundle on every worker of a release)',
  '',
].join('\n');

export async function run(args: string[]): Promise<number> {
  const [file, ...rest] = args;
  if (!file || rest.length > 0 || file.startsWith('-')) {
    process.stderr.write(USAGE);
    return 2;
  }
  const code = await bundleCaseWorkflows();
  writeFileSync(resolve(file), code);
  process.stdout.write(`wrote ${resolve(file)} (${Math.round(code.length / 1024)} KiB); start workers with CASEBOOK_WORKFLOW_BUNDLE=${resolve(file)}\n`);
  return 0;
}
