import { endOfQuietHours } from '../../plan/local-time.js';
import type { SendStep } from '../../plan/steps/index.js';
import { iso } from '../time.js';
import type { StepInterpreter } from './runtime.js';

/** Holds a message to the buyer in quiet hours when the step says so, then sends it. */
export const send: StepInterpreter<SendStep> = {
  async run(step, rt, key) {
    const quiet = rt.plan.quietHours;
    if (step.quietHours && step.to.kind === 'buyer' && quiet) {
      const until = endOfQuietHours(Date.now(), quiet.start, quiet.end, quiet.timezone);
      if (until > Date.now()) await rt.waitFor(step.id, [], [{ kind: 'delay', step: step.id, at: iso(until) }], until);
    }
    const template = rt.plan.templates[step.template]!;
    const { messageId } = await rt.activities.sendMessage({
      key,
      caseId: rt.caseId,
      stepId: step.id,
      recipient: rt.recipient(step.to),
      channel: step.channel,
      template: step.template,
      body: rt.render(template.text, template.placeholders),
    });
    rt.record(step, { messageId, template: step.template });
    return step.next;
  },
};
