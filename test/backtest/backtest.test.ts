/**
 * Backtests: return cases run to their end on a "live" stack (its own database and time-skipping
 * server) and archived, then re-run on a scratch stack. The playbook against itself changes nothing; a
 * version with a 2-day window refuses exactly the returns signed for 4 days before they were opened,
 * and says the refund money that would not have gone out and the events it no longer takes; the live
 * database's cases and side effects are untouched, only the kept report is added.
 * BACKTEST_CASES=50 measures a bigger archive by hand (the default keeps the test quick).
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
import { composeScenarioStack, type ScenarioStack } from '../../src/stack/compose.js';
import { archivedRuns } from '../../src/store/case-archive.js';
import { compileStandardPlaybook, openCase, playbookPath, publishStandardPlaybook, STANDARD_CALENDARS } from '../support/playbooks.js';
import { useApi } from '../support/api.js';
import { useRuntime } from '../support/runtime.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const CASES = Number(process.env.BACKTEST_CASES ?? 10);
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
      });
    }
    expect(progress.at(-1)).toBe(`${CASES}/${CASES}`);
    expect(await liveCounts()).toEqual(before);
    const kept = await keptBacktestNamed(live.db.pool, id);
    expect(kept).toMatchObject({ status: 'done', done: CASES, total: CASES, playbook: 'return', planHash: plan.hash });
    expect((kept!.report as BacktestReport).totals.changed).toBe(0);
    const read = await http.api.inject({ url: `/v1/backtests/${id}`, headers: { authorization: `Bearer ${http.keys.lead}` } });
    expect(read.statusCode).toBe(200);
    expect(read.json()).toMatchObject({ id, status: 'done', done: CASES, total: CASES, report: { totals: { changed: 0, cases: CASES } } });
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
    });
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
      code = await backtestCommand([playbookPath('return'), '--limit', '3', '--json'], { DATABASE_URL: live.db.url });
    } finally {
      stdout.mockRestore();
      stderr.mockRestore();
    }
    expect(err.join('')).toContain('backtest: 3/3 cases re-run, 0 would change');
    expect(code).toBe(0);
    const report = JSON.parse(out.join('')) as BacktestReport & { id: string };
    expect(report.cases.map((c) => c.caseId)).toEqual(['bt-0', 'bt-1', 'bt-2']);
    expect(report.totals).toMatchObject({ cases: 3, changed: 0, refundedBefore: 3 * 18900, moneyDifference: 0 });
    expect(await keptBacktestNamed(live.db.pool, report.id)).toMatchObject({ status: 'done', done: 3, total: 3 });
  }, 300_000);

  it('casebook backtest says what is wrong with its arguments', () => {
    expect(parseBacktestArgs(['return.yaml', '--since', '2026-11-01', '--limit', '50'])).toEqual({
      file: 'return.yaml',
      options: { limit: 50, since: '2026-11-01' },
      json: false,
    });
    expect(parseBacktestArgs(['return.yaml', '--limit', '0'])).toEqual({ problem: '--limit takes a whole number of cases, 1 to 10000' });
    expect(parseBacktestArgs(['return.yaml', '--until', '11/11'])).toEqual({ problem: '--until takes a date, YYYY-MM-DD (or an ISO instant)' });
    expect(parseBacktestArgs([])).toEqual({ problem: 'name the playbook file to backtest' });
  });
});
