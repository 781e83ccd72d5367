/**
 * `casebook audit verify [--case <caseId>]`: walks the hash-chained audit trail and the archived
 * histories in the database `casebook start` uses ($DATABASE_URL, or the embedded one while it runs).
 * Exit 0 intact, 1 when something was altered, inserted or removed (the first problem is named), 2 when
 * the database cannot be reached or the trail cannot be read.
 */
import { verifyAuditTrail } from '../../store/audit-chain.js';
import { createPool } from '../../store/pool.js';
import { databaseUrlOf } from '../connections.js';

const USAGE = `usage:
  casebook audit verify                  check the whole audit trail and every archived history
  casebook audit verify --case <caseId>  check one case's audit rows and archived histories
`;

/** Problems printed after the first. */
const MORE = 10;

export async function run(args: string[]): Promise<number> {
  const [action, ...rest] = args;
  const caseIndex = rest.indexOf('--case');
  const caseId = caseIndex >= 0 ? rest[caseIndex + 1] : undefined;
  const known = rest.every((arg, i) => arg === '--case' || (i === caseIndex + 1 && caseIndex >= 0));
  if (action !== 'verify' || !known || (caseIndex >= 0 && !caseId)) {
    process.stderr.write(USAGE);
    return 2;
  }
  const url = databaseUrlOf();
  const pool = createPool(url, 1);
  try {
    try {
      await pool.query('SELECT 1');
    } catch (error) {
      process.stderr.write(`casebook audit: cannot reach the database at ${where(url)}: ${(error as Error).message || (error as { code?: string }).code}\n`
        + '  start Casebook (npm start) or set DATABASE_URL\n');
      return 2;
    }
    const result = await verifyAuditTrail(pool, caseId === undefined ? {} : { caseId });
    const scope = caseId === undefined ? 'audit trail' : `audit trail of case ${caseId}`;
    if (result.intact) {
      process.stdout.write(`${scope} intact: ${result.rows} rows, ${result.archives} archived histories, head ${result.head ?? 'none (empty)'}\n`);
      return 0;
    }
    const [first, ...others] = result.problems;
    process.stdout.write(`${scope} NOT intact: ${first!.message}\n`);
    for (const problem of others.slice(0, MORE)) process.stdout.write(`  also: ${problem.message}\n`);
    if (others.length > MORE) process.stdout.write(`  and ${others.length - MORE} more problems\n`);
    process.stdout.write(`checked ${result.rows} rows, ${result.archives} archived histories, head ${result.head ?? 'none'}\n`);
    return 1;
  } catch (error) {
    process.stderr.write(`casebook audit: cannot verify the audit trail at ${where(url)}: ${(error as Error).message}\n`);
    return 2;
  } finally {
    await pool.end().catch(() => {});
  }
}

/** The database's host, port and name, without credentials. */
function where(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname}:${parsed.port || 5432}${parsed.pathname}`;
  } catch {
    return 'DATABASE_URL';
  }
}
