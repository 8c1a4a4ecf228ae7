// What a supervisor may do from the wallboard, each carried out through the functions the rest of
// the gateway already uses (the agent hub's force-pause and disconnect, the campaign registry the
// admin API's campaign update drives) and written to the tenant's audit log with the actor.
import type { CampaignRef, TenantId } from '../../engine/ids.js';
import { GatewayError } from '../errors.js';
import type { Gateway } from '../gateway.js';

export interface Actor {
  readonly tenantId: TenantId;
  readonly userId: string;
}

export interface SupervisorActions {
  /** Whether the agent's device was found connected (on any gateway). */
  forcePause(actor: Actor, agentId: string, reason: string): Promise<{ found: boolean }>;
  logout(actor: Actor, agentId: string): Promise<{ found: boolean }>;
  setCampaignStatus(
    actor: Actor,
    campaignId: string,
    status: 'active' | 'paused',
  ): Promise<{ status: string }>;
}

export function createSupervisorActions(gateway: Gateway): SupervisorActions {
  const { db, logger } = gateway.deps;
  const { hub } = gateway;
  const audit = (actor: Actor, action: string, subject: string, details: Record<string, unknown>) =>
    db.audit.append({ tenantId: actor.tenantId, actor: actor.userId, action, subject, details });

  return {
    async forcePause(actor, agentId, reason) {
      const found = await hub.forcePause(actor.tenantId, agentId, reason);
      await audit(actor, 'agent.force_pause', agentId, { reason, found });
      logger.info(
        { tenantId: actor.tenantId, userId: actor.userId, agentId, found },
        'supervisor.force_pause',
      );
      return { found };
    },

    async logout(actor, agentId) {
      const found = await hub.disconnectAgent(actor.tenantId, agentId, 'supervisor');
      await audit(actor, 'agent.logout', agentId, { found });
      logger.info({ tenantId: actor.tenantId, userId: actor.userId, agentId, found }, 'supervisor.logout');
      return { found };
    },

    async setCampaignStatus(actor, campaignId, status) {
      const { tenantId } = actor;
      const campaign = await db.campaigns.get(tenantId, campaignId);
      if (!campaign || campaign.status === 'archived') throw new GatewayError('CAMPAIGN_UNKNOWN');
      if (campaign.status !== status) {
        // As the admin API's campaign update does: Postgres first, then the live queue follows
        // (a paused campaign's ready agents are paused on every gateway).
        await db.campaigns.upsert({
          tenantId,
          id: campaign.id,
          name: campaign.name,
          status,
          config: campaign.config,
        });
        const ref: CampaignRef = { tenantId, campaignId: campaign.id };
        if (status === 'active') await gateway.campaigns.define(ref, campaign.config, campaign);
        else gateway.campaigns.forget(ref);
      }
      await audit(actor, status === 'active' ? 'campaign.resume' : 'campaign.pause', campaignId, {
        from: campaign.status,
      });
      logger.info({ tenantId, userId: actor.userId, campaignId, status }, 'supervisor.campaign_status');
      return { status };
    },
  };
}
