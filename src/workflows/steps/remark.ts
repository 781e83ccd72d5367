import { orderIdOf } from '../../plan/plan.js';
import type { RemarkStep } from '../../plan/steps/index.js';
import type { StepInterpreter } from './runtime.js';

/** Writes the remark (and its flag) on the case's order. */
export const remark: StepInterpreter<RemarkStep> = {
  async run(step, rt, key) {
    const text = rt.render(step.text, step.placeholders);
    const detail = { remark: text, ...(step.flag ? { flag: step.flag } : {}) };
    const rides = rt.rideAhead(step, step.next, detail);
    await rt.activities.writeOrderNote({
      key,
      caseId: rt.caseId,
      orderId: orderIdOf(rt.plan, rt.state.data),
      remark: text,
      ...(step.flag ? { flag: step.flag } : {}),
      ...(rides ? { rides } : {}),
    });
    rt.record(step, detail);
    return step.next;
  },
};
