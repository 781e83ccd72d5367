/**
 * `casebook cancel <case id> --reason <text> [--by <name>]`: cancels a case as
 * `POST /v1/cases/{caseId}/cancel` does (its compensations run, paid refunds are escalated to finance,
 * it ends `cancelled`), recorded as done by `--by` (default: the shell's user). Exit 0 when the cancel
 * is accepted or already under way, 1 when the case has closed, 2 on bad arguments, an unknown case,
 * or no database or Temporal.
 */
import { userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import { composeCaseService, composeCommandStores } from '../../stack/compose.js';
import { connectionsOf, databaseFailure, type CommandConnections } from '../connections.js';

export const USAGE = 'usage: casebook cancel <case id> --reason <text> [--by <name>]\n';

function parse(args: string[]) {
  try {
    const { values, positionals } = parseArgs({ args, allowPositionals: true, strict: true, options: { reason: { type: 'string' }, by: { type: 'string' } } });
    const reason = values.reason?.trim();
    if (positionals.length !== 1 || !reason || reason.length > 500) return undefined;
    return { caseId: positionals[0]!, reason, by: values.by?.trim() || userInfo().username };
  } catch {
    return undefined;
  }
}

/** `dependencies`: where the case is, for tests. */
export async function run(args: string[], dependencies: Partial<CommandConnections> = {}): Promise<number> {
  const request = parse(args);
  if (!request) {
    process.stderr.write(USAGE);
    return 2;
  }
  const deps = { ...connectionsOf(), ...dependencies };
  const { pool, client, close } = await composeCommandStores(deps);
  try {
    if (!client) {
      process.stderr.write(`casebook cancel: cannot reach Temporal at ${deps.temporalAddress}\n`);
      return 2;
    }
    const result = await composeCaseService(client, pool).cancel(request.caseId, { by: { keyId: null, name: request.by }, reason: request.reason });
    switch (result.kind) {
      case 'unknown-case':
        process.stderr.write(`casebook cancel: no case ${request.caseId}\n`);
        return 2;
      case 'closed':
        process.stderr.write(`casebook cancel: ${result.message}\n`);
        return 1;
      case 'accepted':
        process.stdout.write(`case ${request.caseId} is being cancelled: its compensations run, then it closes cancelled\n`);
        return 0;
      case 'duplicate':
        process.stdout.write(`case ${request.caseId} is already being cancelled\n`);
        return 0;
    }
  } catch (error) {
    process.stderr.write(databaseFailure('cancel', error, deps.databaseUrl));
    return 2;
  } finally {
    await close();
  }
}
