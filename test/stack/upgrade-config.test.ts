/** The settings of a rolling upgrade (docs/operations.md, "Rolling upgrades"): the shape new cases take, a prebuilt workflow bundle. */
import { describe, expect, it } from 'vitest';
import { HISTORY_SHAPE } from '../../src/plan/case.js';
import { loadConfig } from '../../src/stack/config.js';
import { NEWEST_SHAPE } from '../../src/workflows/history-versions.js';

describe('CASEBOOK_HISTORY_SHAPE', () => {
  it('is the newest shape this build runs unless given', () => {
    expect(loadConfig({}).historyShape).toBe(HISTORY_SHAPE);
    // What new cases take is what the workflow code knows as newest: the two move together.
    expect(NEWEST_SHAPE).toBe(HISTORY_SHAPE);
  });

  it('holds new cases at an earlier shape, never at one this build does not run', () => {
    expect(loadConfig({ CASEBOOK_HISTORY_SHAPE: String(HISTORY_SHAPE - 1) }).historyShape).toBe(HISTORY_SHAPE - 1);
    for (const raw of [String(HISTORY_SHAPE + 1), '0', 'five'])
      expect(() => loadConfig({ CASEBOOK_HISTORY_SHAPE: raw })).toThrow(
        `CASEBOOK_HISTORY_SHAPE must be a whole number from 1 to ${HISTORY_SHAPE}, not '${raw}'`,
      );
  });
});

describe('CASEBOOK_WORKFLOW_BUNDLE', () => {
  it('is unset (the worker bundles at start) unless given, and names an existing file', () => {
    expect(loadConfig({}).workflowBundle).toBeUndefined();
    expect(loadConfig({ CASEBOOK_WORKFLOW_BUNDLE: 'package.json' }).workflowBundle).toBe(`${process.cwd()}/package.json`);
    expect(() => loadConfig({ CASEBOOK_WORKFLOW_BUNDLE: 'no-such-bundle.js' })).toThrow(
      "CASEBOOK_WORKFLOW_BUNDLE must name an existing file (one `casebook bundle` wrote), not 'no-such-bundle.js'",
    );
  });
});
