// /api/v1/tenants/:tenantId/wallboard: what an admin sets for the tenant's wallboards, over the
// admin API (same authentication, tenancy check, zod parsing, audit log as every admin route):
//   - settings: the tenant's time zone ("calls today" starts at its midnight) and the seconds in
//     each agent state after which a tile escalates (warn, then alert). Live wallboards on every
//     gateway get the change with their next counters frame (within a second or so).
//   - TV links: a read-only, long-lived link for a screen on the wall (gateway/supervisor/
//     tv-links.ts), shown once; revoking one cuts its live sockets on every gateway within a second.
import { Router } from 'express';
import { z } from 'zod';
import { campaignIdSchema, tenantIdSchema } from '../../engine/ids.js';
import { createWallboardRepository, wallboardLinkIdSchema, wallboardSettingsSchema } from '../../db/index.js';
import type { WallboardLink } from '../../db/index.js';
import type { Disconnects } from '../auth/disconnects.js';
import { GatewayError } from '../errors.js';
import type { Gateway } from '../gateway.js';
import { actorOf, principalOf, requireRole } from '../http/access.js';
import { auditTrail } from '../http/audit-trail.js';
import { createTvLinks } from './tv-links.js';

export const wallboardTenantParams = z.object({ tenantId: tenantIdSchema });
export const wallboardLinkParams = wallboardTenantParams.extend({ linkId: wallboardLinkIdSchema });

/** PUT …/wallboard/settings: the whole settings (thresholds not named keep their defaults). */
export const wallboardSettingsBodySchema = wallboardSettingsSchema;

export const wallboardLinkBodySchema = z.strictObject({
  name: z.string().trim().min(1).max(120),
  /** Pin the screen to one campaign; the whole floor when absent. */
  campaignId: campaignIdSchema.optional(),
});

export const wallboardLinkListQuerySchema = z.object({
  revoked: z.enum(['true', 'false']).default('false'),
});

/** Where a TV opens the link: the key travels in the fragment, which no server or proxy logs. */
export const tvLinkPath = (token: string): string => `/?tv=1#key=${token}`;

const linkView = (l: WallboardLink) => ({
  id: l.id,
  name: l.name,
  campaignId: l.campaignId,
  createdBy: l.createdBy,
  createdAt: new Date(l.createdAt).toISOString(),
  lastUsedAt: l.lastUsedAt === null ? null : new Date(l.lastUsedAt).toISOString(),
  revokedAt: l.revokedAt === null ? null : new Date(l.revokedAt).toISOString(),
});

export function wallboardRoutes(gateway: Gateway, options: { readonly disconnects: Disconnects }): Router {
  const { db } = gateway.deps;
  const router = Router({ mergeParams: true });
  const audit = auditTrail(db);
  const admin = requireRole('admin');
  const supervisor = requireRole('supervisor');
  const settings = createWallboardRepository(db.knex);
  const links = createTvLinks(db.knex);
  const base = '/tenants/:tenantId/wallboard';

  router.get(`${base}/settings`, supervisor, async (req, res) => {
    const { tenantId } = wallboardTenantParams.parse(req.params);
    res.json({ settings: await settings.settings(tenantId) });
  });

  router.put(`${base}/settings`, admin, async (req, res) => {
    const { tenantId } = wallboardTenantParams.parse(req.params);
    const body = wallboardSettingsBodySchema.parse(req.body);
    await settings.saveSettings(tenantId, body);
    await audit(req, res, 'wallboard.settings', tenantId, {
      timeZone: body.timeZone,
      thresholds: Object.keys(body.thresholds).length,
    });
    res.json({ settings: await settings.settings(tenantId) });
  });

  router.post(`${base}/links`, admin, async (req, res) => {
    const { tenantId } = wallboardTenantParams.parse(req.params);
    const body = wallboardLinkBodySchema.parse(req.body);
    if (body.campaignId !== undefined && !(await db.campaigns.get(tenantId, body.campaignId))) {
      throw new GatewayError('CAMPAIGN_UNKNOWN');
    }
    const { token, link } = await links.create({
      tenantId,
      name: body.name,
      campaignId: body.campaignId ?? null,
      createdBy: actorOf(principalOf(res)),
    });
    await audit(req, res, 'wallboard_link.create', link.id, { campaignId: link.campaignId });
    res.status(201).json({ link: linkView(link), token, path: tvLinkPath(token) });
  });

  router.get(`${base}/links`, admin, async (req, res) => {
    const { tenantId } = wallboardTenantParams.parse(req.params);
    const q = wallboardLinkListQuerySchema.parse(req.query);
    const items = await links.repository.list(tenantId, { revoked: q.revoked === 'true' });
    res.json({ items: items.map(linkView) });
  });

  router.delete(`${base}/links/:linkId`, admin, async (req, res) => {
    const { tenantId, linkId } = wallboardLinkParams.parse(req.params);
    if (!(await links.repository.revoke(tenantId, linkId))) {
      throw new GatewayError('NOT_FOUND', 'no such live wallboard link in this tenant');
    }
    // The row first (a reconnect is refused from here on), then the sockets on every gateway.
    await options.disconnects.publish({ tenantId, linkId, reason: 'link_revoked' });
    await audit(req, res, 'wallboard_link.revoke', linkId);
    res.status(204).end();
  });

  return router;
}
