import type { Channel, Recipient, StepBase } from '../plan.js';
import type { RawRecipient, StepKind } from './kind.js';

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
};
