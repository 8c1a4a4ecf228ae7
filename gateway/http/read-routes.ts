// The admin API's reads: tenants (the operator lists them; a tenant's users read their own),
// campaigns, leads, call attempts, and the do-not-call list (list and check), each list in a
// stable order with cursor pagination (`after`, `limit`; the answer's `next` is the next cursor).
// Lead data (numbers, names) is for owners and admins; supervisors see campaigns and attempts.
import { Router } from 'express';
import { z } from 'zod';
import { agentIdSchema, campaignIdSchema, tenantIdSchema } from '../../engine/ids.js';
import { CAMPAIGN_STATUSES, createRulePackRepository, LEAD_STATUSES } from '../../db/index.js';
import type { Database } from '../../db/index.js';
import { GatewayError } from '../errors.js';
import { principalOf, requireOperator, requireRole, tenantPrincipal } from './access.js';
import { pageQuerySchema } from './user-routes.js';
import { leadWithNumbers } from './lead-routes.js';

export const tenantParams = z.object({ tenantId: tenantIdSchema });
export const campaignParams = tenantParams.extend({ campaignId: campaignIdSchema });
export const leadParams = tenantParams.extend({ leadId: z.string().regex(/^[1-9]\d{0,18}$/) });
export { dncParams } from './dnc-routes.js';

export const campaignListQuerySchema = pageQuerySchema.extend({
  status: z.enum(CAMPAIGN_STATUSES).optional(),
});
export const leadListQuerySchema = pageQuerySchema.extend({ status: z.enum(LEAD_STATUSES).optional() });
export const attemptListQuerySchema = pageQuerySchema.extend({
  campaignId: campaignIdSchema.optional(),
  leadId: z
    .string()
    .regex(/^[1-9]\d{0,18}$/)
    .optional(),
  agentId: agentIdSchema.optional(),
});

export function readRoutes(db: Database): Router {
  const router = Router({ mergeParams: true });
  const admin = requireRole('admin');
  const supervisor = requireRole('supervisor');

  router.get('/tenants', requireOperator, async (req, res) => {
    const q = pageQuerySchema.parse(req.query);
    res.json(await db.reads.tenants(q));
  });

  router.get('/tenants/:tenantId', async (req, res) => {
    const { tenantId } = tenantParams.parse(req.params);
    if (principalOf(res).kind !== 'operator') tenantPrincipal(req, res, 'agent');
    const tenant = await db.reads.tenant(tenantId);
    if (!tenant) throw new GatewayError('NOT_FOUND', 'no such tenant');
    res.json({ tenant });
  });

  router.get('/tenants/:tenantId/campaigns', supervisor, async (req, res) => {
    const { tenantId } = tenantParams.parse(req.params);
    const q = campaignListQuerySchema.parse(req.query);
    res.json(await db.reads.campaigns(tenantId, q));
  });

  router.get('/tenants/:tenantId/campaigns/:campaignId', supervisor, async (req, res) => {
    const { tenantId, campaignId } = campaignParams.parse(req.params);
    const campaign = await db.reads.campaign(tenantId, campaignId);
    if (!campaign) throw new GatewayError('CAMPAIGN_UNKNOWN');
    // Its calling rules as PUT and PATCH answer them: its own, the library packs it uses, and
    // what the engine runs.
    const [stored, links] = await Promise.all([
      db.campaigns.get(tenantId, campaignId),
      createRulePackRepository(db.knex).linksOf(tenantId, campaignId),
    ]);
    const effective = stored?.config.callingRules ?? null;
    res.json({
      campaign: {
        ...campaign,
        callingRules: (links ? links.own : effective) ?? null,
        rulePackIds: links ? [...links.packIds] : [],
        effectiveCallingRules: effective,
      },
    });
  });

  router.get('/tenants/:tenantId/campaigns/:campaignId/leads', admin, async (req, res) => {
    const { tenantId, campaignId } = campaignParams.parse(req.params);
    const q = leadListQuerySchema.parse(req.query);
    if (!(await db.reads.campaign(tenantId, campaignId))) throw new GatewayError('CAMPAIGN_UNKNOWN');
    res.json(await db.reads.leads(tenantId, campaignId, q));
  });

  router.get('/tenants/:tenantId/leads/:leadId', admin, async (req, res) => {
    const { tenantId, leadId } = leadParams.parse(req.params);
    const lead = await leadWithNumbers(db, tenantId, leadId);
    if (!lead) throw new GatewayError('NOT_FOUND', 'no such lead in this tenant');
    const attempts = await db.reads.attempts(tenantId, { leadId, limit: 100 });
    res.json({ lead, attempts: attempts.items });
  });

  router.get('/tenants/:tenantId/dnc', admin, async (req, res) => {
    const { tenantId } = tenantParams.parse(req.params);
    const q = pageQuerySchema.parse(req.query);
    res.json(await db.reads.dnc(tenantId, q));
  });

  return router;
}
