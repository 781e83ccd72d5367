/**
 * `casebook audit verify [--case <caseId>] [--checkpoints <file>]`: walks the hash-chained audit trail
 * and the archived histories in the database `casebook start` uses ($DATABASE_URL, or the embedded one
 * while it runs) and, for the whole trail, checks it against the signed checkpoints kept outside the
 * database. `casebook audit checkpoint` writes one now. Exit 0 intact, 1 when something was altered,
 * inserted or removed (the first problem is named), 2 when the database, the checkpoints or the key
 * cannot be read.
 */
import { readFileSync } from 'node:fs';
import { readCheckpoints, signingKey, verifyAuditTrail, type CheckpointReading } from '../../cases/audit-checkpoint.js';
import type { Pool } from '../../store/pool.js';
import { loadConfig, type AuditCheckpointSettings } from '../../stack/config.js';
import { composePool, composeCheckpointer } from '../../stack/compose.js';
import { cannotReachDatabase, databaseUrlOf } from '../connections.js';

export const USAGE = `usage:
  casebook audit verify                       check the whole audit trail, every archived history and the refunds
                                              against the signed checkpoints
  casebook audit verify --case <caseId>       check one case's audit rows, refunds and archived histories
  casebook audit verify --checkpoints <file>  check against the checkpoints in <file> (a copy kept elsewhere)
  casebook audit checkpoint                   sign the chain's head and the refunds now, append it to the checkpoint file
`;

/** Problems printed after the first. */
const MORE = 10;

export async function run(args: string[]): Promise<number> {
  const [action, ...rest] = args;
  const options = optionsOf(rest);
  if (!options || (action === 'checkpoint' && rest.length > 0) || (action !== 'verify' && action !== 'checkpoint')) {
    process.stderr.write(USAGE);
    return 2;
  }
  let settings: AuditCheckpointSettings;
  try {
    settings = loadConfig().auditCheckpoints;
  } catch (error) {
    process.stderr.write(`casebook audit: ${(error as Error).message}\n`);
    return 2;
  }
  const url = databaseUrlOf();
  const pool = composePool(url, 1);
  try {
    try {
      await pool.query('SELECT 1');
    } catch (error) {
      process.stderr.write(cannotReachDatabase('audit', url, error));
      return 2;
    }
    return action === 'checkpoint' ? await checkpoint(pool, settings) : await verifyTrail(pool, settings, options);
  } catch (error) {
    process.stderr.write(
      `casebook audit: cannot ${action === 'checkpoint' ? 'write a checkpoint of' : 'verify'} the audit trail at ${where(url)}: ${(error as Error).message}\n`,
    );
    return 2;
  } finally {
    await pool.end().catch(() => {});
  }
}

function optionsOf(rest: string[]): { caseId?: string; checkpoints?: string } | undefined {
  const options: { caseId?: string; checkpoints?: string } = {};
  for (let i = 0; i < rest.length; i += 2) {
    const value = rest[i + 1];
    if (value === undefined || value.startsWith('--')) return undefined;
    if (rest[i] === '--case' && options.caseId === undefined) options.caseId = value;
    else if (rest[i] === '--checkpoints' && options.checkpoints === undefined) options.checkpoints = value;
    else return undefined;
  }
  return options;
}

async function checkpoint(pool: Pool, settings: AuditCheckpointSettings): Promise<number> {
  const key = signingKey(settings, { create: true })!;
  const written = (await composeCheckpointer(settings, pool, key, (line) => process.stderr.write(`${line}\n`)).checkpoint({
    always: true,
  }))!;
  process.stdout.write(`checkpoint ${written.checkpoint} written to ${settings.file}: ${anchorText(written)}\n`);
  return 0;
}

async function verifyTrail(pool: Pool, settings: AuditCheckpointSettings, options: { caseId?: string; checkpoints?: string }): Promise<number> {
  const { caseId } = options;
  let reading: CheckpointReading | undefined;
  const file = options.checkpoints ?? settings.file;
  if (caseId === undefined) {
    try {
      reading = checkpointsIn(file, settings);
    } catch (error) {
      process.stderr.write(`casebook audit: ${(error as Error).message}\n`);
      return 2;
    }
  }
  const result = await verifyAuditTrail(pool, { ...(caseId === undefined ? {} : { caseId }), ...(reading ? { anchors: reading.anchors } : {}) });
  const problems = [...result.problems, ...(reading?.problems ?? [])];
  const scope = caseId === undefined ? 'audit trail' : `audit trail of case ${caseId}`;
  const anchored =
    caseId !== undefined
      ? ''
      : reading?.latest
        ? `latest checkpoint ${reading.latest.checkpoint} (${reading.latest.at}) in ${file}: ${anchorText(reading.latest)}${after(result.rows - reading.latest.position)}\n`
        : `no checkpoint in ${file}: nothing outside the database anchors the head (casebook audit checkpoint writes one)\n`;
  if (problems.length === 0) {
    process.stdout.write(`${scope} intact: ${result.rows} rows, ${result.archives} archived histories, head ${result.head ?? 'none (empty)'}\n${anchored}`);
    return 0;
  }
  const [first, ...others] = problems;
  process.stdout.write(`${scope} NOT intact: ${first!.message}\n`);
  for (const problem of others.slice(0, MORE)) process.stdout.write(`  also: ${problem.message}\n`);
  if (others.length > MORE) process.stdout.write(`  and ${others.length - MORE} more problems\n`);
  process.stdout.write(`checked ${result.rows} rows, ${result.archives} archived histories, head ${result.head ?? 'none'}\n${anchored}`);
  return 1;
}

/** The checkpoints of the file checked with the signing key's public half; none when the file does not exist. */
function checkpointsIn(file: string, settings: AuditCheckpointSettings): CheckpointReading | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Error(`cannot read the checkpoints in ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  const key = signingKey(settings, { create: false });
  if (!key) throw new Error(`cannot check the checkpoints in ${file}: no signing key (set CASEBOOK_AUDIT_SIGNING_KEY, or keep ${settings.keyFile})`);
  return readCheckpoints(text, key, file);
}

const anchorText = (c: { position: number; head: string | null; refunds: { through: number; count: number } }) =>
  `row ${c.position}, head ${c.head ?? 'none (empty)'}, ${c.refunds.count} ${c.refunds.count === 1 ? 'refund' : 'refunds'} through id ${c.refunds.through}`;

/** Rows written since the checkpoint: what a next checkpoint anchors. */
const after = (rows: number) => (rows >= 0 ? `; ${rows} ${rows === 1 ? 'row' : 'rows'} after it` : '');

/** The database's host, port and name, without credentials. */
function where(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname}:${parsed.port || 5432}${parsed.pathname}`;
  } catch {
    return 'DATABASE_URL';
  }
}
