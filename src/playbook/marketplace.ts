/**
 * Marketplace rules checked at publish time: every playbook deadline bound to a rule of its
 * marketplace's pack (see marketplace-packs.ts) must end no later than the platform's, worst case,
 * and every bound window must be at least what the platform guarantees the buyer. Pure: no I/O.
 */
import { worstCaseSpanMs } from '../plan/calendar.js';
import { formatDuration, parseBusinessDuration, type Span } from '../plan/duration.js';
import type { Plan } from '../plan/plan.js';
import { kindOf, STEP_KINDS, type Step } from '../plan/steps/index.js';
import type { RawStep } from './raw.js';
import { writtenSteps } from './steps.js';
import { diagnosticAt, Reporter, type Diagnostic, type Severity } from './diagnostics.js';
import { hintFor } from './hints.js';
import type { MarketplacePack, MarketplacePacks, MarketplaceRule } from './marketplace-packs.js';
import type { JsonPath, PlaybookSource } from './source.js';

/** One bound deadline: a step id, `policy.<name>`, or the step ids of a flow run one after the other. */
export type RawBoundDeadline = string | string[];
export type RawRuleBinding = RawBoundDeadline[] | { deadlines: RawBoundDeadline[]; severity?: Severity };
export type RawMarketplace = string | { name: string; rules?: Record<string, RawRuleBinding> };

export const marketplaceName = (raw: RawMarketplace): string => (typeof raw === 'string' ? raw : raw.name);

/** A playbook deadline as the check sees it: how long it can last, worst case, and where it is written. */
interface Deadline {
  label: string;
  worstMs: number;
  /** Counted in the calendar's working time: its wall-clock length depends on when it starts. */
  inBusinessTime: boolean;
  path: JsonPath;
  /** Point at the key at `path` (a wait with no timeout: its `wait:`). */
  atKey?: boolean;
}

export function checkMarketplaceRules(source: PlaybookSource, plan: Plan, marketplaces: MarketplacePacks, checkedAt: number): Diagnostic[] {
  const raw = (source.value as { marketplace?: RawMarketplace }).marketplace;
  if (raw === undefined) return [];
  const report = new Reporter(source);
  const name = marketplaceName(raw);
  const namePath = typeof raw === 'string' ? ['marketplace'] : ['marketplace', 'name'];
  const pack = marketplaces.packs[name];
  if (!pack) {
    const broken = marketplaces.broken[name];
    if (broken)
      report.error('PB155', `the rule pack of marketplace '${name}' (${broken}) has errors, so nothing can be checked against it`, namePath, {
        hint: `fix ${broken}: casebook validate lists its problems before the playbooks'`,
      });
    else
      report.error('PB152', `no rule pack for marketplace '${name}'`, namePath, {
        hint: hintFor(name, Object.keys(marketplaces.packs), 'add marketplaces/<name>.yaml (see marketplaces/README.md)'),
      });
    return report.diagnostics;
  }
  if (typeof raw === 'string') return [];
  for (const [ruleId, binding] of Object.entries(raw.rules ?? {})) {
    const rule = pack.rules[ruleId];
    if (!rule) {
      report.error('PB153', `marketplace '${name}' has no rule '${ruleId}'`, ['marketplace', 'rules', ruleId], {
        key: true,
        hint: hintFor(ruleId, Object.keys(pack.rules), `its rules: ${Object.keys(pack.rules).join(', ')}`),
      });
      continue;
    }
    const listPath: JsonPath = Array.isArray(binding) ? ['marketplace', 'rules', ruleId] : ['marketplace', 'rules', ruleId, 'deadlines'];
    const entries = Array.isArray(binding) ? binding : binding.deadlines;
    const severity = (Array.isArray(binding) ? undefined : binding.severity) ?? rule.severity;
    entries.forEach((entry, index) => {
      const deadline = resolveDeadline(entry, [...listPath, index], { source, plan, report, checkedAt });
      if (deadline) checkRule(deadline, rule, severity, pack, source, report);
    });
  }
  return report.diagnostics;
}

function checkRule(deadline: Deadline, rule: MarketplaceRule, severity: Severity, pack: MarketplacePack, source: PlaybookSource, report: Reporter): void {
  const add = (code: 'PB150' | 'PB151', message: string, hint: string) =>
    report.diagnostics.push(diagnosticAt(source.file, source.locate(deadline.path, { key: deadline.atKey ?? false }), code, message, hint, severity));
  const { limit } = rule;
  const about = `${pack.name} rule '${rule.id}', pack version ${pack.version}`;
  if (rule.limits === 'deadline' && deadline.worstMs > rule.limitMs) {
    const lasts = Number.isFinite(deadline.worstMs) ? `can last ${formatDuration(deadline.worstMs)}` : 'has no end';
    const then = rule.then ? `, then ${rule.then}` : '';
    add(
      'PB150',
      `${deadline.label} ${lasts}, but ${pack.name} waits at most ${limit} from ${rule.countsFrom}${then} (${about})`,
      `make it at most ${limit}, worst case`,
    );
  }
  if (rule.limits === 'guarantee' && deadline.inBusinessTime) {
    report.error(
      'PB154',
      `${deadline.label} is business time, which can be shorter than it reads; ${pack.name} guarantees the buyer ${limit} of calendar time (${about})`,
      deadline.path,
      { hint: `write the window as a plain duration, at least ${limit}` },
    );
  } else if (rule.limits === 'guarantee' && deadline.worstMs < rule.limitMs) {
    add(
      'PB151',
      `${deadline.label} is ${formatDuration(deadline.worstMs)}, shorter than the ${limit} ${pack.name} guarantees the buyer from ${rule.countsFrom} (${about})`,
      `make it at least ${limit}`,
    );
  }
}

/** What resolving a bound deadline needs: the playbook as written and compiled, and when it is checked. */
interface Context {
  source: PlaybookSource;
  plan: Plan;
  report: Reporter;
  checkedAt: number;
}

function resolveDeadline(entry: RawBoundDeadline, path: JsonPath, context: Context): Deadline | undefined {
  const { plan, report, checkedAt } = context;
  if (Array.isArray(entry)) {
    const parts = entry.map((stepId, i) => stepDeadline(stepId, [...path, i], context));
    if (parts.some((part) => !part)) return undefined;
    const steps = parts as Deadline[];
    // The step that never ends is the one to fix; otherwise the flow's last deadline.
    const where = steps.find((part) => part.worstMs === Infinity) ?? steps[steps.length - 1]!;
    return {
      label: `the flow ${entry.join(' → ')}`,
      worstMs: steps.reduce((sum, part) => sum + part.worstMs, 0),
      inBusinessTime: steps.some((part) => part.inBusinessTime),
      path: where.path,
      ...(where.atKey ? { atKey: true } : {}),
    };
  }
  if (entry.startsWith('policy.')) {
    const name = entry.slice('policy.'.length);
    const value = plan.policy[name];
    const span = value?.type === 'duration' ? value.ms : value?.type === 'string' ? parseBusinessDuration(value.value) : undefined;
    if (span === undefined) {
      report.error('PB154', value ? `policy.${name} is not a duration, so it bounds nothing` : `policy value '${name}' is not declared`, path, {
        hint: hintFor(
          name,
          Object.entries(plan.policy)
            .filter(([, v]) => v.type === 'duration')
            .map(([k]) => k),
          'name a duration under policy',
        ),
      });
      return undefined;
    }
    return { label: `policy.${name}`, worstMs: worstCaseMs(span, plan, checkedAt), inBusinessTime: typeof span === 'object', path: ['policy', name] };
  }
  return stepDeadline(entry, path, context);
}

/** The kinds of step with a deadline, as a hint names them: 'wait, delay, refund or task'. */
const DEADLINE_KINDS = ((kinds: string[]) => `${kinds.slice(0, -1).join(', ')} or ${kinds[kinds.length - 1]}`)(
  Object.values(STEP_KINDS)
    .filter((kind) => kind.deadline)
    .map((kind) => kind.kind),
);

function stepDeadline(stepId: string, path: JsonPath, context: Context): Deadline | undefined {
  const { source, plan, report, checkedAt } = context;
  const step = plan.steps[stepId];
  if (!step) {
    report.error('PB154', `no step has the id '${stepId}'`, path, { hint: hintFor(stepId, Object.keys(plan.steps), `name a ${DEADLINE_KINDS} step`) });
    return undefined;
  }
  const found = deadlineOf(step, plan, checkedAt);
  if (!found) {
    report.error('PB154', `step '${stepId}' is a ${step.kind} step, which has no deadline`, path, {
      hint: `bind ${DEADLINE_KINDS} steps, or policy.<duration>`,
    });
    return undefined;
  }
  // Where the step is written, in a body (a parallel branch, a loop's steps) too.
  const at = writtenSteps((source.value as { steps: RawStep[] }).steps).find((written) => written.raw.id === stepId)?.path ?? ['steps'];
  const writtenAt: JsonPath = [...at, ...found.key];
  const written = valueAt(source.value, writtenAt);
  const viaPolicy = typeof written === 'string' && written.startsWith('policy.') ? ` (${written})` : '';
  return {
    label: `${found.what} of step '${stepId}'${viaPolicy}`,
    worstMs: found.worstMs,
    inBusinessTime: found.inBusinessTime,
    ...(written === undefined ? { path: [...at, step.kind], atKey: true } : { path: writtenAt }),
  };
}

function valueAt(value: unknown, path: JsonPath): unknown {
  return path.reduce<unknown>((node, segment) => (node && typeof node === 'object' ? (node as Record<string | number, unknown>)[segment] : undefined), value);
}

/** The step's deadline as its kind answers it, with how long it can last, worst case. */
function deadlineOf(step: Step, plan: Plan, checkedAt: number): { what: string; key: JsonPath; worstMs: number; inBusinessTime: boolean } | undefined {
  const deadline = kindOf(step).deadline?.(step, plan);
  if (!deadline) return undefined;
  const { what, key, lasts } = deadline;
  if (lasts === 'unbounded') return { what, key, worstMs: Infinity, inBusinessTime: false };
  if ('ms' in lasts) return { what, key, worstMs: lasts.ms, inBusinessTime: false };
  return { what, key, worstMs: worstCaseMs(lasts.span, plan, checkedAt), inBusinessTime: typeof lasts.span === 'object' };
}

/**
 * The longest wall-clock time a playbook duration can take: a plain one is what it says; a business
 * one is the worst case over the plan's calendar for any start in the next 400 days from `fromMs`.
 */
export function worstCaseMs(duration: Span, plan: Plan, fromMs: number): number {
  if (typeof duration === 'number') return duration;
  return plan.calendar ? worstCaseSpanMs(plan.calendar, duration, fromMs) : Infinity;
}
