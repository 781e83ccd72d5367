/**
 * Backtests (docs/backtest.md): started here or by `casebook backtest`, their progress while they run,
 * then their report. Ops leads and admins.
 */
import type { FastifyPluginAsync } from 'fastify';
import { BacktestList, KeptBacktest, StartBacktest, StartedBacktest } from '../../api-contract/backtests.js';
import type { HashedPlan } from '../../plan/plan.js';
import { validateWithMarketplace } from '../../playbook/marketplace-packs.js';
import { keptBacktest, recentKeptBacktests } from '../../services/backtests.js';
import { getPlaybook, readCalendarFolder, readMarketplaceFolder, subPlaybooksOf } from '../../services/playbooks.js';
import { keyNamed } from '../auth.js';
import { CASE_FILTERS } from '../case-filters.js';
import { answerOf, idempotencyHeaders, idempotencyKeyOf, idempotently, sendAnswer, type Answer } from '../idempotency.js';
import { readQueryInstants } from '../instant-query.js';
import type { ApiDependencies } from '../dependencies.js';
import { type Problem, problem, sendProblem } from '../problems.js';
import { responses, WITH_BODY } from '../responses.js';

const UUID = '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$';
const ROLES = { roles: ['ops-lead', 'admin'] as const };
const RECENT = 50;

/** A day the body names (YYYY-MM-DD) as the instant it starts (UTC); undefined when it is no day of the calendar. */
function dayOf(day: string): string | undefined {
  const instant = new Date(`${day}T00:00:00Z`);
  return !Number.isNaN(instant.getTime()) && instant.toISOString().startsWith(day) ? instant.toISOString() : undefined;
}

/** Which closed cases (`cases`): the case list's filters but the playbook and the status, and a version. */
const { playbook: _playbook, status: _status, ...CLOSED_CASE_FILTERS } = CASE_FILTERS;
const START_BODY = {
  ...StartBacktest,
  properties: {
    ...StartBacktest.properties,
    cases: {
      type: 'object',
      additionalProperties: false,
      properties: { ...CLOSED_CASE_FILTERS, version: { type: 'integer', minimum: 1, maximum: 2_147_483_647 } },
    },
  },
};

/** A kept backtest as the API shows it: the candidate's hash under both names. */
const shown = <T extends { planHash: string }>(row: T) => ({ ...row, candidateHash: row.planHash });

const invalid = (pointer: string, message: string): Problem => problem('invalid-request', `${pointer} ${message}`, { errors: [{ pointer, message }] });

export const backtestRoutes =
  (deps: ApiDependencies): FastifyPluginAsync =>
  async (app) => {
    const runner = deps.backtests;
    if (runner) {
      const marketplaces = readMarketplaceFolder();
      const { calendars } = readCalendarFolder();
      app.post<{ Body: StartBacktest }>(
        '/',
        {
          config: ROLES,
          schema: {
            tags: ['backtests'],
            summary: 'Start a backtest of a playbook (its YAML, or a published version) on the closed cases: 202 with its id',
            headers: idempotencyHeaders('The same key (and API key) with the same body answers the same backtest, started once'),
            body: START_BODY,
            response: responses({ 202: StartedBacktest }, [
              ...WITH_BODY,
              'invalid-playbook',
              'unknown-playbook-version',
              'idempotency-key-in-use',
              'idempotency-key-reused',
            ]),
          },
        },
        async (request, reply) => {
          const key = idempotencyKeyOf(request);
          if (typeof key === 'object') return sendAnswer(reply, answerOf(key, reply));
          const start = async (): Promise<Answer> => {
            const started = await startOf(request.body, keyNamed(request.apiKey!));
            return 'problem' in started
              ? answerOf(started.problem, reply)
              : { status: 202, body: { id: started.id, status: 'running' } satisfies StartedBacktest };
          };
          if (key === undefined) return sendAnswer(reply, await start());
          return idempotently(deps.pool, reply, request.apiKey!.id, key, request.body, start);
        },
      );

      /** Checks the body beyond its schema, then starts the backtest; or the problem with it. */
      async function startOf(body: StartBacktest, startedBy: string): Promise<{ id: string } | { problem: Problem }> {
        const fail = (p: Problem) => ({ problem: p });
        const bySource = body.playbook !== undefined;
        if (bySource === (body.name !== undefined || body.version !== undefined)) {
          return fail(invalid(bySource ? '/name' : '/playbook', 'give either playbook (the YAML) or name and version'));
        }
        if (!bySource && (body.name === undefined || body.version === undefined)) {
          return fail(invalid(body.name === undefined ? '/name' : '/version', 'name and version go together'));
        }
        const since = body.since === undefined ? undefined : dayOf(body.since);
        if (body.since !== undefined && !since) return fail(invalid('/since', `${body.since} is not a day`));
        const until = body.until === undefined ? undefined : dayOf(body.until);
        if (body.until !== undefined && !until) return fail(invalid('/until', `${body.until} is not a day`));
        if (since && until && since >= until) return fail(invalid('/until', 'until must come after since'));
        const cases = body.cases === undefined ? undefined : { ...body.cases };
        if (cases) {
          const read = readQueryInstants(cases, ['openedFrom', 'openedTo'], '/cases');
          if ('problem' in read) return read;
          if (read.instants.openedFrom) cases.openedFrom = read.instants.openedFrom.text;
          if (read.instants.openedTo) cases.openedTo = read.instants.openedTo.text;
        }

        let candidate: HashedPlan;
        if (body.playbook !== undefined) {
          const result = validateWithMarketplace(body.playbook, 'playbook.yaml', {
            marketplaces,
            calendars,
            playbooks: await subPlaybooksOf(deps.pool, body.playbook),
          });
          if (!result.plan) {
            const errors = result.diagnostics.filter((d) => d.severity === 'error');
            return fail(
              problem('invalid-playbook', `the playbook has ${errors.length} error(s)`, {
                diagnostics: errors.map((d) => ({ severity: d.severity, code: d.code, message: d.message, line: d.line, column: d.column })),
                errors: [{ pointer: '/playbook', message: errors[0]?.message ?? 'not a playbook' }],
              }),
            );
          }
          candidate = result.plan;
        } else {
          const stored = await getPlaybook(deps.pool, body.name!, body.version!);
          if (!stored) {
            return fail(
              problem('unknown-playbook-version', `playbook ${body.name} has no version ${body.version}`, {
                errors: [{ pointer: '/version', message: 'no such published version' }],
              }),
            );
          }
          candidate = { plan: stored.plan, hash: stored.hash };
        }
        const options = { limit: body.limit ?? 100, ...(since ? { since } : {}), ...(until ? { until } : {}), ...(cases ? { cases } : {}) };
        return { id: await runner!.start(candidate, options, startedBy) };
      }
    }

    app.get(
      '/',
      {
        config: ROLES,
        schema: {
          tags: ['backtests'],
          summary: `The ${RECENT} most recent backtests, newest first, their progress without their reports`,
          response: responses({ 200: BacktestList }, []),
        },
      },
      async () => {
        const rows = await recentKeptBacktests(deps.pool, RECENT);
        return { backtests: rows.map(({ report: _, ...row }) => shown(row)) } satisfies BacktestList;
      },
    );

    app.get<{ Params: { id: string } }>(
      '/:id',
      {
        config: ROLES,
        schema: {
          tags: ['backtests'],
          summary: 'A backtest: its progress, then what the playbook would have changed on the closed cases',
          params: { type: 'object', required: ['id'], properties: { id: { type: 'string', pattern: UUID } } },
          response: responses({ 200: KeptBacktest }, ['unknown-backtest']),
        },
      },
      async (request, reply) => {
        const kept = await keptBacktest(deps.pool, request.params.id);
        if (!kept) return sendProblem(reply, problem('unknown-backtest', `no backtest ${request.params.id}`));
        return { ...shown(kept), report: kept.report as Record<string, unknown> | null } satisfies KeptBacktest;
      },
    );
  };
