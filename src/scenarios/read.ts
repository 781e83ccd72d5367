/** Reading a scenario file (`*.test.yaml`): its shape, and where each expectation is written. Pure. */
import scenarioSchema from '../../schemas/scenario.schema.json' with { type: 'json' };
import type { Diagnostic } from '../playbook/diagnostics.js';
import { parseDuration } from '../plan/duration.js';
import { shapeChecker } from '../playbook/schema-check.js';
import { readPlaybook, type PlaybookSource, type Span } from '../playbook/source.js';
import type { ScenarioFaults } from './faults.js';

const checkScenarioShape = shapeChecker(scenarioSchema);

export interface TimelineEntry {
  atMs: number;
  /** The event's type; `cancel` for a cancel. */
  event: string;
  /** A person's cancel with this reason, instead of an event. */
  cancel?: string;
  id: string;
  payload: Record<string, unknown>;
  expect: 'accepted' | 'duplicate' | 'refused' | 'invalid' | 'closed';
  span: Span;
}

export interface Expectations {
  outcome: string;
  reason?: string;
  messages?: string[];
  refunds?: number[];
  escalations?: string[];
  calls?: string[];
  /** Texts the order remarks written must contain, in order. */
  remarks?: string[];
  /** The human tasks opened, in order, as `<step>: <outcome>` or `<step>: sla breached`. */
  tasks?: string[];
}

/** What the buyer advanced for the case's order, recorded as the warehouse would once the case is open. */
export interface ScenarioAdvance {
  amount: number;
  evidence: string;
}

export interface Scenario {
  name: string;
  data: Record<string, unknown>;
  advances: ScenarioAdvance[];
  timeline: TimelineEntry[];
  expect: Expectations;
  faults: ScenarioFaults;
  /** What integration operations answer, by `integration.operation` (relative times not yet resolved). */
  answers: Record<string, unknown>;
  /** Who opens the case (an API key's name): the playbook reads it as `opened_by`. */
  openedBy: string;
  /** When the case opens, in the playbook's time zone (src/scenarios/opens-at.ts has the forms), if given. */
  opensAt?: string;
  /** Policy values that replace the playbook's for this scenario. */
  policy: Record<string, unknown>;
  /** Where each expectation (and the scenario itself, under `name`) is written. */
  spans: Record<string, Span>;
}

export interface ScenarioFile {
  file: string;
  playbook: string;
  scenarios: Scenario[];
}

interface RawScenario {
  name: string;
  data: Record<string, unknown>;
  advances?: ScenarioAdvance[];
  timeline?: { at: string; event?: string; cancel?: string; id?: string; payload?: Record<string, unknown>; expect?: TimelineEntry['expect'] }[];
  expect: Expectations;
  faults?: ScenarioFaults;
  answers?: Record<string, unknown>;
  opened_by?: string;
  opens_at?: string;
  policy?: Record<string, unknown>;
}

/** Who opens a scenario's case when the scenario does not say. */
export const DEFAULT_OPENED_BY = 'scenario agent';

export function readScenarioFile(input: string | Uint8Array, file: string): { scenarioFile?: ScenarioFile; diagnostics: Diagnostic[] } {
  const read = readPlaybook(input, file);
  if (!read.source) return { diagnostics: read.diagnostics };
  const shape = checkScenarioShape(read.source);
  if (shape.length > 0) return { diagnostics: shape };
  const source: PlaybookSource = read.source;
  const raw = source.value as { playbook: string; scenarios: RawScenario[] };
  const scenarios = raw.scenarios.map((scenario, index): Scenario => {
    const base = ['scenarios', index];
    const spans: Record<string, Span> = { name: source.locate([...base, 'name']) };
    for (const key of Object.keys(scenario.expect)) spans[key] = source.locate([...base, 'expect', key], { key: true });
    for (const key of Object.keys(scenario.policy ?? {})) spans[`policy.${key}`] = source.locate([...base, 'policy', key], { key: true });
    if (scenario.opens_at) spans.opensAt = source.locate([...base, 'opens_at']);
    return {
      name: scenario.name,
      data: scenario.data,
      advances: scenario.advances ?? [],
      timeline: (scenario.timeline ?? []).map((entry, i) => ({
        atMs: parseDuration(entry.at)!,
        event: entry.event ?? 'cancel',
        ...(entry.cancel !== undefined ? { cancel: entry.cancel } : {}),
        id: entry.id ?? `${entry.event ?? 'cancel'}#${i + 1}`,
        payload: entry.payload ?? {},
        expect: entry.expect ?? 'accepted',
        span: source.locate([...base, 'timeline', i, entry.cancel !== undefined ? 'cancel' : 'event']),
      })),
      expect: scenario.expect,
      faults: scenario.faults ?? {},
      answers: scenario.answers ?? {},
      openedBy: scenario.opened_by ?? DEFAULT_OPENED_BY,
      ...(scenario.opens_at ? { opensAt: scenario.opens_at } : {}),
      policy: scenario.policy ?? {},
      spans,
    };
  });
  return { scenarioFile: { file, playbook: raw.playbook, scenarios }, diagnostics: [] };
}

const RELATIVE_TIME = /^now(?:([+-])((?:[0-9]+[dhms])+))?$/;

/** Replaces `now`, `now-2d`, `now+1h` strings in case data (or integration answers) by timestamps relative to `openedAt`. */
export function resolveRelativeTimes(value: unknown, openedAt: number): unknown {
  if (typeof value === 'string') {
    const match = RELATIVE_TIME.exec(value);
    if (!match) return value;
    const offset = match[2] ? parseDuration(match[2])! : 0;
    return new Date(openedAt + (match[1] === '-' ? -offset : offset)).toISOString();
  }
  if (Array.isArray(value)) return value.map((v) => resolveRelativeTimes(v, openedAt));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolveRelativeTimes(v, openedAt)]));
  }
  return value;
}
