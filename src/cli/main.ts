/** The `casebook` command: dispatches to one module per subcommand in ./commands. */
/** Each command module exports its `USAGE`, printed on `--help` or `-h`, and `run`. */
type Command = { summary: string; load: () => Promise<{ USAGE: string; run(args: string[]): Promise<number> }> };

const commands: Record<string, Command> = {
  start: { summary: 'run Casebook: Temporal dev server, Postgres, worker and API', load: () => import('./commands/start.js') },
  validate: { summary: 'check playbooks: one line per problem, path:line:column', load: () => import('./commands/validate.js') },
  compile: { summary: 'print the plan a playbook compiles to', load: () => import('./commands/compile.js') },
  test: { summary: 'run playbook scenarios on the time-skipping test server', load: () => import('./commands/test.js') },
  keys: { summary: 'create, list and revoke API keys', load: () => import('./commands/keys.js') },
  audit: { summary: 'verify the hash-chained audit trail against signed checkpoints; write a checkpoint', load: () => import('./commands/audit.js') },
  diagram: { summary: 'print a Mermaid flowchart of a playbook', load: () => import('./commands/diagram.js') },
  export: { summary: 'download cases as JSON Lines: plan, audit rows, histories, verification', load: () => import('./commands/export.js') },
  config: { summary: 'check a deployment configuration (CASEBOOK_CONFIG) and try each destination once', load: () => import('./commands/config.js') },
  playbooks: { summary: 'show which version of a playbook new cases take; make another current, with a reason', load: () => import('./commands/playbooks.js') },
  cancel: { summary: 'cancel a case with a reason: its compensations run, it ends cancelled', load: () => import('./commands/cancel.js') },
  bulk: { summary: 'cancel, retry or escalate many cases chosen by a query: a dry run, then the job', load: () => import('./commands/bulk.js') },
  migrate: {
    summary: "move a playbook's running cases to another version: a dry run says what changes for each, then the job",
    load: () => import('./commands/migrate.js'),
  },
  backtest: {
    summary: 'say what a playbook file would change on past closed cases, re-run on the time-skipping server',
    load: () => import('./commands/backtest.js'),
  },
  bundle: { summary: 'write the workflow bundle, which workers started with CASEBOOK_WORKFLOW_BUNDLE run', load: () => import('./commands/bundle.js') },
  replay: { summary: "re-execute a case's recorded history against the current code (Temporal or the archive)", load: () => import('./commands/replay.js') },
};

function usage(): string {
  const lines = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`);
  return ['usage: casebook <command> [options]', '', 'commands:', ...lines].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage() + '\n');
    return name ? 0 : 2;
  }
  const command = commands[name];
  if (!command) {
    process.stderr.write(`casebook: unknown command '${name}'\n\n${usage()}\n`);
    return 2;
  }
  const module = await command.load();
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(module.USAGE);
    return 0;
  }
  return module.run(args);
}
