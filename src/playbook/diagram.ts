/** A plan drawn as a graph: one node per step, one edge per way out of it; as data and as a Mermaid flowchart. Pure. */
import type { Plan } from '../plan/plan.js';
import { bodiesOf } from '../plan/graph.js';
import { BODY_END, kindOf } from '../plan/steps/index.js';
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
  const owner = owners(plan);
  return {
    start: plan.start,
    nodes: steps.map((step) => {
      const kind = kindOf(step);
      return { id: step.id, kind: step.kind, shape: kind.shape, label: kind.describe(step), line: step.at?.line ?? null };
    }),
    edges: steps.flatMap((step) => [
      ...kindOf(step)
        .edges(step)
        // A body's last step goes back to its block, which then goes on (or runs the next iteration).
        .map((edge) =>
          edge.to === BODY_END
            ? { from: step.id, to: owner.get(step.id) ?? step.id, label: 'done' }
            : { from: step.id, to: edge.to, label: edge.label || null },
        ),
      ...bodiesOf(step).map(({ label, body }) => ({ from: step.id, to: body.start, label })),
    ]),
  };
}

/** The block (parallel, loop) each nested step is written in, by step id. */
function owners(plan: Plan): Map<string, string> {
  const owner = new Map<string, string>();
  for (const step of Object.values(plan.steps)) for (const { body } of bodiesOf(step)) for (const id of body.steps) owner.set(id, step.id);
  return owner;
}

const SHAPES: Record<DiagramShape, [string, string]> = {
  box: ['[', ']'],
  decision: ['{', '}'],
  wait: ['[/', '/]'],
  end: ['([', '])'],
  fork: ['[[', ']]'],
  loop: ['{{', '}}'],
};

export function mermaidDiagram(plan: Plan): string {
  const { nodes, edges } = planGraph(plan);
  const id = (step: string) => `s_${step}`;
  const text = (words: string) => `"${words.replace(/"/g, '#quot;')}"`;
  const lines = ['flowchart TD'];
  const shapeOf = new Map(nodes.map((node) => [node.id, node] as const));
  const drawn = new Set<string>();
  const draw = (nodeId: string, indent: string): void => {
    const node = shapeOf.get(nodeId);
    if (!node || drawn.has(nodeId)) return;
    drawn.add(nodeId);
    const [open, close] = SHAPES[node.shape];
    lines.push(`${indent}${id(node.id)}${open}${text(`${node.id}<br/>${node.label}`)}${close}`);
    const step = plan.steps[nodeId];
    // A block's bodies are drawn as boxes of their own, after the block.
    (step ? bodiesOf(step) : []).forEach(({ label, body }, i) => {
      lines.push(`${indent}subgraph ${id(nodeId)}_${i} [${text(label)}]`);
      for (const inner of body.steps) draw(inner, `${indent}  `);
      lines.push(`${indent}end`);
    });
  };
  const nested = new Set(owners(plan).keys());
  for (const node of nodes) if (!nested.has(node.id)) draw(node.id, '  ');
  for (const edge of edges) lines.push(`  ${id(edge.from)} -->${edge.label ? `|${text(edge.label)}|` : ''} ${id(edge.to)}`);
  return lines.join('\n') + '\n';
}
