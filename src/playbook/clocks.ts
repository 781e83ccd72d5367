/** `clocks:`, SLAs over several steps that pause (src/plan/clocks.ts): checked and compiled. Pure. */
import type { ClockSpec } from '../plan/clocks.js';
import type { Severity } from '../plan/plan.js';
import type { Declarations } from '../plan/steps/kind.js';
import { CASE_OPENED } from '../plan/steps/index.js';
import type { Reporter } from './diagnostics.js';
import { hintFor } from './hints.js';
import { span } from './steps.js';

export interface RawClock {
  within: string;
  starts?: string;
  paused_while?: string[];
  stops_at?: string[];
  on_breach: { escalate: string; severity?: Severity; reason: string };
}

export function compileClocks(
  raw: Record<string, RawClock> | undefined,
  stepIds: string[],
  declarations: Declarations,
  report: Reporter,
): Record<string, ClockSpec> | undefined {
  if (!raw || Object.keys(raw).length === 0) return undefined;
  const clocks: Record<string, ClockSpec> = {};
  for (const [name, clock] of Object.entries(raw)) {
    const path = ['clocks', name];
    const steps = (key: 'paused_while' | 'stops_at') =>
      (clock[key] ?? []).filter((stepId, i) => {
        if (stepIds.includes(stepId)) return true;
        report.error('PB140', `clock '${name}' names step '${stepId}', which the playbook does not have`, [...path, key, i], {
          hint: hintFor(stepId, stepIds, 'name a step id of this playbook'),
        });
        return false;
      });
    const starts = clock.starts ?? CASE_OPENED;
    if (starts !== CASE_OPENED && !declarations.events[starts]) {
      report.error('PB141', `clock '${name}' starts at '${starts}', which is neither a declared event nor ${CASE_OPENED}`, [...path, 'starts'], {
        hint: hintFor(starts, Object.keys(declarations.events), 'name the event whose arrival starts the clock'),
      });
    }
    const pausedWhile = steps('paused_while');
    const stopsAt = steps('stops_at');
    const both = pausedWhile.find((stepId) => stopsAt.includes(stepId));
    if (both) report.error('PB142', `clock '${name}' both pauses and stops at step '${both}'`, [...path, 'stops_at', stopsAt.indexOf(both)]);
    const within = span(clock.within, [...path, 'within'], declarations, report);
    if (typeof within === 'object' && within.business === 'days') {
      report.error(
        'PB143',
        `clock '${name}' counts ${clock.within}: a clock counts business minutes or hours, which it can pause and resume`,
        [...path, 'within'],
        { hint: `e.g. ${within.amount * 8} business hours` },
      );
    }
    clocks[name] = {
      withinMs: typeof within === 'number' ? within : within ? within.amount * (within.business === 'hours' ? 3_600_000 : 60_000) : 0,
      ...(typeof within === 'object' ? { business: within } : {}),
      starts,
      pausedWhile,
      stopsAt,
      breach: { queue: clock.on_breach.escalate, severity: clock.on_breach.severity ?? 'high', reason: clock.on_breach.reason },
    };
  }
  return clocks;
}
