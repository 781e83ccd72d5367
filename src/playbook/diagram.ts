/** A Mermaid flowchart of a plan: one node per step, one edge per way out of it. Pure. */
import type { Plan } from '../plan/plan.js';
import { kindOf, type Step } from '../plan/steps/index.js';
import type { DiagramShape } from '../plan/steps/kind.js';

const SHAPES: Record<DiagramShape, [string, string]> = { box: ['[', ']'], decision: ['{', '}'], wait: ['[/', '/]'], end: ['([', '])'] };

export function mermaidDiagram(plan: Plan): string {
  const lines = ['flowchart TD'];
  const id = (step: string) => `s_${step}`;
  const label = (text: string) => `"${text.replace(/"/g, '#quot;')}"`;
  const steps: Step[] = Object.values(plan.steps);
  for (const step of steps) {
    const kind = kindOf(step);
    const [open, close] = SHAPES[kind.shape];
    lines.push(`  ${id(step.id)}${open}${label(`${step.id}<br/>${kind.describe(step)}`)}${close}`);
  }
  for (const step of steps) {
    for (const edge of kindOf(step).edges(step)) lines.push(`  ${id(step.id)} -->${edge.label ? `|${label(edge.label)}|` : ''} ${id(edge.to)}`);
  }
  return lines.join('\n') + '\n';
}
