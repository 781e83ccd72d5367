/**
 * `casebook migrate <playbook> --to <version> [--map old=new]... [--from <version>] [--dry-run] [--reason <text>] [--yes]`:
 * moving a playbook's running cases to another version from a shell (docs/api.md, "Moving running
 * cases"). `--dry-run` prints one line per open case: whether it moves, what changes for it or why
 * not. Without it the waiting cases move in a bulk job run in this process (operation `migrate`),
 * after a yes at the prompt (or `--yes`), with its progress on stderr and one line per case at the
 * end, recorded as done by `--by` (default: the shell's user). Exit 0 when no case failed, 1 when
 * some did, 2 on bad arguments, an unknown playbook, version or step, or no database or Temporal.
 */
import { userInfo } from 'node:os';
import { createInterface } from 'node:readline/promises';
import { parseArgs } from 'node:util';
import { confirmationOf, DEFAULT_BULK_RATE, MAX_BULK_RATE, type BulkOperations, type BulkRequest } from '../../cases/bulk.js';
import { migrationSelection, orderedMapping, type MigrationRequest } from '../../cases/migration.js';
import { composeBulkOperations, composeCommandStores, composeLeases } from '../../stack/compose.js';
import { followBulkJob } from '../bulk-progress.js';
import { connectionsOf, databaseFailure, type CommandConnections } from '../connections.js';

export const USAGE = `usage: casebook migrate <playbook> --to <version> [--map <old step>=<new step>]... [--from <version>]
       [--dry-run | --reason <text> [--yes]] [--rate <n>] [--by <name>]
--dry-run: one line per open case: whether it moves to the version, what changes for it, or why not
--map: a step whose id changed between the versions (repeat for each)
--from: only the cases on this version
--yes: do not ask before moving the cases
--rate: cases per second, 1 to ${MAX_BULK_RATE} (${DEFAULT_BULK_RATE} by default)
`;

const text = { type: 'string' } as const;
const VERSION = /^[1-9][0-9]{0,8}$/;
/** How many cases a dry run shows. */
const DRY_RUN_CASES = 500;

interface Parsed {
  playbook: string;
  request: MigrationRequest;
  dryRun: boolean;
  reason?: string;
  yes: boolean;
  rate: number;
  by: string;
}

function parse(args: string[]): Parsed | string {
  let parsed: ReturnType<typeof parseOptions>;
  try {
    parsed = parseOptions(args);
  } catch (error) {
    return (error as Error).message;
  }
  const { values: v, positionals } = parsed;
  if (positionals.length !== 1 || !/^[a-z][a-z0-9-]{0,63}$/.test(positionals[0]!)) return 'name one playbook';
  if (v.to === undefined || !VERSION.test(v.to)) return '--to is the version number the cases move to';
  if (v.from !== undefined && !VERSION.test(v.from)) return '--from is a version number';
  const mapping: Record<string, string> = {};
  for (const pair of v.map ?? []) {
    const [from, to, ...rest] = pair.split('=');
    if (!from || !to || rest.length > 0) return `--map takes <old step>=<new step>, not '${pair}'`;
    mapping[from] = to;
  }
  const reason = v.reason?.trim();
  if (!v['dry-run'] && (!reason || reason.length > 500)) return '--reason is required to move cases (1 to 500 characters), or give --dry-run';
  const rate = v.rate === undefined ? DEFAULT_BULK_RATE : Number(v.rate);
  if (!Number.isInteger(rate) || rate < 1 || rate > MAX_BULK_RATE) return `--rate is a whole number from 1 to ${MAX_BULK_RATE}`;
  return {
    playbook: positionals[0]!,
    request: { toVersion: Number(v.to), mapping: orderedMapping(mapping), ...(v.from !== undefined ? { fromVersion: Number(v.from) } : {}) },
    dryRun: v['dry-run'] === true,
    ...(reason ? { reason } : {}),
    yes: v.yes === true,
    rate,
    by: v.by?.trim() || userInfo().username,
  };
}

function parseOptions(args: string[]) {
  return parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      to: text,
      from: text,
      map: { type: 'string', multiple: true },
      'dry-run': { type: 'boolean' },
      reason: text,
      yes: { type: 'boolean' },
      rate: text,
      by: text,
    },
  });
}

/** `dependencies`: where the cases are, for tests; `ask` answers the confirmation prompt (stdin when absent). */
export async function run(args: string[], dependencies: Partial<CommandConnections> & { ask?: (question: string) => Promise<string> } = {}): Promise<number> {
  const parsed = parse(args);
  if (typeof parsed === 'string') {
    process.stderr.write(`casebook migrate: ${parsed}\n${USAGE}`);
    return 2;
  }
  const deps = { ...connectionsOf(), ...dependencies };
  const { pool, client, close } = await composeCommandStores(deps);
  // The job runs here under its lease, so that no API process resumes it meanwhile.
  const leases = composeLeases(deps.databaseUrl);
  const bulk = client && composeBulkOperations(client, pool, leases.claim);
  try {
    if (!bulk) {
      process.stderr.write(`casebook migrate: cannot reach Temporal at ${deps.temporalAddress}\n`);
      return 2;
    }
    const preview = await bulk.previewMigration(parsed.playbook, { ...parsed.request, limit: DRY_RUN_CASES });
    if (preview.kind !== 'preview') {
      process.stderr.write(`casebook migrate: ${preview.message}\n`);
      return 2;
    }
    const lines = preview.cases.map((c) => {
      const where = `${c.caseId}  v${c.fromVersion} ${c.status}${c.step ? ` at ${c.step}` : ''}`;
      if (!c.movable) return `${where}: stays (${c.reasons.join('; ')})`;
      const changes = c.changes.length > 0 ? c.changes.map((change) => change.text).join('; ') : 'no deadline changes';
      return `${where}: moves to v${preview.toVersion} at ${c.toStep}; ${changes}`;
    });
    const more = preview.count > preview.cases.length ? [`… and ${preview.count - preview.cases.length} more`] : [];
    const summary = `${preview.movable} of ${preview.count} open case${preview.count === 1 ? '' : 's'} of ${parsed.playbook} can move to v${preview.toVersion}`;
    if (parsed.dryRun) {
      process.stdout.write(`${[...lines, ...more, summary].join('\n')}\n`);
      return 0;
    }
    process.stderr.write(`${summary}\n`);
    if (!parsed.yes) {
      const answer = await (dependencies.ask ?? ask)(`Move the waiting cases of ${parsed.playbook} to v${preview.toVersion}? [y/N] `);
      if (!/^y(es)?$/i.test(answer.trim())) {
        process.stderr.write('casebook migrate: nothing moved\n');
        return 0;
      }
    }
    return await runJob(bulk, parsed);
  } catch (error) {
    process.stderr.write(databaseFailure('migrate', error, deps.databaseUrl));
    return 2;
  } finally {
    await bulk?.close();
    await leases.close();
    await close();
  }
}

async function ask(question: string): Promise<string> {
  const prompt = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return await prompt.question(question);
  } finally {
    prompt.close();
  }
}

async function runJob(bulk: BulkOperations, parsed: Parsed): Promise<number> {
  const { toVersion, mapping, fromVersion } = parsed.request;
  const request: BulkRequest = {
    operation: 'migrate',
    selection: migrationSelection(parsed.playbook, fromVersion),
    params: { reason: parsed.reason!, toVersion, mapping },
  };
  const result = await bulk.submit({ ...request, confirmation: confirmationOf(request), ratePerSecond: parsed.rate, by: { keyId: null, name: parsed.by } });
  if (result.kind === 'too-many') {
    process.stderr.write(`casebook migrate: ${result.count} cases wait, more than ${result.limit} a job takes: name a --from version\n`);
    return 2;
  }
  if (result.kind !== 'started' && result.kind !== 'existing') throw new Error(`the migration job was not made: ${result.kind}`);
  const { id } = result.job;
  const job = await followBulkJob(bulk, id);
  for (const c of await bulk.report(id, { after: 0, limit: 10_001 })) process.stdout.write(`${c.caseId}  ${c.state}  ${c.detail ?? ''}\n`);
  const { done, skipped, failed, pending } = job.progress;
  process.stdout.write(`job ${id}: ${done} moved, ${skipped} left as they were, ${failed} failed${pending ? `, ${pending} pending` : ''}\n`);
  return failed > 0 ? 1 : 0;
}
