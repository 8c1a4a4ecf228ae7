// /api/v1/tenants/:tenantId/privacy: data-subject requests (access and portability,
// rectification, erasure) and their record with deadlines. Owners and admins only. The number
// travels in the request body, never in a path or query string, so request logs never hold it.
import { Router } from 'express';
import type { Request, Response } from 'express';
import { z } from 'zod';
import { e164Schema } from '../../engine/lead.js';
import { rectificationSchema, RIGHTS_REQUEST_STATUSES, subjectExportCsv } from '../../db/index.js';
import { campaignPrivacySchema, CONSENT_CHANNELS } from '../../db/privacy/index.js';
import type { Gateway } from '../gateway.js';
import { GatewayError } from '../errors.js';
import { actorOf, tenantPrincipal } from '../http/access.js';
import type { Audit } from '../http/audit-trail.js';
import { campaignParams, leadParams, tenantParams } from '../http/read-routes.js';
import { callbackHandoverJob } from './callback-handover.js';
import { consentJobs, createConsentService } from './consent.js';
import { createConsentGate } from './consent-gate.js';
import { createExplainService } from './explain-service.js';
import { startJobs } from './jobs.js';
import { retentionJob } from './retention-job.js';
import { createRights } from './rights.js';
import type { StreamSweeper } from './stream-sweep.js';

/** When the person's request reached the tenant (ISO 8601), if before it is entered here. */
const receivedAt = z.iso
  .datetime({ offset: true })
  .optional()
  .describe(
    'When the request reached the tenant (ISO 8601); now when absent. The deadline is one month later.',
  );

export const erasureBodySchema = z.strictObject({ phone: e164Schema, receivedAt });
export const accessBodySchema = z.strictObject({
  phone: e164Schema,
  receivedAt,
  format: z.enum(['json', 'csv']).default('json'),
});
export const rectificationBodySchema = z
  .strictObject({
    phone: e164Schema,
    receivedAt,
    name: rectificationSchema.shape.name,
    fields: rectificationSchema.shape.fields,
  })
  .refine((b) => b.name !== undefined || b.fields !== undefined, 'give name or fields to correct');
export const rightsRequestQuerySchema = z.object({
  after: z
    .string()
    .regex(/^[1-9]\d{0,18}$/)
    .optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
  status: z.enum(RIGHTS_REQUEST_STATUSES).optional(),
  overdue: z
    .enum(['true', 'false'])
    .optional()
    .transform((v) => v === 'true'),
});

const isoTime = z.iso.datetime({ offset: true });
export const consentBodySchema = z
  .strictObject({
    phone: e164Schema,
    channel: z.enum(CONSENT_CHANNELS),
    source: z.string().min(1).max(200).describe('Where the consent was given (a web form, a call, ...)'),
    givenAt: isoTime.optional().describe('When it was given (ISO 8601); now when absent'),
    expiresAt: isoTime.nullable().optional().describe('When it lapses; absent or null: until withdrawn'),
    evidenceRef: z.string().max(500).optional().describe('A reference to the evidence (form id, recording)'),
  })
  .refine(
    (b) => b.expiresAt == null || b.givenAt === undefined || Date.parse(b.expiresAt) > Date.parse(b.givenAt),
    {
      message: 'expiresAt must be after givenAt',
      path: ['expiresAt'],
    },
  );
export const consentWithdrawBodySchema = z.strictObject({
  phone: e164Schema,
  channel: z.enum(CONSENT_CHANNELS).optional().describe('The channel the opt-out came in on (recorded)'),
});
export const consentListBodySchema = z.strictObject({ phone: e164Schema });
export { campaignPrivacySchema as campaignPrivacyBodySchema };

export interface PrivacyRoutesOptions {
  readonly audit: Audit;
  /** Sweeps Redis streams of erased numbers (full mode); absent with the in-memory store. */
  readonly sweeper?: StreamSweeper;
}

export function privacyRoutes(gateway: Gateway, options: PrivacyRoutesOptions): Router {
  const router = Router({ mergeParams: true });
  const rights = createRights(gateway, options.sweeper);
  const { audit } = options;
  const { clock } = gateway.deps;
  const P = '/tenants/:tenantId/privacy';
  const gate = createConsentGate(gateway.deps.db, () => clock.now());
  const explain = createExplainService(gateway, gate);
  const consent = createConsentService(gateway);
  const jobs = startJobs(
    [
      retentionJob(gateway.deps.db, clock, gateway.deps.logger),
      ...consentJobs(consent),
      callbackHandoverJob(gateway),
    ],
    gateway.deps.logger,
  );
  gateway.io.httpServer.once('close', () => void jobs.stop());

  // The role is checked before the body is read; the request's times come from the body.
  const actor = (req: Request, res: Response) => actorOf(tenantPrincipal(req, res, 'admin'));
  const meta = (who: string, at: string | undefined) => ({
    actor: who,
    now: clock.now(),
    ...(at === undefined ? {} : { receivedAt: Date.parse(at) }),
  });

  router.post(`${P}/erasures`, async (req, res) => {
    const { tenantId } = tenantParams.parse(req.params);
    const who = actor(req, res);
    const body = erasureBodySchema.parse(req.body);
    const result = await rights.erase(tenantId, body.phone, meta(who, body.receivedAt));
    await audit(req, res, 'privacy.erasure', result.request.id, {
      leads: result.leads,
      attempts: result.attempts,
      leasesRevoked: result.leasesRevoked,
    });
    res.json(result);
  });

  router.post(`${P}/rectifications`, async (req, res) => {
    const { tenantId } = tenantParams.parse(req.params);
    const who = actor(req, res);
    const body = rectificationBodySchema.parse(req.body);
    const changes = {
      ...(body.name === undefined ? {} : { name: body.name }),
      ...(body.fields === undefined ? {} : { fields: body.fields }),
    };
    const result = await rights.rectify(tenantId, body.phone, changes, meta(who, body.receivedAt));
    for (const lead of result.leads) {
      if (lead.changed.length > 0)
        await audit(req, res, 'lead.rectify', lead.leadId, {
          changed: lead.changed,
          requestId: result.request.id,
        });
    }
    await audit(req, res, 'privacy.rectification', result.request.id, { leads: result.leads.length });
    res.json(result);
  });

  router.post(`${P}/access`, async (req, res) => {
    const { tenantId } = tenantParams.parse(req.params);
    const who = actor(req, res);
    const body = accessBodySchema.parse(req.body);
    const data = await rights.access(tenantId, body.phone, meta(who, body.receivedAt));
    await audit(req, res, 'privacy.access', '', { leads: data.leads.length, format: body.format });
    if (body.format === 'csv') {
      res
        .type('text/csv; charset=utf-8')
        .set('Content-Disposition', 'attachment; filename="subject-export.csv"')
        .send(subjectExportCsv(data));
    } else {
      res.json(data);
    }
  });

  router.get(`${P}/requests`, async (req, res) => {
    const { tenantId } = tenantParams.parse(req.params);
    actor(req, res);
    const q = rightsRequestQuerySchema.parse(req.query);
    res.json(
      await gateway.deps.db.privacy.requests.list(tenantId, clock.now(), {
        limit: q.limit,
        overdueOnly: q.overdue,
        ...(q.after === undefined ? {} : { after: q.after }),
        ...(q.status === undefined ? {} : { status: q.status }),
      }),
    );
  });

  // The consent ledger: the number is in the body here too.
  router.post(`${P}/consents`, async (req, res) => {
    const { tenantId } = tenantParams.parse(req.params);
    actor(req, res);
    const body = consentBodySchema.parse(req.body);
    const now = clock.now();
    const givenAt = body.givenAt === undefined ? now : Date.parse(body.givenAt);
    const result = await consent.record(tenantId, body.phone, {
      channel: body.channel,
      source: body.source,
      givenAt,
      expiresAt: body.expiresAt == null ? null : Date.parse(body.expiresAt),
      evidenceRef: body.evidenceRef ?? null,
    });
    await audit(req, res, 'consent.record', result.consent.id, {
      channel: body.channel,
      released: result.released,
    });
    res.status(201).json(result);
  });

  router.post(`${P}/consents/withdraw`, async (req, res) => {
    const { tenantId } = tenantParams.parse(req.params);
    actor(req, res);
    const body = consentWithdrawBodySchema.parse(req.body);
    const result = await consent.withdraw(tenantId, body.phone);
    await audit(req, res, 'consent.withdraw', '', { channel: body.channel ?? null, ...result });
    res.json(result);
  });

  router.post(`${P}/consents/list`, async (req, res) => {
    const { tenantId } = tenantParams.parse(req.params);
    actor(req, res);
    const body = consentListBodySchema.parse(req.body);
    res.json({ consents: await consent.list(tenantId, body.phone) });
  });

  router.get('/tenants/:tenantId/campaigns/:campaignId/privacy', async (req, res) => {
    const { tenantId, campaignId } = campaignParams.parse(req.params);
    tenantPrincipal(req, res, 'supervisor');
    if (!(await gateway.deps.db.campaigns.get(tenantId, campaignId)))
      throw new GatewayError('CAMPAIGN_UNKNOWN');
    res.json({ privacy: await gateway.deps.db.privacy.consent.campaignSettings(tenantId, campaignId) });
  });

  router.put('/tenants/:tenantId/campaigns/:campaignId/privacy', async (req, res) => {
    const { tenantId, campaignId } = campaignParams.parse(req.params);
    actor(req, res);
    const body = campaignPrivacySchema.parse(req.body);
    const privacy = await gateway.deps.db.privacy.consent.setCampaignSettings(tenantId, campaignId, body);
    await gateway.offerFields.refresh(tenantId, campaignId);
    await audit(req, res, 'campaign.privacy', campaignId, { ...privacy });
    // A campaign that becomes marketing holds its unconsented leads at once.
    if (privacy.kind === 'marketing') await consent.sweepCampaign(tenantId, campaignId);
    res.json({ privacy });
  });

  // "Why not dialled?": no number or name in the answer, so supervisors may ask too.
  router.get('/tenants/:tenantId/leads/:leadId/explain', async (req, res) => {
    const { tenantId, leadId } = leadParams.parse(req.params);
    tenantPrincipal(req, res, 'supervisor');
    res.json(await explain.lead(tenantId, leadId));
  });

  router.get('/tenants/:tenantId/campaigns/:campaignId/explain', async (req, res) => {
    const { tenantId, campaignId } = campaignParams.parse(req.params);
    tenantPrincipal(req, res, 'supervisor');
    res.json(await explain.campaign(tenantId, campaignId));
  });

  return router;
}
