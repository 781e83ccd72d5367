/**
 * Operations on many cases at once (docs/bulk-operations.md): a dry run counts the cases a selection
 * matches and answers a confirmation; the job runs with it, in the background, at a bounded rate; its
 * progress and its report per case are read while it runs. Ops leads and admins.
 */
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { BulkDryRun, BulkJob as BulkJobBody, BulkJobList, BulkReport } from '../../api-contract/bulk.js';
import { StepMapping as MAPPING } from '../../api-contract/migrations.js';
import { DEFAULT_BULK_RATE, MAX_BULK_RATE, type BulkCaseState, type BulkOperations, type BulkRequest, type CaseSelection } from '../../cases/bulk.js';
import { readQueryInstants } from '../instant-query.js';
import { actorOf } from '../auth.js';
import { idempotencyHeaders, idempotencyKeyOf } from '../idempotency.js';
import { problem, sendProblem, type Problem } from '../problems.js';
import { responses, WITH_BODY } from '../responses.js';
import { sendSubmitted } from '../bulk-submitted.js';
import { CASE_FILTERS } from '../case-filters.js';
import { orderedMapping } from '../../cases/migration.js';

const TAGS = ['bulk operations'];
const ROLES = ['ops-lead', 'admin'] as const;
const JOB_ID = '^[1-9][0-9]{0,17}$';

/** The cases a job acts on: the case list's filters, a playbook version and a current step; at least one. */
const SELECTION = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  properties: {
    ...CASE_FILTERS,
    version: { type: 'integer', minimum: 1, maximum: 2_147_483_647 },
    step: { type: 'string', minLength: 1, maxLength: 100 },
  },
} as const;

const OPERATION_PROPERTIES = {
  operation: { enum: ['cancel', 'retry', 'escalate', 'migrate'] },
  selection: SELECTION,
  reason: { type: 'string', minLength: 1, maxLength: 500, pattern: '\\S', description: 'The cancel’s, the repair’s or the escalation’s reason' },
  queue: { type: 'string', minLength: 1, maxLength: 100, description: 'escalate: the queue (required)' },
  severity: { enum: ['low', 'medium', 'high', 'critical'], description: 'escalate: the severity (medium when absent)' },
  toVersion: { type: 'integer', minimum: 1, maximum: 2_147_483_647, description: 'migrate: the version of the selected playbook the cases move to (required)' },
  mapping: MAPPING,
} as const;

/** escalate needs a queue, migrate a version and a selection naming the playbook; the others take neither. */
const QUEUE_RULES = {
  allOf: [
    {
      if: { properties: { operation: { const: 'escalate' } } },
      // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then/else
      then: { required: ['queue'] },
      else: { not: { anyOf: [{ required: ['queue'] }, { required: ['severity'] }] } },
    },
    {
      if: { properties: { operation: { const: 'migrate' } } },
      // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then/else
      then: { required: ['toVersion'], properties: { selection: { type: 'object', required: ['playbook'] } } },
      else: { not: { anyOf: [{ required: ['toVersion'] }, { required: ['mapping'] }] } },
    },
  ],
};

interface OperationBody {
  operation: BulkRequest['operation'];
  selection: CaseSelection;
  reason: string;
  queue?: string;
  severity?: 'low' | 'medium' | 'high' | 'critical';
  toVersion?: number;
  mapping?: Record<string, string>;
}

export const bulkRoutes =
  (bulk: BulkOperations): FastifyPluginAsync =>
  async (app) => {
    dryRunRoute(app, bulk);
    submitRoute(app, bulk);
    readRoutes(app, bulk);
  };

/** The request as the use case takes it, or the problem with an instant of the selection the database cannot hold. */
function requestOf(body: OperationBody): BulkRequest | { problem: Problem } {
  const read = readQueryInstants(body.selection, ['openedFrom', 'openedTo'], '/selection');
  if ('problem' in read) return read;
  const { openedFrom, openedTo } = read.instants;
  if (openedFrom) body.selection.openedFrom = openedFrom.text;
  if (openedTo) body.selection.openedTo = openedTo.text;
  const { operation, selection, reason, queue, severity, toVersion, mapping } = body;
  const migration = toVersion !== undefined ? { toVersion, mapping: orderedMapping(mapping) } : {};
  return { operation, selection, params: { reason: reason.trim(), ...(queue ? { queue } : {}), ...(severity ? { severity } : {}), ...migration } };
}

function dryRunRoute(app: FastifyInstance, bulk: BulkOperations): void {
  app.post<{ Body: OperationBody }>(
    '/dry-run',
    {
      config: { roles: ROLES },
      schema: {
        tags: TAGS,
        summary: 'Count the cases a selection matches, show a sample, and answer the confirmation that runs the operation on them',
        body: { type: 'object', additionalProperties: false, required: ['operation', 'selection', 'reason'], properties: OPERATION_PROPERTIES, ...QUEUE_RULES },
        response: responses({ 200: BulkDryRun }, [...WITH_BODY]),
      },
    },
    async (request, reply) => {
      const read = requestOf(request.body);
      if ('problem' in read) return sendProblem(reply, read.problem);
      return (await bulk.dryRun(read)) satisfies BulkDryRun;
    },
  );
}

function submitRoute(app: FastifyInstance, bulk: BulkOperations): void {
  app.post<{ Body: OperationBody & { confirmation: string; ratePerSecond?: number } }>(
    '',
    {
      config: { roles: ROLES },
      schema: {
        tags: TAGS,
        summary: 'Run an operation on the cases a selection matches, in the background: 202 the job; 200 the job already made with this Idempotency-Key',
        headers: idempotencyHeaders('The same key (and API key) again answers the same job'),
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['operation', 'selection', 'reason', 'confirmation'],
          properties: {
            ...OPERATION_PROPERTIES,
            confirmation: { type: 'string', minLength: 1, maxLength: 100, description: 'The dry run’s `confirmation` for the same operation and selection' },
            ratePerSecond: { type: 'integer', minimum: 1, maximum: MAX_BULK_RATE, description: `Cases per second (${DEFAULT_BULK_RATE} when absent)` },
          },
          ...QUEUE_RULES,
        },
        response: responses({ 200: BulkJobBody, 202: BulkJobBody }, [...WITH_BODY, 'bulk-unconfirmed', 'bulk-selection-too-large', 'idempotency-key-reused']),
      },
    },
    async (request, reply) => {
      const key = idempotencyKeyOf(request);
      if (typeof key === 'object') return sendProblem(reply, key);
      const read = requestOf(request.body);
      if ('problem' in read) return sendProblem(reply, read.problem);
      const result = await bulk.submit({
        ...read,
        confirmation: request.body.confirmation,
        ratePerSecond: request.body.ratePerSecond ?? DEFAULT_BULK_RATE,
        by: actorOf(request),
        ...(key ? { idempotencyKey: key } : {}),
      });
      return sendSubmitted(reply, result, key, {
        unconfirmed: problem(
          'bulk-unconfirmed',
          'the confirmation is not the dry run’s for this operation and selection: run the dry run and send its confirmation',
          {
            errors: [{ pointer: '/confirmation', message: 'not the dry run’s confirmation for this request' }],
          },
        ),
        tooMany: (count, limit) =>
          problem('bulk-selection-too-large', `the selection matches ${count} cases, more than ${limit} a job takes: narrow it`, {
            count,
            errors: [{ pointer: '/selection', message: `matches ${count} cases (at most ${limit})` }],
          }),
      });
    },
  );
}

function readRoutes(app: FastifyInstance, bulk: BulkOperations): void {
  app.get(
    '',
    {
      config: { roles: ROLES },
      schema: { tags: TAGS, summary: 'The 50 newest bulk jobs, with their progress', response: responses({ 200: BulkJobList }, []) },
    },
    async () => ({ jobs: await bulk.jobs(50) }) satisfies BulkJobList,
  );

  const params = { type: 'object', required: ['jobId'], properties: { jobId: { type: 'string', pattern: JOB_ID } } } as const;
  app.get<{ Params: { jobId: string } }>(
    '/:jobId(^\\d+)',
    {
      config: { roles: ROLES },
      schema: { tags: TAGS, summary: 'A bulk job and its progress', params, response: responses({ 200: BulkJobBody }, ['unknown-bulk-job', 'not-found']) },
    },
    async (request, reply) => {
      const job = await bulk.job(request.params.jobId);
      if (!job) return sendProblem(reply, problem('unknown-bulk-job', `no bulk job ${request.params.jobId}`));
      return job satisfies BulkJobBody;
    },
  );

  app.get<{ Params: { jobId: string }; Querystring: { state?: BulkCaseState; after?: string; limit?: string } }>(
    '/:jobId(^\\d+)/cases',
    {
      config: { roles: ROLES },
      schema: {
        tags: TAGS,
        summary: 'A bulk job’s report: each case in order, done, skipped or failed and why (or still pending)',
        params,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            state: { enum: ['pending', 'done', 'skipped', 'failed'] },
            after: { type: 'string', pattern: '^(0|[1-9][0-9]{0,8})$', description: 'The `nextAfter` of the previous page' },
            limit: { type: 'string', pattern: '^([1-9][0-9]{0,2}|1000)$', description: '1 to 1000 (100 when absent)' },
          },
        },
        response: responses({ 200: BulkReport }, ['unknown-bulk-job', 'not-found']),
      },
    },
    async (request, reply) => {
      const { jobId } = request.params;
      if (!(await bulk.job(jobId))) return sendProblem(reply, problem('unknown-bulk-job', `no bulk job ${jobId}`));
      const limit = request.query.limit ? Number(request.query.limit) : 100;
      const cases = await bulk.report(jobId, {
        limit,
        after: Number(request.query.after ?? 0),
        ...(request.query.state ? { state: request.query.state } : {}),
      });
      return { cases, nextAfter: cases.length === limit ? cases[cases.length - 1]!.position : null } satisfies BulkReport;
    },
  );
}
