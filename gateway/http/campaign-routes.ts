// A campaign's life through the admin API: create or replace (PUT), edit some fields (PATCH),
// archive (DELETE). Each writes Postgres first (the system of record), then makes the live queue
// follow it with the one path every change takes (`followCampaign`): an active campaign is
// (re)defined in the engine and every gateway is told to read it again (its window and
// dispositions reach their cached definitions, a resume brings ready agents back); a paused one is
// forgotten for routing everywhere; an archived one is forgotten and its queue dropped from Redis
// (its lead rows and call history stay in Postgres and reads keep working).
import { Router } from 'express';
import type { Request, Response } from 'express';
import { z } from 'zod';
import { callingWindowSchema, isValidZone } from '../../engine/calling-window.js';
import { callingRulesSchema } from '../../engine/calling-rules.js';
import type { CallingRules } from '../../engine/calling-rules.js';
import { dispositionPolicySchema, dispositionsSchema, outcomeCodeSchema } from '../../engine/disposition.js';
import { campaignIdSchema, tenantIdSchema } from '../../engine/ids.js';
import type { CampaignRef } from '../../engine/ids.js';
import {
  CAMPAIGN_STATUSES,
  createRulePackRepository,
  isDbError,
  MAX_CAMPAIGN_RULE_PACKS,
  rulePackIdSchema,
  UnknownRulePacks,
} from '../../db/index.js';
import type { Campaign, CampaignRuleLinks, RulePackRepository } from '../../db/index.js';
import { GatewayError } from '../errors.js';
import type { Gateway } from '../gateway.js';
import { leaseTtlFloors } from '../calls/campaigns.js';
import { requireRole } from './access.js';
import type { Audit } from './audit-trail.js';

const displayName = z.string().trim().min(1).max(200);

export const campaignParams = z.object({ tenantId: tenantIdSchema, campaignId: campaignIdSchema });

/**
 * A campaign's own lease lengths and default zone; null (or, on PUT, absent): the deployment's
 * OFFER_TTL_MS and CALL_TTL_MS, and the tenant plan's defaultTimeZone.
 */
const campaignSettings = {
  /** How long an offered call waits to be accepted (ms, 1,000 to 300,000). */
  offerTtlMs: z.number().int().min(1_000).max(300_000).nullable().optional(),
  /** Lease of an accepted call between heartbeats (ms, 10,000 to 3,600,000). */
  callTtlMs: z.number().int().min(10_000).max(3_600_000).nullable().optional(),
  /** Zone of leads whose zone is neither given nor derivable from their number. */
  defaultTimeZone: z
    .string()
    .min(1)
    .max(64)
    .refine(isValidZone, 'must be an IANA time zone such as America/New_York')
    .nullable()
    .optional(),
  /**
   * Rule packs of the tenant's library (/rule-packs) the campaign uses, in order, after its own
   * `callingRules` packs. Absent: the campaign keeps the ones it has; []: none.
   */
  rulePackIds: z.array(rulePackIdSchema).max(MAX_CAMPAIGN_RULE_PACKS).optional(),
};

/** The engine's own schemas: what is accepted here is exactly what the queue runs. */
export const campaignBodySchema = z.strictObject({
  name: displayName,
  status: z.enum(CAMPAIGN_STATUSES),
  window: callingWindowSchema,
  dispositions: dispositionsSchema,
  /**
   * Preset and rule packs per region (engine/calling-rules.ts). Absent: the campaign keeps the
   * ones it has (a form or a pause button that knows nothing of them never drops a compliance
   * rule); null: none.
   */
  callingRules: callingRulesSchema.nullable().optional(),
  ...campaignSettings,
});

/**
 * PATCH: the PUT body's fields, each optional; what is left out keeps its value. `dispositions`,
 * when given, replaces the campaign's own outcome codes as a whole (as PUT does). Not the engine's
 * dispositions schema itself: its default ({}) would fill a left-out field and reset the policy.
 */
const dispositionsPatchSchema = z
  .record(outcomeCodeSchema, dispositionPolicySchema)
  .superRefine((value, ctx) => {
    const parsed = dispositionsSchema.safeParse(value);
    if (parsed.success) return;
    for (const issue of parsed.error.issues) {
      ctx.addIssue({ code: 'custom', path: issue.path, message: issue.message, input: value });
    }
  });

export const campaignPatchBodySchema = z
  .strictObject({
    name: displayName.optional(),
    status: z.enum(CAMPAIGN_STATUSES).optional(),
    window: callingWindowSchema.optional(),
    dispositions: dispositionsPatchSchema.optional(),
    /** Replaces the preset and rule packs as a whole; null removes them. */
    callingRules: callingRulesSchema.nullable().optional(),
    ...campaignSettings,
  })
  .refine((b) => Object.keys(b).length > 0, { message: 'name at least one field to change' });

/** A campaign as PUT, PATCH and DELETE answer it (GET's fields). */
export const campaignViewSchema = z.object({
  campaign: z.object({
    id: z.string(),
    name: z.string(),
    status: z.enum(CAMPAIGN_STATUSES),
    window: callingWindowSchema,
    dispositions: z.looseObject({}),
    /** The campaign's own preset and inline packs. */
    callingRules: callingRulesSchema.nullable(),
    /** Library packs it uses (/rule-packs), in order. */
    rulePackIds: z.array(z.string()),
    /** What the engine runs: its own packs, then its library packs as they are now. */
    effectiveCallingRules: callingRulesSchema.nullable(),
    offerTtlMs: z.number().int().nullable(),
    callTtlMs: z.number().int().nullable(),
    defaultTimeZone: z.string().nullable(),
    /** Epoch ms. */
    updatedAt: z.number().int(),
  }),
});

export const campaignView = (
  campaign: Campaign,
  links: CampaignRuleLinks | null = null,
): z.input<typeof campaignViewSchema> => ({
  campaign: {
    id: campaign.id,
    name: campaign.name,
    status: campaign.status,
    window: campaign.config.window,
    dispositions: campaign.config.dispositions,
    callingRules: (links ? links.own : campaign.config.callingRules) ?? null,
    rulePackIds: links ? [...links.packIds] : [],
    effectiveCallingRules: campaign.config.callingRules ?? null,
    offerTtlMs: campaign.offerTtlMs,
    callTtlMs: campaign.callTtlMs,
    defaultTimeZone: campaign.defaultTimeZone,
    updatedAt: campaign.updatedAt,
  },
});

/** Make the live queue (this gateway's and, through `onChanged`, every other's) follow Postgres. */
export async function followCampaign(gateway: Gateway, campaign: Campaign): Promise<void> {
  const ref: CampaignRef = { tenantId: campaign.tenantId, campaignId: campaign.id };
  if (campaign.status === 'active') {
    await gateway.campaigns.define(ref, campaign.config, campaign);
    return;
  }
  gateway.campaigns.forget(ref);
  // Archived: its queued leads leave Redis. A call in progress keeps going; its completion is
  // saved like any whose campaign the queue no longer knows (the lease id verifies on its own).
  if (campaign.status === 'archived') await gateway.deps.store.dropCampaign(ref);
}

const archivedAsConflict = (err: unknown): never => {
  if (isDbError(err, 'CONFLICT')) throw new GatewayError('CAMPAIGN_ARCHIVED');
  throw err;
};

const unknownPacksAsError = (err: unknown): never => {
  if (err instanceof UnknownRulePacks) throw new GatewayError('RULE_PACK_UNKNOWN', err.message);
  throw err;
};

/**
 * The rules a campaign edit asks for, when it uses (or used) library packs: its own rules and
 * pack ids after the edit, and the effective rules to store. Null when no library pack is
 * involved before or after (the campaign's rules are all its own, as before the library).
 */
async function libraryRules(
  packs: RulePackRepository,
  tenantId: string,
  campaignId: string,
  body: { callingRules?: CallingRules | null | undefined; rulePackIds?: readonly string[] | undefined },
  currentOwn: () => Promise<CallingRules | undefined>,
): Promise<{
  own: CallingRules | undefined;
  packIds: readonly string[];
  effective: CallingRules | undefined;
} | null> {
  const links = await packs.linksOf(tenantId, campaignId);
  const packIds = body.rulePackIds ?? links?.packIds ?? [];
  if (links === null && packIds.length === 0) return null;
  const own =
    body.callingRules === undefined
      ? links
        ? links.own
        : await currentOwn()
      : (body.callingRules ?? undefined);
  const effective = await packs.resolve(tenantId, own, packIds).catch(unknownPacksAsError);
  return { own, packIds, effective };
}

export function campaignRoutes(gateway: Gateway, audit: Audit, rulePacks?: RulePackRepository): Router {
  const { db } = gateway.deps;
  const packs = rulePacks ?? createRulePackRepository(db.knex);
  const router = Router({ mergeParams: true });
  const admin = requireRole('admin');
  const floors = leaseTtlFloors(gateway.deps.config);

  /** A campaign's lease lengths must outlive this deployment's heartbeats (leaseTtlFloors). */
  const checkTtls = (b: { offerTtlMs?: number | null; callTtlMs?: number | null }): void => {
    if (typeof b.offerTtlMs === 'number' && b.offerTtlMs < floors.offerTtlMs) {
      throw new GatewayError(
        'INPUT_INVALID',
        `offerTtlMs: at least ${floors.offerTtlMs} ms here (longer than OFFER_ACK_TIMEOUT_MS)`,
      );
    }
    if (typeof b.callTtlMs === 'number' && b.callTtlMs < floors.callTtlMs) {
      throw new GatewayError(
        'INPUT_INVALID',
        `callTtlMs: at least ${floors.callTtlMs} ms here (two heartbeats, the reconnect grace, twice the ping timeout)`,
      );
    }
  };

  const answer = async (req: Request, res: Response, action: string, campaign: Campaign, details = {}) => {
    await followCampaign(gateway, campaign);
    await audit(req, res, action, campaign.id, { status: campaign.status, ...details });
    res.json(campaignView(campaign, await packs.linksOf(campaign.tenantId, campaign.id)));
  };

  /** Write the campaign's library links (and effective rules, under its row lock) after an edit. */
  const relink = async (
    campaign: Campaign,
    rules: { own: CallingRules | undefined; packIds: readonly string[] } | null,
  ): Promise<Campaign> => {
    if (!rules) return campaign;
    await packs.link(campaign.tenantId, campaign.id, rules.own, rules.packIds).catch(unknownPacksAsError);
    return (await db.campaigns.get(campaign.tenantId, campaign.id)) ?? campaign;
  };

  router.put('/tenants/:tenantId/campaigns/:campaignId', admin, async (req, res) => {
    const { tenantId, campaignId } = campaignParams.parse(req.params);
    const body = campaignBodySchema.parse(req.body);
    const current = async () => (await db.campaigns.get(tenantId, campaignId))?.config.callingRules;
    const library = await libraryRules(packs, tenantId, campaignId, body, current);
    const callingRules = library
      ? library.effective
      : body.callingRules === undefined
        ? await current()
        : (body.callingRules ?? undefined);
    checkTtls(body);
    const campaign = await db.campaigns.upsert({
      tenantId,
      id: campaignId,
      name: body.name,
      status: body.status,
      config: {
        window: body.window,
        dispositions: body.dispositions,
        ...(callingRules ? { callingRules } : {}),
      },
      // PUT replaces: a setting left out goes back to the default.
      offerTtlMs: body.offerTtlMs ?? null,
      callTtlMs: body.callTtlMs ?? null,
      defaultTimeZone: body.defaultTimeZone ?? null,
    });
    await answer(req, res, 'campaign.put', await relink(campaign, library));
  });

  router.patch('/tenants/:tenantId/campaigns/:campaignId', admin, async (req, res) => {
    const { tenantId, campaignId } = campaignParams.parse(req.params);
    const body = campaignPatchBodySchema.parse(req.body);
    checkTtls(body);
    const { rulePackIds, ...patch } = body;
    // Own rules or library links changed on a campaign that uses (or will use) library packs:
    // what the engine runs is both, resolved now.
    const library =
      body.callingRules === undefined && rulePackIds === undefined
        ? null
        : await libraryRules(packs, tenantId, campaignId, body, async () => {
            const c = await db.campaigns.get(tenantId, campaignId);
            return c?.config.callingRules;
          });
    const campaign = await db.campaigns
      .update(tenantId, campaignId, library ? { ...patch, callingRules: library.effective ?? null } : patch)
      .catch(archivedAsConflict);
    if (!campaign) throw new GatewayError('CAMPAIGN_UNKNOWN');
    await answer(req, res, 'campaign.patch', await relink(campaign, library), {
      fields: Object.keys(body).sort(),
    });
  });

  // Archive, not delete: the rows and their history are the record of calls that happened.
  router.delete('/tenants/:tenantId/campaigns/:campaignId', admin, async (req, res) => {
    const { tenantId, campaignId } = campaignParams.parse(req.params);
    const existing = await db.campaigns.get(tenantId, campaignId);
    if (!existing) throw new GatewayError('CAMPAIGN_UNKNOWN');
    // Archiving twice is harmless: the second answers the same archived campaign.
    const campaign =
      existing.status === 'archived'
        ? existing
        : await db.campaigns.update(tenantId, campaignId, { status: 'archived' }).catch(archivedAsConflict);
    if (!campaign) throw new GatewayError('CAMPAIGN_UNKNOWN');
    await answer(req, res, 'campaign.archive', campaign);
  });

  return router;
}
