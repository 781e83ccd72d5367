/**
 * `casebook backtest <playbook.yaml> [--since D] [--until D] [--cases query] [--limit N] [--json]`: re-runs
 * closed cases of the playbook from the archive (`--cases`: the case list's filters, such as
 * `outcome=resolved&breached=true`), each with the version it ran and with the file, on Temporal's
 * time-skipping server with the real activities on a throw-away Postgres and the local connectors (no
 * connector is called, nothing is written to the live cases), and says what would change. The live
 * database is read, and keeps the report (`backtests`). Exit 0 when nothing would change, 1 when
 * something would, 2 on bad usage or when the file does not compile.
 */
import { DefaultLogger } from '@temporalio/worker';
import { readFileSync } from 'node:fs';
import { keptBacktest, type BacktestOptions, type BacktestReport } from '../../backtest/run.js';
import { parseCaseQuery } from '../../backtest/selection.js';
import { LOCAL_CONNECTORS } from '../../connectors/config.js';
import { formatDiagnostic } from '../../playbook/index.js';
import { validateWithMarketplace } from '../../playbook/marketplace-packs.js';
import { publishSubPlaybooksFromFolder, readCalendarFolder, readMarketplaceFolder } from '../../services/playbooks.js';
import { composePool, composeScenarioStack } from '../../stack/compose.js';
import { installTemporalLogging } from '../../stack/logging.js';
import { databaseFailure, databaseUrlOf } from '../connections.js';

export const USAGE = `usage: casebook backtest <playbook.yaml> [--since YYYY-MM-DD] [--until YYYY-MM-DD] [--cases <query>] [--limit N] [--json]
--cases: the case list's filters as GET /v1/cases takes them, joined by &: orderId, outcome, reason, openedFrom, openedTo, breached, version
  (e.g. --cases 'outcome=resolved&breached=true')
`;

const DATE = /^\d{4}-\d{2}-\d{2}(?:T[\d:.]+(?:Z|[+-]\d{2}:\d{2}))?$/;

/** The arguments, or what is wrong with them. */
export function parseBacktestArgs(args: string[]): { file: string; options: BacktestOptions; json: boolean } | { problem: string } {
  const options: BacktestOptions = { limit: 100 };
  let file: string | undefined;
  let json = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--json') json = true;
    else if (arg === '--since' || arg === '--until') {
      const value = args[++i];
      if (!value || !DATE.test(value) || Number.isNaN(Date.parse(value))) return { problem: `${arg} takes a date, YYYY-MM-DD (or an ISO instant)` };
      options[arg === '--since' ? 'since' : 'until'] = value;
    } else if (arg === '--cases') {
      const query = parseCaseQuery(args[++i] ?? '');
      if ('problem' in query) return { problem: `--cases: ${query.problem}` };
      options.cases = query;
    } else if (arg === '--limit') {
      const value = Number(args[++i]);
      if (!Number.isInteger(value) || value < 1 || value > 10_000) return { problem: '--limit takes a whole number of cases, 1 to 10000' };
      options.limit = value;
    } else if (arg.startsWith('-') || file !== undefined) return { problem: `unexpected argument '${arg}'` };
    else file = arg;
  }
  return file === undefined ? { problem: 'name the playbook file to backtest' } : { file, options, json };
}

const money = (minor: number, currency: string) => `${minor < 0 ? '-' : minor > 0 ? '+' : ''}${(Math.abs(minor) / 100).toFixed(2)} ${currency}`;

/** ` (refund_sent 10 → 6, refused_window 0 → 4)`: the templates whose count changes. */
function templates(counts: BacktestReport['totals']['messagesByTemplate']): string {
  const changed = Object.entries(counts).filter(([, n]) => n.before !== n.after);
  return changed.length === 0 ? '' : ` (${changed.map(([template, n]) => `${template} ${n.before} → ${n.after}`).join(', ')})`;
}

export function formatReport(report: BacktestReport, id: string): string {
  const t = report.totals;
  const lines = [`backtest ${id} of ${report.playbook} (plan ${report.planHash.slice(0, 12)}) on ${t.cases} closed cases:`];
  for (const c of report.cases) {
    if (c.skipped) lines.push(`  - ${c.caseId} (v${c.version}): skipped, ${c.skipped}`);
    else if (c.changes.length === 0) lines.push(`  = ${c.caseId} (v${c.version}): no change (${c.before!.outcome}, ${c.before!.reason})`);
    else {
      lines.push(`  ≠ ${c.caseId} (v${c.version}):`);
      for (const change of c.changes) lines.push(`      ${change}`);
    }
  }
  lines.push(
    '',
    `${t.changed} of ${t.rerun} cases would change (${t.skipped} skipped); outcomes changed: ${t.outcomesChanged}`,
    ...(t.notReproduced > 0 ? [`${t.notReproduced} re-runs with the case's own version did not end as the case did (reproduced: false in --json)`] : []),
    `refunds: ${t.refundsBefore} → ${t.refundsAfter}, refunded ${(t.refundedBefore / 100).toFixed(2)} → ${(t.refundedAfter / 100).toFixed(2)} ${report.currency} (${money(t.moneyDifference, report.currency)})`,
    `escalations: ${t.escalationsBefore} → ${t.escalationsAfter}; deadlines missed: ${t.deadlinesMissedBefore} → ${t.deadlinesMissedAfter}; events the new version no longer takes: ${t.refusedEvents}`,
    `messages sent: ${t.messagesBefore} → ${t.messagesAfter}${templates(t.messagesByTemplate)}`,
  );
  return `${lines.join('\n')}\n`;
}

export async function run(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const parsed = parseBacktestArgs(args);
  if ('problem' in parsed) {
    process.stderr.write(`casebook backtest: ${parsed.problem}\n${USAGE}`);
    return 2;
  }
  const marketplaces = readMarketplaceFolder();
  const calendars = readCalendarFolder();
  let source: Buffer;
  try {
    source = readFileSync(parsed.file);
  } catch (error) {
    process.stderr.write(`casebook backtest: cannot read ${parsed.file}: ${(error as Error).message}\n`);
    return 2;
  }
  const databaseUrl = databaseUrlOf(env);
  const archive = composePool(databaseUrl, 2);
  try {
    installTemporalLogging(new DefaultLogger('ERROR'), 'ERROR');
  } catch {
    // Installed already (run in-process by a test): keep that one.
  }
  // Local connectors whatever CASEBOOK_CONFIG binds: a backtest never reaches the outside world.
  const stack = await composeScenarioStack(LOCAL_CONNECTORS, (chosen) => chosen);
  try {
    const options = { marketplaces, calendars: calendars.calendars };
    const playbooks = await publishSubPlaybooksFromFolder(stack.pool, parsed.file, options);
    const compiled = validateWithMarketplace(source, parsed.file, { ...options, playbooks });
    if (!compiled.plan) {
      for (const d of compiled.diagnostics) process.stderr.write(`${formatDiagnostic(d)}\n`);
      return 2;
    }
    const progress = (done: number, total: number, changed: number) =>
      process.stderr.write(`\rbacktest: ${done}/${total} cases re-run, ${changed} would change${done === total ? '\n' : ''}`);
    const { id, report } = await stack.worker.runUntil(
      keptBacktest(archive, stack, compiled.plan, parsed.options, env.USER ? `casebook backtest (${env.USER})` : 'casebook backtest', progress),
    );
    process.stdout.write(parsed.json ? `${JSON.stringify({ id, ...report }, null, 2)}\n` : formatReport(report, id));
    return report.totals.changed > 0 ? 1 : 0;
  } catch (error) {
    process.stderr.write(databaseFailure('backtest', error, databaseUrl));
    return 2;
  } finally {
    await stack.close();
    await archive.end();
  }
}
