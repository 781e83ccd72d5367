/**
 * Records bench/fixtures/return-long.history from a real run: an insured return case whose parcel the
 * warehouse received before the buyer entered the tracking number waits for `buyer.shipped`
 * (step chase_tracking); `warehouse.received` is declared `early`, so it keeps accepting receipts with
 * new ids, each an Update (about 5 history events). Receipts are sent until the history holds
 * `--events` events (default 1000), then the tracking number, and the case ends refunded.
 * Run: npx tsx bench/support/replay-record-long-history.ts [--events 1000]
 */
import { Client, Connection } from '@temporalio/client';
import { parseArgs } from 'node:util';
import { workflowIdFor } from '../../src/plan/case.js';
import { composePool } from '../../src/stack/compose.js';
import { planReferencesIn, withPlansInline } from '../../src/stack/plan-references.js';
import { startCasebook, type CasebookUnderTest } from './casebook.js';
import { LONG_HISTORY, writeHistory } from './replay-histories.js';

const PORTS = { api: 3940, temporal: 7940, temporalUi: 7941, temporalHttp: 7942, temporalMetrics: 7943, postgres: 5494 };
const CASE_ID = 'long-history';
const DAY = 86_400_000;

const { values } = parseArgs({ options: { events: { type: 'string', default: '1000' } } });
const targetEvents = Number(values.events);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitUntilWaitingFor(casebook: CasebookUnderTest, key: string, step: string): Promise<void> {
  for (let waited = 0; waited < 30_000; waited += 200) {
    const { body } = await casebook.request<{ step: string | null; status: string }>('GET', `/v1/cases/${CASE_ID}`, { key });
    if (body.status === 'waiting' && body.step === step) return;
    await sleep(200);
  }
  throw new Error(`case ${CASE_ID} did not reach step ${step} within 30 s`);
}

async function record(casebook: CasebookUnderTest): Promise<number> {
  await casebook.publishPlaybook('return');
  const agent = await casebook.createKey('agent', 'Long-history recorder');
  const deliver = (type: string, id: string, payload: Record<string, unknown>) =>
    casebook.request('POST', `/v1/cases/${CASE_ID}/events`, { key: agent, body: { type, id, payload }, expected: [202] });
  await casebook.request('POST', '/v1/cases', {
    key: agent,
    body: {
      playbook: 'return',
      caseId: CASE_ID,
      data: {
        order_id: 'LONG-1',
        buyer_name: 'Li',
        order_total: { amount: 19_900, currency: 'CNY' },
        outbound_shipping: { amount: 1_000, currency: 'CNY' },
        shipped_free: false,
        signed_at: new Date(Date.now() - DAY).toISOString(),
        reason: 'no_reason',
        shipping_insurance: true,
      },
    },
  });
  await deliver('buyer.kept_return', 'kept', {});
  await waitUntilWaitingFor(casebook, agent, 'wait_tracking');
  await deliver('warehouse.received', 'receipt-0', { condition: 'resellable' });
  await waitUntilWaitingFor(casebook, agent, 'chase_tracking');

  const connection = await Connection.connect({ address: casebook.temporalAddress });
  try {
    const handle = new Client({ connection }).workflow.getHandle(workflowIdFor(CASE_ID));
    const historyLength = async () => (await handle.fetchHistory()).events?.length ?? 0;
    // Each receipt adds about 5 events; the tracking number and the refund that follow add about 30.
    for (let receipt = 1; (await historyLength()) < targetEvents - 30; receipt++) {
      for (let i = 0; i < 10; i++) await deliver('warehouse.received', `receipt-${receipt}-${i}`, { condition: 'resellable' });
    }
    await deliver('buyer.shipped', 'tracking', { tracking_number: 'SF-LONG' });
    await handle.result();
    const history = await handle.fetchHistory();
    // Self-contained: the bench replays it without Casebook's database (decision 0018).
    const pool = composePool(casebook.databaseUrl, 1);
    try {
      await withPlansInline(history, planReferencesIn(pool));
    } finally {
      await pool.end();
    }
    writeHistory(LONG_HISTORY, history);
    return history.events?.length ?? 0;
  } finally {
    await connection.close();
  }
}

const casebook = await startCasebook('replay-record', PORTS);
try {
  const events = await record(casebook);
  console.log(`${LONG_HISTORY}: ${events} events`);
} finally {
  await casebook.stop();
}
