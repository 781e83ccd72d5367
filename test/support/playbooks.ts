import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { CaseService, OpenCaseRequest, OpenedCase } from '../../src/cases/service.js';
import { readCalendarFolder, subPlaybooksInFolder } from '../../src/services/playbooks.js';
import type { HashedPlan } from '../../src/plan/plan.js';
import { subPlaybookNames, validatePlaybook } from '../../src/playbook/index.js';
import { NO_MARKETPLACE_PACKS } from '../../src/playbook/marketplace-packs.js';
import { recordOrderAdvance } from '../../src/store/orders.js';
import { publishPlaybook, type PlaybookVersion } from '../../src/store/playbooks.js';
import type { Pool } from '../../src/store/pool.js';

export const playbookPath = (name: string): string => fileURLToPath(new URL(`../../playbooks/${name}.yaml`, import.meta.url));

/** The shared calendars the standard playbooks name (calendars/*.yaml). */
export const STANDARD_CALENDARS = readCalendarFolder(fileURLToPath(new URL('../../calendars/', import.meta.url))).calendars;

/** Compiles a standard playbook with the shared calendars and the sub-playbooks beside it (each as version 1), as `casebook validate` does. */
export function compileStandardPlaybook(name: string): { source: string; plan: HashedPlan } {
  const file = playbookPath(name);
  const source = readFileSync(file, 'utf8');
  const playbooks = subPlaybooksInFolder(file, source, { calendars: STANDARD_CALENDARS, marketplaces: NO_MARKETPLACE_PACKS });
  const result = validatePlaybook(source, file, { calendars: STANDARD_CALENDARS, playbooks });
  if (!result.plan) throw new Error(`playbook ${name} does not compile: ${JSON.stringify(result.diagnostics)}`);
  return { source, plan: result.plan };
}

/** Compiles a standard playbook and publishes it (version 1 in a fresh database), as the API would; the sub-playbooks it runs first. */
export async function publishStandardPlaybook(pool: Pool, name: string): Promise<PlaybookVersion> {
  for (const child of subPlaybookNames(readFileSync(playbookPath(name)), name)) await publishStandardPlaybook(pool, child);
  const { source, plan } = compileStandardPlaybook(name);
  return (await publishPlaybook(pool, source, plan, 'test')).version;
}

/** Opens a case through the service, as every entry point does; throws when it does not open. */
export async function openCase(service: CaseService, request: OpenCaseRequest): Promise<OpenedCase> {
  const opened = await service.open(request);
  if (opened.kind !== 'opened') throw new Error(`case ${request.caseId} did not open: ${opened.message}`);
  return opened;
}

/** Records return shipping the buyer advanced for an order (in CNY), as the warehouse does once the parcel came back. */
export async function recordAdvance(pool: Pool, orderId: string, amount: number, evidence = `waybill for ${orderId}`): Promise<void> {
  const recorded = await recordOrderAdvance(pool, orderId, { kind: 'return_shipping', amount, currency: 'CNY', evidence }, 'test warehouse');
  if (recorded.kind !== 'recorded') throw new Error(`advance on ${orderId} not recorded: ${recorded.kind}`);
}

/**
 * Case data for a standard no-reason return of an order of 199.00 with 10.00 outbound shipping, not
 * shipped free, uninsured, signed for at `signedAtMs`; `overrides` replace or add fields.
 */
export function returnCaseData(orderId: string, signedAtMs: number, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    order_id: orderId,
    buyer_name: 'Li Lei',
    order_total: { amount: 19_900, currency: 'CNY' },
    outbound_shipping: { amount: 1_000, currency: 'CNY' },
    shipped_free: false,
    signed_at: new Date(signedAtMs).toISOString(),
    reason: 'no_reason',
    shipping_insurance: false,
    ...overrides,
  };
}
