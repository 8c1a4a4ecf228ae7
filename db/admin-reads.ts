// The admin API's reads: tenants, campaigns, leads, call attempts and do-not-call entries, listed
// in a stable order with keyset (cursor) pagination: `after` is the last id of the previous page,
// never an OFFSET, so a page costs the same deep in a list of millions and rows added meanwhile
// are neither skipped nor repeated. Every read but the operator's tenant list takes the tenant.
import type { Knex } from 'knex';
import { DbError } from './errors.js';
import { keyset, pageOf } from './pager.js';
import type { Page, PageRequest } from './pager.js';
import { fromTimestamp, tenantOf } from './validate.js';

export type { Page, PageRequest } from './pager.js';

const iso = (v: Date | string | null): string | null =>
  v === null ? null : new Date(fromTimestamp(v)).toISOString();

export interface TenantView {
  id: string;
  name: string;
  plan: unknown;
  createdAt: string | null;
}
export interface CampaignView {
  id: string;
  name: string;
  status: string;
  window: unknown;
  dispositions: unknown;
  offerTtlMs: number | null;
  callTtlMs: number | null;
  defaultTimeZone: string | null;
  createdAt: string | null;
  updatedAt: string | null;
}
export interface LeadView {
  id: string;
  campaignId: string;
  phone: string;
  name: string;
  timeZone: string[] | null;
  priority: number;
  status: string;
  attempts: number;
  dueAt: string | null;
  fields: unknown;
  createdAt: string | null;
  updatedAt: string | null;
}
export interface AttemptView {
  id: string;
  leaseId: string;
  campaignId: string;
  leadId: string;
  agentId: string;
  deviceId: string;
  outcome: string;
  disposition: string;
  durationSec: number;
  notes: string | null;
  tags: string[];
  callbackAt: string | null;
  completedAt: string | null;
  /** The number dialled (null: not recorded, or erased since) and its place among the lead's. */
  phone: string | null;
  phonePosition: number | null;
}
export interface DncView {
  phone: string;
  source: string;
  createdAt: string | null;
}

export interface AdminReads {
  /** Every tenant (the operator's view: crosses tenants on purpose). */
  tenants(page: PageRequest): Promise<Page<TenantView>>;
  tenant(tenantId: string): Promise<TenantView | undefined>;
  campaigns(
    tenantId: string,
    page: PageRequest & { status?: string | undefined },
  ): Promise<Page<CampaignView>>;
  campaign(tenantId: string, campaignId: string): Promise<CampaignView | undefined>;
  leads(
    tenantId: string,
    campaignId: string,
    page: PageRequest & { status?: string | undefined },
  ): Promise<Page<LeadView>>;
  lead(tenantId: string, leadId: string): Promise<LeadView | undefined>;
  attempts(
    tenantId: string,
    page: PageRequest & {
      campaignId?: string | undefined;
      leadId?: string | undefined;
      agentId?: string | undefined;
      /** Completed at or after (epoch ms). */
      from?: number | undefined;
      /** Completed before (epoch ms). */
      to?: number | undefined;
    },
  ): Promise<Page<AttemptView>>;
  dnc(tenantId: string, page: PageRequest): Promise<Page<DncView>>;
}

const BIGINT = /^[1-9]\d{0,18}$/;

/** Numeric ids compare as numbers: the cursor must be one. */
function numericAfter(after: string | undefined): string | undefined {
  if (after === undefined) return undefined;
  if (!BIGINT.test(after)) throw new DbError('INPUT_INVALID', 'after: must be an id from a previous page');
  return after;
}

/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-argument -- rows straight from knex, mapped right here */
const tenantView = (r: any): TenantView => ({
  id: r.id,
  name: r.name,
  plan: r.plan,
  createdAt: iso(r.created_at),
});
const campaignView = (r: any): CampaignView => ({
  id: r.id,
  name: r.name,
  status: r.status,
  window: r.calling_window,
  offerTtlMs: r.offer_ttl_ms ?? null,
  callTtlMs: r.call_ttl_ms ?? null,
  defaultTimeZone: r.default_time_zone ?? null,
  dispositions: r.dispositions,
  createdAt: iso(r.created_at),
  updatedAt: iso(r.updated_at),
});
const leadView = (r: any): LeadView => ({
  id: String(r.id),
  campaignId: r.campaign_id,
  phone: r.phone,
  name: r.name,
  timeZone: r.time_zone === null ? null : String(r.time_zone).split(','),
  priority: r.priority,
  status: r.status,
  attempts: r.attempts,
  dueAt: iso(r.next_due_at),
  fields: r.fields,
  createdAt: iso(r.created_at),
  updatedAt: iso(r.updated_at),
});
const attemptView = (r: any): AttemptView => ({
  id: String(r.id),
  leaseId: r.lease_id,
  campaignId: r.campaign_id,
  leadId: String(r.lead_id),
  agentId: r.agent_id,
  deviceId: r.device_id,
  outcome: r.outcome,
  disposition: r.disposition,
  durationSec: r.duration_sec,
  notes: r.notes,
  tags: r.tags,
  callbackAt: iso(r.callback_at),
  completedAt: iso(r.completed_at),
  phone: r.phone,
  phonePosition: r.phone_position,
});
const dncView = (r: any): DncView => ({ phone: r.phone, source: r.source, createdAt: iso(r.created_at) });
/* eslint-enable @typescript-eslint/no-explicit-any */

export function createAdminReads(knex: Knex): AdminReads {
  return {
    async tenants({ after, limit }) {
      const q = keyset(knex('tenants'), 'id', { after, limit });
      return pageOf(await q, limit, tenantView, (t) => t.id);
    },
    async tenant(tenantId) {
      const row: unknown = await knex('tenants')
        .where({ id: tenantOf(tenantId) })
        .first();
      return row ? tenantView(row) : undefined;
    },
    async campaigns(tenantId, { after, limit, status }) {
      const q = keyset(knex('campaigns').where({ tenant_id: tenantOf(tenantId) }), 'id', { after, limit });
      if (status !== undefined) q.where({ status });
      return pageOf(await q, limit, campaignView, (c) => c.id);
    },
    async campaign(tenantId, campaignId) {
      const row: unknown = await knex('campaigns')
        .where({ tenant_id: tenantOf(tenantId), id: campaignId })
        .first();
      return row ? campaignView(row) : undefined;
    },
    async leads(tenantId, campaignId, { after, limit, status }) {
      const q = keyset(
        knex('leads').where({ tenant_id: tenantOf(tenantId), campaign_id: campaignId }),
        'id',
        {
          after: numericAfter(after),
          limit,
        },
      );
      if (status !== undefined) q.where({ status });
      return pageOf(await q, limit, leadView, (l) => l.id);
    },
    async lead(tenantId, leadId) {
      if (!BIGINT.test(leadId)) return undefined;
      const row: unknown = await knex('leads')
        .where({ tenant_id: tenantOf(tenantId), id: leadId })
        .first();
      return row ? leadView(row) : undefined;
    },
    async attempts(tenantId, { after, limit, campaignId, leadId, agentId, from, to }) {
      const q = keyset(knex('call_attempts').where({ tenant_id: tenantOf(tenantId), voided: false }), 'id', {
        after: numericAfter(after),
        limit,
      });
      if (campaignId !== undefined) q.where({ campaign_id: campaignId });
      if (leadId !== undefined) q.where({ lead_id: numericAfter(leadId) });
      if (agentId !== undefined) q.where({ agent_id: agentId });
      if (from !== undefined) q.where('completed_at', '>=', new Date(from));
      if (to !== undefined) q.where('completed_at', '<', new Date(to));
      return pageOf(await q, limit, attemptView, (a) => a.id);
    },
    async dnc(tenantId, { after, limit }) {
      const q = keyset(knex('dnc').where({ tenant_id: tenantOf(tenantId) }), 'phone', { after, limit });
      return pageOf(await q, limit, dncView, (d) => d.phone);
    },
  };
}
