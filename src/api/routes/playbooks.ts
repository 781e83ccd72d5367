import type { FastifyPluginAsync } from 'fastify';
import type { Approved, FlowGraph, MadeCurrent, PlaybookSettings, PlaybookVersions, Published, Validation } from '../../api-contract/playbooks.js';
import type { Diagnostic } from '../../playbook/index.js';
import { planGraph } from '../../playbook/diagram.js';
import { validateWithMarketplace } from '../../playbook/marketplace-packs.js';
import {
  approvePlaybookVersion,
  changeApprovalSetting,
  changeCurrentVersion,
  getPlaybook,
  listPlaybooks,
  playbookVersions,
  publishPlaybook,
  readCalendarFolder,
  readMarketplaceFolder,
  subPlaybooksOf,
} from '../../services/playbooks.js';
import type { ApiDependencies } from '../dependencies.js';
import { actorOf, keyNamed, READERS } from '../auth.js';
import { problem, sendProblem } from '../problems.js';
import { BODIES, responses, WITH_BODY } from '../responses.js';

/**
 * The playbook's YAML source, as text: what is not a playbook gets diagnostics (an empty body too).
 * Documented as text/plain, the body's real shape (under application/yaml an OpenAPI string schema
 * would mean a YAML document that is a string); application/yaml, application/x-yaml and text/yaml
 * are read the same way.
 */
const yamlBody = { type: 'string', description: 'The playbook source (YAML); sent as text/plain or application/yaml' } as const;
const YAML_TYPES = ['text/plain'];
const nameParam = { type: 'object', required: ['name'], properties: { name: { type: 'string', pattern: '^[a-z][a-z0-9-]{0,63}$' } } } as const;

const AUTHORS = { roles: ['ops-lead', 'admin'] as const };
const TAGS = ['playbooks'];

const publicDiagnostic = (d: Diagnostic) => ({
  severity: d.severity,
  code: d.code,
  message: d.message,
  line: d.line,
  column: d.column,
  endLine: d.endLine,
  endColumn: d.endColumn,
  ...(d.hint ? { hint: d.hint } : {}),
});

export const playbookRoutes =
  (deps: ApiDependencies): FastifyPluginAsync =>
  async (app) => {
    // The rule packs (`marketplaces/*.yaml`) and shared calendars (`calendars/*.yaml`) of the server's working directory, read at start.
    const marketplaces = readMarketplaceFolder();
    for (const d of marketplaces.diagnostics) app.log.error(`marketplace rule pack: ${d.file}:${d.line}:${d.column}: ${d.code}: ${d.message}`);
    const loaded = readCalendarFolder();
    for (const d of loaded.diagnostics) app.log.error(`calendar: ${d.file}:${d.line}:${d.column}: ${d.code}: ${d.message}`);
    const { calendars } = loaded;
    app.post(
      '/validate',
      {
        config: AUTHORS,
        schema: {
          tags: TAGS,
          summary: 'Check a playbook (YAML body) and list its diagnostics',
          consumes: YAML_TYPES,
          body: yamlBody,
          response: responses({ 200: BODIES.validation }, WITH_BODY),
        },
      },
      async (request) => {
        const source = request.body as string;
        const result = validateWithMarketplace(source, 'playbook.yaml', { marketplaces, calendars, playbooks: await subPlaybooksOf(deps.pool, source) });
        return { valid: result.plan !== undefined, diagnostics: result.diagnostics.map(publicDiagnostic) } satisfies Validation;
      },
    );

    app.put<{ Params: { name: string }; Querystring: { make_current?: 'true' | 'false'; reason?: string } }>(
      '/:name',
      {
        config: AUTHORS,
        schema: {
          tags: TAGS,
          summary:
            'Publish a playbook version (YAML body); the same content again returns its version. The first version becomes current; ?make_current=true makes this one current too (audited)',
          consumes: YAML_TYPES,
          body: yamlBody,
          params: nameParam,
          querystring: {
            type: 'object',
            additionalProperties: false,
            properties: { make_current: { type: 'string', enum: ['true', 'false'] }, reason: { type: 'string', minLength: 1, maxLength: 500 } },
          },
          response: responses({ 200: BODIES.published, 201: BODIES.published }, [...WITH_BODY, 'invalid-playbook', 'name-mismatch']),
        },
      },
      async (request, reply) => {
        const source = request.body as unknown as string;
        const result = validateWithMarketplace(source, `${request.params.name}.yaml`, {
          marketplaces,
          calendars,
          playbooks: await subPlaybooksOf(deps.pool, source),
        });
        if (!result.plan) {
          return sendProblem(
            reply,
            problem('invalid-playbook', `the playbook has ${result.diagnostics.filter((d) => d.severity === 'error').length} error(s)`, {
              diagnostics: result.diagnostics.map(publicDiagnostic),
            }),
          );
        }
        if (result.plan.plan.name !== request.params.name) {
          return sendProblem(reply, problem('name-mismatch', `the document says playbook: ${result.plan.plan.name}, the URL says ${request.params.name}`));
        }
        const { make_current: makeCurrent, reason } = request.query;
        const { version, created, current, madeCurrent } = await publishPlaybook(
          deps.pool,
          source,
          result.plan,
          keyNamed(request.apiKey!),
          actorOf(request),
          makeCurrent === 'true' ? { ...(reason ? { reason } : {}) } : undefined,
        );
        return reply.code(created ? 201 : 200).send({
          name: version.name,
          version: version.version,
          hash: version.hash,
          created,
          current,
          madeCurrent: madeCurrent !== undefined,
          diagnostics: result.diagnostics.map(publicDiagnostic),
        } satisfies Published);
      },
    );

    app.get(
      '',
      {
        config: { roles: READERS },
        schema: {
          tags: TAGS,
          summary: 'Published playbooks: the latest version of each, how many it has, and the current one',
          response: responses({ 200: BODIES.playbooks }, []),
        },
      },
      async () => ({ playbooks: await listPlaybooks(deps.pool) }),
    );

    app.get<{ Params: { name: string } }>(
      '/:name',
      {
        config: { roles: READERS },
        schema: {
          tags: TAGS,
          summary: 'The versions of a playbook, the current one (what new cases take) and the changes of the current one, the latest first',
          params: nameParam,
          response: responses({ 200: BODIES.versions }, ['unknown-playbook']),
        },
      },
      async (request, reply) => {
        const found = await playbookVersions(deps.pool, request.params.name);
        if (!found) return sendProblem(reply, problem('unknown-playbook', `no playbook named ${request.params.name} is published`, {}, 404));
        return found satisfies PlaybookVersions;
      },
    );

    app.post<{ Params: { name: string }; Body: { version: number; reason: string } }>(
      '/:name/current',
      {
        config: AUTHORS,
        schema: {
          tags: TAGS,
          summary: 'Make a published version the one new cases take (a later or an earlier one), with a reason; recorded and audited',
          params: nameParam,
          body: {
            type: 'object',
            required: ['version', 'reason'],
            additionalProperties: false,
            properties: {
              version: { type: 'integer', minimum: 1, maximum: 2_147_483_647 },
              reason: { type: 'string', minLength: 1, maxLength: 500, pattern: '\\S' },
            },
          },
          response: responses({ 200: BODIES.madeCurrent }, [...WITH_BODY, 'unknown-playbook', 'version-cannot-be-current']),
        },
      },
      async (request, reply) => {
        const { name } = request.params;
        const result = await changeCurrentVersion(deps.pool, { name, version: request.body.version, reason: request.body.reason.trim(), by: actorOf(request) });
        switch (result.kind) {
          case 'unknown-playbook':
            return sendProblem(reply, problem('unknown-playbook', result.message, {}, 404));
          case 'unknown-version':
          case 'unapproved':
            return sendProblem(reply, problem('version-cannot-be-current', result.message, { errors: [{ pointer: '/version', message: result.message }] }));
          case 'changed':
            return { name, current: result.current, changed: true, change: result.change } satisfies MadeCurrent;
          case 'unchanged':
            return { name, current: result.current, changed: false, change: null } satisfies MadeCurrent;
        }
      },
    );

    const versionParams = {
      type: 'object',
      required: ['name', 'version'],
      properties: { name: nameParam.properties.name, version: { type: 'string', pattern: '^[1-9][0-9]{0,8}$' } },
    } as const;

    const reasonSchema = { type: 'string', minLength: 1, maxLength: 500, pattern: '\\S' } as const;

    app.put<{ Params: { name: string }; Body: { approvalRequired: boolean; reason: string } }>(
      '/:name/settings',
      {
        config: AUTHORS,
        schema: {
          tags: TAGS,
          summary: "Set whether a version needs a second ops lead's approval before it becomes current, with a reason; recorded",
          params: nameParam,
          body: {
            type: 'object',
            required: ['approvalRequired', 'reason'],
            additionalProperties: false,
            properties: { approvalRequired: { type: 'boolean' }, reason: reasonSchema },
          },
          response: responses({ 200: BODIES.playbookSettings }, [...WITH_BODY, 'unknown-playbook']),
        },
      },
      async (request, reply) => {
        const { name } = request.params;
        const { approvalRequired, reason } = request.body;
        if (!(await changeApprovalSetting(deps.pool, { name, required: approvalRequired, reason: reason.trim(), by: actorOf(request) })))
          return sendProblem(reply, problem('unknown-playbook', `no playbook named ${name} is published`, {}, 404));
        return { name, approvalRequired } satisfies PlaybookSettings;
      },
    );

    app.post<{ Params: { name: string; version: string }; Body: { reason: string } }>(
      '/:name/versions/:version/approve',
      {
        config: AUTHORS,
        schema: {
          tags: TAGS,
          summary: 'Approve a published version so it may become current where the playbook requires approval; never by its publisher',
          params: versionParams,
          body: { type: 'object', required: ['reason'], additionalProperties: false, properties: { reason: reasonSchema } },
          response: responses({ 200: BODIES.approved, 201: BODIES.approved }, [...WITH_BODY, 'unknown-playbook-version', 'own-version-approval']),
        },
      },
      async (request, reply) => {
        const { name } = request.params;
        const by = actorOf(request);
        const result = await approvePlaybookVersion(deps.pool, {
          name,
          version: Number(request.params.version),
          reason: request.body.reason.trim(),
          by: { keyId: by.keyId!, name: by.name },
        });
        switch (result.kind) {
          case 'unknown-version':
            return sendProblem(reply, problem('unknown-playbook-version', result.message));
          case 'own-version':
            return sendProblem(reply, problem('own-version-approval', result.message));
          case 'approved':
            return reply.code(result.created ? 201 : 200).send({ name, created: result.created, approval: result.approval } satisfies Approved);
        }
      },
    );

    app.get<{ Params: { name: string; version: string } }>(
      '/:name/versions/:version',
      {
        config: { roles: READERS },
        schema: {
          tags: TAGS,
          summary: 'One version: its YAML, its plan, and the warnings the playbook has when checked now',
          params: versionParams,
          response: responses({ 200: BODIES.version }, ['unknown-playbook-version']),
        },
      },
      async (request, reply) => {
        const stored = await getPlaybook(deps.pool, request.params.name, Number(request.params.version));
        if (!stored) return sendProblem(reply, problem('unknown-playbook-version', `playbook ${request.params.name} has no version ${request.params.version}`));
        // A version published by `casebook test` has no source: nothing to check.
        const diagnostics =
          stored.sourceYaml === ''
            ? []
            : validateWithMarketplace(stored.sourceYaml, `${stored.name}.yaml`, {
                marketplaces,
                calendars,
                playbooks: await subPlaybooksOf(deps.pool, stored.sourceYaml),
              }).diagnostics;
        return {
          name: stored.name,
          version: stored.version,
          hash: stored.hash,
          publishedAt: stored.publishedAt,
          publishedBy: stored.publishedBy,
          yaml: stored.sourceYaml,
          plan: stored.plan,
          diagnostics: diagnostics.map(publicDiagnostic),
        };
      },
    );

    app.get<{ Params: { name: string; version: string } }>(
      '/:name/versions/:version/graph',
      {
        config: { roles: READERS },
        schema: {
          tags: TAGS,
          summary: "One version's plan as a graph: its steps (the diagram's nodes) and the ways out of each (its edges)",
          params: versionParams,
          response: responses({ 200: BODIES.graph }, ['unknown-playbook-version']),
        },
      },
      async (request, reply) => {
        const stored = await getPlaybook(deps.pool, request.params.name, Number(request.params.version));
        if (!stored) return sendProblem(reply, problem('unknown-playbook-version', `playbook ${request.params.name} has no version ${request.params.version}`));
        return { name: stored.name, version: stored.version, ...planGraph(stored.plan) } satisfies FlowGraph;
      },
    );
  };
