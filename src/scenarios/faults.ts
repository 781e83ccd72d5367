/**
 * Scripted failures of the outside world for scenarios: a payment provider that is down, integration
 * operations that keep failing. They wrap the real local adapters and apply to the cases named.
 */
import type { Adapters } from '../activities/adapters.js';

export interface ScenarioFaults {
  /** `unavailable`: every refund attempt fails as a transient error, so retries run until the deadline. */
  payments?: 'unavailable';
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
          if (this.byCase.get(request.caseId)?.payments === 'unavailable') throw new Error('payment provider unavailable (scripted)');
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
