/**
 * `casebook replay <caseId> [--json]`: re-executes a case's recorded history against the current
 * workflow code (from Temporal while it has the case, from the archive afterwards). Exit 0 when the
 * replay is deterministic, 1 on a divergence, 2 on an unknown case or when no history can be read.
 */
import { DefaultLogger } from '@temporalio/worker';
import { replayCase, type CaseReplay, type HistoryReplayer } from '../../cases/replay.js';
import { installTemporalLogging } from '../../stack/logging.js';
import { composeCommandStores, composeReplayer } from '../../stack/compose.js';
import { connectionsOf, databaseFailure, type CommandConnections } from '../connections.js';

export const USAGE = 'usage: casebook replay <case id> [--json]\n';

/** What the command reads from; tests pass their own. */
export interface ReplayCommandDependencies extends CommandConnections {
  /** Unset: the composed one, finding the plans histories name by hash in the command's database. */
  replayer?: HistoryReplayer;
}

const short = (value: unknown, width: number) => {
  const text = JSON.stringify(value);
  return text.length > width ? `${text.slice(0, width - 1)}…` : text;
};

export function formatReplay(replay: Extract<CaseReplay, { kind: 'replayed' }>): string {
  const lines = [
    `case ${replay.caseId} (workflow ${replay.workflowId}, plan ${replay.planHash.slice(0, 12)}): ${replay.deterministic ? 'deterministic' : 'DIVERGES'}`,
    ...replay.runs.map(
      (run) =>
        `  run ${run.runId} from ${run.source === 'archive' ? 'the archive' : 'Temporal'}: ${run.events} events, replayed in ${run.ms} ms${run.deterministic ? '' : ': diverges'}`,
    ),
  ];
  const d = replay.divergence;
  if (d) {
    lines.push(
      `first divergence in run ${d.runId}${d.eventId !== null ? `, at history event ${d.eventId}` : ''}${d.step ? `, in step '${d.step}' (visit ${d.visit})` : ''}:`,
      `  recorded: ${d.recorded ?? '(the replayer names no event)'}`,
      `  the code now: ${d.now}`,
    );
  }
  const trail = replay.auditTrail;
  lines.push(
    trail.matches
      ? `audit trail: its ${trail.rows} workflow rows are what the replay derives`
      : `audit trail DIFFERS from the replay at seq ${trail.mismatch!.seq} (step ${trail.mismatch!.step}): ${trail.mismatch!.problem}`,
  );
  lines.push(`timeline re-derived by the replay (${replay.timeline.length} entries${d ? ', up to the divergence' : ''}):`);
  for (const { seq, record } of replay.timeline) {
    lines.push(`  ${String(seq).padStart(3)}  ${record.at}  ${record.step.padEnd(22)} ${record.kind.padEnd(9)} ${short(record.detail ?? {}, 140)}`);
  }
  return lines.join('\n') + '\n';
}

export async function run(args: string[], dependencies: Partial<ReplayCommandDependencies> = {}): Promise<number> {
  const json = args.includes('--json');
  const positional = args.filter((arg) => !arg.startsWith('--'));
  if (positional.length !== 1 || args.some((arg) => arg.startsWith('--') && arg !== '--json')) {
    process.stderr.write(USAGE);
    return 2;
  }
  const caseId = positional[0]!;
  let deps: ReplayCommandDependencies;
  try {
    deps = { ...connectionsOf(), ...dependencies };
  } catch (error) {
    process.stderr.write(`casebook replay: ${(error as Error).message}\n`);
    return 2;
  }
  try {
    installTemporalLogging(new DefaultLogger('ERROR', () => {}), 'ERROR');
  } catch {
    // Installed already (run in-process by a test): keep that one.
  }
  const { pool, client, close } = await composeCommandStores(deps);
  try {
    const replay = await replayCase(pool, client, deps.replayer ?? composeReplayer(pool), caseId);
    if (replay.kind !== 'replayed') {
      process.stderr.write(`casebook replay: ${replay.message}\n`);
      return 2;
    }
    process.stdout.write(json ? JSON.stringify(replay, null, 2) + '\n' : formatReplay(replay));
    return replay.deterministic ? 0 : 1;
  } catch (error) {
    process.stderr.write(databaseFailure('replay', error, deps.databaseUrl));
    return 2;
  } finally {
    await close();
  }
}
