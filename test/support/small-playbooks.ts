/** Small playbooks written inside tests, to exercise one construct or one fault at a time. */
import type { CaseService } from '../../src/cases/service.js';
import { validatePlaybook } from '../../src/playbook/index.js';
import type { HashedPlan } from '../../src/plan/plan.js';
import { publishPlaybook } from '../../src/store/playbooks.js';
import type { Pool } from '../../src/store/pool.js';
import { openCase } from './playbooks.js';

/**
 * The YAML of a playbook made of the common head (a `paid` money field, an `order_id`, an optional
 * `count`), `header` (more top-level properties) and `body` (events, templates, steps...).
 */
export const smallPlaybookSource = (name: string, body: string, header = ''): string =>
  `playbook: ${name}\ncase_type: return\ncurrency: CNY\ntimezone: UTC\n${header}fields:\n  paid: { type: money }\n  order_id: { type: string }\n  count: { type: integer, required: false }\npaid_field: paid\norder_id_field: order_id\n${body}`;

/** Compiles the playbook `smallPlaybookSource` writes. */
export function compileSmallPlaybook(name: string, body: string, header = ''): HashedPlan {
  const source = smallPlaybookSource(name, body, header);
  const result = validatePlaybook(source, `${name}.yaml`);
  if (!result.plan) throw new Error(JSON.stringify(result.diagnostics));
  return result.plan;
}

/** Publishes the playbook (once; the same content again is the same version) and opens a case on it; `order_id` is the case id. */
export async function openSmallCase(service: CaseService, pool: Pool, compiled: HashedPlan, caseId: string, data: Record<string, unknown> = {}): Promise<void> {
  const { version } = await publishPlaybook(pool, '', compiled, 'test');
  await openCase(service, {
    caseId,
    playbook: version.name,
    version: version.version,
    data: { paid: { amount: 1_000, currency: 'CNY' }, order_id: caseId, ...data },
  });
}

/** Waits for the warehouse receipt, then refunds everything paid within 24 hours of it. */
export const RECEIPT_THEN_REFUND = `events:
  warehouse.received: { payload: {} }
steps:
  - id: wait_receipt
    wait: { events: [{ event: warehouse.received }], timeout: 10d, on_timeout: late }
  - id: refund
    refund: { amount: data.paid.amount, reason: test, within: 24h, from: warehouse.received, on_breach: late, on_declined: late }
  - id: done
    end: { outcome: resolved, reason: refunded }
  - id: late
    end: { outcome: escalated, reason: late }
`;

/** Adds each `tick` event's `n` to `count` until it reaches `target`: a long case, to continue as new. */
export const countTicksTo = (target: number): string => `events:
  tick: { payload: { n: { type: integer } } }
steps:
  - id: wait_tick
    wait: { events: [{ event: tick }], timeout: 1d, on_timeout: done }
  - id: count
    set: { count: data.count + events.tick.n }
  - id: enough
    branch: { cases: [{ when: data.count >= ${target}, goto: done }], otherwise: wait_tick }
  - id: done
    end: { outcome: resolved, reason: counted }
`;

/** An agent decides on a damaged return; approving hands it to a supervisor's check, rejecting escalates it. */
export const DAMAGED_DECISION = `steps:
  - id: decide
    task: { role: after-sale-agent, title: Decide on the damaged return, sla: 4h, outcomes: { approve: confirm, reject: escalate_rejected }, on_sla_breach: late }
  - id: confirm
    task: { role: after-sale-supervisor, title: Confirm the refund, sla: 1d, outcomes: { done: end_done }, on_sla_breach: late }
  - id: end_done
    end: { outcome: resolved, reason: confirmed }
  - id: escalate_rejected
    escalate: { queue: after-sale-supervisor, severity: high, reason: rejected_by_agent, note: '"rejected: " + data.order_id' }
  - id: end_rejected
    end: { outcome: escalated, reason: rejected }
  - id: late
    escalate: { queue: after-sale-supervisor, severity: medium, reason: decision_late }
  - id: end_late
    end: { outcome: escalated, reason: late }
`;

/** A whole playbook, valid with one warning: its wait has no timeout (PB123, at the `wait:` key on line 11). */
export const waitForEverYaml = (timezone: string): string => `playbook: parcel-watch
case_type: return
currency: CNY
timezone: ${timezone}
fields:
  order_id: { type: string }
events:
  warehouse.received: { payload: {} }
steps:
  - id: wait_receipt
    wait: { events: [{ event: warehouse.received }] }
  - id: done
    end: { outcome: resolved, reason: received }
`;
