import { readableDuration } from '../../plan/evidence.js';
import { TASK_COMPLETED, taskCompletes, taskSla, type TaskStep } from '../../plan/steps/task.js';
import { iso } from '../time.js';
import type { StepInterpreter, StepRuntime } from './runtime.js';

export const task: StepInterpreter<TaskStep> = { run: runTask };

/** Opens the task for a person and waits for its completion or the end of its SLA. */
async function runTask(step: TaskStep, rt: StepRuntime, key: string): Promise<string> {
  const dueAt = rt.after(Date.now(), taskSla(step));
  const { taskId } = await rt.activities.openTask({
    key,
    caseId: rt.caseId,
    stepId: step.id,
    role: step.role,
    title: step.title,
    outcomes: Object.keys(step.outcomes),
    dueAt: iso(dueAt),
  });
  const takes = taskCompletes(step, taskId);
  for (;;) {
    const match = rt.take([TASK_COMPLETED], takes);
    if (match) {
      const outcome = match.payload.outcome as string;
      await rt.activities.closeTask({ key, outcome, breached: false });
      const now = Date.now();
      rt.record(step, {
        outcome,
        eventId: match.id,
        goto: step.outcomes[outcome],
        by: match.by ?? null,
        role: step.role,
        slaDue: iso(dueAt),
        ...(now <= dueAt ? { sla: 'met', margin: readableDuration(dueAt - now) } : { sla: 'breached', lateBy: readableDuration(now - dueAt) }),
      });
      return step.outcomes[outcome]!;
    }
    if (Date.now() >= dueAt) {
      await rt.activities.closeTask({ key, outcome: null, breached: true });
      rt.record(step, {
        slaBreached: iso(dueAt),
        goto: step.onSlaBreach,
        role: step.role,
        slaDue: iso(dueAt),
        sla: 'breached',
        lateBy: readableDuration(Date.now() - dueAt),
      });
      return step.onSlaBreach;
    }
    await rt.waitFor(step.id, [TASK_COMPLETED], [{ kind: 'task-sla', step: step.id, at: iso(dueAt) }], dueAt, () => rt.has([TASK_COMPLETED], takes));
  }
}
