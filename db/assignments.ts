// Which agents may work which campaign. A campaign with no assigned agents is open to every agent
// of its tenant; once it has any, only they may work it (checked at agent:ready).
import type { Knex } from 'knex';
import type { AgentId } from '../engine/ids.js';
import { DbError, pgCode, PG_FOREIGN_KEY_VIOLATION } from './errors.js';
import { tenantOf } from './validate.js';

export interface AssignmentRepository {
  /** Replace the campaign's assigned agents. Fails with CAMPAIGN_UNKNOWN or USER_UNKNOWN. */
  set(tenantId: string, campaignId: string, agentIds: readonly string[]): Promise<void>;
  list(tenantId: string, campaignId: string): Promise<AgentId[]>;
  /** True when the campaign has no assigned agents, or this agent is one of them. */
  allows(tenantId: string, campaignId: string, agentId: string): Promise<boolean>;
}

export function createAssignmentRepository(knex: Knex): AssignmentRepository {
  return {
    async set(tenantId, campaignId, agentIds) {
      const tid = tenantOf(tenantId);
      await knex.transaction(async (trx) => {
        const campaign: unknown = await trx('campaigns')
          .where({ tenant_id: tid, id: campaignId })
          .forUpdate()
          .first();
        if (!campaign) throw new DbError('CAMPAIGN_UNKNOWN');
        await trx('campaign_agents').where({ tenant_id: tid, campaign_id: campaignId }).delete();
        if (agentIds.length === 0) return;
        try {
          await trx('campaign_agents').insert(
            [...new Set(agentIds)].map((agentId) => ({
              tenant_id: tid,
              campaign_id: campaignId,
              agent_id: agentId,
            })),
          );
        } catch (err) {
          if (pgCode(err) === PG_FOREIGN_KEY_VIOLATION) throw new DbError('USER_UNKNOWN');
          throw err;
        }
      });
    },

    async list(tenantId, campaignId) {
      const rows = await knex('campaign_agents')
        .select<{ agent_id: string }[]>('agent_id')
        .where({ tenant_id: tenantOf(tenantId), campaign_id: campaignId })
        .orderBy('agent_id');
      return rows.map((r) => r.agent_id as AgentId);
    },

    async allows(tenantId, campaignId, agentId) {
      const { rows } = await knex.raw<{ rows: { allowed: boolean }[] }>(
        `SELECT NOT EXISTS (SELECT 1 FROM campaign_agents WHERE tenant_id = ? AND campaign_id = ?)
             OR EXISTS (SELECT 1 FROM campaign_agents WHERE tenant_id = ? AND campaign_id = ? AND agent_id = ?)
           AS allowed`,
        [tenantOf(tenantId), campaignId, tenantId, campaignId, agentId],
      );
      return rows[0]?.allowed ?? false;
    },
  };
}
