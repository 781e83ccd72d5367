/** The backtests kept in the database (`casebook backtest` writes them: src/backtest/run.ts), for the API. */
import { type BacktestRow, getBacktest } from '../store/backtests.js';
import type { Pool } from '../store/pool.js';

/** A kept backtest with its progress and report; undefined when there is none with this id. */
export function keptBacktest(pool: Pool, id: string): Promise<BacktestRow | undefined> {
  return getBacktest(pool, id);
}
