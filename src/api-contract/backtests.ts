/** What the backtest route answers (`/v1/backtests/{id}`): a kept backtest, its progress and its report. */
import { Type } from '@sinclair/typebox';
import { exact, freeObject, integer, list, nullable, nullableString, oneOf, optional, string, type Static } from './schema.js';

export const KeptBacktest = exact({
  id: string,
  playbook: string,
  /** The candidate's plan hash (also `candidateHash`). */
  planHash: string,
  candidateHash: string,
  /** The published version the candidate is; null when its text is not published. */
  candidateVersion: nullable(integer),
  /**
   * The playbook's current version when the backtest started, which the candidate is compared with
   * (the console shows their diff beside the report); null when none was, or for a backtest kept
   * before it was recorded.
   */
  baseline: nullable(exact({ version: integer, hash: string })),
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

const DAY = '^[0-9]{4}-[0-9]{2}-[0-9]{2}$';

/** The closed cases a backtest takes, beside its playbook (`cases` of `POST /v1/backtests`). */
export const BacktestCases = exact({
  orderId: optional(string),
  outcome: optional(string),
  reason: optional(string),
  openedFrom: optional(string),
  openedTo: optional(string),
  breached: optional(oneOf('true', 'false')),
  version: optional(Type.Integer({ minimum: 1, maximum: 2_147_483_647 })),
});
export type BacktestCases = Static<typeof BacktestCases>;

/** What `POST /v1/backtests` takes: the candidate as YAML, or a published version by name and version. */
export const StartBacktest = Type.Object(
  {
    /** The candidate playbook's YAML source; or `name` and `version` of a published one. */
    playbook: optional(Type.String({ minLength: 1 })),
    name: optional(Type.String({ pattern: '^[a-z][a-z0-9-]{0,63}$' })),
    version: optional(Type.Integer({ minimum: 1 })),
    /** The closed cases opened in [since, until) (YYYY-MM-DD, UTC), at most `limit` (100 by default). */
    since: optional(Type.String({ pattern: DAY })),
    until: optional(Type.String({ pattern: DAY })),
    limit: optional(Type.Integer({ minimum: 1, maximum: 1000 })),
    /**
     * Which of those closed cases: the case list's filters (`GET /v1/cases`) but the playbook and the
     * status, and a version; the route's schema checks each as the case list does.
     */
    cases: optional(BacktestCases),
  },
  { additionalProperties: false },
);
export type StartBacktest = Static<typeof StartBacktest>;

/** `POST /v1/backtests` answers 202 with the id to read it by (`GET /v1/backtests/{id}`). */
export const StartedBacktest = exact({ id: string, status: oneOf('running') });
export type StartedBacktest = Static<typeof StartedBacktest>;

/** `GET /v1/backtests`: the most recent backtests, newest first, each without its report. */
export const BacktestList = exact({ backtests: list(Type.Omit(KeptBacktest, ['report'])) });
export type BacktestList = Static<typeof BacktestList>;
