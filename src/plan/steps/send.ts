import type { Channel, Recipient, StepBase, TemplateSpec } from '../plan.js';
import type { JsonPath, RawRecipient, StepCompiler, StepKind } from './kind.js';

export interface SendStep extends StepBase {
  kind: 'send';
  to: Recipient;
  channel: Channel;
  template: string;
  quietHours: boolean;
  /** The step to take when the channel refuses the message for good (an address the mail server refuses). */
  onError?: string;
  next: string;
}

export interface RawSend {
  to: RawRecipient;
  template: string;
  channel?: Channel;
  quiet_hours?: boolean;
  on_error?: string;
}

/** Chat and in-site letters wait in the buyer's app; SMS, e-mail and calls interrupt. */
const INTERRUPTING: ReadonlySet<Channel> = new Set(['sms', 'email', 'phone']);

/** The case field holding the buyer's e-mail address. */
export const BUYER_EMAIL_FIELD = 'buyer_email';

export const send: StepKind<SendStep, RawSend> = {
  kind: 'send',
  schema: '#/$defs/step/properties/send',
  waits: false,
  shape: 'box',
  compile(raw, c) {
    const template = c.template(raw.template, [...c.path, 'template']);
    const channel = raw.channel ?? template?.channel ?? 'chat';
    const to = c.recipient(raw.to);
    checkMessage(c, raw.template, template, channel, to, c.path);
    // By default only interrupting channels are held during quiet hours.
    const quietHours = raw.quiet_hours ?? (to.kind === 'buyer' && INTERRUPTING.has(channel));
    return {
      kind: 'send',
      to,
      channel,
      template: raw.template,
      quietHours,
      ...(raw.on_error !== undefined ? { onError: c.ref(raw.on_error, [...c.path, 'on_error']) } : {}),
      next: c.next(),
    };
  },
  edges: (step) => [{ to: step.next }, ...(step.onError ? [{ to: step.onError, label: 'error' }] : [])],
  describe: (step) => `send ${step.template} to ${step.to.kind}`,
};

/**
 * What sending `template` on `channel` needs, checked where a step sends it (`path`: the step's action):
 * an e-mail has a subject, and an e-mail to the buyer an address (the `buyer_email` field, a string).
 */
export function checkMessage(c: StepCompiler, name: string, template: TemplateSpec | undefined, channel: Channel, to: Recipient, path: JsonPath): void {
  if (channel !== 'email' || !template) return;
  // A template whose own channel is e-mail is reported at the template, once.
  if (!template.subject && template.channel !== 'email')
    c.error('PB160', `template '${name}' is sent by e-mail but has no subject`, [...path, 'template'], {
      hint: `add subject: "..." to the template '${name}' (one text, or one per language)`,
    });
  const field = c.declarations.fields[BUYER_EMAIL_FIELD];
  if (to.kind === 'buyer' && field?.type !== 'string')
    c.error('PB162', `an e-mail to the buyer needs the case field '${BUYER_EMAIL_FIELD}' (a string) to hold the address`, [...path, 'to'], {
      hint: `declare it under fields: ${BUYER_EMAIL_FIELD}: { type: string }`,
    });
}
