/**
 * The previous release's history versions, for the "old build" of the rolling-upgrade test
 * (test/cluster/rolling-upgrade.test.ts bundles it in place of src/workflows/history-versions.ts): this
 * release's table without its newest shape. Every change of shape is asked through `versions.has()`,
 * so a build that does not know the newest shape runs as the release before it did (the old branch
 * everywhere), and refuses a case of that shape as any older worker does.
 */
import type { CaseInput } from '../../../src/plan/case.js';
import { HistoryVersions as ThisRelease, NEWEST_SHAPE as THIS_RELEASE } from '../../../src/workflows/history-versions.js';

export const NEWEST_SHAPE = THIS_RELEASE - 1;

export class HistoryVersions extends ThisRelease {
  constructor(input: Pick<CaseInput, 'historyShape'>) {
    super(input, NEWEST_SHAPE);
  }
}
