/**
 * Scripted failures of the outside world for scenarios: a payment provider that is down, integration
 * operations that keep failing. They wrap the real local adapters and apply to the cases named.
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

  set(caseId: string, faults: ScenarioFaults): void {
    this.byCase.set(caseId, faults);
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
          return adapters.integrations.call(request);
        },
      },
    };
  }
}
