/**
 * Ports that carry each side effect to the connector its configuration binds it to: a message by its
 * channel, an integration call by the integration's name (`default` for the others). Built in the
 * composition root (src/stack/compose.ts) with the connectors already chosen.
 */
import type { IntegrationRequest, MessageRequest } from '../plan/activities.js';
import type { Channel } from '../plan/plan.js';
import type { ChannelAdapter, EffectAttempt, IntegrationGateway } from './ports.js';

export class ChannelRouter implements ChannelAdapter {
  constructor(private readonly byChannel: Readonly<Record<Channel, ChannelAdapter>>) {}

  deliver(message: MessageRequest & { messageId: number }, attempt?: EffectAttempt): Promise<void> {
    return this.byChannel[message.channel].deliver(message, attempt);
  }
}

export class IntegrationRouter implements IntegrationGateway {
  constructor(
    private readonly byIntegration: Readonly<Record<string, IntegrationGateway>>,
    private readonly fallback: IntegrationGateway,
  ) {}

  call(request: IntegrationRequest, attempt?: EffectAttempt): Promise<unknown> {
    const gateway = Object.hasOwn(this.byIntegration, request.integration) ? this.byIntegration[request.integration]! : this.fallback;
    return gateway.call(request, attempt);
  }
}
