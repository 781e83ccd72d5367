/**
 * A sub-playbook: the step runs another published playbook as a child case of its own, and goes on by
 * how the child ended. The compiler stays pure: whoever compiles (the publish use case, `casebook test`)
 * passes the published playbooks it looked up (`Declarations.playbooks`); the step pins the child's
 * name, version and plan hash, so a later version of the child never changes a published parent.
 */
import type { Expr, FieldSpec, Plan, StepBase } from '../plan.js';
import type { Declarations, StepCompiler } from './kind.js';
import type { StepKind } from './kind.js';

/** A published version of a playbook, as a parent's compiler sees it. */
export interface PublishedPlaybook {
  name: string;
  version: number;
  hash: string;
  plan: Plan;
}

/** The child a step runs: pinned at publish. */
export interface ChildRef {
  name: string;
  version: number;
  hash: string;
}

export interface PlaybookStep extends StepBase {
  kind: 'playbook';
  playbook: ChildRef;
  /** The child's case data, each field a CEL expression of the parent's, of the child field's type. */
  input: Record<string, Expr>;
  /** The child's declaration of each field given, to turn the values into case data. */
  inputFields: Record<string, FieldSpec>;
  /** How the child ended (its end `reason`, else its `outcome`) → the parent's next step; others go to `next` (a cancelled child not routed: `onError`). */
  outcomes: Record<string, string>;
  /** The child failed (its run failed, or a step of it failed: a child case never waits for repair). */
  onError?: string;
  next: string;
}

export interface RawPlaybook {
  name: string;
  version?: number;
  input?: Record<string, string>;
  outcomes?: Record<string, string>;
  on_error?: string;
}

/**
 * What a case running a child case shows it waits for (`waitingFor`): `case <id>`. No event type has a
 * space, so no event is taken for it; the inbox leaves these entries out when it decides what the case
 * takes now.
 */
export const waitingForChild = (caseId: string): string => `case ${caseId}`;
export const isChildWait = (entry: string): boolean => entry.startsWith('case ');

/** The outcome a child case that failed ends with (as a case closed by an admin's repair does). */
export const CHILD_FAILED = 'failed';

/** The outcome of a cancelled case: any child may end so (a person cancels it), whatever its end steps. */
export const CHILD_CANCELLED = 'cancelled';

/** The ends a plan can reach, as `outcome` and `reason`. */
export function endsOf(plan: Plan): { outcome: string; reason: string }[] {
  return Object.values(plan.steps).flatMap((step) => (step.kind === 'end' ? [{ outcome: step.outcome, reason: step.reason }] : []));
}

/**
 * The step a child's end leads to: its reason, else its outcome, else the step's `next`; undefined for
 * a cancelled child the step routes nowhere (it did not finish its procedure: the step's failure path).
 */
export function afterChild(step: PlaybookStep, end: { outcome: string; reason: string }): string | undefined {
  if (Object.hasOwn(step.outcomes, end.reason)) return step.outcomes[end.reason]!;
  if (Object.hasOwn(step.outcomes, end.outcome)) return step.outcomes[end.outcome]!;
  return end.outcome === CHILD_CANCELLED ? undefined : step.next;
}

/** The published version a step names: the given one, or the latest. */
export function findPublished(playbooks: readonly PublishedPlaybook[], name: string, version?: number): PublishedPlaybook | undefined {
  let found: PublishedPlaybook | undefined;
  for (const p of playbooks) {
    if (p.name !== name) continue;
    if (version !== undefined ? p.version === version : !found || p.version > found.version) found = p;
  }
  return found;
}

/** The sub-playbooks a plan's steps run, as pinned. */
export function childrenOf(plan: Pick<Plan, 'steps'>): ChildRef[] {
  return Object.values(plan.steps).flatMap((step) => (step.kind === 'playbook' ? [step.playbook] : []));
}

/**
 * A chain of playbook names from `from` back to `parent`, when running `from` would run `parent`
 * again: [from, ..., parent]; undefined when it never does (as far as the published versions show).
 */
function cycleBack(parent: string, from: PublishedPlaybook, playbooks: readonly PublishedPlaybook[]): string[] | undefined {
  const seen = new Set<string>();
  const walk = (p: PublishedPlaybook): string[] | undefined => {
    const key = `${p.name}@${p.version}`;
    if (seen.has(key)) return undefined;
    seen.add(key);
    for (const child of childrenOf(p.plan)) {
      if (child.name === parent) return [p.name, parent];
      const next = findPublished(playbooks, child.name, child.version);
      const rest = next && walk(next);
      if (rest) return [p.name, ...rest];
    }
    return undefined;
  };
  return walk(from);
}

export const playbook: StepKind<PlaybookStep, RawPlaybook> = {
  kind: 'playbook',
  schema: '#/$defs/step/properties/playbook',
  // A child that ends at once makes no time pass: a loop through it alone would never wait.
  waits: false,
  shape: 'box',
  compile(raw, c) {
    const { playbooks, playbook: self } = c.declarations;
    const outcomes: Record<string, string> = {};
    for (const [end, target] of Object.entries(raw.outcomes ?? {})) outcomes[end] = c.ref(target, [...c.path, 'outcomes', end]);
    const step = {
      kind: 'playbook' as const,
      input: {} as Record<string, Expr>,
      inputFields: {} as Record<string, FieldSpec>,
      outcomes,
      ...(raw.on_error !== undefined ? { onError: c.ref(raw.on_error, [...c.path, 'on_error']) } : {}),
      next: c.next(),
    };
    // Refused below: the step stays in the plan (unpinned) so the flow checks say nothing more of it.
    const unpinned = { ...step, playbook: { name: raw.name, version: raw.version ?? 0, hash: '' } };
    if (raw.name === self) {
      c.error('PB332', `playbook ${self} runs itself: ${self} → ${self}`, [...c.path, 'name'], {
        hint: 'a sub-playbook cannot run the playbook that runs it, directly or through others',
      });
      return unpinned;
    }
    const child = findChild(raw, c, playbooks);
    if (!child) return unpinned;
    const chain = self !== undefined ? cycleBack(self, child, playbooks ?? []) : undefined;
    if (chain) {
      c.error('PB332', `running ${child.name} would run ${self} again: ${[self, ...chain].join(' → ')}`, [...c.path, 'name'], {
        hint: 'a sub-playbook cannot run the playbook that runs it, directly or through others',
      });
      return unpinned;
    }
    step.input = compileInput(raw, c, child);
    step.inputFields = Object.fromEntries(Object.keys(step.input).map((name) => [name, child.plan.fields[name]!]));
    checkOutcomes(raw, c, child);
    return { ...step, playbook: { name: child.name, version: child.version, hash: child.hash } };
  },
  edges: (step) => [
    ...Object.entries(step.outcomes).map(([end, to]) => ({ to, label: end })),
    // Another end of the child; drawn once when an outcome already leads there.
    ...(Object.values(step.outcomes).includes(step.next) ? [] : [{ to: step.next, ...(Object.keys(step.outcomes).length > 0 ? { label: 'other end' } : {}) }]),
    ...(step.onError ? [{ to: step.onError, label: 'failed' }] : []),
  ],
  describe: (step) => `playbook ${step.playbook.name} v${step.playbook.version}`,
};

function findChild(raw: RawPlaybook, c: StepCompiler, playbooks: Declarations['playbooks']): PublishedPlaybook | undefined {
  if (!playbooks) {
    c.error('PB330', `playbook ${raw.name} cannot be looked up here: sub-playbooks are resolved from the published playbooks`, [...c.path, 'name'], {
      hint: 'publish the playbook (PUT /v1/playbooks/<name>), or validate it in a folder holding <name>.yaml',
    });
    return undefined;
  }
  const latest = findPublished(playbooks, raw.name);
  if (!latest) {
    const names = [...new Set(playbooks.map((p) => p.name))];
    c.error('PB330', `no playbook named ${raw.name} is published`, [...c.path, 'name'], {
      hint: c.hint(
        raw.name,
        names,
        `publish ${raw.name} before the playbooks that run it (casebook validate and test read ${raw.name}.yaml beside this playbook)`,
      ),
    });
    return undefined;
  }
  if (raw.version === undefined) return latest;
  const pinned = findPublished(playbooks, raw.name, raw.version);
  if (!pinned)
    c.error('PB331', `playbook ${raw.name} has no version ${raw.version}`, [...c.path, 'version'], {
      hint: `its latest version is ${latest.version}; leave version out to pin the latest`,
    });
  return pinned;
}

/** The child's case data: each field the child declares, of its type; every required one given. */
function compileInput(raw: RawPlaybook, c: StepCompiler, child: PublishedPlaybook): Record<string, Expr> {
  const fields = child.plan.fields;
  const input: Record<string, Expr> = {};
  for (const [name, cel] of Object.entries(raw.input ?? {})) {
    const field = fields[name];
    const path = [...c.path, 'input', name];
    if (!field) {
      c.error('PB333', `playbook ${child.name} v${child.version} declares no case field '${name}'`, path, {
        key: true,
        hint: c.hint(name, Object.keys(fields), `its fields: ${Object.keys(fields).join(', ')}`),
      });
      continue;
    }
    if (field.type === 'money' && child.plan.currency !== c.declarations.currency)
      c.error('PB336', `playbook ${child.name} counts money in ${child.plan.currency}, this playbook in ${c.declarations.currency}`, path, {
        hint: 'a sub-playbook handling money must use the same currency',
      });
    input[name] = c.expression(cel, path, { field });
  }
  const missing = Object.entries(fields).filter(([name, spec]) => spec.required && !Object.hasOwn(raw.input ?? {}, name));
  for (const [name] of missing)
    c.error('PB334', `input leaves ${child.name}'s required case field ${name} without a value`, raw.input ? [...c.path, 'input'] : [...c.path, 'name'], {
      ...(raw.input ? { key: true } : {}),
      hint: `give it under input: ${name}: <expression>`,
    });
  return input;
}

/** Each outcome routed must be one the child can end with (a reason or an outcome of its end steps). */
function checkOutcomes(raw: RawPlaybook, c: StepCompiler, child: PublishedPlaybook): void {
  const ends = endsOf(child.plan);
  const names = [...new Set([...ends.flatMap((end) => [end.reason, end.outcome]), CHILD_CANCELLED])];
  for (const name of Object.keys(raw.outcomes ?? {})) {
    if (names.includes(name)) continue;
    c.error('PB335', `playbook ${child.name} v${child.version} never ends with '${name}'`, [...c.path, 'outcomes', name], {
      key: true,
      hint: c.hint(name, names, `it ends with: ${names.join(', ')}`),
    });
  }
}
