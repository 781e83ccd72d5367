/**
 * The step kinds' interpreters, one module each: how a step of the kind runs in the case workflow.
 * What a kind means (its plan form, compile, edges) is its descriptor in src/plan/steps/.
 */
import type { Step, StepKindName, StepOfKind } from '../../plan/steps/index.js';
import { branch } from './branch.js';
import { call } from './call.js';
import { delay } from './delay.js';
import { end } from './end.js';
import { escalate } from './escalate.js';
import { forEach } from './for-each.js';
import { playbook } from './playbook.js';
import { refund } from './refund.js';
import { remark } from './remark.js';
import { parallel } from './parallel.js';
import type { StepInterpreter } from './runtime.js';
import { send } from './send.js';
import { set } from './set.js';
import { task } from './task.js';
import { wait } from './wait.js';

export const INTERPRETERS: { [K in StepKindName]: StepInterpreter<StepOfKind<K>> } = {
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

/** The interpreter of a step's kind, typed for that step. */
export function interpreterOf<S extends Step>(step: S): StepInterpreter<S> {
  return INTERPRETERS[step.kind] as unknown as StepInterpreter<S>;
}

export type { BodyEnd, BodyRun, ReceivedCaseEvent, StepInterpreter, StepRuntime, Woken } from './runtime.js';
