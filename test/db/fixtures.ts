// Builders for db tests: tenants with a campaign and agents, numbered phone numbers, and outcome
// inputs with defaults, so each test states only what its promise is about.
import { randomBytes } from 'node:crypto';
import { ALWAYS_OPEN } from '../../engine/calling-window.js';
import type { Database, NewLead, OutcomeInput } from '../../db/index.js';

export const T0 = Date.UTC(2026, 0, 5, 12);
export const MIN = 60_000;

/** A fresh tenant id, so tests sharing a schema never share rows. */
export const newTenantId = (label = 't'): string => `${label}_${randomBytes(4).toString('hex')}`;

/** Distinct valid UK mobile numbers (E.164). */
export const phone = (n: number): string => `+4477009${String(n).padStart(5, '0')}`;

let leaseCounter = 0;
/** Lease ids shaped as the engine makes them: "<campaign>.<epoch>.<counter>". */
export const newLeaseId = (campaignId = 'c1'): string => `${campaignId}.e1.${++leaseCounter}`;

export interface Seeded {
  readonly tenantId: string;
  readonly campaignId: string;
  readonly leadIds: string[];
}

/** A tenant (device limit 3) with agents a1 and a2, one active campaign, and `leads` leads. */
export async function seedTenant(
  db: Database,
  options: { tenantId?: string; campaignId?: string; leads?: number | readonly NewLead[] } = {},
): Promise<Seeded> {
  const tenantId = options.tenantId ?? newTenantId();
  const campaignId = options.campaignId ?? 'c1';
  if (!(await db.tenants.get(tenantId))) {
    await db.tenants.create({ id: tenantId, name: `Tenant ${tenantId}`, plan: { deviceLimit: 3 } });
    await db.users.create({ tenantId, id: 'a1', name: 'Agent One', role: 'agent' });
    await db.users.create({ tenantId, id: 'a2', name: 'Agent Two', role: 'agent' });
  }
  await db.campaigns.upsert({
    tenantId,
    id: campaignId,
    name: `Campaign ${campaignId}`,
    status: 'active',
    config: { window: ALWAYS_OPEN },
  });
  const leads =
    typeof options.leads === 'number' || options.leads === undefined
      ? Array.from({ length: options.leads ?? 0 }, (_, i) => ({
          phone: phone(i + 1),
          name: `Lead ${i + 1}`,
          timeZone: 'Europe/London',
        }))
      : options.leads;
  const leadIds = await db.leads.insertBatch(tenantId, campaignId, leads);
  return { tenantId, campaignId, leadIds };
}

/** A completion with sensible defaults: a first-attempt no_answer retried in an hour. */
export function outcomeFor(
  seeded: { tenantId: string; campaignId: string },
  leadId: string,
  overrides: Partial<OutcomeInput> = {},
): OutcomeInput {
  return {
    tenantId: seeded.tenantId,
    campaignId: seeded.campaignId,
    leadId,
    leaseId: newLeaseId(seeded.campaignId),
    agentId: 'a1',
    deviceId: 'd1',
    outcome: 'no_answer',
    disposition: { kind: 'retry', dueAt: T0 + 60 * MIN },
    attempts: 1,
    late: false,
    durationSec: 12,
    completedAt: T0,
    ...overrides,
  };
}
