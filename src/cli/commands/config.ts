/**
 * `casebook config check [file]`: checks a deployment configuration (docs/configuration.md), prints
 * which connector carries each binding, and tries each destination and mail server once.
 */
import type { ConnectorBinding, ConnectorConfig } from '../../connectors/config.js';
import { CHANNELS, LOCAL_CONNECTORS } from '../../connectors/config.js';
import { composeConnectionChecks } from '../../stack/compose.js';
import { DeploymentConfigError, loadDeployment } from '../../stack/deployment.js';
import { databaseUrlOf } from '../connections.js';

export const USAGE = `usage: casebook config check [file]
Checks a deployment configuration (default: the file $CASEBOOK_CONFIG names): one line per problem,
file:line:column, exit 2. Then prints each binding and the connector that carries it, and tries each
destination once (a signed casebook.ping POST) and each mail server (a login, sending nothing), and
whether each inbound source's secrets are set: exit 1 if one fails, 0 when all answer.
See docs/configuration.md.
`;

export async function run(args: string[]): Promise<number> {
  const [action, ...rest] = args;
  if (action !== 'check' || rest.length > 1 || rest.some((arg) => arg.startsWith('-'))) {
    process.stderr.write(USAGE);
    return 2;
  }
  const file = rest[0] ?? process.env.CASEBOOK_CONFIG;
  let connectors: ConnectorConfig;
  if (file) {
    try {
      connectors = loadDeployment(file);
    } catch (error) {
      if (!(error instanceof DeploymentConfigError)) throw error;
      process.stderr.write(`${error.message}\n`);
      return 2;
    }
    say(`${file}: valid`);
  } else {
    connectors = LOCAL_CONNECTORS;
    say('no configuration (CASEBOOK_CONFIG is not set): every connector is local');
  }
  say('');
  for (const line of bindings(connectors)) say(line);
  // An inbound source cannot be tried from here: its secrets must at least be set where Casebook runs.
  let unset = 0;
  if (Object.keys(connectors.inbound).length > 0) {
    say('');
    say('inbound sources (POST /v1/inbound/<source>):');
    for (const source of Object.values(connectors.inbound)) {
      const missing = source.secretVariables.filter((variable) => !process.env[variable]);
      unset += missing.length > 0 ? 1 : 0;
      const state = missing.length === 0 ? 'set' : `FAILED: ${missing.join(', ')} not set`;
      say(`  ${source.name.padEnd(20)}secrets in ${source.secretVariables.join(', ')}  ${state}`);
    }
  }
  const { checks, close } = composeConnectionChecks(connectors, databaseUrlOf({ ...process.env, CASEBOOK_CONFIG: file ?? '' }));
  if (checks.length === 0) {
    await close();
    return unset === 0 ? 0 : 1;
  }
  say('');
  say('trying each destination once:');
  let failed = 0;
  try {
    const results = await Promise.all(checks.map(async (check) => ({ check, result: await check.run() })));
    for (const { check, result } of results) {
      const status = result.status ? `HTTP ${result.status}, ` : '';
      if (!result.ok) failed += 1;
      say(
        `  ${check.kind.padEnd(8)}${check.name.padEnd(20)}${check.target}  ${result.ok ? `ok (${status}${result.latencyMs} ms)` : `FAILED: ${result.problem ?? 'no answer'}`}`,
      );
    }
  } finally {
    await close();
  }
  say('');
  say(failed === 0 ? `all ${checks.length} answered` : `${failed} of ${checks.length} failed`);
  if (unset > 0) say(`${unset} inbound source${unset === 1 ? ' has' : 's have'} a secret not set`);
  return failed === 0 && unset === 0 ? 0 : 1;
}

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** One line per binding: what it carries, and the connector with where it goes. */
function bindings(connectors: ConnectorConfig): string[] {
  const where = (binding: ConnectorBinding): string => {
    switch (binding.connector) {
      case 'local':
        return 'local';
      case 'webhook':
        return `webhook  → ${binding.destination} (${connectors.destinations[binding.destination]?.url ?? '?'})`;
      case 'smtp': {
        const server = connectors.mailServers[binding.server];
        return `smtp     → ${binding.server} (${server ? `${server.host}:${server.port}` : '?'})`;
      }
    }
  };
  const { default: fallback, ...named } = connectors.integrations;
  const rows: [string, string][] = [
    ...CHANNELS.map((channel): [string, string] => [`channel ${channel}`, where(connectors.channels[channel])]),
    ['payments', where(connectors.payments)],
    ['order system', where(connectors.orderSystem)],
    ['notifications', connectors.notifications ? where(connectors.notifications) : 'local (the task and escalation queues)'],
    ...Object.entries(named).map(([name, binding]): [string, string] => [`integration ${name}`, where(binding)]),
    ['integration (default)', where(fallback ?? { connector: 'local' })],
  ];
  return ['bindings:', ...rows.map(([what, to]) => `  ${what.padEnd(28)}${to}`)];
}
