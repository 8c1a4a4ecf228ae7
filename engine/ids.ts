// Branded identifiers. Mixing a lead id with a lease id or one tenant's campaign with another's
// is a bug the compiler should catch, so every id the engine handles carries a brand.
import { z } from 'zod';

const ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

const idSchema = <B extends string>(_brand: B) =>
  z.string().regex(ID_PATTERN, 'must be 1-64 characters of A-Z, a-z, 0-9, "_" or "-"').brand<B>();

export const tenantIdSchema = idSchema('TenantId');
export const campaignIdSchema = idSchema('CampaignId');
export const leadIdSchema = idSchema('LeadId');
export const agentIdSchema = idSchema('AgentId');
export const deviceIdSchema = idSchema('DeviceId');

export type TenantId = z.infer<typeof tenantIdSchema>;
export type CampaignId = z.infer<typeof campaignIdSchema>;
export type LeadId = z.infer<typeof leadIdSchema>;
export type AgentId = z.infer<typeof agentIdSchema>;
export type DeviceId = z.infer<typeof deviceIdSchema>;

/** A campaign is always addressed together with its tenant: keys, rooms and rows carry both. */
export interface CampaignRef {
  readonly tenantId: TenantId;
  readonly campaignId: CampaignId;
}

export const campaignRefSchema = z.object({ tenantId: tenantIdSchema, campaignId: campaignIdSchema });

/** Casts for trusted sources (ids read back from our own store, test fixtures). */
export const asTenantId = (s: string) => s as TenantId;
export const asCampaignId = (s: string) => s as CampaignId;
export const asLeadId = (s: string) => s as LeadId;
export const asAgentId = (s: string) => s as AgentId;
export const asDeviceId = (s: string) => s as DeviceId;

export function campaignRef(tenantId: string, campaignId: string): CampaignRef {
  return campaignRefSchema.parse({ tenantId, campaignId });
}

/** The most characters a lease id can have (engine/lease.ts: a 64-character campaign and lead id, every part at its longest). */
export const MAX_LEASE_ID_LENGTH = 200;
