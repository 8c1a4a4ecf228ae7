// /api/v1/tenants/:tenantId/webhooks: a tenant's webhook endpoints (create, list, read, change,
// delete), each endpoint's deliveries with their log, and replay of a delivery. Owners and
// admins only; every read and write is scoped to the route's tenant, so another tenant's
// endpoint or delivery is simply not found. Also runs this gateway's delivery worker.
import { Router } from 'express';
import { z } from 'zod';
import {
  DELIVERY_STATUSES,
  endpointInputSchema,
  endpointPatchSchema,
  webhookIdSchema,
} from '../../db/privacy/index.js';
import type { Gateway } from '../gateway.js';
import { GatewayError } from '../errors.js';
import { tenantPrincipal } from '../http/access.js';
import type { Audit } from '../http/audit-trail.js';
import { tenantParams } from '../http/read-routes.js';
import { createAgentStateEvents } from './agent-state-events.js';
import type { AgentStateEventsOptions } from './agent-state-events.js';
import { createWebhookWorker } from './delivery-worker.js';
import type { WebhookWorkerOptions } from './delivery-worker.js';

export const endpointParams = tenantParams.extend({ endpointId: webhookIdSchema });
export const deliveryParams = endpointParams.extend({ deliveryId: webhookIdSchema });
export const deliveryQuerySchema = z.object({
  status: z.enum(DELIVERY_STATUSES).optional(),
  after: webhookIdSchema.optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});
export { endpointInputSchema as webhookBodySchema, endpointPatchSchema as webhookPatchSchema };

export interface WebhookRoutesOptions {
  readonly audit: Audit;
  readonly worker?: WebhookWorkerOptions;
  readonly agentStates?: AgentStateEventsOptions;
}

export function webhookRoutes(gateway: Gateway, options: WebhookRoutesOptions): Router {
  const router = Router({ mergeParams: true });
  const { db, clock, logger } = gateway.deps;
  const repo = db.privacy.webhooks;
  const { audit } = options;
  const W = '/tenants/:tenantId/webhooks';

  const worker = createWebhookWorker(repo, clock, logger, options.worker);
  gateway.io.httpServer.once('close', () => void worker.stop());
  // agent.state_changed: the hub's state feed into the outbox (only for tenants that listen).
  const agentStates = createAgentStateEvents(repo, clock, logger, options.agentStates);
  const unsubscribe = gateway.hub.onStateChange((change) => agentStates.record(change));
  gateway.io.httpServer.once('close', () => {
    unsubscribe();
    void agentStates.stop();
  });

  const notFound = () => new GatewayError('NOT_FOUND', 'no such webhook endpoint in this tenant');

  router.post(W, async (req, res) => {
    const { tenantId } = tenantParams.parse(req.params);
    tenantPrincipal(req, res, 'admin');
    const body = endpointInputSchema.parse(req.body);
    const created = await repo.create(tenantId, body);
    agentStates.invalidate(tenantId);
    await audit(req, res, 'webhook.create', created.endpoint.id, { events: created.endpoint.events });
    // The signing secret is shown here only: keep it where the receiver verifies signatures.
    res.status(201).json(created);
  });

  router.get(W, async (req, res) => {
    const { tenantId } = tenantParams.parse(req.params);
    tenantPrincipal(req, res, 'admin');
    res.json({ endpoints: await repo.list(tenantId) });
  });

  router.get(`${W}/:endpointId`, async (req, res) => {
    const { tenantId, endpointId } = endpointParams.parse(req.params);
    tenantPrincipal(req, res, 'admin');
    const endpoint = await repo.get(tenantId, endpointId);
    if (!endpoint) throw notFound();
    res.json({ endpoint });
  });

  router.patch(`${W}/:endpointId`, async (req, res) => {
    const { tenantId, endpointId } = endpointParams.parse(req.params);
    tenantPrincipal(req, res, 'admin');
    const patch = endpointPatchSchema.parse(req.body);
    const endpoint = await repo.update(tenantId, endpointId, patch);
    if (!endpoint) throw notFound();
    agentStates.invalidate(tenantId);
    await audit(req, res, 'webhook.update', endpointId, { changed: Object.keys(patch).sort() });
    res.json({ endpoint });
  });

  router.delete(`${W}/:endpointId`, async (req, res) => {
    const { tenantId, endpointId } = endpointParams.parse(req.params);
    tenantPrincipal(req, res, 'admin');
    if (!(await repo.remove(tenantId, endpointId))) throw notFound();
    agentStates.invalidate(tenantId);
    await audit(req, res, 'webhook.delete', endpointId);
    res.status(204).end();
  });

  router.get(`${W}/:endpointId/deliveries`, async (req, res) => {
    const { tenantId, endpointId } = endpointParams.parse(req.params);
    tenantPrincipal(req, res, 'admin');
    const q = deliveryQuerySchema.parse(req.query);
    if (!(await repo.get(tenantId, endpointId))) throw notFound();
    const deliveries = await repo.deliveries(tenantId, endpointId, {
      limit: q.limit,
      ...(q.status === undefined ? {} : { status: q.status }),
      ...(q.after === undefined ? {} : { after: q.after }),
    });
    res.json({
      deliveries,
      next: deliveries.length === q.limit ? (deliveries[deliveries.length - 1]?.id ?? null) : null,
    });
  });

  router.post(`${W}/:endpointId/deliveries/:deliveryId/replay`, async (req, res) => {
    const { tenantId, endpointId, deliveryId } = deliveryParams.parse(req.params);
    tenantPrincipal(req, res, 'admin');
    const delivery = await repo.replay(tenantId, endpointId, deliveryId, clock.now());
    if (!delivery) throw new GatewayError('NOT_FOUND', 'no such delivery of this endpoint');
    await audit(req, res, 'webhook.replay', delivery.id, { of: deliveryId });
    res.status(202).json({ delivery });
  });

  return router;
}
