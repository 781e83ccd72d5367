/**
 * `casebook export <caseId> [--out <file>]` and `casebook export --closed-from <date> --closed-to <date>
 * [--out <file>]`: cases as JSON Lines (docs/auditing.md), to stdout or a file. Exit 0 when exported,
 * 1 when a case's verification found its record altered, 2 on bad arguments, an unknown case or no database.
 */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { parseArgs } from 'node:util';
import { exportCase, exportClosedCases } from '../../cases/export.js';
import { composeCommandStores } from '../../stack/compose.js';
import { connectionsOf, databaseFailure, type CommandConnections } from '../connections.js';

export const USAGE = `usage:
  casebook export <case id> [--out <file>]
  casebook export --closed-from <date> --closed-to <date> [--out <file>]
`;

function parse(args: string[]) {
  try {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: { out: { type: 'string' }, 'closed-from': { type: 'string' }, 'closed-to': { type: 'string' } },
    });
    const range = values['closed-from'] !== undefined || values['closed-to'] !== undefined;
    if (range ? positionals.length > 0 || !values['closed-from'] || !values['closed-to'] : positionals.length !== 1) return undefined;
    if (!range) return { kind: 'case' as const, caseId: positionals[0]!, out: values.out };
    const from = new Date(values['closed-from']!);
    const to = new Date(values['closed-to']!);
    if (Number.isNaN(from.getTime()) || Number.isNaN(to.getTime()) || to <= from) return 'dates' as const;
    return { kind: 'range' as const, from, to, out: values.out };
  } catch {
    return undefined;
  }
}

/** `dependencies`: where to read from, for tests. */
export async function run(args: string[], dependencies: Partial<CommandConnections> = {}): Promise<number> {
  const request = parse(args);
  if (request === 'dates') {
    process.stderr.write('casebook export: --closed-from and --closed-to must be dates (2026-11-01 or an ISO instant), --closed-to after --closed-from\n');
    return 2;
  }
  if (!request) {
    process.stderr.write(USAGE);
    return 2;
  }
  let deps: CommandConnections;
  try {
    deps = { ...connectionsOf(), ...dependencies };
  } catch (error) {
    process.stderr.write(`casebook export: ${(error as Error).message}\n`);
    return 2;
  }
  const { pool, client, close } = await composeCommandStores(deps);
  try {
    const lines = request.kind === 'case' ? await exportCase(pool, client, request.caseId) : exportClosedCases(pool, client, request.from, request.to);
    if (!lines) {
      process.stderr.write(`casebook export: no case ${request.kind === 'case' ? request.caseId : ''}\n`);
      return 2;
    }
    const out = request.out ? createWriteStream(request.out) : process.stdout;
    let cases = 0;
    let altered = 0;
    for await (const line of lines) {
      if (!out.write(line)) await once(out, 'drain');
      if (line.startsWith('{"type":"verification"')) {
        cases += 1;
        if (!JSON.parse(line).intact) altered += 1;
      }
    }
    if (out !== process.stdout) await new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())));
    process.stderr.write(
      `casebook export: ${cases} case${cases === 1 ? '' : 's'}${request.out ? ` to ${request.out}` : ''}${altered ? `; ${altered} with an altered record (see their verification lines)` : ''}\n`,
    );
    return altered > 0 ? 1 : 0;
  } catch (error) {
    process.stderr.write(databaseFailure('export', error, deps.databaseUrl));
    return 2;
  } finally {
    await close();
  }
}
