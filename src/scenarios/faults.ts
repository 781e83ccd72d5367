/**
 * The outside world as scenarios script it: a payment provider that is down, integration operations
 * that keep failing, what integration operations answer. They wrap the real local adapters (each call
 * is still logged) and apply to the cases named.
 */
import { Context } from '@temporalio/activity';
import type { Adapters } from '../connectors/ports.js';

export interface ScenarioFaults {
  /**
   * `down_until_late`: the provider fails every refund attempt made before the refund's deadline (in
   * playbook time), then pays: the breach is escalated and the refund paid late, once.
   */
  payments?: 'down_until_late';
  /** `integration.operation` names whose calls fail on every attempt. */
  integrations?: string[];
}

export class FaultScript {
  private readonly byCase = new Map<string, ScenarioFaults>();
  private readonly answersByCase = new Map<string, Record<string, unknown>>();

  /** The case's faults, and what integration operations answer it, by `integration.operation`. */
  set(caseId: string, faults: ScenarioFaults, answers: Record<string, unknown> = {}): void {
    this.byCase.set(caseId, faults);
    this.answersByCase.set(caseId, answers);
  }

  wrap(adapters: Adapters): Adapters {
    return {
      ...adapters,
      payments: {
        refund: async (request) => {
          const attemptAt = Context.current().info.currentAttemptScheduledTimestampMs;
          if (this.byCase.get(request.caseId)?.payments === 'down_until_late' && attemptAt <= Date.parse(request.deadlineAt)) {
            throw new Error('payment provider unavailable (scripted)');
          }
          return adapters.payments.refund(request);
        },
      },
      integrations: {
        call: async (request) => {
          if (this.byCase.get(request.caseId)?.integrations?.includes(`${request.integration}.${request.operation}`)) {
            throw new Error(`${request.integration}.${request.operation} failed (scripted)`);
          }
          const result = await adapters.integrations.call(request);
          const answers = this.answersByCase.get(request.caseId) ?? {};
          const operation = `${request.integration}.${request.operation}`;
          return Object.hasOwn(answers, operation) ? answers[operation] : result;
        },
      },
    };
  }
}
