// Callbacks that wait for an agent who will not come: an agent-only callback moves to anyone
// once it has been due for the campaign's hand-over delay (campaign_privacy.callback_handover_min)
// without its agent taking it, and at once when its agent's user is deleted. Postgres first: the
// callback and the lead lose their agent in one transaction, so a rebuild queues the lead for
// anyone; the gateway then moves the queue entry (gateway/privacy/callback-handover.ts).
import type { Knex } from 'knex';
import { fromTimestamp, tenantOf, toTimestamp } from '../validate.js';

export interface StrandedCallback {
  readonly tenantId: string;
  readonly callbackId: string;
  readonly campaignId: string;
  readonly leadId: string;
  readonly agentId: string;
  readonly dueAt: number;
  /** The agent's user no longer exists. */
  readonly agentGone: boolean;
}

export interface CallbackHandover {
  /** Agent-only callbacks due for hand-over at `now`, in every tenant (the periodic job's read). */
  stranded(now: number, limit: number): Promise<StrandedCallback[]>;
  /** Give the callback and its lead to anyone; false when it changed meanwhile (taken, done). */
  handOver(c: StrandedCallback): Promise<boolean>;
}

export function createCallbackHandover(knex: Knex): CallbackHandover {
  return {
    async stranded(now, limit) {
      const { rows } = await knex.raw<{
        rows: {
          tenant_id: string;
          id: string;
          campaign_id: string;
          lead_id: string;
          agent_id: string;
          due_at: Date;
          agent_gone: boolean;
        }[];
      }>(
        `SELECT c.tenant_id, c.id, c.campaign_id, c.lead_id, c.agent_id, c.due_at, (u.id IS NULL) AS agent_gone
           FROM callbacks c
           JOIN leads l ON l.tenant_id = c.tenant_id AND l.id = c.lead_id
                       AND l.status = 'queued' AND l.pinned_agent_id = c.agent_id
           LEFT JOIN users u ON u.tenant_id = c.tenant_id AND u.id = c.agent_id
           LEFT JOIN campaign_privacy p ON p.tenant_id = c.tenant_id AND p.campaign_id = c.campaign_id
          WHERE c.status = 'pending' AND c.agent_id IS NOT NULL
            AND (u.id IS NULL OR (p.callback_handover_min IS NOT NULL
                 AND c.due_at + make_interval(mins => p.callback_handover_min) <= ?))
          ORDER BY c.due_at
          LIMIT ?`,
        [toTimestamp(now), limit],
      );
      return rows.map((r) => ({
        tenantId: r.tenant_id,
        callbackId: String(r.id),
        campaignId: r.campaign_id,
        leadId: String(r.lead_id),
        agentId: r.agent_id,
        dueAt: fromTimestamp(r.due_at),
        agentGone: r.agent_gone,
      }));
    },

    async handOver(c) {
      const tenant = tenantOf(c.tenantId);
      const changed = new Error('the callback changed meanwhile');
      return knex
        .transaction(async (trx) => {
          const cb = await trx.raw<{ rowCount: number }>(
            `UPDATE callbacks SET agent_id = NULL, updated_at = now()
            WHERE tenant_id = ? AND id = ? AND status = 'pending' AND agent_id = ?`,
            [tenant, c.callbackId, c.agentId],
          );
          const lead = await trx.raw<{ rowCount: number }>(
            `UPDATE leads SET pinned_agent_id = NULL, updated_at = now()
            WHERE tenant_id = ? AND id = ? AND status = 'queued' AND pinned_agent_id = ?`,
            [tenant, c.leadId, c.agentId],
          );
          // Taken or done meanwhile: leave it as it is now.
          if (cb.rowCount !== 1 || lead.rowCount !== 1) throw changed;
          await trx('audit_log').insert({
            tenant_id: tenant,
            actor: 'system',
            action: 'callback.handover',
            subject: c.callbackId,
            details: JSON.stringify({ leadId: c.leadId, from: c.agentId, agentGone: c.agentGone }),
          });
          return true;
        })
        .catch((err: unknown) => {
          if (err === changed) return false;
          throw err;
        });
    },
  };
}
