// /api/v1/tenants/:tenantId/api-keys: keys for machine clients (a CRM). Admins and owners create
// them with a role no higher than their own (never owner), list and revoke them. The key itself
// is in the creation answer only.
import { Router } from 'express';
import { z } from 'zod';
import { tenantIdSchema } from '../../engine/ids.js';
import { API_KEY_ROLES, apiKeyIdSchema } from '../../db/index.js';
import type { ApiKey, Database } from '../../db/index.js';
import type { ApiKeys } from '../auth/api-keys.js';
import { GatewayError } from '../errors.js';
import { actorOf, atLeast, requireRole, tenantPrincipal } from './access.js';
import type { Audit } from './audit-trail.js';

const tenantParams = z.object({ tenantId: tenantIdSchema });
const keyParams = tenantParams.extend({ keyId: apiKeyIdSchema });

export const apiKeyBodySchema = z.strictObject({
  name: z.string().trim().min(1).max(120),
  role: z.enum(API_KEY_ROLES),
});

const listQuerySchema = z.object({ revoked: z.enum(['true', 'false']).default('false') });

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export const apiKeyView = (k: ApiKey) => ({
  id: k.id,
  name: k.name,
  role: k.role,
  createdBy: k.createdBy,
  createdAt: iso(k.createdAt),
  lastUsedAt: iso(k.lastUsedAt),
  revokedAt: iso(k.revokedAt),
});

export function apiKeyRoutes(db: Database, keys: ApiKeys, audit: Audit): Router {
  const router = Router({ mergeParams: true });
  const admin = requireRole('admin');

  router.post('/', async (req, res) => {
    const { tenantId } = tenantParams.parse(req.params);
    const principal = tenantPrincipal(req, res, 'admin');
    const body = apiKeyBodySchema.parse(req.body);
    if (!atLeast(principal.role, body.role)) {
      throw new GatewayError('FORBIDDEN', 'a key cannot have a higher role than its creator');
    }
    const { key, record } = await keys.create({
      tenantId,
      name: body.name,
      role: body.role,
      createdBy: actorOf(principal),
    });
    await audit(req, res, 'api_key.create', record.id, { role: record.role });
    res.status(201).json({ apiKey: apiKeyView(record), key });
  });

  router.get('/', admin, async (req, res) => {
    const { tenantId } = tenantParams.parse(req.params);
    const q = listQuerySchema.parse(req.query);
    const items = await db.apiKeys.list(tenantId, { revoked: q.revoked === 'true' });
    res.json({ items: items.map(apiKeyView), next: null });
  });

  router.delete('/:keyId', admin, async (req, res) => {
    const { tenantId, keyId } = keyParams.parse(req.params);
    if (!(await db.apiKeys.revoke(tenantId, keyId))) {
      throw new GatewayError('NOT_FOUND', 'no such live API key in this tenant');
    }
    await audit(req, res, 'api_key.revoke', keyId);
    res.status(204).end();
  });

  return router;
}
