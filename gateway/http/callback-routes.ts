// Callbacks through the admin API: a campaign's pending callbacks (due now or upcoming, paged,
// by agent), and scheduling, moving and cancelling one. Supervisors and above. Postgres holds the
// callback and its lead's wait (db/callbacks.ts); the queued lead follows inside that transaction
// (queue-follow.ts), so a lead on a call is refused LEAD_BUSY with nothing changed. Audited as
// callback.create, callback.move, callback.cancel (ids and times, never a number or a name).
import { Router } from 'express';
import type { Request, Response } from 'express';
import { z } from 'zod';
import { agentIdSchema, campaignIdSchema, tenantIdSchema } from '../../engine/ids.js';
import type { Callback, CallbackChange } from '../../db/index.js';
import { GatewayError } from '../errors.js';
import type { Gateway } from '../gateway.js';
import { requireRole } from './access.js';
import type { Audit } from './audit-trail.js';
import { followInQueue } from './queue-follow.js';

/** How far ahead a callback may be scheduled (as a callback outcome: CALLBACK_INVALID). */
export const MAX_CALLBACK_AHEAD_MS = 366 * 24 * 3_600_000;

const idSchema = z.string().regex(/^[1-9]\d{0,18}$/, 'must be an id (a positive integer)');
const instant = z.iso
  .datetime({ offset: true })
  .describe('ISO 8601 with an offset, e.g. 2026-12-01T09:30:00Z');

export const callbackListParams = z.object({ tenantId: tenantIdSchema, campaignId: campaignIdSchema });
export const callbackParams = z.object({ tenantId: tenantIdSchema, callbackId: idSchema });

export const callbackListQuerySchema = z.object({
  /** `due`: due now or earlier; `upcoming`: later; `all` (default): both, in due order. */
  when: z.enum(['due', 'upcoming', 'all']).default('all'),
  agentId: agentIdSchema.optional(),
  after: z.string().max(40).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

export const callbackCreateBodySchema = z.strictObject({
  leadId: idSchema,
  at: instant,
  /** Only this agent may take it; absent: anyone. */
  agentId: agentIdSchema.optional(),
});

export const callbackMoveBodySchema = z
  .strictObject({
    at: instant.optional(),
    /** Another agent, or null: anyone. */
    agentId: agentIdSchema.nullable().optional(),
  })
  .refine((b) => b.at !== undefined || b.agentId !== undefined, { message: 'give at or agentId' });

export const callbackViewSchema = z.object({
  id: z.string(),
  campaignId: z.string(),
  leadId: z.string(),
  agentId: z.string().nullable(),
  dueAt: z.string(),
  status: z.enum(['pending', 'done', 'cancelled']),
  source: z.enum(['outcome', 'api']),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export const callbackResponseSchema = z.object({ callback: callbackViewSchema });
export const callbackPageSchema = z.object({
  items: z.array(callbackViewSchema),
  next: z.string().nullable(),
});

const iso = (ms: number) => new Date(ms).toISOString();

const view = (c: Callback): z.infer<typeof callbackViewSchema> => ({
  id: c.id,
  campaignId: c.campaignId,
  leadId: c.leadId,
  agentId: c.agentId,
  dueAt: iso(c.dueAt),
  status: c.status,
  source: c.source,
  createdAt: iso(c.createdAt),
  updatedAt: iso(c.updatedAt),
});

export function callbackRoutes(gateway: Gateway, audit: Audit): Router {
  const { db, clock } = gateway.deps;
  const router = Router({ mergeParams: true });
  const supervisor = requireRole('supervisor');
  const follow = followInQueue(gateway);

  /** A time within the next year (a past time means due now). */
  const dueAtOf = (at: string): number => {
    const ms = Date.parse(at);
    if (ms - clock.now() > MAX_CALLBACK_AHEAD_MS) {
      throw new GatewayError('CALLBACK_INVALID', 'at: a callback is at most a year ahead');
    }
    return ms;
  };

  const answer = async (
    req: Request,
    res: Response,
    action: string,
    change: CallbackChange,
    status = 200,
  ): Promise<void> => {
    if (!change.ok) {
      switch (change.reason) {
        case 'unknown':
          throw new GatewayError(
            action === 'callback.create' ? 'NOT_FOUND' : 'CALLBACK_UNKNOWN',
            action === 'callback.create' ? 'no such lead in this campaign' : undefined,
          );
        case 'not_queued':
          throw new GatewayError('LEAD_NOT_QUEUED');
        case 'agent_unknown':
          throw new GatewayError('INPUT_INVALID', 'agentId: no such user in this tenant');
        default: {
          const never: never = change.reason;
          throw new Error(`unexpected reason ${String(never)}`);
        }
      }
    }
    const c = change.callback;
    await audit(req, res, action, c.id, {
      campaign: c.campaignId,
      lead: c.leadId,
      dueAt: iso(c.dueAt),
      agent: c.agentId,
    });
    res.status(status).json({ callback: view(c) });
  };

  router.get('/tenants/:tenantId/campaigns/:campaignId/callbacks', supervisor, async (req, res) => {
    const { tenantId, campaignId } = callbackListParams.parse(req.params);
    const q = callbackListQuerySchema.parse(req.query);
    if (!(await db.campaigns.get(tenantId, campaignId))) throw new GatewayError('CAMPAIGN_UNKNOWN');
    const page = await db.callbacks.list(tenantId, campaignId, { ...q, now: clock.now() });
    res.json({ items: page.items.map(view), next: page.next });
  });

  router.post('/tenants/:tenantId/campaigns/:campaignId/callbacks', supervisor, async (req, res) => {
    const { tenantId, campaignId } = callbackListParams.parse(req.params);
    const body = callbackCreateBodySchema.parse(req.body);
    const campaign = await db.campaigns.get(tenantId, campaignId);
    if (!campaign) throw new GatewayError('CAMPAIGN_UNKNOWN');
    if (campaign.status === 'archived') throw new GatewayError('CAMPAIGN_ARCHIVED');
    const change = await db.callbacks.create(
      tenantId,
      campaignId,
      body.leadId,
      { dueAt: dueAtOf(body.at), agentId: body.agentId ?? null },
      follow,
    );
    await answer(req, res, 'callback.create', change, 201);
  });

  router.get('/tenants/:tenantId/callbacks/:callbackId', supervisor, async (req, res) => {
    const { tenantId, callbackId } = callbackParams.parse(req.params);
    const callback = await db.callbacks.get(tenantId, callbackId);
    if (!callback) throw new GatewayError('CALLBACK_UNKNOWN');
    res.json({ callback: view(callback) });
  });

  router.patch('/tenants/:tenantId/callbacks/:callbackId', supervisor, async (req, res) => {
    const { tenantId, callbackId } = callbackParams.parse(req.params);
    const body = callbackMoveBodySchema.parse(req.body);
    const change = await db.callbacks.move(
      tenantId,
      callbackId,
      {
        ...(body.at === undefined ? {} : { dueAt: dueAtOf(body.at) }),
        ...(body.agentId === undefined ? {} : { agentId: body.agentId }),
      },
      follow,
    );
    await answer(req, res, 'callback.move', change);
  });

  router.delete('/tenants/:tenantId/callbacks/:callbackId', supervisor, async (req, res) => {
    const { tenantId, callbackId } = callbackParams.parse(req.params);
    await answer(req, res, 'callback.cancel', await db.callbacks.cancel(tenantId, callbackId, follow));
  });

  return router;
}
