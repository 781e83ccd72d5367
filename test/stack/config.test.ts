import { describe, expect, it } from 'vitest';
import { DEFAULT_DATABASE_POOL_SIZE, DEFAULT_TEMPORAL_RETENTION_DAYS, loadConfig } from '../../src/stack/config.js';

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

describe('history retention and archiving', () => {
  it('keep closed histories 30 days on the dev server and archive every 10 s unless given', () => {
    const config = loadConfig({});
    expect(config.temporalRetentionDays).toBe(DEFAULT_TEMPORAL_RETENTION_DAYS);
    expect(DEFAULT_TEMPORAL_RETENTION_DAYS).toBe(30);
    expect(config.archiveIntervalMs).toBe(10_000);
  });

  it('are read from their variables, within bounds', () => {
    expect(loadConfig({ CASEBOOK_TEMPORAL_RETENTION_DAYS: '90', CASEBOOK_ARCHIVE_INTERVAL_SECONDS: '60' })).toMatchObject({ temporalRetentionDays: 90, archiveIntervalMs: 60_000 });
    expect(() => loadConfig({ CASEBOOK_TEMPORAL_RETENTION_DAYS: '0' })).toThrow("CASEBOOK_TEMPORAL_RETENTION_DAYS must be a whole number from 1 to 3650, not '0'");
    expect(() => loadConfig({ CASEBOOK_ARCHIVE_INTERVAL_SECONDS: '1d' })).toThrow("CASEBOOK_ARCHIVE_INTERVAL_SECONDS must be a whole number from 1 to 86400, not '1d'");
  });
});
