/**
 * Failed deliveries counted per connector: the adapters as the composition root builds them for a
 * configuration binding payments to a webhook destination, against a receiver that answers 503, count
 * each failed attempt under the connector, its destination and the port; the local ones beside them
 * count nothing. (One return end to end through `casebook start` is test/e2e/metrics.test.ts.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ConnectorConfig, LOCAL_CONNECTORS } from '../../src/connectors/config.js';
import { DeliveryFailure } from '../../src/connectors/ports.js';
import { composeAdapters, composeMetrics } from '../../src/stack/compose.js';
import { loadConfig } from '../../src/stack/config.js';
import { newSecret, type Receiver, startReceiver } from '../connectors/webhook-receiver.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

let db: TestDatabase;
let shop: Receiver;
const secret = newSecret();

beforeAll(async () => {
  db = await createTestDatabase();
  shop = await startReceiver([secret], () => ({ status: 503, body: {} }));
  process.env.METRICS_TEST_SECRET = secret;
});
afterAll(async () => {
  delete process.env.METRICS_TEST_SECRET;
  await shop?.close();
  await db?.drop();
});

describe('delivery failures per connector', () => {
  it('counts each failed attempt under the connector, its destination and the port', async () => {
    const connectors: ConnectorConfig = {
      ...LOCAL_CONNECTORS,
      destinations: {
        shop: { name: 'shop', url: shop.url, secretVariables: ['METRICS_TEST_SECRET'], timeoutMs: 2_000, maxResponseBytes: 4_096, allowPrivateAddress: true },
      },
      payments: { connector: 'webhook', destination: 'shop' },
    };
    const metrics = composeMetrics(db.pool);
    const adapters = composeAdapters(connectors, db.pool, metrics);
    const attempt = { inWorkflowTask: false, activityAttempt: 2, scheduledAt: Date.now() };
    const request = {
      key: 'metrics-1/refund/1',
      caseId: 'metrics-1',
      stepId: 'refund',
      orderId: 'metrics-1',
      amount: 1_500,
      currency: 'CNY',
      reason: 'test',
      covers: 'payment' as const,
      deadlineAt: new Date(Date.now() + 86_400_000).toISOString(),
    };
    for (let i = 0; i < 2; i++) await expect(adapters.payments.refund(request, attempt)).rejects.toBeInstanceOf(DeliveryFailure);
    await adapters.orders.writeNote({ key: 'metrics-1/note/1', caseId: 'metrics-1', orderId: 'metrics-1', remark: 'noted' }, attempt);

    const { contentType, text } = await metrics.exposition();
    expect(contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    const failures = text.split('\n').filter((line) => line.startsWith('casebook_delivery_failures_total{'));
    expect(failures).toEqual(['casebook_delivery_failures_total{connector="webhook",target="shop",port="payments",final="false"} 2']);
    expect(shop.received).toHaveLength(2);
  });
});

describe('CASEBOOK_METRICS_PORT', () => {
  it('is a port, unset by default, refused with its name otherwise', () => {
    expect(loadConfig({}).metricsPort).toBeUndefined();
    expect(loadConfig({ CASEBOOK_METRICS_PORT: '9464' }).metricsPort).toBe(9464);
    expect(() => loadConfig({ CASEBOOK_METRICS_PORT: 'metrics' })).toThrow("CASEBOOK_METRICS_PORT must be a port number (0-65535), not 'metrics'");
  });
});
