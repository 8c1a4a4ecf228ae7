// GET /api/v1/console/campaigns: the active campaigns of the device's tenant with their own
// outcome codes, for the browser agent console. Authenticated with the device's token (the same
// one its /agent handshake uses); a revoked device is refused.
import { Router } from 'express';
import { GatewayError } from '../errors.js';
import type { Gateway } from '../gateway.js';
import type { ConsoleCampaign } from './protocol.js';

const BEARER = /^Bearer[ ]+([\x21-\x7e]+)[ ]*$/i;

export function consoleRoutes(gateway: Gateway): Router {
  const { db, tokens } = gateway.deps;
  const router = Router();
  router.get('/campaigns', async (req, res) => {
    const token = BEARER.exec(req.headers.authorization ?? '')?.[1];
    if (!token) throw new GatewayError('UNAUTHENTICATED', 'needs Authorization: Bearer <device token>');
    const identity = await tokens.verify(token);
    const device = await db.devices.get(identity.tenantId, identity.deviceId);
    if (!device || device.revokedAt !== null || device.userId !== identity.agentId) {
      throw new GatewayError('DEVICE_UNKNOWN');
    }
    const out: ConsoleCampaign[] = [];
    for (const id of await db.campaigns.listIds(identity.tenantId)) {
      const c = await db.campaigns.get(identity.tenantId, id);
      if (!c || c.status !== 'active') continue;
      out.push({
        id: c.id,
        name: c.name,
        outcomes: Object.entries(c.config.dispositions).map(([code, p]) => ({
          code,
          final: p.final,
          contact: p.contact,
          callback: p.callback,
        })),
      });
    }
    res.set('Cache-Control', 'no-store').json({ campaigns: out });
  });
  return router;
}
