/**
 * Moving running cases to another version of their playbook (docs/api.md, "Moving running cases"):
 * a preview of each open case (can it move, why not, what changes for it) with a confirmation, and
 * the run, a bulk job with operation `migrate` whose progress and report the bulk routes give.
 * Ops leads and admins.
 */
import type { FastifyInstance, FastifyPluginAsync, FastifyReply } from 'fastify';
import { BulkJob as BulkJobBody } from '../../api-contract/bulk.js';
import { MigrationPreview, StepMapping as MAPPING } from '../../api-contract/migrations.js';
import { confirmationOf, DEFAULT_BULK_RATE, MAX_BULK_RATE, type BulkOperations } from '../../cases/bulk.js';
import {
  DEFAULT_PREVIEW_CASES,
  MAX_PREVIEW_CASES,
  migrationSelection,
  migrationTarget,
  orderedMapping,
  previewMigration,
  type MigrationPreviewResult,
  type MigrationRequest,
} from '../../cases/migration.js';
import type { ApiDependencies } from '../dependencies.js';
import { actorOf } from '../auth.js';
import { idempotencyHeaders, idempotencyKeyOf } from '../idempotency.js';
import { problem, sendProblem } from '../problems.js';
import { responses, WITH_BODY } from '../responses.js';
import { sendSubmitted } from '../bulk-submitted.js';

const TAGS = ['playbooks'];
const ROLES = ['ops-lead', 'admin'] as const;

const VERSION = { type: 'integer', minimum: 1, maximum: 2_147_483_647 } as const;
const params = { type: 'object', required: ['name'], properties: { name: { type: 'string', pattern: '^[a-z][a-z0-9-]{0,63}$' } } } as const;

interface PreviewBody {
  toVersion: number;
  mapping?: Record<string, string>;
  fromVersion?: number;
  limit?: number;
}

const requestOf = (body: PreviewBody): MigrationRequest => ({
  toVersion: body.toVersion,
  mapping: orderedMapping(body.mapping),
  ...(body.fromVersion !== undefined ? { fromVersion: body.fromVersion } : {}),
});

/** The confirmation a preview answers and a run must send back: bound to the version, the mapping and the selection. */
const confirmationFor = (name: string, request: MigrationRequest): string =>
  confirmationOf({
    operation: 'migrate',
    selection: migrationSelection(name, request.fromVersion),
    params: { reason: '', toVersion: request.toVersion, mapping: request.mapping },
  });

/** The problem of a request that names an unknown playbook or version, or a mapping naming steps no version has. */
function sendRefusal(reply: FastifyReply, refused: Exclude<MigrationPreviewResult, { kind: 'preview' }>): FastifyReply {
  switch (refused.kind) {
    case 'unknown-playbook':
      return sendProblem(reply, problem('unknown-playbook', refused.message, {}, 404));
    case 'unknown-version':
      return sendProblem(reply, problem('unknown-playbook-version', refused.message, { errors: [{ pointer: refused.pointer, message: refused.message }] }));
    case 'bad-mapping':
      return sendProblem(reply, problem('invalid-migration-mapping', refused.message, { errors: refused.problems }));
  }
}

export const migrationRoutes =
  (deps: ApiDependencies): FastifyPluginAsync =>
  async (app) => {
    previewRoute(app, deps);
    if (deps.bulk) runRoute(app, deps, deps.bulk);
  };

const PREVIEW_PROPERTIES = {
  toVersion: { ...VERSION, description: 'The version the cases move to (published; it need not be current)' },
  mapping: MAPPING,
  fromVersion: { ...VERSION, description: 'Only the cases on this version' },
} as const;

function previewRoute(app: FastifyInstance, deps: ApiDependencies): void {
  app.post<{ Params: { name: string }; Body: PreviewBody }>(
    '/:name/migrations/preview',
    {
      config: { roles: ROLES },
      schema: {
        tags: TAGS,
        summary: 'Whether each open case of the playbook can move to another version, why not, and what changes for it (its deadlines)',
        params,
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['toVersion'],
          properties: {
            ...PREVIEW_PROPERTIES,
            limit: {
              type: 'integer',
              minimum: 1,
              maximum: MAX_PREVIEW_CASES,
              description: `Cases shown, 1 to ${MAX_PREVIEW_CASES} (${DEFAULT_PREVIEW_CASES} when absent)`,
            },
          },
        },
        response: responses({ 200: MigrationPreview }, [...WITH_BODY, 'unknown-playbook', 'unknown-playbook-version', 'invalid-migration-mapping']),
      },
    },
    async (request, reply) => {
      const migration = requestOf(request.body);
      const result = await previewMigration(deps.pool, deps.cases, request.params.name, { ...migration, limit: request.body.limit ?? DEFAULT_PREVIEW_CASES });
      if (result.kind !== 'preview') return sendRefusal(reply, result);
      const { kind: _, ...preview } = result;
      return { ...preview, confirmation: confirmationFor(request.params.name, migration) } satisfies MigrationPreview;
    },
  );
}

function runRoute(app: FastifyInstance, deps: ApiDependencies, bulk: BulkOperations): void {
  app.post<{ Params: { name: string }; Body: PreviewBody & { reason: string; confirmation: string; ratePerSecond?: number } }>(
    '/:name/migrations',
    {
      config: { roles: ROLES },
      schema: {
        tags: TAGS,
        summary:
          'Move the playbook’s waiting cases to another version, in the background: 202 the bulk job (operation migrate); 200 the job already made with this Idempotency-Key',
        params,
        headers: idempotencyHeaders('The same key (and API key) again answers the same job'),
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['toVersion', 'reason', 'confirmation'],
          properties: {
            ...PREVIEW_PROPERTIES,
            reason: { type: 'string', minLength: 1, maxLength: 500, pattern: '\\S', description: 'Why the cases move: in each case’s `migrated` record' },
            confirmation: {
              type: 'string',
              minLength: 1,
              maxLength: 100,
              description: 'The preview’s `confirmation` for the same version, mapping and fromVersion',
            },
            ratePerSecond: { type: 'integer', minimum: 1, maximum: MAX_BULK_RATE, description: `Cases per second (${DEFAULT_BULK_RATE} when absent)` },
          },
        },
        response: responses({ 200: BulkJobBody, 202: BulkJobBody }, [
          ...WITH_BODY,
          'unknown-playbook',
          'unknown-playbook-version',
          'invalid-migration-mapping',
          'bulk-unconfirmed',
          'bulk-selection-too-large',
          'idempotency-key-reused',
        ]),
      },
    },
    async (request, reply) => {
      const key = idempotencyKeyOf(request);
      if (typeof key === 'object') return sendProblem(reply, key);
      const { name } = request.params;
      const migration = requestOf(request.body);
      const target = await migrationTarget(deps.pool, name, migration);
      if (target.kind !== 'target') return sendRefusal(reply, target);
      const result = await bulk.submit({
        operation: 'migrate',
        selection: migrationSelection(name, migration.fromVersion),
        params: { reason: request.body.reason.trim(), toVersion: migration.toVersion, mapping: migration.mapping },
        confirmation: request.body.confirmation,
        ratePerSecond: request.body.ratePerSecond ?? DEFAULT_BULK_RATE,
        by: actorOf(request),
        ...(key ? { idempotencyKey: key } : {}),
      });
      return sendSubmitted(reply, result, key, {
        unconfirmed: problem(
          'bulk-unconfirmed',
          'the confirmation is not the preview’s for this version, mapping and selection: run the preview and send its confirmation',
          { errors: [{ pointer: '/confirmation', message: 'not the preview’s confirmation for this request' }] },
        ),
        tooMany: (count, limit) =>
          problem('bulk-selection-too-large', `the playbook has ${count} waiting cases, more than ${limit} a job takes: name a fromVersion`, {
            count,
            errors: [{ pointer: '/fromVersion', message: `${count} cases (at most ${limit})` }],
          }),
      });
    },
  );
}
