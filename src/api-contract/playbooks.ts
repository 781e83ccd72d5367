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

/** `current`: the version new cases take after this publish; `madeCurrent`: whether this publish made the version current. */
export const Published = exact({
  name: string,
  version: integer,
  hash: string,
  created: boolean,
  current: integer,
  madeCurrent: boolean,
  diagnostics: list(Diagnostic),
});
export type Published = Static<typeof Published>;

const VERSION = { name: string, version: integer, hash: string, publishedAt: string, publishedBy: nullableString };

export const PlaybookVersion = exact(VERSION);
export type PlaybookVersion = Static<typeof PlaybookVersion>;

/** A playbook with its latest version, how many it has, and the one new cases take (`current`). */
export const PlaybookSummary = exact({ ...VERSION, versions: integer, current: integer });
export type PlaybookSummary = Static<typeof PlaybookSummary>;

export const PublishedPlaybooks = exact({ playbooks: list(PlaybookSummary) });
export type PublishedPlaybooks = Static<typeof PublishedPlaybooks>;

/** A change of the version new cases take: from which (null for the first) to which, when, by whom and why. */
export const CurrentChange = exact({
  id: string,
  from: nullable(integer),
  to: integer,
  reason: string,
  at: string,
  by: exact({ keyId: nullableString, name: string }),
});
export type CurrentChange = Static<typeof CurrentChange>;

/** An ops lead's or admin's approval of a version (never its publisher's): what lets it become current where approval is required. */
export const Approval = exact({ id: string, version: integer, reason: string, at: string, by: exact({ keyId: nullableString, name: string }) });
export type Approval = Static<typeof Approval>;

/**
 * A playbook's versions, the current one, the changes of the current one (the latest first), whether a
 * version needs an approval before it becomes current, and the approvals given (the earliest first).
 */
export const PlaybookVersions = exact({
  name: string,
  current: integer,
  versions: list(PlaybookVersion),
  changes: list(CurrentChange),
  approvalRequired: boolean,
  approvals: list(Approval),
});
export type PlaybookVersions = Static<typeof PlaybookVersions>;

/** What making a version current came to: `changed` false when it already was (no change is recorded). */
export const MadeCurrent = exact({ name: string, current: integer, changed: boolean, change: nullable(CurrentChange) });
export type MadeCurrent = Static<typeof MadeCurrent>;

/** A version's approval: `created` false when this key had already approved it (nothing new is recorded). */
export const Approved = exact({ name: string, created: boolean, approval: Approval });
export type Approved = Static<typeof Approved>;

/** A playbook's settings: whether a version needs a second ops lead's approval before it becomes current. */
export const PlaybookSettings = exact({ name: string, approvalRequired: boolean });
export type PlaybookSettings = Static<typeof PlaybookSettings>;

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
