/**
 * The step kinds' descriptors, one module each. Adding a kind: write its descriptor next to these (plan
 * form, raw form, compile, edges), list it here, write its interpreter in src/workflows/steps/ and list
 * it there, and add its action to schemas/playbook.schema.json.
 */
import { branch, type BranchStep, type RawBranch } from './branch.js';
import { call, type CallStep, type RawCall } from './call.js';
import { delay, type DelayStep, type RawDelay } from './delay.js';
import { end, type EndStep, type RawEnd } from './end.js';
import { escalate, type EscalateStep, type RawEscalate } from './escalate.js';
import { forEach, type ForEachStep, type RawForEach } from './for-each.js';
import type { StepKind } from './kind.js';
import { parallel, type ParallelStep, type RawParallel } from './parallel.js';
import { refund, type RawRefund, type RefundStep } from './refund.js';
import { remark, type RawRemark, type RemarkStep } from './remark.js';
import { send, type RawSend, type SendStep } from './send.js';
import { set, type RawSet, type SetStep } from './set.js';
import { playbook, type PlaybookStep, type RawPlaybook } from './playbook.js';
import { task, type RawTask, type TaskStep } from './task.js';
import { wait, type RawWait, type WaitStep } from './wait.js';

export { declaredResults, resultsOf } from './call.js';

export type Step =
  | SendStep
  | WaitStep
  | DelayStep
  | BranchStep
  | RefundStep
  | EscalateStep
  | TaskStep
  | SetStep
  | RemarkStep
  | CallStep
  | PlaybookStep
  | EndStep
  | ParallelStep
  | ForEachStep;
export type StepKindName = Step['kind'];
export type StepOfKind<K extends StepKindName> = Extract<Step, { kind: K }>;

/** Each kind's action as written, under the kind's name in a playbook step. */
export interface RawActions {
  send: RawSend;
  wait: RawWait;
  delay: RawDelay;
  branch: RawBranch;
  refund: RawRefund;
  escalate: RawEscalate;
  task: RawTask;
  set: RawSet;
  remark: RawRemark;
  call: RawCall;
  playbook: RawPlaybook;
  end: RawEnd;
  parallel: RawParallel;
  for_each: RawForEach;
}

export const STEP_KINDS: { [K in StepKindName]: StepKind<StepOfKind<K>, RawActions[K]> } = {
  send,
  wait,
  delay,
  branch,
  refund,
  escalate,
  task,
  set,
  remark,
  call,
  playbook,
  end,
  parallel,
  for_each: forEach,
};

/** The descriptor of a kind by its name, as a history records it; undefined for records of no step kind (a reminder). */
export function kindNamed(name: string): StepKind<Step, unknown> | undefined {
  return Object.hasOwn(STEP_KINDS, name) ? (STEP_KINDS[name as StepKindName] as unknown as StepKind<Step, unknown>) : undefined;
}

/** The module of a step's kind, typed for that step. */
export function kindOf<S extends Step>(step: S): StepKind<S, unknown> {
  return STEP_KINDS[step.kind] as unknown as StepKind<S, unknown>;
}

export type { ForEachStep, ParallelStep };
export type { BranchStep, CallStep, DelayStep, EndStep, EscalateStep, PlaybookStep, RefundStep, RemarkStep, SendStep, SetStep, TaskStep, WaitStep };
export type { Body, BodyItem, Edge, ScenarioList, StepCompiler, StepDeadline, StepKind } from './kind.js';
export { CASE_OPENED } from './refund.js';
export { BODY_END } from './kind.js';
export { TASK_COMPLETED } from './task.js';
