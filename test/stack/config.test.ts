import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { LOCAL_CONNECTORS } from '../../src/connectors/config.js';
import { DEFAULT_DATABASE_POOL_SIZE, DEFAULT_TEMPORAL_RETENTION_DAYS, loadConfig } from '../../src/stack/config.js';

describe('worker and pool settings', () => {
  it('are unset (measured defaults) unless given', () => {
    const config = loadConfig({});
    expect(config.worker).toEqual({});
    expect(config.databasePoolSize).toBe(DEFAULT_DATABASE_POOL_SIZE);
  });

  it('are read from their variables', () => {
    const config = loadConfig({
      CASEBOOK_MAX_CACHED_WORKFLOWS: '500',
      CASEBOOK_WORKFLOW_TASK_SLOTS: '20',
      CASEBOOK_ACTIVITY_TASK_SLOTS: '50',
      CASEBOOK_LOCAL_ACTIVITY_SLOTS: '30',
      CASEBOOK_WORKFLOW_POLLERS: '4',
      CASEBOOK_ACTIVITY_POLLERS: '3',
      CASEBOOK_DATABASE_POOL: '25',
    });
    expect(config.worker).toEqual({
      maxCachedWorkflows: 500,
      maxConcurrentWorkflowTaskExecutions: 20,
      maxConcurrentActivityTaskExecutions: 50,
      maxConcurrentLocalActivityExecutions: 30,
      maxConcurrentWorkflowTaskPolls: 4,
      maxConcurrentActivityTaskPolls: 3,
    });
    expect(config.databasePoolSize).toBe(25);
  });

  it.each(['0', '-3', '2.5', 'many', '1e9'])('refuse %s, naming the variable', (raw) => {
    expect(() => loadConfig({ CASEBOOK_WORKFLOW_TASK_SLOTS: raw })).toThrow(
      `CASEBOOK_WORKFLOW_TASK_SLOTS must be a whole number from 1 to 1000000, not '${raw}'`,
    );
  });
});

describe('workflow stack traces', () => {
  it('are off unless CASEBOOK_WORKFLOW_STACK_TRACES is 1', () => {
    expect(loadConfig({}).workflowStackTraces).toBe(false);
    expect(loadConfig({ CASEBOOK_WORKFLOW_STACK_TRACES: '0' }).workflowStackTraces).toBe(false);
    expect(loadConfig({ CASEBOOK_WORKFLOW_STACK_TRACES: '1' }).workflowStackTraces).toBe(true);
  });

  it('refuse anything but 1 or 0, naming the variable', () => {
    expect(() => loadConfig({ CASEBOOK_WORKFLOW_STACK_TRACES: 'yes' })).toThrow("CASEBOOK_WORKFLOW_STACK_TRACES must be 1 (on) or 0 (off), not 'yes'");
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
    expect(loadConfig({ CASEBOOK_TEMPORAL_RETENTION_DAYS: '90', CASEBOOK_ARCHIVE_INTERVAL_SECONDS: '60' })).toMatchObject({
      temporalRetentionDays: 90,
      archiveIntervalMs: 60_000,
    });
    expect(() => loadConfig({ CASEBOOK_TEMPORAL_RETENTION_DAYS: '0' })).toThrow(
      "CASEBOOK_TEMPORAL_RETENTION_DAYS must be a whole number from 1 to 3650, not '0'",
    );
    expect(() => loadConfig({ CASEBOOK_ARCHIVE_INTERVAL_SECONDS: '1d' })).toThrow(
      "CASEBOOK_ARCHIVE_INTERVAL_SECONDS must be a whole number from 1 to 86400, not '1d'",
    );
  });
});

describe('the housekeeping lease', () => {
  it('is tried every 5 s unless CASEBOOK_LEASE_RETRY_SECONDS says otherwise, within bounds', () => {
    expect(loadConfig({}).leaseRetryMs).toBe(5_000);
    expect(loadConfig({ CASEBOOK_LEASE_RETRY_SECONDS: '1' }).leaseRetryMs).toBe(1_000);
    expect(() => loadConfig({ CASEBOOK_LEASE_RETRY_SECONDS: '0' })).toThrow("CASEBOOK_LEASE_RETRY_SECONDS must be a whole number from 1 to 3600, not '0'");
  });
});

describe('audit checkpoints', () => {
  it('go to a file in the data directory every minute, signed by the key file there, unless given', () => {
    const { auditCheckpoints } = loadConfig({ CASEBOOK_DATA_DIR: '/srv/casebook' });
    expect(auditCheckpoints).toEqual({ file: '/srv/casebook/audit-checkpoints.jsonl', intervalMs: 60_000, keyFile: '/srv/casebook/audit-signing-key.pem' });
  });

  it('take the signing key from its variable, as PEM or base64 DER, and never repeat a bad one', () => {
    const key = generateKeyPairSync('ed25519').privateKey;
    const pem = key.export({ format: 'pem', type: 'pkcs8' }) as string;
    const der = key.export({ format: 'der', type: 'pkcs8' }).toString('base64');
    const config = loadConfig({
      CASEBOOK_AUDIT_SIGNING_KEY: pem,
      CASEBOOK_AUDIT_CHECKPOINT_URL: 'https://audit.example.com/in?token=t0k',
      CASEBOOK_AUDIT_CHECKPOINT_SECONDS: '30',
    });
    expect(config.auditCheckpoints).toMatchObject({ url: 'https://audit.example.com/in?token=t0k', intervalMs: 30_000 });
    expect(config.auditCheckpoints.key!.equals(key)).toBe(true);
    expect(loadConfig({ CASEBOOK_AUDIT_SIGNING_KEY: der }).auditCheckpoints.key!.equals(key)).toBe(true);
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ format: 'pem', type: 'pkcs8' }) as string;
    for (const raw of ['c2VjcmV0LXZhbHVl', rsa]) {
      expect(() => loadConfig({ CASEBOOK_AUDIT_SIGNING_KEY: raw })).toThrow(
        /^CASEBOOK_AUDIT_SIGNING_KEY must be an Ed25519 private key \(PKCS#8 PEM, or its DER in base64\)$/,
      );
    }
    expect(() => loadConfig({ CASEBOOK_AUDIT_CHECKPOINT_URL: 'ftp://x?token=t0k' })).toThrow(/^CASEBOOK_AUDIT_CHECKPOINT_URL must be an http\(s\) URL$/);
  });
});

describe('connectors', () => {
  it('are all local without CASEBOOK_CONFIG', () => {
    expect(loadConfig({}).connectors).toBe(LOCAL_CONNECTORS);
    expect(loadConfig({ CASEBOOK_CONFIG: '' }).connectors).toBe(LOCAL_CONNECTORS);
  });

  it('come from the file CASEBOOK_CONFIG names, refused with every problem at its line', () => {
    expect(loadConfig({ CASEBOOK_CONFIG: 'config/casebook.example.yaml' }).connectors.file).toBe('config/casebook.example.yaml');
    expect(() => loadConfig({ CASEBOOK_CONFIG: 'config/no-such.yaml' })).toThrow(
      'the configuration config/no-such.yaml (CASEBOOK_CONFIG) has 1 problem:\nconfig/no-such.yaml:1:1: error CFG001: there is no such file',
    );
  });
});
