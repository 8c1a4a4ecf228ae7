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
    recordedAt: fromTimestamp(row.created_at),
  };
}

export interface OutcomeRepository {
  /** The stored attempt of each lease id that has one, in this tenant only. */
  findByLeaseIds(tenantId: string, leaseIds: readonly string[]): Promise<Map<string, StoredOutcome>>;
}

const leaseIdsSchema = z.array(z.string().min(1).max(160)).max(10_000);

export function createOutcomeRepository(knex: Knex): OutcomeRepository {
  return {
    async findByLeaseIds(tenantId, leaseIds) {
      const tenant = tenantOf(tenantId);
      const ids = parseInput(leaseIdsSchema, leaseIds, 'lease ids');
      const found = new Map<string, StoredOutcome>();
      if (ids.length === 0) return found;
      const { rows } = await knex.raw<{ rows: CallAttemptRow[] }>(
        `SELECT * FROM call_attempts WHERE tenant_id = ? AND lease_id = ANY(?::text[])`,
        [tenant, ids],
      );
      for (const row of rows) found.set(row.lease_id, toStoredOutcome(row));
      return found;
    },
  };
}
