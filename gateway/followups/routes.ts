// /api/v1/tenants/:tenantId: follow-up templates per campaign (owners and admins write,
// supervisors read), sending a follow-up for a lead (agents for their own calls, supervisors and
// up for any lead) and listing follow-ups with their metadata. Every read and write is scoped to
// the route's tenant. Also runs this gateway's SMS outbox worker when a provider is configured.
import { Router } from 'express';
import { z } from 'zod';
import {
  FOLLOWUP_STATUSES,
  followupIdSchema,
  templateIdSchema,
  templateInputSchema,
} from '../../db/privacy/index.js';
import type { Gateway } from '../gateway.js';
import { GatewayError } from '../errors.js';
import { actorOf, tenantPrincipal } from '../http/access.js';
import type { Audit } from '../http/audit-trail.js';
import { campaignParams, leadParams, tenantParams } from '../http/read-routes.js';
import { sendFollowup } from './send.js';
import { createHttpSmsProvider } from './sms-provider.js';
import type { SmsProvider } from './sms-provider.js';
import { createSmsWorker } from './sms-worker.js';
import type { SmsWorkerOptions } from './sms-worker.js';

export const templateParams = campaignParams.extend({ templateId: templateIdSchema });
export { templateInputSchema as templateBodySchema };
export const followupBodySchema = z.strictObject({
  leadId: leadParams.shape.leadId,
  templateId: templateIdSchema,
  leaseId: z.string().min(1).max(200).optional().describe('The call attempt it follows (required of agents)'),
});
export const followupQuerySchema = z.object({
  leadId: leadParams.shape.leadId.optional(),
  campaignId: campaignParams.shape.campaignId.optional(),
  status: z.enum(FOLLOWUP_STATUSES).optional(),
  after: followupIdSchema.optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

export interface FollowupRoutesOptions {
  readonly audit: Audit;
  /** Overrides the provider built from SMS_HTTP_URL (tests). */
  readonly smsProvider?: SmsProvider;
  readonly smsWorker?: SmsWorkerOptions;
}

export function followupRoutes(gateway: Gateway, options: FollowupRoutesOptions): Router {
  const router = Router({ mergeParams: true });
  const { db, clock, logger, config } = gateway.deps;
  const repo = db.privacy.followups;
  const { audit } = options;
  const T = '/tenants/:tenantId/campaigns/:campaignId/followup-templates';

  const provider =
    options.smsProvider ??
    (config.SMS_HTTP_URL
      ? createHttpSmsProvider({
          url: config.SMS_HTTP_URL,
          ...(config.SMS_HTTP_TOKEN ? { token: config.SMS_HTTP_TOKEN } : {}),
        })
      : undefined);
  if (provider) {
    const worker = createSmsWorker(repo, provider, clock, logger, options.smsWorker);
    gateway.io.httpServer.once('close', () => void worker.stop());
  }

  router.put(`${T}/:templateId`, async (req, res) => {
    const { tenantId, campaignId, templateId } = templateParams.parse(req.params);
    tenantPrincipal(req, res, 'admin');
    const body = templateInputSchema.parse(req.body);
    const template = await repo.putTemplate(tenantId, campaignId, templateId, body);
    await audit(req, res, 'followup.template_put', `${campaignId}/${templateId}`, { channel: body.channel });
    res.json({ template });
  });

  router.get(T, async (req, res) => {
    const { tenantId, campaignId } = campaignParams.parse(req.params);
    tenantPrincipal(req, res, 'supervisor');
    res.json({ templates: await repo.templates(tenantId, campaignId) });
  });

  router.delete(`${T}/:templateId`, async (req, res) => {
    const { tenantId, campaignId, templateId } = templateParams.parse(req.params);
    tenantPrincipal(req, res, 'admin');
    if (!(await repo.removeTemplate(tenantId, campaignId, templateId)))
      throw new GatewayError('NOT_FOUND', 'no such template in this campaign');
    await audit(req, res, 'followup.template_delete', `${campaignId}/${templateId}`);
    res.status(204).end();
  });

  router.post('/tenants/:tenantId/followups', async (req, res) => {
    const { tenantId } = tenantParams.parse(req.params);
    const p = tenantPrincipal(req, res, 'agent');
    const body = followupBodySchema.parse(req.body);
    const agentId = p.role === 'agent' ? actorOf(p) : null;
    const sent = await sendFollowup(
      { db, now: () => clock.now(), smsEnabled: provider !== undefined },
      tenantId,
      {
        leadId: body.leadId,
        templateId: body.templateId,
        ...(body.leaseId ? { leaseId: body.leaseId } : {}),
      },
      { actor: actorOf(p), agentId },
    );
    await audit(req, res, 'followup.send', sent.followUp.id, {
      leadId: body.leadId,
      channel: sent.followUp.channel,
      templateId: body.templateId,
    });
    res.status(201).json(sent);
  });

  router.get('/tenants/:tenantId/followups', async (req, res) => {
    const { tenantId } = tenantParams.parse(req.params);
    tenantPrincipal(req, res, 'supervisor');
    const q = followupQuerySchema.parse(req.query);
    const followUps = await repo.list(tenantId, {
      limit: q.limit,
      ...(q.leadId === undefined ? {} : { leadId: q.leadId }),
      ...(q.campaignId === undefined ? {} : { campaignId: q.campaignId }),
      ...(q.status === undefined ? {} : { status: q.status }),
      ...(q.after === undefined ? {} : { after: q.after }),
    });
    res.json({
      followUps,
      next: followUps.length === q.limit ? (followUps[followUps.length - 1]?.id ?? null) : null,
    });
  });

  return router;
}
