/** Return cases waiting for the parcel, and versions of the standard return playbook to move them to (issue 25 point 2). */
import { expect } from 'vitest';
import { validatePlaybook } from '../../src/playbook/index.js';
import { publishPlaybook, type PlaybookVersion } from '../../src/store/playbooks.js';
import type { Pool } from '../../src/store/pool.js';
import { compileStandardPlaybook, openCase, playbookPath, returnCaseData, STANDARD_CALENDARS } from './playbooks.js';
import type { Runtime } from './runtime.js';

const DAY = 86_400_000;

/** Publishes the standard return playbook with `edit` applied to its text (each call a new version). */
export async function publishReturnVersion(pool: Pool, edit: (source: string) => string = (source) => source): Promise<PlaybookVersion> {
  const source = edit(compileStandardPlaybook('return').source);
  const result = validatePlaybook(source, playbookPath('return'), { calendars: STANDARD_CALENDARS });
  if (!result.plan) throw new Error(`the edited return playbook does not compile: ${JSON.stringify(result.diagnostics)}`);
  return (await publishPlaybook(pool, source, result.plan, 'test')).version;
}

/** The return playbook with a longer wait for the warehouse: 11 days instead of 10. */
export const LONGER_RECEIPT = (source: string): string => replaced(source, 'receipt_timeout: 10d', 'receipt_timeout: 11d');

/** The return playbook whose wait for the warehouse is called `wait_parcel` (and waits 11 days). */
export const RENAMED_RECEIPT = (source: string): string => replaced(LONGER_RECEIPT(source), '  - id: wait_receipt\n', '  - id: wait_parcel\n');

/** The return playbook whose wait for the parcel also takes the buyer's late choice of an exchange. */
export const EXCHANGE_AT_RECEIPT = (source: string): string =>
  replaced(
    source,
    '  - id: wait_receipt\n    wait:\n      events:\n        - event: warehouse.received\n',
    '  - id: wait_receipt\n    wait:\n      events:\n        - event: warehouse.received\n        - event: buyer.chose_exchange\n          goto: exchange_instead\n',
  );

/** The return playbook whose exchange offer waits 6 hours for the buyer's answer instead of 4. */
export const LONGER_OFFER = (source: string): string => replaced(source, 'exchange_offer_within: 4h', 'exchange_offer_within: 6h');

/** The return playbook whose `buyer.shipped` also names the carrier (11-day wait too): a case that took one without it cannot move. */
export const CARRIER_REQUIRED = (source: string): string =>
  replaced(LONGER_RECEIPT(source), '      tracking_number: { type: string }\n', '      tracking_number: { type: string }\n      carrier: { type: string }\n');

function replaced(source: string, from: string, to: string): string {
  if (!source.includes(from)) throw new Error(`the return playbook has no '${from.trim()}' any more`);
  return source.replace(from, to);
}

/** Opens a no-reason return on `version` and brings it to `wait_receipt`: the buyer keeps the return and ships the parcel. */
export async function openReturnAtReceipt(runtime: Runtime, caseId: string, version: PlaybookVersion): Promise<void> {
  const now = await runtime.env.currentTimeMs();
  await openCase(runtime.service, { caseId, playbook: version.name, version: version.version, data: returnCaseData(`TB-${caseId}`, now - 2 * DAY) });
  await atStep(runtime, caseId, 'wait_exchange_answer');
  await runtime.inbox.deliverEvent(caseId, { type: 'buyer.kept_return', id: `${caseId}-kept`, payload: {} });
  await runtime.inbox.deliverEvent(caseId, { type: 'buyer.shipped', id: `${caseId}-shipped`, payload: { tracking_number: `SF-${caseId}` } });
  await atStep(runtime, caseId, 'wait_receipt');
}

/** Waits until the case's projection says it waits at `step`. */
export async function atStep(runtime: Runtime, caseId: string, step: string): Promise<void> {
  await expect
    .poll(
      async () => {
        const seen = await runtime.service.describe(caseId);
        return seen?.status === 'waiting' ? seen.step : null;
      },
      { timeout: 30_000 },
    )
    .toBe(step);
}
