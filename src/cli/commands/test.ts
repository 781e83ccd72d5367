/**
 * `casebook test <file.test.yaml>...`: runs playbook scenarios on Temporal's time-skipping test
 * server, with the real activities writing to a throw-away Postgres. Output reads like a test runner's;
 * a failing expectation points at its line.
 */
import { DefaultLogger } from '@temporalio/worker';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { FaultScript } from '../../scenarios/faults.js';
import { formatDiagnostic } from '../../playbook/index.js';
import { validateWithMarketplace } from '../../playbook/marketplace-packs.js';
import { publishSubPlaybooksFromFolder, readCalendarFolder, readMarketplaceFolder } from '../../services/playbooks.js';
import { readScenarioFile } from '../../scenarios/read.js';
import { runScenario } from '../../scenarios/run.js';
import type { ConnectorConfig } from '../../connectors/config.js';
import { composeScenarioStack } from '../../stack/compose.js';
import { connectorsFromEnv } from '../../stack/deployment.js';
import { installTemporalLogging } from '../../stack/logging.js';

export const USAGE = 'usage: casebook test <playbook.test.yaml>...\n';

export async function run(args: string[]): Promise<number> {
  if (args.length === 0 || args.some((a) => a.startsWith('-'))) {
    process.stderr.write(USAGE);
    return 2;
  }
  const files = args.map((file) => ({ file, read: readScenarioFile(readFileSync(file), file) }));
  let problems = 0;
  for (const { read } of files) for (const d of read.diagnostics) (problems += 1), process.stdout.write(formatDiagnostic(d) + '\n');
  if (problems > 0) return 1;
  let connectors: ConnectorConfig;
  try {
    connectors = connectorsFromEnv(process.env);
  } catch (error) {
    process.stderr.write(`casebook: ${(error as Error).message}\n`);
    return 2;
  }

  // The core's errors only: its warning that the test server lacks a capability of Temporal 1.16 says nothing here.
  installTemporalLogging(new DefaultLogger('ERROR'), 'ERROR');
  const faults = new FaultScript();
  const stack = await composeScenarioStack(connectors, (chosen) => faults.wrap(chosen));
  const { env, pool, worker, service, inbox } = stack;
  const marketplaces = readMarketplaceFolder();
  const calendars = readCalendarFolder();
  for (const d of calendars.diagnostics) process.stdout.write(`${formatDiagnostic(d)}\n`);
  let passed = 0;
  let failed = 0;
  try {
    await worker.runUntil(async () => {
      for (const { file, read } of files) {
        const scenarioFile = read.scenarioFile!;
        const playbookFile = resolve(dirname(file), scenarioFile.playbook);
        const options = { marketplaces, calendars: calendars.calendars };
        const playbooks = await publishSubPlaybooksFromFolder(pool, playbookFile, options);
        const compiled = validateWithMarketplace(readFileSync(playbookFile), playbookFile, { ...options, playbooks });
        process.stdout.write(`${file} (${scenarioFile.playbook})\n`);
        if (!compiled.plan) {
          for (const d of compiled.diagnostics) process.stdout.write(`  ${formatDiagnostic(d)}\n`);
          failed += scenarioFile.scenarios.length;
          continue;
        }
        for (const scenario of scenarioFile.scenarios) {
          const result = await runScenario({ env, pool, service, inbox, faults }, compiled.plan, scenario);
          if (result.failures.length === 0) {
            passed += 1;
            process.stdout.write(`  ✓ ${result.name} (${Math.round(result.ms)} ms)\n`);
          } else {
            failed += 1;
            process.stdout.write(`  ✗ ${result.name}\n`);
            for (const f of result.failures) process.stdout.write(`      ${file}:${f.span.line}:${f.span.column}: ${f.message}\n`);
          }
        }
      }
    });
  } finally {
    await stack.close();
  }
  process.stdout.write(`\n${passed} passed, ${failed} failed\n`);
  return failed > 0 ? 1 : 0;
}
