import type { EscalateStep } from '../../plan/steps/index.js';
import type { StepInterpreter } from './runtime.js';

/** Opens an escalation in the step's queue. */
export const escalate: StepInterpreter<EscalateStep> = {
  async run(step, rt, key) {
    const note = step.note ? String(rt.evaluate(step.note)) : undefined;
    const rides = rt.rideAhead(step, step.next, { queue: step.queue, reason: step.reason });
    const { escalationId } = await rt.activities.openEscalation({
      key,
      caseId: rt.caseId,
      stepId: step.id,
      queue: step.queue,
      severity: step.severity,
      reason: step.reason,
      ...(note !== undefined ? { note } : {}),
      ...(rides ? { rides } : {}),
    });
    rt.record(step, { escalationId, queue: step.queue, reason: step.reason });
    return step.next;
  },
};
