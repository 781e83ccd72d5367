/**
 * `casebook bulk <cancel|retry|escalate> <selection> --reason <text> [--dry-run | --confirm <token>]`:
 * the bulk operations of `POST /v1/bulk-operations` from a shell (docs/bulk-operations.md). A dry run
 * prints the count, a sample and the confirmation; with `--confirm` the job runs in this process at
 * `--rate` cases a second, with its progress on stderr and its report at the end, recorded as done by
 * `--by` (default: the shell's user). Exit 0 when no case failed, 1 when some did, 2 on bad arguments,
 * a confirmation that is not the dry run's, a selection too large, or no database or Temporal.
 */
import { userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import {
  DEFAULT_BULK_RATE,
  MAX_BULK_RATE,
  type BulkOperation,
  type BulkOperations,
  type BulkParams,
  type BulkRequest,
  type CaseSelection,
} from '../../cases/bulk.js';
import { composeBulkOperations, composeCommandStores, composeLeases } from '../../stack/compose.js';
import { readInstant } from '../../store/instants.js';
import { followBulkJob } from '../bulk-progress.js';
import { connectionsOf, databaseFailure, type CommandConnections } from '../connections.js';

export const USAGE = `usage: casebook bulk <cancel|retry|escalate> <selection> --reason <text> [--queue <q> --severity <s>] [--dry-run | --confirm <token>] [--rate <n>] [--by <name>]
selection (at least one): --playbook <name> --version <n> --step <id> --status <open|waiting|failed|closed>
  --order <id> --outcome <code> --closed-reason <code> --opened-from <date|instant> --opened-to <date|instant> --breached <true|false>
--rate: cases per second, 1 to ${MAX_BULK_RATE} (${DEFAULT_BULK_RATE} by default)
`;

const OPERATIONS: readonly BulkOperation[] = ['cancel', 'retry', 'escalate'];
const STATUSES = ['open', 'waiting', 'failed', 'closed'] as const;
const SEVERITIES = ['low', 'medium', 'high', 'critical'] as const;
const text = { type: 'string' } as const;

interface Parsed {
  request: BulkRequest;
  dryRun: boolean;
  confirm?: string;
  rate: number;
  by: string;
}

/** The command's request, or why it cannot be read. */
function parse(args: string[]): Parsed | string {
  let parsed: ReturnType<typeof parseOptions>;
  try {
    parsed = parseOptions(args);
  } catch (error) {
    return (error as Error).message;
  }
  const { values: v, positionals } = parsed;
  const operation = positionals[0] as BulkOperation;
  if (positionals.length !== 1 || !OPERATIONS.includes(operation)) return 'name one operation: cancel, retry or escalate';
  const reason = v.reason?.trim();
  if (!reason || reason.length > 500) return '--reason is required (1 to 500 characters)';
  if (operation === 'escalate' ? !v.queue : v.queue || v.severity) return '--queue is required with escalate, and taken by it only (with --severity)';
  if (v.severity && !(SEVERITIES as readonly string[]).includes(v.severity)) return `--severity is one of ${SEVERITIES.join(', ')}`;
  if (v['dry-run'] === (v.confirm !== undefined)) return 'give either --dry-run or --confirm <the dry run’s confirmation>';
  const rate = v.rate === undefined ? DEFAULT_BULK_RATE : Number(v.rate);
  if (!Number.isInteger(rate) || rate < 1 || rate > MAX_BULK_RATE) return `--rate is a whole number from 1 to ${MAX_BULK_RATE}`;
  const selection = selectionOf(v);
  if (typeof selection === 'string') return selection;
  const params: BulkParams = { reason, ...(v.queue ? { queue: v.queue } : {}), ...(v.severity ? { severity: v.severity as BulkParams['severity'] } : {}) };
  return {
    request: { operation, selection, params },
    dryRun: v['dry-run'] === true,
    ...(v.confirm !== undefined ? { confirm: v.confirm } : {}),
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
      reason: text,
      queue: text,
      severity: text,
      'dry-run': { type: 'boolean' },
      confirm: text,
      rate: text,
      by: text,
      playbook: text,
      version: text,
      step: text,
      status: text,
      order: text,
      outcome: text,
      'closed-reason': text,
      'opened-from': text,
      'opened-to': text,
      breached: text,
    },
  });
}

function selectionOf(v: ReturnType<typeof parseOptions>['values']): CaseSelection | string {
  const selection: CaseSelection = {};
  if (v.playbook) selection.playbook = v.playbook;
  if (v.version !== undefined) {
    if (!/^[1-9][0-9]{0,8}$/.test(v.version)) return '--version is a version number';
    selection.version = Number(v.version);
  }
  if (v.step) selection.step = v.step;
  if (v.status !== undefined) {
    if (!(STATUSES as readonly string[]).includes(v.status)) return `--status is one of ${STATUSES.join(', ')}`;
    selection.status = v.status as CaseSelection['status'];
  }
  if (v.order) selection.orderId = v.order;
  if (v.outcome) selection.outcome = v.outcome;
  if (v['closed-reason']) selection.reason = v['closed-reason'];
  for (const [option, key] of [
    ['opened-from', 'openedFrom'],
    ['opened-to', 'openedTo'],
  ] as const) {
    const given = v[option];
    if (given === undefined) continue;
    const reading = readInstant(given);
    if ('problem' in reading) return `--${option}: ${reading.problem}`;
    selection[key] = reading.text;
  }
  if (v.breached !== undefined) {
    if (v.breached !== 'true' && v.breached !== 'false') return '--breached is true or false';
    selection.breached = v.breached;
  }
  if (Object.keys(selection).length === 0) return 'select cases with at least one of the selection options';
  return selection;
}

/** `dependencies`: where the cases are, for tests. */
export async function run(args: string[], dependencies: Partial<CommandConnections> = {}): Promise<number> {
  const parsed = parse(args);
  if (typeof parsed === 'string') {
    process.stderr.write(`casebook bulk: ${parsed}\n${USAGE}`);
    return 2;
  }
  const deps = { ...connectionsOf(), ...dependencies };
  const { pool, client, close } = await composeCommandStores(deps);
  // The job runs here under its lease, so that no API process resumes it meanwhile.
  const leases = composeLeases(deps.databaseUrl);
  const bulk = client && composeBulkOperations(client, pool, leases.claim);
  try {
    if (!bulk) {
      process.stderr.write(`casebook bulk: cannot reach Temporal at ${deps.temporalAddress}\n`);
      return 2;
    }
    return parsed.dryRun ? await dryRun(bulk, parsed.request, args) : await runJob(bulk, parsed);
  } catch (error) {
    process.stderr.write(databaseFailure('bulk', error, deps.databaseUrl));
    return 2;
  } finally {
    await bulk?.close();
    await leases.close();
    await close();
  }
}

async function dryRun(bulk: BulkOperations, request: BulkRequest, args: string[]): Promise<number> {
  const answer = await bulk.dryRun(request);
  const lines = [
    `${answer.count} case${answer.count === 1 ? '' : 's'} match${answer.count === 1 ? 'es' : ''}${answer.count > answer.limit ? ` (more than ${answer.limit}: narrow the selection)` : ''}`,
    ...answer.sample.map((c) => `  ${c.caseId}  ${c.playbook} v${c.version}  ${c.status}${c.step ? ` at ${c.step}` : ''}`),
    ...(answer.count > answer.sample.length ? [`  … and ${answer.count - answer.sample.length} more`] : []),
    `confirmation: ${answer.confirmation}`,
    `to run it: casebook bulk ${args
      .filter((a) => a !== '--dry-run')
      .map(quote)
      .join(' ')} --confirm ${answer.confirmation}`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}

async function runJob(bulk: BulkOperations, parsed: Parsed): Promise<number> {
  const result = await bulk.submit({ ...parsed.request, confirmation: parsed.confirm!, ratePerSecond: parsed.rate, by: { keyId: null, name: parsed.by } });
  switch (result.kind) {
    case 'unconfirmed':
      process.stderr.write('casebook bulk: --confirm is not the dry run’s confirmation for this operation and selection: run it with --dry-run first\n');
      return 2;
    case 'too-many':
      process.stderr.write(`casebook bulk: the selection matches ${result.count} cases, more than ${result.limit} a job takes: narrow it\n`);
      return 2;
    case 'key-reused':
      // The command sends no Idempotency-Key: every run is a job of its own.
      throw new Error(`job ${result.jobId} answered a request without a key`);
  }
  const { id } = result.job;
  const job = await followBulkJob(bulk, id);
  const report = await bulk.report(id, { after: 0, limit: 10_001 });
  for (const c of report.filter((c) => c.state !== 'done')) process.stdout.write(`${c.caseId}  ${c.state}  ${c.detail ?? ''}\n`);
  const { done, skipped, failed, pending } = job.progress;
  process.stdout.write(`job ${id}: ${done} done, ${skipped} skipped, ${failed} failed${pending ? `, ${pending} pending` : ''}\n`);
  return failed > 0 ? 1 : 0;
}

const quote = (arg: string) => (/^[\w./:@=-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", "'\\''")}'`);
