/** What the backtest route answers (`/v1/backtests/{id}`): a kept backtest, its progress and its report. */
import { exact, freeObject, integer, nullable, nullableString, oneOf, string, type Static } from './schema.js';

export const KeptBacktest = exact({
  id: string,
  playbook: string,
  planHash: string,
  startedBy: string,
  status: oneOf('running', 'done', 'failed'),
  /** Cases re-run so far, of `total`. */
  done: integer,
  total: integer,
  /** The report `casebook backtest --json` prints (its totals and each case); null until done. */
  report: nullable(freeObject),
  /** Why it failed; null otherwise. */
  problem: nullableString,
  startedAt: string,
  finishedAt: nullableString,
});
export type KeptBacktest = Static<typeof KeptBacktest>;
