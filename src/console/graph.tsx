/**
 * A playbook's flow drawn as SVG: the nodes and edges of GET /v1/playbooks/{name}/versions/{version}/graph
 * laid out by dagre, top to bottom, one shape per kind of step (as `casebook diagram` draws them), and
 * the path a case took marked on it.
 */
import dagre from '@dagrejs/dagre';
import type { FlowEdge, FlowGraph, FlowNode, NodeShape } from '../api-contract/playbooks.js';
import type { JSX } from 'preact';
import { useEffect, useId, useMemo, useRef } from 'preact/hooks';

const CHAR_WIDTH = 7.2;
const NODE_HEIGHT = 46;
const LABEL_CHARS = 34;
const EDGE_LABEL_CHARS = 26;

const shorten = (text: string, max: number): string => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

interface Placed {
  node: FlowNode;
  x: number;
  y: number;
  width: number;
}

interface Routed {
  edge: FlowEdge;
  points: { x: number; y: number }[];
  labelAt: { x: number; y: number } | null;
  onPath: boolean;
}

/** A step a case went through, with what its history recorded there (the branch taken, the event taken...). */
export interface PathStep {
  step: string;
  detail?: Record<string, unknown>;
}

/**
 * The edges (by index) a case went along, from each step to the next. Where two edges join the same
 * steps (two branch cases going to one step), the one whose label the step's record names (the
 * condition that held, the event taken) is taken, otherwise the first.
 */
export function walkedEdges(graph: FlowGraph, path: PathStep[]): Set<number> {
  const walked = new Set<number>();
  path.slice(1).forEach((next, i) => {
    const from = path[i]!;
    const candidates = graph.edges.flatMap((edge, index) => (edge.from === from.step && edge.to === next.step ? [index] : []));
    const named = new Set<string | null>(Object.values(from.detail ?? {}).filter((value): value is string => typeof value === 'string'));
    const chosen = candidates.find((index) => named.has(graph.edges[index]!.label)) ?? candidates[0];
    if (chosen !== undefined) walked.add(chosen);
  });
  return walked;
}

function layout(graph: FlowGraph, walked: Set<number>): { nodes: Placed[]; edges: Routed[]; width: number; height: number } {
  const g = new dagre.graphlib.Graph({ multigraph: true });
  g.setGraph({ rankdir: 'TB', nodesep: 28, ranksep: 44, edgesep: 12, marginx: 8, marginy: 8 });
  for (const node of graph.nodes) {
    const chars = Math.max(node.id.length, shorten(node.label, LABEL_CHARS).length);
    const extra = node.shape === 'decision' || node.shape === 'wait' || node.shape === 'loop' ? 36 : 20;
    g.setNode(node.id, { width: Math.ceil(chars * CHAR_WIDTH) + extra, height: NODE_HEIGHT });
  }
  graph.edges.forEach((edge, index) => {
    const label = edge.label ? shorten(edge.label, EDGE_LABEL_CHARS) : '';
    g.setEdge(edge.from, edge.to, label ? { width: Math.ceil(label.length * 6.4) + 8, height: 16, labelpos: 'c' } : {}, String(index));
  });
  dagre.layout(g);
  const nodes = graph.nodes.map((node) => {
    const placed = g.node(node.id);
    return { node, x: placed.x ?? 0, y: placed.y ?? 0, width: placed.width };
  });
  const edges = graph.edges.map((edge, index) => {
    const routed = g.edge({ v: edge.from, w: edge.to, name: String(index) });
    return {
      edge,
      points: routed.points ?? [],
      labelAt: edge.label && routed.x !== undefined && routed.y !== undefined ? { x: routed.x, y: routed.y } : null,
      onPath: walked.has(index),
    };
  });
  const { width = 0, height = 0 } = g.graph();
  return { nodes, edges, width, height };
}

function outline(shape: NodeShape, width: number): JSX.Element {
  const w = width / 2;
  const h = NODE_HEIGHT / 2;
  switch (shape) {
    case 'decision':
      return <polygon class="shape" points={`${-w},0 ${-w + 16},${-h} ${w - 16},${-h} ${w},0 ${w - 16},${h} ${-w + 16},${h}`} />;
    case 'wait':
      return <polygon class="shape" points={`${-w + 12},${-h} ${w},${-h} ${w - 12},${h} ${-w},${h}`} />;
    case 'end':
      return <rect class="shape" x={-w} y={-h} width={width} height={NODE_HEIGHT} rx={h} ry={h} />;
    case 'box':
      return <rect class="shape" x={-w} y={-h} width={width} height={NODE_HEIGHT} rx={3} ry={3} />;
    case 'fork':
      // A fork/join bar: a box with thick top and bottom edges, its branches drawn below it.
      return (
        <g>
          <rect class="shape" x={-w} y={-h} width={width} height={NODE_HEIGHT} rx={3} ry={3} />
          <line class="shape bar" x1={-w} y1={-h + 3} x2={w} y2={-h + 3} />
          <line class="shape bar" x1={-w} y1={h - 3} x2={w} y2={h - 3} />
        </g>
      );
    case 'loop':
      // A loop: a box with a return arrow on its right, its body drawn below it.
      return (
        <g>
          <rect class="shape" x={-w} y={-h} width={width} height={NODE_HEIGHT} rx={10} ry={10} />
          <path class="shape loop-mark" d={`M${w - 14},${h - 6} a6,6 0 1,0 0,-12`} />
        </g>
      );
  }
}

const pointsOf = (points: { x: number; y: number }[]): string =>
  points.map((point, i) => `${i === 0 ? 'M' : 'L'}${point.x.toFixed(1)},${point.y.toFixed(1)}`).join(' ');

export interface FlowDiagramProps {
  graph: FlowGraph;
  /** The steps a case went through, in order; marked on the graph with the edges between them. */
  path: PathStep[];
  /** The accessible name of the drawing. */
  title: string;
  /** The accessible name of the scrolling region around it. */
  regionLabel: string;
  /** Steps to mark as another version's diff sees them (class `diff-added`, `diff-removed` or `diff-changed`). */
  marks?: ReadonlyMap<string, 'added' | 'removed' | 'changed'>;
  /** The step to bring into view when no path is marked (the first step otherwise). */
  focusStep?: string;
}

export function FlowDiagram({ graph, path, title, regionLabel, marks, focusStep }: FlowDiagramProps) {
  // Two diagrams on one page (a diff) each need their own arrowhead ids.
  const arrow = `flow-arrow-${useId()}`;
  const walked = useMemo(() => walkedEdges(graph, path), [graph, path]);
  const visited = useMemo(() => new Set(path.map((entry) => entry.step)), [path]);
  const drawn = useMemo(() => layout(graph, walked), [graph, walked]);
  const last = path[path.length - 1]?.step;
  const region = useRef<HTMLDivElement>(null);
  // A wide flow scrolls: bring where the case is now (or the step asked for, or the first step) into the middle of the view.
  const focus = drawn.nodes.find(({ node }) => node.id === (last ?? focusStep ?? graph.start));
  useEffect(() => {
    if (!region.current || !focus) return;
    region.current.scrollLeft = focus.x - region.current.clientWidth / 2;
    region.current.scrollTop = focus.y - region.current.clientHeight / 2;
  }, [focus]);
  return (
    <div class="flow-scroll" role="region" aria-label={regionLabel} tabIndex={0} ref={region}>
      <svg
        class="flow"
        role="img"
        aria-label={title}
        viewBox={`0 0 ${Math.ceil(drawn.width)} ${Math.ceil(drawn.height)}`}
        width={Math.ceil(drawn.width)}
        height={Math.ceil(drawn.height)}
        xmlns="http://www.w3.org/2000/svg"
      >
        <defs>
          <marker id={arrow} viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
            <path d="M0,0 L10,5 L0,10 z" class="arrow" />
          </marker>
          <marker id={`${arrow}-path`} viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
            <path d="M0,0 L10,5 L0,10 z" class="arrow on-path" />
          </marker>
        </defs>
        {drawn.edges.map(({ edge, points, onPath }, i) => (
          <path
            key={`e${i}`}
            class={onPath ? 'edge on-path' : 'edge'}
            d={pointsOf(points)}
            data-from={edge.from}
            data-to={edge.to}
            marker-end={onPath ? `url(#${arrow}-path)` : `url(#${arrow})`}
          />
        ))}
        {drawn.edges.map(
          ({ edge, labelAt, onPath }, i) =>
            labelAt &&
            edge.label && (
              <g key={`l${i}`} class={onPath ? 'edge-label on-path' : 'edge-label'} transform={`translate(${labelAt.x.toFixed(1)},${labelAt.y.toFixed(1)})`}>
                <title>{edge.label}</title>
                <text text-anchor="middle" dominant-baseline="central">
                  {shorten(edge.label, EDGE_LABEL_CHARS)}
                </text>
              </g>
            ),
        )}
        {drawn.nodes.map(({ node, x, y, width }) => (
          <g
            key={node.id}
            class={`node ${node.shape}${visited.has(node.id) ? ' on-path' : ''}${node.id === last ? ' last' : ''}${node.id === graph.start ? ' start' : ''}${marks?.has(node.id) ? ` diff-${marks.get(node.id)}` : ''}`}
            data-step={node.id}
            transform={`translate(${x.toFixed(1)},${y.toFixed(1)})`}
          >
            <title>{`${node.id}: ${node.label}`}</title>
            {outline(node.shape, width)}
            <text class="id" text-anchor="middle" y={-5}>
              {node.id}
            </text>
            <text class="label" text-anchor="middle" y={13}>
              {shorten(node.label, LABEL_CHARS)}
            </text>
          </g>
        ))}
      </svg>
    </div>
  );
}
