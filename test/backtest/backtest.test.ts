/**
 * Backtests: return cases run to their end on a "live" stack (its own database and time-skipping
 * server) and archived, then re-run on a scratch stack. The playbook against itself changes nothing; a
 * version with a 2-day window refuses exactly the returns signed for 4 days before they were opened,
 * and says the refund money that would not have gone out and the events it no longer takes; the live
 * database's cases and side effects are untouched, only the kept report is added.
 * 50 archived cases, as issue 25 asks; BACKTEST_CASES=<n> measures another size by hand.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { keptBacktest, keptBacktestNamed, runBacktest, type BacktestReport } from '../../src/backtest/run.js';
import { recordedCase } from '../../src/backtest/recorded.js';
import { HistoryArchiver } from '../../src/cases/archive.js';
import { formatReport, parseBacktestArgs, run as backtestCommand } from '../../src/cli/commands/backtest.js';
import { LOCAL_CONNECTORS } from '../../src/connectors/config.js';
import { workflowIdFor } from '../../src/plan/case.js';
import { validatePlaybook } from '../../src/playbook/index.js';
import { untilDeliveryInstant } from '../../src/scenarios/timer-guard.js';
import { composeBacktestRunner, composeScenarioStack, type ScenarioStack } from '../../src/stack/compose.js';
import { archivedRuns } from '../../src/store/case-archive.js';
import { backtestCaseResults } from '../../src/store/backtests.js';
import { compileStandardPlaybook, openCase, playbookPath, publishStandardPlaybook, STANDARD_CALENDARS } from '../support/playbooks.js';
import { useApi } from '../support/api.js';
import { useRuntime } from '../support/runtime.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const CASES = Number(process.env.BACKTEST_CASES ?? 50);
/** Signed for 4 days before the case opened: inside the 7-day window, outside a 2-day one. */
const signedDaysBefore = (i: number) => (i % 3 === 0 ? 4 : 1);
const late = [...Array(CASES).keys()].filter((i) => signedDaysBefore(i) === 4).map((i) => `bt-${i}`);

const live = useRuntime(async ({ db }) => {
  await publishStandardPlaybook(db.pool, 'return');
});
const http = useApi(live, { lead: ['ops-lead', 'Zhao, ops lead'], agent: ['agent', 'Lei, after-sale'] });
let scratch: ScenarioStack;
let running: Promise<void> | undefined;

/** Counts of the live database's cases and what they did, to show a backtest adds none. */
async function liveCounts(): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const table of [
    'cases',
    'refunds',
    'outbox_messages',
    'escalations',
    'case_events',
    'event_inbox',
    'audit_events',
    'order_notes',
    'playbook_versions',
  ]) {
    counts[table] = Number((await live.db.pool.query(`SELECT count(*) AS n FROM ${table}`)).rows[0].n);
  }
  return counts;
}

beforeAll(async () => {
  scratch = await composeScenarioStack(LOCAL_CONNECTORS, (chosen) => chosen);
  running = scratch.worker.run();
  const archiver = new HistoryArchiver(live.env.client, live.db.pool);
  for (let i = 0; i < CASES; i++) {
    const caseId = `bt-${i}`;
    const openedAt = await live.env.currentTimeMs();
    await openCase(live.service, {
      caseId,
      playbook: 'return',
      openedBy: 'Lei, after-sale',
      data: {
        order_id: `TB-BT-${i}`,
        buyer_name: 'Li',
        order_total: { amount: 19900, currency: 'CNY' },
        outbound_shipping: { amount: 1000, currency: 'CNY' },
        shipped_free: false,
        signed_at: new Date(openedAt - signedDaysBefore(i) * DAY).toISOString(),
        reason: 'changed_mind',
        shipping_insurance: false,
      },
    });
    const handle = live.env.client.workflow.getHandle(workflowIdFor(caseId));
    await untilDeliveryInstant(live.env, handle, openedAt + HOUR / 2);
    expect((await live.inbox.deliverEvent(caseId, { type: 'buyer.kept_return', id: `kept-${i}`, payload: {} })).status).toBe('accepted');
    await untilDeliveryInstant(live.env, handle, openedAt + DAY);
    const received = { type: 'warehouse.received', id: `received-${i}`, payload: { condition: 'resellable' } };
    expect((await live.inbox.deliverEvent(caseId, received)).status).toBe('accepted');
    expect(await handle.result()).toMatchObject({ outcome: 'resolved', reason: 'refunded' });
    expect(await archiver.archiveCase(caseId)).toBe(1);
  }
}, 300_000);

afterAll(async () => {
  scratch?.worker.shutdown();
  await running;
  await scratch?.close();
});

describe('backtest', () => {
  it('reads a case back from its archived history: its opening data, its events at their offsets', async () => {
    const runs = await archivedRuns(live.db.pool, 'bt-0');
    const recorded = recordedCase(runs.map((run) => run.history))!;
    expect(recorded.openedBy).toBe('Lei, after-sale');
    expect(recorded.data.order_id).toBe('TB-BT-0');
    expect(recorded.inputs.map((input) => (input.kind === 'event' ? input.event.type : 'cancel'))).toEqual(['buyer.kept_return', 'warehouse.received']);
    // The offsets are the workflow's, within the second the update took.
    expect(Math.abs(recorded.inputs[0]!.atMs - HOUR / 2)).toBeLessThan(2_000);
    expect(Math.abs(recorded.inputs[1]!.atMs - DAY)).toBeLessThan(2_000);
  });

  it('a playbook against itself changes nothing on the archived cases, and nothing reaches the live database', async () => {
    const before = await liveCounts();
    const progress: string[] = [];
    const { plan } = compileStandardPlaybook('return');
    const { id, report } = await keptBacktest(live.db.pool, scratch, plan, { limit: CASES }, 'test', (done, total) => progress.push(`${done}/${total}`));
    expect(report.totals).toMatchObject({
      cases: CASES,
      rerun: CASES,
      skipped: 0,
      notReproduced: 0,
      changed: 0,
      outcomesChanged: 0,
      moneyDifference: 0,
      refusedEvents: 0,
    });
    expect(report.totals.refundsBefore).toBe(CASES);
    expect(report.totals.refundedBefore).toBe(CASES * 18900);
    for (const c of report.cases) {
      expect(c.changes).toEqual([]);
      expect(c.before).toEqual(c.after);
      expect(c.before).toMatchObject({
        outcome: 'resolved',
        reason: 'refunded',
        refunds: [18900],
        messages: ['offer_exchange', 'return_address', 'refund_sent'],
        deadlinesMissed: [],
      });
    }
    expect(progress.at(-1)).toBe(`${CASES}/${CASES}`);
    expect(await liveCounts()).toEqual(before);
    const kept = await keptBacktestNamed(live.db.pool, id);
    expect(kept).toMatchObject({ status: 'done', done: CASES, total: CASES, playbook: 'return', planHash: plan.hash });
    // The playbook's current version is the baseline; the candidate is that very version.
    expect(kept).toMatchObject({ baseline: { version: 1, hash: plan.hash }, candidateVersion: 1 });
    expect(report).toMatchObject({ baseline: { version: 1, hash: plan.hash }, candidateVersion: 1 });
    expect((kept!.report as BacktestReport).totals.changed).toBe(0);
    const read = await http.api.inject({ url: `/v1/backtests/${id}`, headers: { authorization: `Bearer ${http.keys.lead}` } });
    expect(read.statusCode).toBe(200);
    expect(read.json()).toMatchObject({
      id,
      status: 'done',
      done: CASES,
      total: CASES,
      baseline: { version: 1, hash: plan.hash },
      candidateHash: plan.hash,
      candidateVersion: 1,
      report: { totals: { changed: 0, cases: CASES, messagesByTemplate: { refund_sent: { before: CASES, after: CASES } } } },
    });
    const agent = await http.api.inject({ url: `/v1/backtests/${id}`, headers: { authorization: `Bearer ${http.keys.agent}` } });
    expect(agent.statusCode).toBe(403);
    const unknown = await http.api.inject({ url: `/v1/backtests/${randomUUID()}`, headers: { authorization: `Bearer ${http.keys.lead}` } });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().type).toBe('https://casebook.dev/problems/unknown-backtest');
  }, 300_000);

  it('a 2-day window refuses exactly the returns signed for 4 days before, and says the refunds that would not go out', async () => {
    const source = readFileSync(playbookPath('return'), 'utf8').replace('return_window: 7d', 'return_window: 2d');
    const candidate = validatePlaybook(source, playbookPath('return'), { calendars: STANDARD_CALENDARS }).plan!;
    const before = await liveCounts();
    const report = await runBacktest(live.db.pool, scratch, candidate, { limit: CASES });
    const changed = report.cases.filter((c) => c.changes.length > 0);
    expect(changed.map((c) => c.caseId)).toEqual(late);
    for (const c of changed) {
      expect(c.after).toEqual({
        outcome: 'refused',
        reason: 'outside_return_window',
        refunds: [],
        refunded: 0,
        escalations: [],
        messages: ['refused_window'],
        deadlinesMissed: [],
      });
      expect(c.refusedEvents.map((r) => [r.event, r.before, r.after])).toEqual([
        ['buyer.kept_return', 'accepted', 'closed'],
        ['warehouse.received', 'accepted', 'closed'],
      ]);
      expect(c.changes[0]).toBe('outcome resolved (refunded) becomes refused (outside_return_window)');
    }
    expect(report.totals).toMatchObject({
      notReproduced: 0,
      changed: late.length,
      outcomesChanged: late.length,
      refundsBefore: CASES,
      refundsAfter: CASES - late.length,
      moneyDifference: -18900 * late.length,
      refusedEvents: 2 * late.length,
      messagesByTemplate: {
        offer_exchange: { before: CASES, after: CASES - late.length },
        refund_sent: { before: CASES, after: CASES - late.length },
        refused_window: { before: 0, after: late.length },
        return_address: { before: CASES, after: CASES - late.length },
      },
    });
    // The 2-day text is not published: compared with the current version 1.
    expect(report).toMatchObject({ baseline: { version: 1, hash: compileStandardPlaybook('return').plan.hash }, candidateVersion: null });
    const money = (minor: number) => (minor / 100).toFixed(2);
    expect(formatReport(report, 'x')).toContain(
      `refunds: ${CASES} → ${CASES - late.length}, refunded ${money(CASES * 18900)} → ${money((CASES - late.length) * 18900)} CNY (-${money(late.length * 18900)} CNY)`,
    );
    expect(await liveCounts()).toEqual(before);
  }, 300_000);

  it('casebook backtest re-runs the archive on its own scratch stack, with a progress line, and keeps the report', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const stdout = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => out.push(String(chunk)) > 0);
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => err.push(String(chunk)) > 0);
    let code: number;
    try {
      code = await backtestCommand([playbookPath('return'), '--limit', '3', '--cases', 'reason=refunded&breached=false', '--json'], {
        DATABASE_URL: live.db.url,
      });
    } finally {
      stdout.mockRestore();
      stderr.mockRestore();
    }
    expect(err.join('')).toContain('backtest: 3/3 cases re-run, 0 would change');
    expect(code).toBe(0);
    const report = JSON.parse(out.join('')) as BacktestReport & { id: string };
    expect(report.cases.map((c) => c.caseId)).toEqual(['bt-0', 'bt-1', 'bt-2']);
    expect(report.options.cases).toEqual({ reason: 'refunded', breached: 'false' });
    expect(report.totals).toMatchObject({ cases: 3, changed: 0, refundedBefore: 3 * 18900, moneyDifference: 0 });
    expect(await keptBacktestNamed(live.db.pool, report.id)).toMatchObject({ status: 'done', done: 3, total: 3 });
  }, 300_000);

  it('a 10-minute exchange offer misses the answers given at 30 minutes: the timeouts taken and the answers no longer taken are reported', async () => {
    const source = readFileSync(playbookPath('return'), 'utf8').replace('exchange_offer_within: 4h', 'exchange_offer_within: 10m');
    expect(source).toContain('exchange_offer_within: 10m');
    const candidate = validatePlaybook(source, playbookPath('return'), { calendars: STANDARD_CALENDARS }).plan!;
    const report = await runBacktest(live.db.pool, scratch, candidate, { limit: 2 });
    expect(report.cases.map((c) => c.caseId)).toEqual(['bt-0', 'bt-1']);
    for (const c of report.cases) {
      expect(c.before!.deadlinesMissed).toEqual([]);
      expect(c.after!.deadlinesMissed).toEqual(['timeout wait_exchange_answer']);
      // The return goes ahead without the answer: same outcome and refund, the answer itself is refused.
      expect(c.after).toMatchObject({ outcome: 'resolved', reason: 'refunded', refunds: [18900] });
      expect(c.refusedEvents.map((r) => [r.event, r.before, r.after])).toEqual([['buyer.kept_return', 'accepted', 'refused']]);
      expect(c.changes).toContain('deadlines missed [] become ["timeout wait_exchange_answer"]');
    }
    expect(report.totals).toMatchObject({
      changed: 2,
      outcomesChanged: 0,
      moneyDifference: 0,
      deadlinesMissedBefore: 0,
      deadlinesMissedAfter: 2,
      refusedEvents: 2,
    });
    expect(formatReport(report, 'x')).toContain('deadlines missed: 0 → 2; events the new version no longer takes: 2');
  }, 300_000);

  it('--cases takes the closed cases the case list filters select', async () => {
    const { plan } = compileStandardPlaybook('return');
    const one = await runBacktest(live.db.pool, scratch, plan, { limit: CASES, cases: { orderId: 'TB-BT-2' } });
    expect(one.cases.map((c) => c.caseId)).toEqual(['bt-2']);
    expect(one.options.cases).toEqual({ orderId: 'TB-BT-2' });
    const none = await runBacktest(live.db.pool, scratch, plan, { limit: CASES, cases: { outcome: 'refused' } });
    expect(none.totals.cases).toBe(0);
    const otherVersion = await runBacktest(live.db.pool, scratch, plan, { limit: CASES, cases: { version: 2 } });
    expect(otherVersion.totals.cases).toBe(0);
    const notBreached = await runBacktest(live.db.pool, scratch, plan, { limit: 2, cases: { breached: 'false', reason: 'refunded' } });
    expect(notBreached.cases.map((c) => c.caseId)).toEqual(['bt-0', 'bt-1']);
  }, 300_000);

  it('a backtest stopped by a restart resumes with the cases not yet re-run, keeping those done', async () => {
    const { plan } = compileStandardPlaybook('return');
    const first = composeBacktestRunner(live.db.pool);
    const id = await first.start(plan, { limit: 4 }, 'Zhao, ops lead');
    const deadline = Date.now() + 120_000;
    while ((await keptBacktestNamed(live.db.pool, id))!.done < 1 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    await first.close();
    const stopped = (await keptBacktestNamed(live.db.pool, id))!;
    expect(stopped.status).toBe('running');
    expect(stopped.done).toBeGreaterThanOrEqual(1);
    expect(stopped.done).toBeLessThan(4);
    const kept = (await backtestCaseResults(live.db.pool, id)).filter((c) => c.result !== null);
    expect(kept).toHaveLength(stopped.done);

    const resumed = composeBacktestRunner(live.db.pool);
    await resumed.resume();
    while ((await keptBacktestNamed(live.db.pool, id))!.status === 'running' && Date.now() < deadline + 120_000) {
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    await resumed.close();
    const done = (await keptBacktestNamed(live.db.pool, id))!;
    expect(done).toMatchObject({ status: 'done', done: 4, total: 4 });
    const report = done.report as BacktestReport;
    expect(report.cases.map((c) => c.caseId)).toEqual(['bt-0', 'bt-1', 'bt-2', 'bt-3']);
    expect(report.totals).toMatchObject({ cases: 4, rerun: 4, changed: 0 });
    // The cases re-run before the stop were not re-run again.
    const after = await backtestCaseResults(live.db.pool, id);
    for (const before of kept) expect(after.find((c) => c.caseId === before.caseId)!.at).toBe(before.at);
  }, 400_000);

  it('casebook backtest says what is wrong with its arguments', () => {
    expect(parseBacktestArgs(['return.yaml', '--since', '2026-11-01', '--limit', '50'])).toEqual({
      file: 'return.yaml',
      options: { limit: 50, since: '2026-11-01' },
      json: false,
    });
    expect(parseBacktestArgs(['return.yaml', '--limit', '0'])).toEqual({ problem: '--limit takes a whole number of cases, 1 to 10000' });
    expect(parseBacktestArgs(['return.yaml', '--until', '11/11'])).toEqual({ problem: '--until takes a date, YYYY-MM-DD (or an ISO instant)' });
    expect(parseBacktestArgs([])).toEqual({ problem: 'name the playbook file to backtest' });
    expect(parseBacktestArgs(['return.yaml', '--cases', 'outcome=resolved&breached=true&openedFrom=2026-11-01&version=2'])).toEqual({
      file: 'return.yaml',
      options: { limit: 100, cases: { outcome: 'resolved', breached: 'true', openedFrom: '2026-11-01T00:00:00Z', version: 2 } },
      json: false,
    });
    expect(parseBacktestArgs(['return.yaml', '--cases', 'status=open'])).toEqual({
      problem: "--cases: status: the playbook is the file's, and a backtest takes closed cases",
    });
    expect(parseBacktestArgs(['return.yaml', '--cases', 'breached=maybe'])).toEqual({ problem: '--cases: breached is true or false' });
    expect(parseBacktestArgs(['return.yaml', '--cases', 'openedTo=2026-02-30'])).toEqual({
      problem: '--cases: openedTo names a day that does not exist (2026-02-30)',
    });
    expect(parseBacktestArgs(['return.yaml', '--cases', 'colour=red'])).toMatchObject({ problem: expect.stringContaining('colour is not a filter') });
    expect(parseBacktestArgs(['return.yaml', '--cases'])).toEqual({ problem: '--cases: give at least one filter, such as outcome=resolved' });
  });
});
