// What the system of record knows about why a lead is or is not dialled: the lead's own state,
// its last outcome (whose policy bounds its attempts), its pending callback, and whether its
// number is on the do-not-call list or the erasure list. One query per page of leads, so the
// campaign summary reads a whole campaign in keyset pages without one query per lead.
import type { Knex } from 'knex';
import { z } from 'zod';
import { campaignIdSchema } from '../../engine/ids.js';
import { dbLeadIdSchema, fromTimestamp, parseInput, tenantOf } from '../validate.js';
import type { SubjectKeys } from './subject-keys.js';

export interface LeadFacts {
  readonly leadId: string;
  readonly campaignId: string;
  readonly status: 'queued' | 'final' | 'removed';
  /** Candidate zones (null: unknown, never dialled). */
  readonly timeZone: readonly string[] | null;
  readonly attempts: number;
  readonly dueAt: number | null;
  readonly pinnedAgentId: string | null;
  readonly lastOutcome: string | null;
  readonly callback: { readonly dueAt: number; readonly agentId: string | null } | null;
  readonly dnc: boolean;
  readonly erased: boolean;
  /** The number itself, for the queue lookups only: never answered or logged. */
  readonly phone: string;
}

interface FactRow {
  id: string;
  campaign_id: string;
  status: LeadFacts['status'];
  time_zone: string | null;
  attempts: number;
  next_due_at: Date | null;
  pinned_agent_id: string | null;
  phone: string;
  last_outcome: string | null;
  callback_due_at: Date | null;
  callback_agent_id: string | null;
  dnc: boolean;
}

const pageSchema = z.object({
  campaignId: campaignIdSchema,
  after: dbLeadIdSchema.optional(),
  limit: z.number().int().min(1).max(5_000),
});

export interface ExplainFacts {
  /** The facts of one lead of the tenant, or undefined when the tenant has no such lead. */
  lead(tenantId: string, leadId: string): Promise<LeadFacts | undefined>;
  /** A page of a campaign's leads in id order, after `after`. */
  campaignPage(
    tenantId: string,
    page: { campaignId: string; after?: string; limit: number },
  ): Promise<LeadFacts[]>;
}

export function createExplainFacts(knex: Knex, keys: SubjectKeys): ExplainFacts {
  async function select(
    tenantId: string,
    where: string,
    bindings: (string | number)[],
    limit: number,
  ): Promise<LeadFacts[]> {
    const { rows } = await knex.raw<{ rows: FactRow[] }>(
      `SELECT l.id, l.campaign_id, l.status, l.time_zone, l.attempts, l.next_due_at, l.pinned_agent_id,
              l.phone, a.outcome AS last_outcome, c.due_at AS callback_due_at,
              c.agent_id AS callback_agent_id,
              EXISTS (SELECT 1 FROM dnc d WHERE d.tenant_id = l.tenant_id AND d.phone = l.phone) AS dnc
         FROM leads l
         LEFT JOIN LATERAL (
           SELECT outcome FROM call_attempts
            WHERE tenant_id = l.tenant_id AND lead_id = l.id AND NOT voided
            ORDER BY completed_at DESC, id DESC LIMIT 1) a ON true
         LEFT JOIN LATERAL (
           SELECT due_at, agent_id FROM callbacks
            WHERE tenant_id = l.tenant_id AND lead_id = l.id AND status = 'pending'
            ORDER BY due_at LIMIT 1) c ON true
        WHERE l.tenant_id = ? AND ${where}
        ORDER BY l.id
        LIMIT ?`,
      [tenantId, ...bindings, limit],
    );
    if (rows.length === 0) return [];
    const hashes = await keys.hashesOf(
      tenantId,
      rows.map((r) => r.phone),
    );
    const { rows: erased } = await knex.raw<{ rows: { phone_hash: Buffer }[] }>(
      `SELECT phone_hash FROM suppressions WHERE tenant_id = ? AND phone_hash = ANY(?::bytea[])`,
      [tenantId, [...new Set(hashes.values())]],
    );
    const erasedHex = new Set(erased.map((e) => e.phone_hash.toString('hex')));
    return rows.map((r) => ({
      leadId: String(r.id),
      campaignId: r.campaign_id,
      status: r.status,
      timeZone: r.time_zone === null ? null : r.time_zone.split(','),
      attempts: r.attempts,
      dueAt: r.next_due_at === null ? null : fromTimestamp(r.next_due_at),
      pinnedAgentId: r.pinned_agent_id,
      lastOutcome: r.last_outcome,
      callback:
        r.callback_due_at === null
          ? null
          : { dueAt: fromTimestamp(r.callback_due_at), agentId: r.callback_agent_id },
      dnc: r.dnc,
      erased: erasedHex.has(hashes.get(r.phone)!.toString('hex')),
      phone: r.phone,
    }));
  }

  return {
    async lead(tenantId, leadId) {
      const tenant = tenantOf(tenantId);
      const id = parseInput(dbLeadIdSchema, leadId, 'lead id');
      const [facts] = await select(tenant, 'l.id = ?', [id], 1);
      return facts;
    },

    async campaignPage(tenantId, page) {
      const tenant = tenantOf(tenantId);
      const p = parseInput(pageSchema, page, 'page');
      return p.after === undefined
        ? select(tenant, 'l.campaign_id = ?', [p.campaignId], p.limit)
        : select(tenant, 'l.campaign_id = ? AND l.id > ?', [p.campaignId, p.after], p.limit);
    },
  };
}
