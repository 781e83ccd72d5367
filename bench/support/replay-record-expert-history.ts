/**
 * Records bench/fixtures/expert-long.history, the replay benchmark's anchor: the expert's hand-written
 * return (bench/handwritten/workflows.ts) with a history as long as return-long.history and of the same
 * shape. While the case waits for the buyer's shipment it keeps accepting `buyer.gave_account` with new
 * ids, each an Update the wait does not take (as Casebook's long history keeps early receipts); at
 * `--events` events (default 1000, less the end's) the parcel is shipped and received, and the case ends
 * refunded.
 * Run: npx tsx bench/support/replay-record-expert-history.ts [--events 1000]
 */
import { parseArgs } from 'node:util';
import { composePool } from '../../src/stack/compose.js';
import type { ReturnData } from '../handwritten/contract.js';
import { connectClient, handwrittenWorkflowId, openHandwrittenCase, sendHandwrittenEvent, startHandwrittenWorker } from '../handwritten/process.js';
import { startCasebook } from './casebook.js';
import { EXPERT_LONG_HISTORY, writeHistory } from './replay-histories.js';
import { keptReturn, qualityReturnData, received, shipped } from './return-cases.js';

const PORTS = { api: 3950, temporal: 7950, temporalUi: 7951, temporalHttp: 7952, temporalMetrics: 7953, postgres: 5495 };
const CASE_ID = 'expert-long-history';
/** What shipping, receipt, the refunds, remark, message and the end add (measured). */
const END_EVENTS = 18;

const { values } = parseArgs({ options: { events: { type: 'string', default: '1000' } } });
const targetEvents = Number(values.events);
if (!Number.isInteger(targetEvents) || targetEvents < 100) throw new Error(`--events must be a whole number of at least 100, not ${values.events}`);

const casebook = await startCasebook('replay-record-expert', PORTS);
try {
  const worker = await startHandwrittenWorker(casebook);
  const pool = composePool(casebook.databaseUrl, 2);
  const client = await connectClient(casebook);
  try {
    await openHandwrittenCase(pool, client, 'expert', CASE_ID, qualityReturnData(`order-${CASE_ID}`) as unknown as ReturnData);
    await sendHandwrittenEvent(client, 'expert', CASE_ID, keptReturn(CASE_ID));
    const handle = client.workflow.getHandle(handwrittenWorkflowId('expert', CASE_ID));
    const historyLength = async () => (await handle.fetchHistory()).events?.length ?? 0;
    for (let n = 0; (await historyLength()) < targetEvents - END_EVENTS; n++) {
      await sendHandwrittenEvent(client, 'expert', CASE_ID, {
        type: 'buyer.gave_account',
        id: `account-${n}`,
        payload: { account: 'alipay:li.lei@example.com' },
      });
    }
    await sendHandwrittenEvent(client, 'expert', CASE_ID, shipped(CASE_ID));
    await sendHandwrittenEvent(client, 'expert', CASE_ID, received(CASE_ID));
    const result = await handle.result();
    if (result.outcome !== 'resolved') throw new Error(`the expert's case ended ${result.outcome} (${result.reason}), not resolved`);
    const history = await handle.fetchHistory();
    writeHistory(EXPERT_LONG_HISTORY, history);
    console.log(`${EXPERT_LONG_HISTORY}: ${history.events?.length ?? 0} events`);
  } finally {
    await client.connection.close();
    await pool.end();
    await worker.stop(30_000);
  }
} finally {
  await casebook.stop();
}
