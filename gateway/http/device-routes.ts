// /api/v1/tenants/:tenantId/devices: the phones, softphones and browsers agents dial from.
// Supervisors and admins list and read them; admins register one for an agent (the agent's app
// usually registers itself by logging in: POST /api/v1/auth/device-login), rename and revoke
// them. Revoking ends the device's sessions and disconnects it on every gateway at once; its
// tokens are refused from then on.
import { Router } from 'express';
import { z } from 'zod';
import { agentIdSchema, deviceIdSchema, tenantIdSchema } from '../../engine/ids.js';
import type { Database } from '../../db/index.js';
import type { Disconnects } from '../auth/disconnects.js';
import type { UserSessions } from '../auth/user-sessions.js';
import { GatewayError } from '../errors.js';
import { requireRole } from './access.js';
import type { Audit } from './audit-trail.js';
import { deviceView } from './auth-routes.js';
import { pageQuerySchema } from './user-routes.js';

const tenantParams = z.object({ tenantId: tenantIdSchema });
const deviceParams = tenantParams.extend({ deviceId: deviceIdSchema });

export const deviceRegisterBodySchema = z.strictObject({
  agentId: agentIdSchema,
  label: z.string().trim().max(120).default(''),
  /** 'android', 'ios', 'browser', 'softphone', ... */
  platform: z.string().regex(/^[a-z0-9_-]{1,32}$/, 'must be a short lower-case platform name'),
  model: z.string().trim().max(120).default(''),
  appVersion: z.string().trim().max(40).default(''),
});

export const devicePatchBodySchema = z.strictObject({ label: z.string().trim().max(120) });

const deviceListQuerySchema = pageQuerySchema.extend({
  agentId: agentIdSchema.optional(),
  revoked: z.enum(['true', 'false']).default('false'),
});

export function deviceRoutes(
  db: Database,
  sessions: UserSessions,
  disconnects: Disconnects,
  audit: Audit,
): Router {
  const router = Router({ mergeParams: true });
  const admin = requireRole('admin');
  const supervisor = requireRole('supervisor');

  router.get('/', supervisor, async (req, res) => {
    const { tenantId } = tenantParams.parse(req.params);
    const q = deviceListQuerySchema.parse(req.query);
    const page = await db.devices.list(tenantId, {
      limit: q.limit,
      after: q.after,
      agentId: q.agentId,
      revoked: q.revoked === 'true',
    });
    res.json({ items: page.items.map(deviceView), next: page.next });
  });

  router.get('/:deviceId', supervisor, async (req, res) => {
    const { tenantId, deviceId } = deviceParams.parse(req.params);
    const device = await db.devices.get(tenantId, deviceId);
    if (!device) throw new GatewayError('NOT_FOUND', 'no such device in this tenant');
    res.json({ device: deviceView(device) });
  });

  // Registering (or re-registering) a device for an agent answers its token and refresh token:
  // the only time they are shown. Its older tokens are refused from then on.
  router.put('/:deviceId', admin, async (req, res) => {
    const { tenantId, deviceId } = deviceParams.parse(req.params);
    const body = deviceRegisterBodySchema.parse(req.body);
    const opened = await sessions.openDeviceSession(tenantId, body.agentId, {
      id: deviceId,
      platform: body.platform,
      label: body.label,
      model: body.model,
      appVersion: body.appVersion,
    });
    if (opened.replaced > 0) {
      await disconnects.publish({ tenantId, deviceId, reason: 'device_registered_again' });
    }
    await audit(req, res, 'device.register', deviceId, { agentId: body.agentId });
    res.json({
      device: deviceView(opened.device),
      token: opened.deviceToken,
      tokenExpiresAt: new Date(opened.deviceTokenExpiresAt).toISOString(),
      refreshToken: opened.refreshToken,
    });
  });

  router.patch('/:deviceId', admin, async (req, res) => {
    const { tenantId, deviceId } = deviceParams.parse(req.params);
    const body = devicePatchBodySchema.parse(req.body);
    const device = await db.devices.rename(tenantId, deviceId, body.label);
    if (!device) throw new GatewayError('NOT_FOUND', 'no such device in this tenant');
    await audit(req, res, 'device.rename', deviceId);
    res.json({ device: deviceView(device) });
  });

  router.delete('/:deviceId', admin, async (req, res) => {
    const { tenantId, deviceId } = deviceParams.parse(req.params);
    const device = await db.devices.get(tenantId, deviceId);
    if (!device) throw new GatewayError('NOT_FOUND', 'no such device in this tenant');
    // The row first (a reconnect is refused from here on), then the sessions, then the sockets.
    await db.devices.revoke(tenantId, deviceId);
    await db.sessions.revokeForDevice(tenantId, deviceId, 'device_revoked');
    await disconnects.publish({ tenantId, deviceId, reason: 'device_revoked' });
    await audit(req, res, 'device.revoke', deviceId, { agentId: device.userId });
    res.status(204).end();
  });

  return router;
}
