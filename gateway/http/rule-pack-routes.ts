// /api/v1/tenants/:tenantId/rule-packs: the tenant's library of calling-rule packs (the schema a
// campaign's inline packs use, engine/calling-rules.ts), which campaigns reference by id in
// `rulePackIds`. Owners and admins write, supervisors read. A change to a pack is written to the
// effective rules of every campaign using it in the same transaction (db/rule-packs.ts), then each
// active one is defined again in the engine (followCampaign, the path every campaign edit takes),
// so the next lease checks the new rules. A pack in use is not deleted (RULE_PACK_IN_USE, naming
// the campaigns). Every read and write is scoped to the route's tenant.
import { Router } from 'express';
import { z } from 'zod';
import { rulePackSchema } from '../../engine/calling-rules.js';
import { createRulePackRepository, rulePackIdSchema } from '../../db/index.js';
import type { RulePackRepository, StoredRulePack } from '../../db/index.js';
import { GatewayError } from '../errors.js';
import type { Gateway } from '../gateway.js';
import { requireRole } from './access.js';
import type { Audit } from './audit-trail.js';
import { followCampaign } from './campaign-routes.js';
import { tenantParams } from './read-routes.js';

export const rulePackParams = tenantParams.extend({ packId: rulePackIdSchema });

export const rulePackListQuerySchema = z.object({
  /** The `next` of the previous page. */
  after: rulePackIdSchema.optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

export const rulePackBodySchema = rulePackSchema;

const shape = rulePackSchema.shape;
/**
 * PATCH: the pack's fields, each optional; what is left out keeps its value, null removes an
 * optional one (zones: every lead; preset, hours, lockout: none).
 */
export const rulePackPatchBodySchema = z
  .strictObject({
    name: shape.name.optional(),
    zones: shape.zones.unwrap().nullable().optional(),
    preset: shape.preset.unwrap().nullable().optional(),
    hours: shape.hours.unwrap().nullable().optional(),
    holidays: shape.holidays.unwrap().optional(),
    maxCalls: shape.maxCalls.unwrap().optional(),
    minGapMs: shape.minGapMs.unwrap().optional(),
    lockout: shape.lockout.unwrap().nullable().optional(),
  })
  .refine((b) => Object.keys(b).length > 0, { message: 'name at least one field to change' });

const storedSchema = z.object({
  id: z.string(),
  pack: rulePackSchema,
  /** Epoch ms. */
  createdAt: z.number().int(),
  updatedAt: z.number().int(),
});

export const rulePackViewSchema = z.object({
  rulePack: storedSchema,
  /** Ids of the campaigns (not archived) that use it. */
  campaigns: z.array(z.string()),
});

export const rulePackPageSchema = z.object({
  items: z.array(storedSchema),
  next: z.string().nullable(),
});

const T = '/tenants/:tenantId';
const ADMINS = ['owner', 'admin'] as const;
const SUPERVISORS = ['owner', 'admin', 'supervisor'] as const;

/** The library's operations for the OpenAPI document (openapi.ts appends them). */
export const RULE_PACK_OPERATIONS = [
  {
    method: 'post',
    path: `${T}/rule-packs`,
    summary:
      "Add a calling-rule pack to the tenant's library (the schema of a campaign's inline packs); campaigns use it by id in rulePackIds",
    who: ADMINS,
    params: tenantParams,
    body: rulePackBodySchema,
    status: 201,
    response: rulePackViewSchema,
  },
  {
    method: 'get',
    path: `${T}/rule-packs`,
    summary: "The tenant's rule packs in id order, paged (after = the previous page's next)",
    who: SUPERVISORS,
    params: tenantParams,
    query: rulePackListQuerySchema,
    response: rulePackPageSchema,
  },
  {
    method: 'get',
    path: `${T}/rule-packs/:packId`,
    summary: 'A rule pack and the campaigns that use it',
    who: SUPERVISORS,
    params: rulePackParams,
    response: rulePackViewSchema,
  },
  {
    method: 'patch',
    path: `${T}/rule-packs/:packId`,
    summary:
      'Change a rule pack: every campaign using it gets the new rules at once (defined again in the engine; refused whole when one of them cannot take them)',
    who: ADMINS,
    params: rulePackParams,
    body: rulePackPatchBodySchema,
    response: rulePackViewSchema,
  },
  {
    method: 'delete',
    path: `${T}/rule-packs/:packId`,
    summary: 'Delete a rule pack no campaign uses (RULE_PACK_IN_USE names the campaigns that do)',
    who: ADMINS,
    params: rulePackParams,
    status: 204,
  },
] as const;

const view = (rulePack: StoredRulePack, campaigns: readonly string[]) => ({
  rulePack,
  campaigns: [...campaigns],
});

export function rulePackRoutes(gateway: Gateway, audit: Audit, repo?: RulePackRepository): Router {
  const { db } = gateway.deps;
  const packs = repo ?? createRulePackRepository(db.knex);
  const router = Router({ mergeParams: true });
  const admin = requireRole('admin');
  const supervisor = requireRole('supervisor');
  const P = `${T}/rule-packs`;
  const unknown = () => new GatewayError('RULE_PACK_UNKNOWN');

  /** Define again every active campaign whose effective rules were just rewritten. */
  async function redefine(tenantId: string, campaignIds: readonly string[]): Promise<void> {
    for (const id of campaignIds) {
      const campaign = await db.campaigns.get(tenantId, id);
      if (campaign && campaign.status === 'active') await followCampaign(gateway, campaign);
    }
  }

  router.post(P, admin, async (req, res) => {
    const { tenantId } = tenantParams.parse(req.params);
    const body = rulePackBodySchema.parse(req.body);
    const rulePack = await packs.create(tenantId, body);
    await audit(req, res, 'rule_pack.create', rulePack.id, { name: rulePack.pack.name });
    res.status(201).json(view(rulePack, []));
  });

  router.get(P, supervisor, async (req, res) => {
    const { tenantId } = tenantParams.parse(req.params);
    const q = rulePackListQuerySchema.parse(req.query);
    res.json(await packs.list(tenantId, { limit: q.limit, after: q.after }));
  });

  router.get(`${P}/:packId`, supervisor, async (req, res) => {
    const { tenantId, packId } = rulePackParams.parse(req.params);
    const rulePack = await packs.get(tenantId, packId);
    if (!rulePack) throw unknown();
    res.json(view(rulePack, await packs.usedBy(tenantId, packId)));
  });

  router.patch(`${P}/:packId`, admin, async (req, res) => {
    const { tenantId, packId } = rulePackParams.parse(req.params);
    const patch = rulePackPatchBodySchema.parse(req.body);
    const current = await packs.get(tenantId, packId);
    if (!current) throw unknown();
    const merged: Record<string, unknown> = { ...current.pack };
    for (const [k, v] of Object.entries(patch)) {
      if (v === null) delete merged[k];
      else if (v !== undefined) merged[k] = v;
    }
    const pack = rulePackSchema.parse(merged);
    const change = await packs.update(tenantId, packId, pack);
    if (!change) throw unknown();
    await redefine(tenantId, change.campaigns);
    await audit(req, res, 'rule_pack.update', packId, {
      fields: Object.keys(patch).sort(),
      campaigns: change.campaigns,
    });
    res.json(view(change.rulePack, change.campaigns));
  });

  router.delete(`${P}/:packId`, admin, async (req, res) => {
    const { tenantId, packId } = rulePackParams.parse(req.params);
    const result = await packs.remove(tenantId, packId);
    if (!result.removed && result.reason === 'unknown') throw unknown();
    if (!result.removed && result.reason === 'in_use')
      throw new GatewayError(
        'RULE_PACK_IN_USE',
        `the rule pack is used by campaigns: ${result.campaigns.join(', ')}`,
        { campaigns: result.campaigns },
      );
    await audit(req, res, 'rule_pack.delete', packId);
    res.status(204).end();
  });

  return router;
}
