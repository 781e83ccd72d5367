/**
 * The ops lead's figures (src/store/figures.ts) over a year of 20,000 cases: each figure's query for a
 * week and for the whole year, with the indexes of migration 310 and then, in the same run, without
 * them (the baseline: the same SQL on the tables as they were before), and the ratio.
 * Run: npx tsx bench/figures.bench.ts [--runs 15]. Writes bench/results/figures.json.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import pg from 'pg';
import {
  casesPerDay,
  escalationCounts,
  refundsAfterReceipt,
  returnAndExchangeReasons,
  reviewRecovery,
  slaBreaches,
  unpaidOrderReminders,
  type FigureFilter,
} from '../src/store/figures.js';
import type { Queryable } from '../src/store/transaction.js';
import { seedYearOfCases } from '../test/support/figure-year.js';
import { REPOSITORY, startCasebook } from './support/casebook.js';
import { writeResult } from './support/results.js';
import { distribution, roundTo, type Distribution } from './support/stats.js';

const PORTS = { api: 3970, temporal: 7970, temporalUi: 7971, temporalHttp: 7972, temporalMetrics: 7973, postgres: 5497 };
const WARM_UP_RUNS = 3;
const { values } = parseArgs({ options: { runs: { type: 'string', default: '15' } } });
const runs = Number(values.runs);

const AS_OF = new Date('2026-11-25T00:00:00+08:00');
const RANGES: Record<string, FigureFilter> = {
  week: { from: '2026-06-01', to: '2026-06-08', timeZone: 'Asia/Shanghai', playbook: null, shop: null },
  year: { from: '2025-11-25', to: '2026-11-25', timeZone: 'Asia/Shanghai', playbook: null, shop: null },
};
const FIGURES: Record<string, (db: Queryable, filter: FigureFilter) => Promise<unknown>> = {
  returnAndExchangeReasons,
  refundsAfterReceipt: (db, filter) => refundsAfterReceipt(db, filter, AS_OF),
  unpaidOrderReminders,
  reviewRecovery,
  slaBreaches,
  escalationCounts,
  casesPerDay,
};

/** Migration 310's own indexes, as it creates them (the baseline drops them, then they are made again). */
const FIGURE_INDEXES = [...readFileSync(`${REPOSITORY}migrations/310_figures.sql`, 'utf8').matchAll(/^CREATE INDEX (\w+) ON [^;]+;/gm)].map((match) => ({
  name: match[1]!,
  create: match[0],
}));

async function timed(db: Queryable, figure: (db: Queryable, filter: FigureFilter) => Promise<unknown>, filter: FigureFilter): Promise<Distribution> {
  for (let i = 0; i < WARM_UP_RUNS; i += 1) await figure(db, filter);
  const times: number[] = [];
  for (let i = 0; i < runs; i += 1) {
    const started = performance.now();
    await figure(db, filter);
    times.push(performance.now() - started);
  }
  return distribution(times, 2);
}

async function measureAll(db: Queryable): Promise<Record<string, Record<string, Distribution>>> {
  const figures: Record<string, Record<string, Distribution>> = {};
  for (const [range, filter] of Object.entries(RANGES)) {
    figures[range] = {};
    for (const [name, figure] of Object.entries(FIGURES)) figures[range]![name] = await timed(db, figure, filter);
  }
  return figures;
}

const casebook = await startCasebook('figures', PORTS);
const app = new pg.Pool({ connectionString: casebook.databaseUrl, max: 1 });
const owner = new pg.Pool({ connectionString: casebook.ownerDatabaseUrl, max: 1 });
try {
  const seeding = performance.now();
  await seedYearOfCases(app, casebook.ownerDatabaseUrl);
  console.log(`seeded a year of 20,000 cases in ${Math.round(performance.now() - seeding)} ms`);
  const indexed = await measureAll(app);
  for (const index of FIGURE_INDEXES) await owner.query(`DROP INDEX ${index.name}`);
  await owner.query('ANALYZE');
  const baseline = await measureAll(app);
  for (const index of FIGURE_INDEXES) await owner.query(index.create);
  await owner.query('ANALYZE');

  const ratios = Object.fromEntries(
    Object.entries(indexed).map(([range, byFigure]) => [
      range,
      Object.fromEntries(Object.entries(byFigure).map(([name, d]) => [name, roundTo(baseline[range]![name]!.p50 / d.p50, 2)])),
    ]),
  );
  const p50s = (figures: Record<string, Record<string, Distribution>>) =>
    Object.fromEntries(
      Object.entries(figures).map(([range, byFigure]) => [range, Object.fromEntries(Object.entries(byFigure).map(([name, d]) => [name, d.p50]))]),
    );
  writeResult(
    'figures',
    "The figures over a year of 20,000 cases, with migration 310's indexes and without them (ms; ratio = without / with, at p50)",
    {
      cases: 20_000,
      runs,
      warmUpRuns: WARM_UP_RUNS,
      ranges: RANGES,
      droppedForBaseline: FIGURE_INDEXES.map((index) => index.name),
    },
    { p50MsWithIndexes: p50s(indexed), p50MsWithoutIndexes: p50s(baseline), speedUpAtP50: ratios, withIndexes: indexed, withoutIndexes: baseline },
  );
} finally {
  await app.end();
  await owner.end();
  await casebook.stop();
}
