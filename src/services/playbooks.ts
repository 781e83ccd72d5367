/**
 * Playbooks: the folders of shared calendars and marketplace rule packs they are checked against (one
 * loader for the API and the CLI), and their published versions.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { loadCalendars, subPlaybookNames, type CompileOptions, type LoadedCalendars } from '../playbook/index.js';
import { readMarketplacePacks, validateWithMarketplace, type MarketplacePacks } from '../playbook/marketplace-packs.js';
import { childrenOf, type PublishedPlaybook } from '../plan/steps/playbook.js';
import type { Pool } from '../store/pool.js';
import type { Actor } from '../plan/case.js';
import {
  approvalRequired,
  approvals,
  approveVersion,
  currentChanges,
  currentVersion,
  listVersions,
  makeCurrent,
  publishedVersionsOf,
  publishPlaybook,
  setApprovalRequired,
  type Approval,
  type CurrentChange,
} from '../store/playbooks.js';

export { getPlaybook, listPlaybooks, listVersions, publishPlaybook, type Approval, type CurrentChange } from '../store/playbooks.js';

/** A playbook's versions, the one new cases take, and how that came to be (the latest change first); undefined when none is published. */
export async function playbookVersions(pool: Pool, name: string) {
  const versions = await listVersions(pool, name);
  if (versions.length === 0) return undefined;
  const [current, changes, required, given] = await Promise.all([
    currentVersion(pool, name),
    currentChanges(pool, name),
    approvalRequired(pool, name),
    approvals(pool, name),
  ]);
  return { name, current: current!, versions, changes, approvalRequired: required, approvals: given };
}

export type ChangeCurrentResult =
  | { kind: 'unknown-playbook'; message: string }
  | { kind: 'unknown-version'; message: string }
  | { kind: 'unapproved'; message: string }
  | { kind: 'changed'; current: number; change: CurrentChange }
  | { kind: 'unchanged'; current: number };

/**
 * Makes a published version of a playbook the one new cases take, a later or an earlier one: an
 * explicit act, recorded with who, when, from which version and why (and in the audit trail). Cases
 * already open keep the version they run; a sub-playbook step keeps the version it pinned.
 */
export async function changeCurrentVersion(pool: Pool, request: { name: string; version: number; reason: string; by: Actor }): Promise<ChangeCurrentResult> {
  const made = await makeCurrent(pool, request);
  if (made.kind === 'made-current') return { kind: 'changed', current: made.change.to, change: made.change };
  if (made.kind === 'unchanged') return made;
  if (made.kind === 'unapproved')
    return {
      kind: 'unapproved',
      message: `playbook ${request.name} requires an approval before a version becomes current, and version ${request.version} has none: an ops lead or admin other than its publisher approves it with POST /v1/playbooks/${request.name}/versions/${request.version}/approve`,
    };
  return (await currentVersion(pool, request.name)) === undefined
    ? { kind: 'unknown-playbook', message: `no playbook named ${request.name} is published` }
    : { kind: 'unknown-version', message: `playbook ${request.name} has no version ${request.version}: publish it first` };
}

/**
 * Sets whether a playbook's versions need a second ops lead's approval before they become current
 * (the version current now stays current). Answers false when no playbook of that name is published.
 */
export async function changeApprovalSetting(pool: Pool, request: { name: string; required: boolean; reason: string; by: Actor }): Promise<boolean> {
  if ((await currentVersion(pool, request.name)) === undefined) return false;
  await setApprovalRequired(pool, request);
  return true;
}

export type ApproveVersionResult =
  | { kind: 'unknown-version'; message: string }
  | { kind: 'own-version'; message: string }
  | { kind: 'approved'; approval: Approval; created: boolean };

/**
 * An ops lead's or admin's approval of a published version, so it may become current where the
 * playbook requires one; never by the key that published it. Recorded with who, when and why, and audited.
 */
export async function approvePlaybookVersion(
  pool: Pool,
  request: { name: string; version: number; reason: string; by: Actor & { keyId: string } },
): Promise<ApproveVersionResult> {
  const result = await approveVersion(pool, request);
  if (result.kind === 'unknown-version') return { ...result, message: `playbook ${request.name} has no version ${request.version}` };
  if (result.kind === 'own-version')
    return { ...result, message: `version ${request.version} of ${request.name} was published by this key: another ops lead or admin approves it` };
  return result;
}

/**
 * The published playbooks a playbook's `playbook` steps may run, and those theirs run, down to the
 * end (so the compiler can pin a version, check input and outcomes, and refuse a cycle).
 */
export async function subPlaybooksOf(pool: Pool, source: string | Uint8Array, file = 'playbook.yaml'): Promise<PublishedPlaybook[]> {
  const found: PublishedPlaybook[] = [];
  const asked = new Set<string>();
  let names = subPlaybookNames(source, file);
  while (names.length > 0) {
    for (const name of names) asked.add(name);
    const versions = await publishedVersionsOf(pool, names);
    found.push(...versions);
    names = [...new Set(versions.flatMap((p) => childrenOf(p.plan).map((child) => child.name)))].filter((name) => !asked.has(name));
  }
  return found;
}

/**
 * The `*.yaml` files of a folder (of the current directory, unless absolute); none when there is no
 * such folder, so playbooks naming a marketplace (PB152) or a calendar (PB131) are refused.
 */
function yamlFiles(dir: string): { file: string; text: Buffer }[] {
  let names: string[];
  try {
    names = readdirSync(dir)
      .filter((name) => name.endsWith('.yaml'))
      .sort();
  } catch {
    names = [];
  }
  return names.map((name) => ({ file: join(dir, name), text: readFileSync(join(dir, name)) }));
}

/** The marketplace rule packs in `marketplaces/*.yaml` of the current directory (none when it has no such folder). */
export function readMarketplaceFolder(dir = 'marketplaces'): ReturnType<typeof readMarketplacePacks> {
  return readMarketplacePacks(yamlFiles(dir));
}

/** The shared calendars in `calendars/*.yaml` of the current directory, checked (none when it has no such folder). */
export function readCalendarFolder(dir = 'calendars'): LoadedCalendars {
  return loadCalendars(yamlFiles(dir).map(({ file, text }) => ({ file, source: text })));
}

type FolderOptions = CompileOptions & { marketplaces: MarketplacePacks };

/**
 * Offline (`casebook validate`, `compile`, `diagram`): the sub-playbooks a playbook file runs, read
 * from its folder (`<name>.yaml` beside it) and compiled, each as if published once (version 1).
 * One that is missing or has errors is left out, so the step naming it reports PB330.
 */
export function subPlaybooksInFolder(file: string, source: string | Uint8Array, options: FolderOptions, visiting = new Set<string>()): PublishedPlaybook[] {
  const found: PublishedPlaybook[] = [];
  for (const name of subPlaybookNames(source, file)) {
    const childFile = join(dirname(file), `${name}.yaml`);
    if (visiting.has(name) || found.some((p) => p.name === name) || !existsSync(childFile)) continue;
    const childSource = readFileSync(childFile);
    const below = subPlaybooksInFolder(childFile, childSource, options, new Set([...visiting, name]));
    const compiled = validateWithMarketplace(childSource, childFile, { ...options, playbooks: below });
    for (const p of below) if (!found.some((f) => f.name === p.name)) found.push(p);
    if (compiled.plan) found.push({ name, version: 1, hash: compiled.plan.hash, plan: compiled.plan.plan });
  }
  return found;
}

/**
 * `casebook test`: publishes the sub-playbooks a playbook file runs from its folder (theirs first), so
 * the playbook compiles against them and its scenarios run them as child cases. Answers the published
 * versions the playbook may run.
 */
export async function publishSubPlaybooksFromFolder(
  pool: Pool,
  file: string,
  options: FolderOptions,
  visiting = new Set<string>(),
): Promise<PublishedPlaybook[]> {
  for (const name of subPlaybookNames(readFileSync(file), file)) {
    const childFile = join(dirname(file), `${name}.yaml`);
    if (visiting.has(name) || !existsSync(childFile)) continue;
    visiting.add(name);
    await publishSubPlaybooksFromFolder(pool, childFile, options, visiting);
    const childSource = readFileSync(childFile);
    const compiled = validateWithMarketplace(childSource, childFile, { ...options, playbooks: await subPlaybooksOf(pool, childSource, childFile) });
    if (compiled.plan) await publishPlaybook(pool, childSource.toString('utf8'), compiled.plan, 'casebook test');
  }
  return subPlaybooksOf(pool, readFileSync(file), file);
}
