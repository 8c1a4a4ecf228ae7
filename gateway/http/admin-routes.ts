// The admin API (/api/v1): tenants, users, agents, devices, campaigns, lead import, queue rebuild
// and stats, the do-not-call list and the audit log. Every route first checks the caller's
// principal (gateway/http/access.ts: its tenant must be the route's :tenantId, its role high
// enough), then parses its path and body with zod (a failure is PAYLOAD_INVALID with its
// issues); every repository and engine call receives the route's tenant, so a route under one
// tenant can never name another tenant's rows or keys.
import { Router } from 'express';
import type { Request } from 'express';
import { z } from 'zod';
import { isEngineError } from '../../engine/errors.js';
import { agentIdSchema, campaignIdSchema, tenantIdSchema } from '../../engine/ids.js';
import type { CampaignRef } from '../../engine/ids.js';
import { planSchema } from '../../db/tenants.js';
import { retentionPlanSchema } from '../../db/privacy/index.js';
import type { QueueStats } from '../../engine/queue-store.js';
import type { ApiKeys } from '../auth/api-keys.js';
import type { AssignmentGuard } from '../auth/assignment-guard.js';
import type { Disconnects } from '../auth/disconnects.js';
import type { UserSessions } from '../auth/user-sessions.js';
import { GatewayError } from '../errors.js';
import type { Gateway } from '../gateway.js';
import { requireOperator, requireRole } from './access.js';
import { auditTrail } from './audit-trail.js';
import { userRoutes } from './user-routes.js';
import { apiKeyRoutes } from './api-key-routes.js';
import { deviceRoutes } from './device-routes.js';
import { readRoutes } from './read-routes.js';
import { campaignRoutes } from './campaign-routes.js';
import { rulePackRoutes } from './rule-pack-routes.js';
import { dncRoutes } from './dnc-routes.js';
import { reportRoutes } from './report-routes.js';
import { addLeadsWithinPlan, leadRoutes, newLeadBodySchema, newLeadsOf } from './lead-routes.js';
import { callbackRoutes } from './callback-routes.js';
import { countryCodeSchema, importRoutes, timeZoneSchema } from './import-routes.js';

/** Leads per import request; bigger lists are sent in several requests (or, later, as CSV). */
export const MAX_LEADS_PER_REQUEST = 10_000;

// ---- path parameters ----

const tenantParams = z.object({ tenantId: tenantIdSchema });
const agentParams = tenantParams.extend({ agentId: agentIdSchema });
const campaignParams = tenantParams.extend({ campaignId: campaignIdSchema });

// ---- bodies (strict: a misspelt field is an error, not silently dropped) ----

const displayName = z.string().trim().min(1).max(200);

export const tenantBodySchema = z.strictObject({
  name: displayName,
  plan: z.strictObject({
    deviceLimit: z.number().int().min(0).max(1_000_000),
    /** Country whose national formats CSV imports read by default (ISO 3166-1 alpha-2). */
    defaultCountry: countryCodeSchema.optional(),
    /** Zone for imported leads whose zone is neither given nor derivable from their number. */
    defaultTimeZone: timeZoneSchema.optional(),
    /** Days call records are kept (the retention purge); absent: kept. */
    retentionDays: retentionPlanSchema.shape.retentionDays,
    /** Custom lead fields allowed in this tenant, under the global limits. */
    leadFields: planSchema.shape.leadFields,
  }),
});

export const agentBodySchema = z.strictObject({ name: displayName });

export { campaignBodySchema } from './campaign-routes.js';

export const leadsBodySchema = z.strictObject({
  leads: z.array(newLeadBodySchema).min(1).max(MAX_LEADS_PER_REQUEST),
});

export { dncBodySchema, MAX_DNC_PER_REQUEST } from './dnc-routes.js';

const params = <S extends z.ZodType>(schema: S, req: Request): z.output<S> => schema.parse(req.params);

export interface AdminRoutesOptions {
  readonly sessions: UserSessions;
  readonly disconnects: Disconnects;
  readonly apiKeys: ApiKeys;
  readonly assignments: AssignmentGuard;
}

export const assignmentsBodySchema = z.strictObject({
  agentIds: z.array(agentIdSchema).max(10_000),
});

const auditQuerySchema = z.object({
  before: z
    .string()
    .regex(/^[1-9]\d{0,18}$/)
    .optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

export function adminRoutes(gateway: Gateway, options: AdminRoutesOptions): Router {
  const { db, store, clock } = gateway.deps;
  const router = Router({ mergeParams: true });
  const audit = auditTrail(db);
  const admin = requireRole('admin');
  const supervisor = requireRole('supervisor');

  router.put('/tenants/:tenantId', requireOperator, async (req, res) => {
    const { tenantId } = params(tenantParams, req);
    const body = tenantBodySchema.parse(req.body);
    const tenant = await db.tenants.create({ id: tenantId, name: body.name, plan: body.plan });
    await audit(req, res, 'tenant.create', tenantId, { plan: body.plan });
    res.status(201).json({ tenant });
  });

  const { disconnects } = options;
  router.use(readRoutes(db));
  router.use(
    '/tenants/:tenantId/users',
    userRoutes(db, audit, {
      // A deleted user, or one whose password or role changed: their devices go too.
      onUserSessionsEnded: (tenantId, agentId) =>
        disconnects.publish({ tenantId, agentId, reason: 'user_changed' }),
    }),
  );
  router.use('/tenants/:tenantId/devices', deviceRoutes(db, options.sessions, disconnects, audit));
  router.use('/tenants/:tenantId/api-keys', apiKeyRoutes(db, options.apiKeys, audit));
  router.use(importRoutes(gateway, audit));
  router.use(campaignRoutes(gateway, audit));
  router.use(rulePackRoutes(gateway, audit));
  router.use(dncRoutes(gateway, audit));
  router.use(reportRoutes(db));
  router.use(leadRoutes(gateway, audit));
  router.use(callbackRoutes(gateway, audit));

  router.put('/tenants/:tenantId/campaigns/:campaignId/agents', admin, async (req, res) => {
    const { tenantId, campaignId } = params(campaignParams, req);
    const body = assignmentsBodySchema.parse(req.body);
    await db.assignments.set(tenantId, campaignId, body.agentIds);
    options.assignments.invalidate(tenantId, campaignId);
    await audit(req, res, 'campaign.assign', campaignId, { agents: body.agentIds.length });
    res.json({ agentIds: await db.assignments.list(tenantId, campaignId) });
  });

  router.get('/tenants/:tenantId/campaigns/:campaignId/agents', supervisor, async (req, res) => {
    const { tenantId, campaignId } = params(campaignParams, req);
    if (!(await db.campaigns.get(tenantId, campaignId))) throw new GatewayError('CAMPAIGN_UNKNOWN');
    res.json({ agentIds: await db.assignments.list(tenantId, campaignId) });
  });

  router.get('/tenants/:tenantId/audit', admin, async (req, res) => {
    const { tenantId } = params(tenantParams, req);
    const q = auditQuerySchema.parse(req.query);
    const items = await db.audit.list(tenantId, {
      limit: q.limit,
      ...(q.before ? { beforeId: q.before } : {}),
    });
    res.json({ items, next: items.length === q.limit ? (items.at(-1)?.id ?? null) : null });
  });

  router.put('/tenants/:tenantId/agents/:agentId', admin, async (req, res) => {
    const { tenantId, agentId } = params(agentParams, req);
    const body = agentBodySchema.parse(req.body);
    const user = await db.users.create({ tenantId, id: agentId, name: body.name, role: 'agent' });
    await audit(req, res, 'agent.create', agentId);
    res
      .status(201)
      .json({ agent: { id: user.id, name: user.name, role: user.role, createdAt: user.createdAt } });
  });

  router.post('/tenants/:tenantId/campaigns/:campaignId/leads', admin, async (req, res) => {
    const { tenantId, campaignId } = params(campaignParams, req);
    const body = leadsBodySchema.parse(req.body);
    // Zones of leads sent without one, and of several numbers per lead: lead-routes.ts.
    const leads = await newLeadsOf(db, tenantId, campaignId, body.leads);
    // A row over the plan's custom-field limits is rejected on its own; the rest are added.
    const limits = (await db.tenants.get(tenantId))?.plan.leadFields;
    const added = await addLeadsWithinPlan(gateway, tenantId, campaignId, leads, limits);
    await audit(req, res, 'leads.add', campaignId, {
      rows: body.leads.length,
      queued: added.queued,
      overPlan: added.overPlan,
    });
    res.json(added);
  });

  router.post('/tenants/:tenantId/campaigns/:campaignId/rebuild', admin, async (req, res) => {
    const { tenantId, campaignId } = params(campaignParams, req);
    const ref = await gateway.campaigns.active(tenantId, campaignId);
    if (!ref) throw new GatewayError('CAMPAIGN_UNKNOWN', 'No such active campaign in this tenant');
    res.json(await gateway.campaigns.rebuild(ref));
  });

  router.get('/tenants/:tenantId/campaigns/:campaignId/stats', supervisor, async (req, res) => {
    const { tenantId, campaignId } = params(campaignParams, req);
    const campaign = await db.campaigns.get(tenantId, campaignId);
    if (!campaign) throw new GatewayError('CAMPAIGN_UNKNOWN');
    const ref: CampaignRef = { tenantId, campaignId };
    let queue: QueueStats | null = null;
    try {
      queue = await store.stats(ref, clock.now());
    } catch (err) {
      // A paused or archived campaign may have no live queue: report none rather than fail.
      if (!isEngineError(err, 'CAMPAIGN_UNKNOWN')) throw err;
    }
    const leads = await db.leads.countByStatus(tenantId, campaignId);
    res.json({ campaign: { id: campaign.id, name: campaign.name, status: campaign.status }, queue, leads });
  });

  return router;
}
