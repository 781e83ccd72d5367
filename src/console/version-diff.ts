/**
 * What differs between two versions of a playbook, for the console's diff view: the YAML as rows side
 * by side (jsdiff's line diff, unchanged stretches folded to a few lines of context), and which steps
 * the newer version added, removed or changed.
 */
import { diffLines } from 'diff';

/** One side of a row: its line number and text, or null where the other side has lines this one lacks. */
export interface DiffCell {
  line: number;
  text: string;
}

export type DiffRow =
  | { kind: 'same'; left: DiffCell; right: DiffCell }
  | { kind: 'changed'; left: DiffCell | null; right: DiffCell | null }
  /** Unchanged lines left out: `count` of them. */
  | { kind: 'fold'; count: number };

const linesOf = (value: string): string[] => value.replace(/\n$/, '').split('\n');

/**
 * The rows of a side-by-side diff: removed lines on the left paired with the added lines that replace
 * them on the right; unchanged stretches longer than twice `context` folded, `context` lines kept at each end.
 */
export function diffRows(before: string, after: string, context = 3): DiffRow[] {
  const rows: DiffRow[] = [];
  let left = 1;
  let right = 1;
  // A last line without its newline would differ from the same line with one.
  const ended = (text: string) => (text === '' || text.endsWith('\n') ? text : `${text}\n`);
  const parts = diffLines(ended(before), ended(after));
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    if (part.removed) {
      const removed = linesOf(part.value);
      const next = parts[i + 1];
      const added = next?.added ? linesOf(next.value) : [];
      if (next?.added) i++;
      for (let k = 0; k < Math.max(removed.length, added.length); k++) {
        rows.push({
          kind: 'changed',
          left: k < removed.length ? { line: left++, text: removed[k]! } : null,
          right: k < added.length ? { line: right++, text: added[k]! } : null,
        });
      }
    } else if (part.added) {
      for (const text of linesOf(part.value)) rows.push({ kind: 'changed', left: null, right: { line: right++, text } });
    } else {
      const same = linesOf(part.value).map((text): DiffRow => ({ kind: 'same', left: { line: left++, text }, right: { line: right++, text } }));
      const keepHead = i === 0 ? 0 : context;
      const keepTail = i === parts.length - 1 ? 0 : context;
      if (same.length > keepHead + keepTail + 1) {
        rows.push(...same.slice(0, keepHead), { kind: 'fold', count: same.length - keepHead - keepTail }, ...same.slice(same.length - keepTail));
      } else {
        rows.push(...same);
      }
    }
  }
  return rows;
}

export type StepChange = 'added' | 'removed' | 'changed';

/** A plan as the version route gives it: only what the comparison reads. */
interface PlanLike {
  steps?: Record<string, unknown>;
  policy?: Record<string, unknown>;
}

/** The value without its source positions (`at`): moving a step in the file does not change it. */
function withoutPositions(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutPositions);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>)
      .filter(([key]) => key !== 'at')
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([key, inner]) => [key, withoutPositions(inner)]),
  );
}

const same = (a: unknown, b: unknown): boolean => JSON.stringify(withoutPositions(a)) === JSON.stringify(withoutPositions(b));

/**
 * The steps the newer plan added or removed, and those in both that changed: their own form differs,
 * or they read a policy value (`policy.<key>`) the newer version changed (a longer receipt timeout
 * changes the wait that reads it).
 */
export function stepChanges(before: PlanLike, after: PlanLike): Map<string, StepChange> {
  const changes = new Map<string, StepChange>();
  const oldSteps = before.steps ?? {};
  const newSteps = after.steps ?? {};
  const policies = new Set([...Object.keys(before.policy ?? {}), ...Object.keys(after.policy ?? {})]);
  const changedPolicies = [...policies].filter((key) => !same(before.policy?.[key], after.policy?.[key]));
  const readsChangedPolicy = (step: unknown): boolean => {
    const text = JSON.stringify(step);
    return changedPolicies.some((key) => new RegExp(`\\bpolicy\\.${key.replace(/[^A-Za-z0-9_]/g, '\\$&')}\\b`).test(text));
  };
  for (const id of Object.keys(oldSteps)) if (!(id in newSteps)) changes.set(id, 'removed');
  for (const [id, step] of Object.entries(newSteps)) {
    if (!(id in oldSteps)) changes.set(id, 'added');
    else if (!same(oldSteps[id], step) || readsChangedPolicy(step)) changes.set(id, 'changed');
  }
  return changes;
}
