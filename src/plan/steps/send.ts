import type { Channel, Recipient, StepBase } from '../plan.js';
import { endOfQuietHours } from '../local-time.js';
import type { RawRecipient, StepKind } from './kind.js';
import { iso } from './time.js';

export interface SendStep extends StepBase {
  kind: 'send';
  to: Recipient;
  channel: Channel;
  template: string;
  quietHours: boolean;
  next: string;
}

export interface RawSend {
  to: RawRecipient;
  template: string;
  channel?: Channel;
  quiet_hours?: boolean;
}

/** Chat and in-site letters wait in the buyer's app; SMS, e-mail and calls interrupt. */
const INTERRUPTING: ReadonlySet<Channel> = new Set(['sms', 'email', 'phone']);

export const send: StepKind<SendStep, RawSend> = {
  kind: 'send',
  schema: '#/$defs/step/properties/send',
  waits: false,
  shape: 'box',
  compile(raw, c) {
    const template = c.template(raw.template, [...c.path, 'template']);
    const channel = raw.channel ?? template?.channel ?? 'chat';
    const to = c.recipient(raw.to);
    // By default only interrupting channels are held during quiet hours.
    const quietHours = raw.quiet_hours ?? (to.kind === 'buyer' && INTERRUPTING.has(channel));
    return { kind: 'send', to, channel, template: raw.template, quietHours, next: c.next() };
  },
  edges: (step) => [{ to: step.next }],
  describe: (step) => `send ${step.template} to ${step.to.kind}`,
  async run(step, rt, key) {
    const quiet = rt.plan.quietHours;
    if (step.quietHours && step.to.kind === 'buyer' && quiet) {
      const until = endOfQuietHours(Date.now(), quiet.start, quiet.end, quiet.timezone);
      if (until > Date.now()) await rt.waitFor(step.id, [], [{ kind: 'delay', step: step.id, at: iso(until) }], until);
    }
    const template = rt.plan.templates[step.template]!;
    const { messageId } = await rt.activities.sendMessage({
      key, caseId: rt.caseId, stepId: step.id, recipient: rt.recipient(step.to), channel: step.channel, template: step.template,
      body: rt.render(template.text, template.placeholders),
    });
    rt.record(step, { messageId, template: step.template });
    return step.next;
  },
};
