/** The backtests kept in the database (src/backtest/run.ts keeps them), and the runner the API starts them with. */
import type { HashedPlan } from '../plan/plan.js';
import { type BacktestRow, type BacktestSelection, getBacktest, recentBacktests } from '../store/backtests.js';

export type { BacktestCaseQuery, BacktestSelection } from '../store/backtests.js';
import type { Pool } from '../store/pool.js';

/** A kept backtest with its progress and report; undefined when there is none with this id. */
export function keptBacktest(pool: Pool, id: string): Promise<BacktestRow | undefined> {
  return getBacktest(pool, id);
}

/** The most recently started backtests, newest first, their reports left out. */
export function recentKeptBacktests(pool: Pool, limit: number): Promise<BacktestRow[]> {
  return recentBacktests(pool, limit);
}

/** What the API starts a backtest with (the composition root builds it: src/stack/compose.ts). */
export interface BacktestRunner {
  /**
   * Keeps a `running` backtest and returns its id at once; the re-runs go on in the background on a
   * scratch stack of their own, their progress and then their report (or why they failed) kept.
   */
  start(candidate: HashedPlan, options: BacktestSelection, startedBy: string): Promise<string>;
  /** Picks up the backtests a previous process of the API left running (at `casebook start`), each at its first case not yet re-run. */
  resume(): Promise<void>;
  /** Stops the backtests under way after the case each is at (the API closing): they stay `running`, to resume. */
  close(): Promise<void>;
}
