/** A plan drawn as a graph: one node per step, one edge per way out of it; as data and as a Mermaid flowchart. Pure. */
import type { Plan } from '../plan/plan.js';
import { kindOf } from '../plan/steps/index.js';
import type { DiagramShape } from '../plan/steps/kind.js';

export interface GraphNode {
  id: string;
  kind: string;
  shape: DiagramShape;
  /** The step's one-line description, shown under its id. */
  label: string;
  /** Where the step is written in the playbook; null for a plan compiled without positions. */
  line: number | null;
}

export interface GraphEdge {
  from: string;
  to: string;
  label: string | null;
}

export interface PlanGraph {
  start: string;
  nodes: GraphNode[];
  edges: GraphEdge[];
}

/** The steps in the order they are written, and the ways out of each in the step's order. */
export function planGraph(plan: Plan): PlanGraph {
  // A plan read back from Postgres (jsonb) has its steps in the database's key order, not the playbook's.
  const steps = Object.values(plan.steps).sort((a, b) => (a.at?.line ?? 0) - (b.at?.line ?? 0));
  return {
    start: plan.start,
    nodes: steps.map((step) => {
      const kind = kindOf(step);
      return { id: step.id, kind: step.kind, shape: kind.shape, label: kind.describe(step), line: step.at?.line ?? null };
    }),
    edges: steps.flatMap((step) =>
      kindOf(step)
        .edges(step)
        .map((edge) => ({ from: step.id, to: edge.to, label: edge.label || null })),
    ),
  };
}

const SHAPES: Record<DiagramShape, [string, string]> = { box: ['[', ']'], decision: ['{', '}'], wait: ['[/', '/]'], end: ['([', '])'] };

export function mermaidDiagram(plan: Plan): string {
  const { nodes, edges } = planGraph(plan);
  const id = (step: string) => `s_${step}`;
  const text = (words: string) => `"${words.replace(/"/g, '#quot;')}"`;
  const lines = ['flowchart TD'];
  for (const node of nodes) {
    const [open, close] = SHAPES[node.shape];
    lines.push(`  ${id(node.id)}${open}${text(`${node.id}<br/>${node.label}`)}${close}`);
  }
  for (const edge of edges) lines.push(`  ${id(edge.from)} -->${edge.label ? `|${text(edge.label)}|` : ''} ${id(edge.to)}`);
  return lines.join('\n') + '\n';
}
