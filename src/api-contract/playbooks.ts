/** What the playbook routes answer (`/v1/playbooks`). */
import { exact, freeObject, integer, list, nullable, nullableString, oneOf, optional, string, boolean, type Static } from './schema.js';

export const Diagnostic = exact({
  severity: oneOf('error', 'warning'),
  code: string,
  message: string,
  line: integer,
  column: integer,
  endLine: integer,
  endColumn: integer,
  hint: optional(string),
});
export type Diagnostic = Static<typeof Diagnostic>;

export const Validation = exact({ valid: boolean, diagnostics: list(Diagnostic) });
export type Validation = Static<typeof Validation>;

export const Published = exact({ name: string, version: integer, hash: string, created: boolean, diagnostics: list(Diagnostic) });
export type Published = Static<typeof Published>;

const VERSION = { name: string, version: integer, hash: string, publishedAt: string, publishedBy: nullableString };

export const PlaybookVersion = exact(VERSION);
export type PlaybookVersion = Static<typeof PlaybookVersion>;

/** A playbook with its latest version and how many it has. */
export const PlaybookSummary = exact({ ...VERSION, versions: integer });
export type PlaybookSummary = Static<typeof PlaybookSummary>;

export const PublishedPlaybooks = exact({ playbooks: list(PlaybookSummary) });
export type PublishedPlaybooks = Static<typeof PublishedPlaybooks>;

export const PlaybookVersions = exact({ name: string, versions: list(PlaybookVersion) });
export type PlaybookVersions = Static<typeof PlaybookVersions>;

export const PlaybookVersionDetail = exact({ ...VERSION, yaml: string, plan: freeObject, diagnostics: list(Diagnostic) });
export type PlaybookVersionDetail = Static<typeof PlaybookVersionDetail>;

/** How `casebook diagram` and the console draw a kind of step. */
export const NodeShape = oneOf('box', 'decision', 'wait', 'end', 'fork', 'loop');
export type NodeShape = Static<typeof NodeShape>;

export const FlowNode = exact({ id: string, kind: string, shape: NodeShape, label: string, line: nullable(integer) });
export type FlowNode = Static<typeof FlowNode>;

export const FlowEdge = exact({ from: string, to: string, label: nullableString });
export type FlowEdge = Static<typeof FlowEdge>;

/** A version's flow: its steps as nodes and where each goes as edges. */
export const FlowGraph = exact({ name: string, version: integer, start: string, nodes: list(FlowNode), edges: list(FlowEdge) });
export type FlowGraph = Static<typeof FlowGraph>;
