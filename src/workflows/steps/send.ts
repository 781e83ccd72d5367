import { isCancellation } from '@temporalio/workflow';
import type { MessageRequest } from '../../plan/activities.js';
import { endOfQuietHours } from '../../plan/local-time.js';
import type { Channel, Recipient } from '../../plan/plan.js';
import type { SendStep } from '../../plan/steps/index.js';
import { BUYER_EMAIL_FIELD } from '../../plan/steps/send.js';
import { escapeHtml, localize } from '../../plan/template.js';
import { failureMessage } from '../failures.js';
import { iso } from '../time.js';
import type { StepInterpreter, StepRuntime } from './runtime.js';

/** Holds a message to the buyer in quiet hours when the step says so, then sends it; a message refused for good takes `onError`. */
export const send: StepInterpreter<SendStep> = {
  async run(step, rt, key) {
    const quiet = rt.plan.quietHours;
    if (step.quietHours && step.to.kind === 'buyer' && quiet) {
      const until = endOfQuietHours(Date.now(), quiet.start, quiet.end, quiet.timezone);
      if (until > Date.now()) await rt.waitFor(step.id, [], [{ kind: 'delay', step: step.id, at: iso(until) }], until);
    }
    try {
      const request = message(rt, key, step.id, step.template, step.channel, step.to);
      const rides = rt.rideAhead(step, step.next, { template: step.template });
      const { messageId } = await rt.activities.sendMessage(rides ? { ...request, rides } : request);
      rt.record(step, { messageId, template: step.template });
      return step.next;
    } catch (error) {
      // Sends are retried until delivered: what arrives here was refused for good.
      if (!step.onError || isCancellation(error)) throw error;
      rt.record(step, { template: step.template, failed: failureMessage(error), goto: step.onError });
      return step.onError;
    }
  },
};

/** The message a step sends: the template in the case's language, rendered; an e-mail to the buyer with the buyer's address. */
export function message(rt: StepRuntime, key: string, stepId: string, name: string, channel: Channel, to: Recipient): MessageRequest {
  const parts = localize(rt.plan, rt.plan.templates[name]!, rt.state.data);
  const address = channel === 'email' && to.kind === 'buyer' ? rt.state.data[BUYER_EMAIL_FIELD] : undefined;
  return {
    key,
    caseId: rt.caseId,
    stepId,
    recipient: rt.recipient(to),
    channel,
    template: name,
    body: rt.render(parts.text.text, parts.text.placeholders),
    ...(parts.subject ? { subject: rt.render(parts.subject.text, parts.subject.placeholders) } : {}),
    ...(parts.html ? { html: rt.render(parts.html.text, parts.html.placeholders, escapeHtml) } : {}),
    ...(parts.language ? { language: parts.language } : {}),
    ...(typeof address === 'string' ? { address } : {}),
  };
}
