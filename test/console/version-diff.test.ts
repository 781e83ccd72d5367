/**
 * The console's version diff (src/console/version-diff.ts): the YAML rows side by side, and the steps
 * a version added, removed or changed (a step reading a changed policy value is changed).
 */
import { describe, expect, it } from 'vitest';
import { diffRows, stepChanges } from '../../src/console/version-diff.js';

describe('diffRows', () => {
  it('pairs a replaced line with its replacement and folds the unchanged stretch; a missing last newline is no change', () => {
    const before = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'x', 'i'].join('\n');
    const after = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'y', 'i', 'j'].join('\n');
    expect(diffRows(before, after, 2)).toEqual([
      { kind: 'fold', count: 6 },
      { kind: 'same', left: { line: 7, text: 'g' }, right: { line: 7, text: 'g' } },
      { kind: 'same', left: { line: 8, text: 'h' }, right: { line: 8, text: 'h' } },
      { kind: 'changed', left: { line: 9, text: 'x' }, right: { line: 9, text: 'y' } },
      { kind: 'same', left: { line: 10, text: 'i' }, right: { line: 10, text: 'i' } },
      { kind: 'changed', left: null, right: { line: 11, text: 'j' } },
    ]);
  });

  it('keeps a short unchanged stretch between changes whole, and lines only removed on the left', () => {
    expect(diffRows('a\nb\nc\n', 'b\nc\nd\n')).toEqual([
      { kind: 'changed', left: { line: 1, text: 'a' }, right: null },
      { kind: 'same', left: { line: 2, text: 'b' }, right: { line: 1, text: 'b' } },
      { kind: 'same', left: { line: 3, text: 'c' }, right: { line: 2, text: 'c' } },
      { kind: 'changed', left: null, right: { line: 3, text: 'd' } },
    ]);
  });
});

describe('stepChanges', () => {
  const wait = (timeout: string, line: number) => ({ id: 'wait_parcel', at: { line, column: 5 }, wait: { timeout: { cel: timeout } } });
  it('marks added, removed and changed steps; a step moved in the file is unchanged', () => {
    const before = { steps: { start: { id: 'start', at: { line: 3, column: 5 } }, old: { id: 'old' }, wait_parcel: wait('3d', 9) } };
    const after = { steps: { start: { id: 'start', at: { line: 4, column: 5 } }, added: { id: 'added' }, wait_parcel: wait('5d', 12) } };
    expect(Object.fromEntries(stepChanges(before, after))).toEqual({ old: 'removed', added: 'added', wait_parcel: 'changed' });
  });

  it('marks a step that reads a policy value the version changed, and not one reading another', () => {
    const steps = { wait_parcel: wait('policy.receipt_timeout', 9), wait_answer: wait('policy.receipt_timeout_extra', 20) };
    const changes = stepChanges(
      { steps, policy: { receipt_timeout: { ms: 864_000_000 }, receipt_timeout_extra: 1 } },
      { steps, policy: { receipt_timeout: { ms: 1_209_600_000 }, receipt_timeout_extra: 1 } },
    );
    expect(Object.fromEntries(changes)).toEqual({ wait_parcel: 'changed' });
  });
});
