// The call log as read back: one stored attempt per lease. The outcome writer answers every
// completion (first or repeated) from these same rows through `toStoredOutcome`, which is what
// makes a repeated completion get exactly the answer the first one got.
import type { Knex } from 'knex';
import { z } from 'zod';
import { decodeDisposition } from '../engine/disposition.js';
import type { Disposition } from '../engine/disposition.js';
import type { AgentId, CampaignId, DeviceId, TenantId } from '../engine/ids.js';
import { fromTimestamp, parseInput, tenantOf } from './validate.js';

export interface StoredOutcome {
  readonly attemptId: string;
  readonly tenantId: TenantId;
  readonly campaignId: CampaignId;
  readonly leadId: string;
  readonly leaseId: string;
  readonly agentId: AgentId;
  readonly deviceId: DeviceId;
  readonly outcome: string;
  readonly disposition: Disposition;
  readonly attempts: number;
  readonly late: boolean;
  readonly durationSec: number;
  readonly notes: string | null;
  readonly tags: readonly string[];
  readonly callback: { readonly at: number; readonly scope: 'agent' | 'anyone' } | null;
  readonly followUp: Readonly<Record<string, unknown>> | null;
  readonly completedAt: number;
  /**
   * The number dialled and its place among the lead's numbers (1: the first, or its only one);
   * null when not recorded (before migration 0006) or, for the number, erased since.
   */
  readonly phone: string | null;
  readonly phonePosition: number | null;
  /** When the row was committed (the database's clock). */
  readonly recordedAt: number;
}

/** The writer's answer to one completion. */
export interface OutcomeRecord extends StoredOutcome {
  /** This lease's completion was already stored; nothing was written this time. */
  readonly duplicate: boolean;
}

export interface CallAttemptRow {
  tenant_id: string;
  id: string;
  lease_id: string;
  campaign_id: string;
  lead_id: string;
  agent_id: string;
  device_id: string;
  outcome: string;
  disposition: string;
  attempts: number;
  late: boolean;
  duration_sec: number;
  notes: string | null;
  tags: string[];
  callback_at: Date | null;
  callback_scope: 'agent' | 'anyone' | null;
  follow_up: Record<string, unknown> | null;
  completed_at: Date;
  created_at: Date;
  /** A fenced-out completion (0002_lease_fence): not a call. */
  voided: boolean;
  /** The number dialled, and its place among the lead's (0006_attempt_numbers). */
  phone: string | null;
  phone_position: number | null;
}

export function toStoredOutcome(row: CallAttemptRow): StoredOutcome {
  return {
    attemptId: row.id,
    tenantId: row.tenant_id as TenantId,
    campaignId: row.campaign_id as CampaignId,
    leadId: row.lead_id,
    leaseId: row.lease_id,
    agentId: row.agent_id as AgentId,
    deviceId: row.device_id as DeviceId,
    outcome: row.outcome,
    disposition: decodeDisposition(row.disposition),
    attempts: row.attempts,
    late: row.late,
    durationSec: row.duration_sec,
    notes: row.notes,
    tags: row.tags,
    callback:
      row.callback_at === null || row.callback_scope === null
        ? null
        : { at: fromTimestamp(row.callback_at), scope: row.callback_scope },
    followUp: row.follow_up,
    completedAt: fromTimestamp(row.completed_at),
    phone: row.phone,
    phonePosition: row.phone_position,
    recordedAt: fromTimestamp(row.created_at),
  };
}

/** What the call log holds for a lease: its stored outcome, or the mark that it was fenced out. */
export interface VoidedLease {
  readonly voided: true;
  readonly leadId: string;
}
export type LeaseOnRecord = StoredOutcome | VoidedLease;

export const isVoided = (r: LeaseOnRecord): r is VoidedLease => 'voided' in r;

/** A claimed lease whose commit the reaper fences out. */
export interface VoidInput {
  readonly leaseId: string;
  readonly campaignId: string;
  readonly leadId: string;
  readonly agentId: string;
  readonly deviceId: string;
}

export interface OutcomeRepository {
  /** The stored attempt of each lease id that has one, in this tenant only (void marks skipped). */
  findByLeaseIds(tenantId: string, leaseIds: readonly string[]): Promise<Map<string, StoredOutcome>>;
  /** Everything the call log holds for these lease ids: outcomes and void marks. */
  lookupLeases(tenantId: string, leaseIds: readonly string[]): Promise<Map<string, LeaseOnRecord>>;
  /**
   * Fence out the commits of claimed leases: record each as void unless its outcome is already
   * committed. Concurrent with a commit of the same lease, exactly one of the two wins (the unique
   * key on the lease id). Returns, per lease, what is on record now: the void mark (this call or
   * an earlier one wrote it), or the outcome that won; leases whose lead is gone are left out.
   */
  voidLeases(tenantId: string, items: readonly VoidInput[]): Promise<Map<string, LeaseOnRecord>>;
  /**
   * The calls of a campaign completed since `sinceMs` (void marks skipped), oldest first: the
   * number, the outcome, when the call started (its completion less its talk time) and ended. What
   * a rebuild restores the calling rules' history from, after the queue lost it.
   */
  recentCalls(tenantId: string, campaignId: string, sinceMs: number): Promise<RecentCall[]>;
}

export interface RecentCall {
  readonly phone: string;
  readonly outcome: string;
  /** Epoch ms. */
  readonly startedAt: number;
  /** Epoch ms. */
  readonly completedAt: number;
}

const leaseIdsSchema = z.array(z.string().min(1).max(200)).max(10_000);
const voidInputsSchema = z
  .array(
    z.object({
      leaseId: z.string().regex(/^[A-Za-z0-9_.:-]{1,200}$/),
      campaignId: z.string().min(1).max(64),
      leadId: z.string().regex(/^[1-9][0-9]{0,18}$/),
      agentId: z.string().min(1).max(64),
      deviceId: z.string().max(64),
    }),
  )
  .max(10_000);

const onRecord = (row: CallAttemptRow): LeaseOnRecord =>
  row.voided ? { voided: true, leadId: String(row.lead_id) } : toStoredOutcome(row);

export function createOutcomeRepository(knex: Knex): OutcomeRepository {
  async function lookup(tenant: string, ids: string[]): Promise<Map<string, LeaseOnRecord>> {
    const found = new Map<string, LeaseOnRecord>();
    if (ids.length === 0) return found;
    const { rows } = await knex.raw<{ rows: CallAttemptRow[] }>(
      `SELECT * FROM call_attempts WHERE tenant_id = ? AND lease_id = ANY(?::text[])`,
      [tenant, ids],
    );
    for (const row of rows) found.set(row.lease_id, onRecord(row));
    return found;
  }

  return {
    async recentCalls(tenantId, campaignId, sinceMs) {
      const { rows } = await knex.raw<{
        rows: { phone: string; outcome: string; completed_ms: string; duration_sec: number }[];
      }>(
        // The number the call dialled; a row from before 0006 has only its lead's (its only one then).
        `SELECT coalesce(a.phone, l.phone) AS phone, a.outcome,
                (extract(epoch FROM a.completed_at) * 1000)::bigint AS completed_ms, a.duration_sec
           FROM call_attempts a
           JOIN leads l ON l.tenant_id = a.tenant_id AND l.id = a.lead_id
          WHERE a.tenant_id = ? AND a.campaign_id = ? AND NOT a.voided AND a.completed_at > to_timestamp(? / 1000.0)
          ORDER BY a.completed_at`,
        [tenantOf(tenantId), campaignId, sinceMs],
      );
      return rows.map((r) => ({
        phone: r.phone,
        outcome: r.outcome,
        completedAt: Number(r.completed_ms),
        startedAt: Number(r.completed_ms) - r.duration_sec * 1000,
      }));
    },

    async findByLeaseIds(tenantId, leaseIds) {
      const ids = parseInput(leaseIdsSchema, leaseIds, 'lease ids');
      const found = new Map<string, StoredOutcome>();
      for (const [leaseId, r] of await lookup(tenantOf(tenantId), ids))
        if (!isVoided(r)) found.set(leaseId, r);
      return found;
    },

    lookupLeases(tenantId, leaseIds) {
      return lookup(tenantOf(tenantId), parseInput(leaseIdsSchema, leaseIds, 'lease ids'));
    },

    async voidLeases(tenantId, items) {
      const tenant = tenantOf(tenantId);
      const valid = parseInput(voidInputsSchema, items, 'void inputs');
      if (valid.length === 0) return new Map();
      const rows = valid.map((v) => ({
        tenant_id: tenant,
        lease_id: v.leaseId,
        campaign_id: v.campaignId,
        lead_id: v.leadId,
        agent_id: v.agentId,
        device_id: v.deviceId,
      }));
      // The insert joins the lead so a void can only name a lead of its own tenant and campaign.
      await knex.raw(
        `INSERT INTO call_attempts (tenant_id, lease_id, campaign_id, lead_id, agent_id, device_id,
           outcome, disposition, attempts, completed_at, voided)
         SELECT v.tenant_id, v.lease_id, v.campaign_id, v.lead_id, v.agent_id, v.device_id,
           '', 'void', 0, now(), true
         FROM jsonb_to_recordset(?::jsonb) AS v(tenant_id text, lease_id text, campaign_id text,
           lead_id bigint, agent_id text, device_id text)
         JOIN leads l ON l.tenant_id = v.tenant_id AND l.id = v.lead_id AND l.campaign_id = v.campaign_id
         ON CONFLICT (tenant_id, lease_id) DO NOTHING`,
        [JSON.stringify(rows)],
      );
      return lookup(
        tenant,
        valid.map((v) => v.leaseId),
      );
    },
  };
}
