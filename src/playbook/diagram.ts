/** A Mermaid flowchart of a plan: one node per step, one edge per way out of it. Pure. */
import { formatDuration } from '../plan/duration.js';
import type { Plan, Step } from '../plan/plan.js';

export function mermaidDiagram(plan: Plan): string {
  const lines = ['flowchart TD'];
  const id = (step: string) => `s_${step}`;
  const label = (text: string) => `"${text.replace(/"/g, '#quot;')}"`;
  for (const step of Object.values(plan.steps)) {
    const shape = step.kind === 'branch' ? [`{`, `}`] : step.kind === 'end' ? ['([', '])'] : step.kind === 'wait' || step.kind === 'delay' ? ['[/', '/]'] : ['[', ']'];
    lines.push(`  ${id(step.id)}${shape[0]}${label(`${step.id}<br/>${describe(step)}`)}${shape[1]}`);
  }
  for (const step of Object.values(plan.steps)) {
    for (const [target, edge] of edges(step)) lines.push(`  ${id(step.id)} -->${edge ? `|${label(edge)}|` : ''} ${id(target)}`);
  }
  return lines.join('\n') + '\n';
}

function describe(step: Step): string {
  switch (step.kind) {
    case 'send': return `send ${step.template} to ${step.to.kind}`;
    case 'wait': return `wait ${Object.keys(step.on).join(' / ')}`;
    case 'delay': return 'ms' in step ? `delay ${formatDuration(step.ms)}` : `until ${step.untilLocalTime} ${step.timezone}`;
    case 'branch': return 'branch';
    case 'refund': return `refund within ${formatDuration(step.withinMs)}`;
    case 'escalate': return `escalate to ${step.queue} (${step.severity})`;
    case 'task': return `task for ${step.role}, SLA ${formatDuration(step.slaMs)}`;
    case 'set': return `set ${Object.keys(step.fields).join(', ')}`;
    case 'remark': return step.flag ? `remark, flag ${step.flag}` : 'remark';
    case 'call': return `call ${step.integration}.${step.operation}`;
    case 'end': return `end: ${step.outcome} (${step.reason})`;
  }
}

function edges(step: Step): [string, string | undefined][] {
  switch (step.kind) {
    case 'wait':
      return [
        ...Object.entries(step.on).map(([event, o]): [string, string] => [o.next, event]),
        ...(step.onTimeout && step.timeoutMs !== null ? [[step.onTimeout, `timeout ${formatDuration(step.timeoutMs)}`] as [string, string]] : []),
      ];
    case 'branch':
      return [...step.cases.map((c): [string, string] => [c.next, c.when.cel]), [step.otherwise, 'otherwise']];
    case 'refund':
      return [[step.next, 'refunded'], [step.onBreach, 'deadline passed'], [step.onDeclined, 'declined']];
    case 'task':
      return [...Object.entries(step.outcomes).map(([o, next]): [string, string] => [next, o]), [step.onSlaBreach, 'SLA breached']];
    case 'call':
      return [[step.next, undefined], ...(step.onError ? [[step.onError, 'error'] as [string, string]] : [])];
    case 'end':
      return [];
    default:
      return [[step.next, undefined]];
  }
}
