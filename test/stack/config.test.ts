import { describe, expect, it } from 'vitest';
import { DEFAULT_DATABASE_POOL_SIZE, loadConfig } from '../../src/stack/config.js';

describe('worker and pool settings', () => {
  it('are unset (measured defaults) unless given', () => {
    const config = loadConfig({});
    expect(config.worker).toEqual({});
    expect(config.databasePoolSize).toBe(DEFAULT_DATABASE_POOL_SIZE);
  });

  it('are read from their variables', () => {
    const config = loadConfig({
      CASEBOOK_MAX_CACHED_WORKFLOWS: '500', CASEBOOK_WORKFLOW_TASK_SLOTS: '20', CASEBOOK_ACTIVITY_TASK_SLOTS: '50',
      CASEBOOK_LOCAL_ACTIVITY_SLOTS: '30', CASEBOOK_WORKFLOW_POLLERS: '4', CASEBOOK_ACTIVITY_POLLERS: '3', CASEBOOK_DATABASE_POOL: '25',
    });
    expect(config.worker).toEqual({
      maxCachedWorkflows: 500, maxConcurrentWorkflowTaskExecutions: 20, maxConcurrentActivityTaskExecutions: 50,
      maxConcurrentLocalActivityExecutions: 30, maxConcurrentWorkflowTaskPolls: 4, maxConcurrentActivityTaskPolls: 3,
    });
    expect(config.databasePoolSize).toBe(25);
  });

  it.each(['0', '-3', '2.5', 'many', '1e9'])('refuse %s, naming the variable', (raw) => {
    expect(() => loadConfig({ CASEBOOK_WORKFLOW_TASK_SLOTS: raw })).toThrow(`CASEBOOK_WORKFLOW_TASK_SLOTS must be a whole number from 1 to 1000000, not '${raw}'`);
  });
});
