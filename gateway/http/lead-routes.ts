// Removing one lead through the admin API. Postgres first (the lead becomes 'removed', its row and
// call history stay, its pending callbacks are cancelled), then the live queue: the lead leaves
// its campaign's queue wherever it is (ready, scheduled, or under a lease: a call in progress is
// revoked for routing and its outcome is still saved, as for a number listed mid-call, and the
// lead never returns). Its number is not suppressed: another lead with it may be queued later,
// except while the removed lead's call is still held (its completion could requeue it).
import { Router } from 'express';
import { z } from 'zod';
import { isEngineError } from '../../engine/errors.js';
import { tenantIdSchema } from '../../engine/ids.js';
import type { CampaignRef } from '../../engine/ids.js';
import { GatewayError } from '../errors.js';
import type { Gateway } from '../gateway.js';
import { requireRole } from './access.js';
import type { Audit } from './audit-trail.js';

export const leadPathParams = z.object({
  tenantId: tenantIdSchema,
  leadId: z.string().regex(/^[1-9]\d{0,18}$/),
});
export const leadRemoveResponseSchema = z.object({
  removed: z.literal(true),
  leadId: z.string(),
  /** A call in progress was revoked for routing (its outcome is still saved). */
  revokedCall: z.boolean(),
});

export function leadRoutes(gateway: Gateway, audit: Audit): Router {
  const { db, store, clock } = gateway.deps;
  const router = Router({ mergeParams: true });
  const admin = requireRole('admin');

  router.delete('/tenants/:tenantId/leads/:leadId', admin, async (req, res) => {
    const { tenantId, leadId } = leadPathParams.parse(req.params);
    const lead = await db.leads.get(tenantId, leadId);
    if (!lead) throw new GatewayError('NOT_FOUND', 'no such lead in this tenant');
    if (!(await db.leads.removeOne(tenantId, leadId))) throw new GatewayError('LEAD_NOT_QUEUED');
    const ref: CampaignRef = { tenantId, campaignId: lead.campaignId };
    let revokedCall = false;
    try {
      // A number is queued at most once per campaign: this takes out exactly this lead.
      const gone = await store.removeNumbers(ref, [lead.phone], clock.now());
      const revoked = gone.flatMap((g) => (g.revoked ? [g.revoked] : []));
      if (revoked.length > 0) {
        revokedCall = true;
        gateway.hub.revoked(tenantId, revoked, 'removed');
        gateway.dispatcher.trigger(ref);
      }
      // removeNumbers also suppressed the number; a lead removal must not, unless it is listed.
      if (!(await db.dnc.has(tenantId, lead.phone))) await store.unsuppressNumbers(ref, [lead.phone]);
    } catch (err) {
      // A paused campaign without a queue or an archived one: nothing queued to take out.
      if (!isEngineError(err, 'CAMPAIGN_UNKNOWN')) throw err;
    }
    await audit(req, res, 'lead.remove', leadId, { campaign: lead.campaignId, revokedCall });
    res.json({ removed: true, leadId, revokedCall });
  });

  return router;
}
