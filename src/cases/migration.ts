/**
 * Moving running cases to another version of their playbook (issue 25 point 2;
 * docs/decisions/0017-migrating-running-cases.md). The preview asks each open case's workflow what
 * moving would do (the `migrationPreview` query: the same code as the update) and adds what only the
 * service can check: the case's data against the new version's declarations, the playbook and
 * version. Moving one case is the `migrateCase` update; then the projection names the new version.
 * Many cases move by a bulk job with operation `migrate` (src/cases/bulk.ts).
 */
import type { Actor, MigrationChange, MigrationTarget } from '../plan/case.js';
import { localParts } from '../plan/local-time.js';
import type { Plan } from '../plan/plan.js';
import { migrationCandidates, recordCaseMigrated } from '../store/case-migrations.js';
import { findCase } from '../store/cases.js';
import { getPlaybook, listVersions, type StoredPlaybook } from '../store/playbooks.js';
import type { CaseSelection } from '../store/case-list.js';
import type { Pool } from '../store/pool.js';
import { caseDataProblems, type CaseService } from './service.js';

/** How many cases one preview shows at most, and by default. */
export const MAX_PREVIEW_CASES = 500;
export const DEFAULT_PREVIEW_CASES = 100;

export interface MigrationRequest {
  toVersion: number;
  /** Old step id → new step id, for steps whose id changed. */
  mapping: Record<string, string>;
  /** Only the cases on this version. */
  fromVersion?: number;
}

export interface CaseMigrationPreview {
  caseId: string;
  fromVersion: number;
  status: string;
  step: string | null;
  movable: boolean;
  reasons: string[];
  toStep: string | null;
  changes: (MigrationChange & { text: string })[];
}

export interface PlaybookMigrationPreview {
  playbook: string;
  toVersion: number;
  /** The open cases not on `toVersion` (on `fromVersion` when given); `cases` shows the first of them. */
  count: number;
  /** How many of the cases shown can move. */
  movable: number;
  cases: CaseMigrationPreview[];
}

export type MigrationPreviewResult =
  | { kind: 'unknown-playbook'; message: string }
  | { kind: 'unknown-version'; message: string; pointer: '/toVersion' | '/fromVersion' }
  | { kind: 'bad-mapping'; message: string; problems: { pointer: string; message: string }[] }
  | ({ kind: 'preview' } & PlaybookMigrationPreview);

/** The cases a migration job takes: the playbook's cases waiting at a step (only those can move), on `fromVersion` when given. */
export const migrationSelection = (playbook: string, fromVersion?: number): CaseSelection => ({
  playbook,
  status: 'waiting',
  ...(fromVersion !== undefined ? { version: fromVersion } : {}),
});

/** A mapping with its keys in order, so that the same mapping is the same request whatever order it was written in. */
export function orderedMapping(mapping: Record<string, string> = {}): Record<string, string> {
  return Object.fromEntries(Object.entries(mapping).sort(([a], [b]) => (a < b ? -1 : 1)));
}

/** The target version, or why the request cannot be previewed or run: an unknown playbook or version, a mapping naming steps no version has. */
export async function migrationTarget(
  pool: Pool,
  playbook: string,
  request: MigrationRequest,
): Promise<{ kind: 'target'; target: StoredPlaybook } | Exclude<MigrationPreviewResult, { kind: 'preview' }>> {
  const versions = await listVersions(pool, playbook);
  if (versions.length === 0) return { kind: 'unknown-playbook', message: `no playbook named ${playbook} is published` };
  const target = await getPlaybook(pool, playbook, request.toVersion);
  if (!target) return { kind: 'unknown-version', message: `playbook ${playbook} has no version ${request.toVersion}`, pointer: '/toVersion' };
  if (request.fromVersion !== undefined && !versions.some((v) => v.version === request.fromVersion))
    return { kind: 'unknown-version', message: `playbook ${playbook} has no version ${request.fromVersion}`, pointer: '/fromVersion' };
  // A step mapped from must exist in a version the cases may run on (the one named, or any), mapped to in the target.
  const sources: Plan[] = [];
  const mapped = Object.keys(request.mapping).length > 0;
  for (const { version } of !mapped ? [] : request.fromVersion !== undefined ? [{ version: request.fromVersion }] : versions) {
    if (version !== request.toVersion) sources.push((await getPlaybook(pool, playbook, version))!.plan);
  }
  const problems = Object.entries(request.mapping).flatMap(([from, to]) => {
    const pointer = `/mapping/${from.replaceAll('~', '~0').replaceAll('/', '~1')}`;
    return [
      ...(sources.some((plan) => plan.steps[from]) ? [] : [{ pointer, message: `no version the cases run on has a step '${from}'` }]),
      ...(target.plan.steps[to] ? [] : [{ pointer, message: `version ${request.toVersion} has no step '${to}'` }]),
    ];
  });
  if (problems.length > 0) return { kind: 'bad-mapping', message: problems.map((p) => `${p.pointer}: ${p.message}`).join('; '), problems };
  return { kind: 'target', target };
}

const targetOf = (target: StoredPlaybook, mapping: Record<string, string>): MigrationTarget => ({
  plan: target.plan,
  playbook: { name: target.name, version: target.version, hash: target.hash },
  mapping,
});

/** What moving each open case of `playbook` (the first `limit`) to the target version would do. */
export async function previewMigration(
  pool: Pool,
  cases: CaseService,
  playbook: string,
  request: MigrationRequest & { limit: number },
): Promise<MigrationPreviewResult> {
  const found = await migrationTarget(pool, playbook, request);
  if (found.kind !== 'target') return found;
  const target = targetOf(found.target, request.mapping);
  const selected = await migrationCandidates(pool, {
    playbook,
    toVersion: request.toVersion,
    ...(request.fromVersion !== undefined ? { fromVersion: request.fromVersion } : {}),
    limit: request.limit,
  });
  const previews: CaseMigrationPreview[] = [];
  for (const candidate of selected.cases) {
    const answer = await caseAnswer(pool, cases, candidate.caseId, found.target, target);
    previews.push({ caseId: candidate.caseId, fromVersion: candidate.version, status: candidate.status, step: candidate.step, ...answer });
  }
  return {
    kind: 'preview',
    playbook,
    toVersion: request.toVersion,
    count: selected.count,
    movable: previews.filter((p) => p.movable).length,
    cases: previews,
  };
}

/** One case's answer: the workflow's, with the data checked against the target's declarations. */
async function caseAnswer(
  pool: Pool,
  cases: CaseService,
  caseId: string,
  stored: StoredPlaybook,
  target: MigrationTarget,
): Promise<Pick<CaseMigrationPreview, 'movable' | 'reasons' | 'toStep' | 'changes'>> {
  const row = await findCase(pool, caseId);
  const dataReasons = row
    ? caseDataProblems(stored.plan, row.data).map((p) => `its data does not fit version ${stored.version}: ${p.pointer} ${p.message}`)
    : [];
  const answer = await cases.previewMigration(caseId, target);
  if ('kind' in answer) return { movable: false, reasons: [answer.message, ...dataReasons], toStep: null, changes: [] };
  const reasons = [...answer.reasons, ...dataReasons];
  return {
    movable: reasons.length === 0,
    reasons,
    toStep: answer.toStep,
    changes: answer.changes.map((change) => ({ ...change, text: changeText(change, stored.plan) })),
  };
}

/**
 * A change in words, its times in the time zone of `plan` (the version moved to): "the timeout of step
 * `wait_receipt` moves from 2026-11-26 10:00 to 2026-11-27 10:00 (Asia/Shanghai)"; a delay's "end".
 */
export function changeText(change: MigrationChange, plan: Plan): string {
  const timeZone = plan.timezone;
  const at = (iso: string | null) => (iso === null ? 'none' : localTime(Date.parse(iso), timeZone));
  const what = `the ${plan.steps[change.step]?.kind === 'delay' ? 'end' : 'timeout'} of step \`${change.step}\``;
  if (change.from === null) return `${what} is new: ${at(change.to)} (${timeZone})`;
  if (change.to === null) return `${what} goes away (it was ${at(change.from)}, ${timeZone})`;
  return `${what} moves from ${at(change.from)} to ${at(change.to)} (${timeZone})`;
}

function localTime(instant: number, timeZone: string): string {
  const p = localParts(instant, timeZone);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${p.year}-${two(p.month)}-${two(p.day)} ${two(p.hour)}:${two(p.minute)}`;
}

export type MigrateResult = { kind: 'migrated'; detail: string } | { kind: 'skipped'; detail: string } | { kind: 'failed'; detail: string };

/**
 * Moves one case to `toVersion` of its playbook (which must be `playbook` when given): skipped, and
 * left alone, when it cannot move (closed, already there, its data or position does not fit).
 */
export async function migrateCase(
  pool: Pool,
  cases: CaseService,
  caseId: string,
  request: { playbook?: string; toVersion: number; mapping: Record<string, string>; by: Actor; reason: string },
): Promise<MigrateResult> {
  const row = await findCase(pool, caseId);
  if (!row) return { kind: 'failed', detail: 'no such case' };
  if (request.playbook !== undefined && row.playbook !== request.playbook)
    return { kind: 'skipped', detail: `runs playbook ${row.playbook}, not ${request.playbook}` };
  if (row.status === 'closed') return { kind: 'skipped', detail: `closed (${row.outcome?.outcome ?? 'ended'})` };
  if (row.version === request.toVersion) return { kind: 'skipped', detail: `already on v${request.toVersion}` };
  const stored = await getPlaybook(pool, row.playbook, request.toVersion);
  if (!stored) return { kind: 'failed', detail: `playbook ${row.playbook} has no version ${request.toVersion}` };
  const problems = caseDataProblems(stored.plan, row.data);
  if (problems.length > 0)
    return {
      kind: 'skipped',
      detail: `left on v${row.version}: its data does not fit v${stored.version}: ${problems.map((p) => `${p.pointer} ${p.message}`).join('; ')}`,
    };
  const target = targetOf(stored, request.mapping);
  const moved = await cases.migrate(caseId, { ...target, by: request.by, reason: request.reason });
  if (moved.kind === 'refused') {
    // Moved before, its projection not updated then (the process stopped between the two): record it now.
    if (moved.runs?.hash === target.playbook.hash) {
      await recordCaseMigrated(pool, caseId, target.playbook);
      return { kind: 'migrated', detail: `moved to v${stored.version} earlier; the case list now says so` };
    }
    return { kind: 'skipped', detail: `left on v${row.version}: ${moved.reasons.join('; ')}` };
  }
  await recordCaseMigrated(pool, caseId, target.playbook);
  const changes = moved.preview.changes.map((change) => `; ${changeText(change, stored.plan)}`).join('');
  return { kind: 'migrated', detail: `moved from v${row.version} to v${stored.version} at ${moved.preview.toStep}${changes}` };
}
