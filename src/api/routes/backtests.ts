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
            body: StartBacktest,
            response: responses({ 202: StartedBacktest }, [...WITH_BODY, 'invalid-playbook', 'unknown-playbook-version']),
          },
        },
        async (request, reply) => {
          const body = request.body;
          const bySource = body.playbook !== undefined;
          if (bySource === (body.name !== undefined || body.version !== undefined)) {
            return sendProblem(reply, invalid(bySource ? '/name' : '/playbook', 'give either playbook (the YAML) or name and version'));
          }
          if (!bySource && (body.name === undefined || body.version === undefined)) {
            return sendProblem(reply, invalid(body.name === undefined ? '/name' : '/version', 'name and version go together'));
          }
          const since = body.since === undefined ? undefined : dayOf(body.since);
          if (body.since !== undefined && !since) return sendProblem(reply, invalid('/since', `${body.since} is not a day`));
          const until = body.until === undefined ? undefined : dayOf(body.until);
          if (body.until !== undefined && !until) return sendProblem(reply, invalid('/until', `${body.until} is not a day`));
          if (since && until && since >= until) return sendProblem(reply, invalid('/until', 'until must come after since'));

          let candidate: HashedPlan;
          if (body.playbook !== undefined) {
            const result = validateWithMarketplace(body.playbook, 'playbook.yaml', {
              marketplaces,
              calendars,
              playbooks: await subPlaybooksOf(deps.pool, body.playbook),
            });
            if (!result.plan) {
              const errors = result.diagnostics.filter((d) => d.severity === 'error');
              return sendProblem(
                reply,
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
              return sendProblem(
                reply,
                problem('unknown-playbook-version', `playbook ${body.name} has no version ${body.version}`, {
                  errors: [{ pointer: '/version', message: 'no such published version' }],
                }),
              );
            }
            candidate = { plan: stored.plan, hash: stored.hash };
          }
          const options = { limit: body.limit ?? 100, ...(since ? { since } : {}), ...(until ? { until } : {}) };
          const id = await runner.start(candidate, options, keyNamed(request.apiKey!));
          return reply.code(202).send({ id, status: 'running' } satisfies StartedBacktest);
        },
      );
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
        return { backtests: rows.map(({ report: _, ...row }) => row) } satisfies BacktestList;
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
        return { ...kept, report: kept.report as Record<string, unknown> | null } satisfies KeptBacktest;
      },
    );
  };
