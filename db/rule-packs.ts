// A tenant's library of calling-rule packs (migration 0014) and the campaigns that use them.
//
// A pack is stored as the engine parsed it (engine/calling-rules.ts's rulePackSchema, the one a
// campaign's inline packs use). A campaign references library packs by id, in order, next to its
// own preset and inline packs; what the engine runs is resolved here, in one place: the
// campaign's own packs, then its library packs (`effectiveRules`), written to
// campaigns.calling_rules (which every reader of the campaign, the queue rebuild included,
// already uses) whenever the campaign's links or one of its library packs change, in the same
// transaction as the change. A change that would make a linked campaign invalid (a lockout
// outcome the campaign does not have, too many packs) is refused whole, naming the campaign.
// Every query is keyed by the tenant.
import type { Knex } from 'knex';
import { z } from 'zod';
import { parseCampaignConfig } from '../engine/campaign.js';
import { callingRulesSchema, rulePackSchema } from '../engine/calling-rules.js';
import type { CallingRules, RulePack } from '../engine/calling-rules.js';
import { EngineError } from '../engine/errors.js';
import { DbError, pgCode, PG_FOREIGN_KEY_VIOLATION, PG_UNIQUE_VIOLATION } from './errors.js';
import { keyset, pageOf } from './pager.js';
import type { Page } from './pager.js';
import { fromTimestamp, parseInput, tenantOf } from './validate.js';

export const rulePackIdSchema = z.string().regex(/^[1-9]\d{0,18}$/, 'must be a positive integer id');

/** How many library packs one campaign may reference (its effective packs stay within 32). */
export const MAX_CAMPAIGN_RULE_PACKS = 16;

export interface StoredRulePack {
  readonly id: string;
  readonly pack: RulePack;
  readonly createdAt: number;
  readonly updatedAt: number;
}

/** `next` is the cursor of the next page (`after`), or null on the last. */
export type RulePackPage = Page<StoredRulePack>;

/** A campaign's rules as its admin sees them: its own, and the library packs it references. */
export interface CampaignRuleLinks {
  readonly own: CallingRules | undefined;
  readonly packIds: readonly string[];
}

export type RemoveResult =
  | { readonly removed: true }
  | { readonly removed: false; readonly reason: 'unknown' }
  | { readonly removed: false; readonly reason: 'in_use'; readonly campaigns: readonly string[] };

export interface RulePackChange {
  readonly rulePack: StoredRulePack;
  /** The campaigns (not archived) whose effective rules were written again: redefine the active ones. */
  readonly campaigns: readonly string[];
}

export interface RulePackRepository {
  /** A new pack in the tenant's library; CONFLICT when the tenant has one of that name. */
  create(tenantId: string, pack: unknown): Promise<StoredRulePack>;
  get(tenantId: string, id: string): Promise<StoredRulePack | undefined>;
  /** The tenant's packs in id order, `limit` per page after the cursor `after`. */
  list(tenantId: string, page: { after?: string | undefined; limit: number }): Promise<RulePackPage>;
  /**
   * Replace a pack and, in the same transaction, the effective rules of every campaign (not
   * archived) that uses it. Undefined when there is no such pack in the tenant.
   */
  update(tenantId: string, id: string, pack: unknown): Promise<RulePackChange | undefined>;
  /** Delete a pack no campaign uses (links of archived campaigns are dropped with it). */
  remove(tenantId: string, id: string): Promise<RemoveResult>;
  /** Ids of the campaigns (not archived) that use the pack, in id order. */
  usedBy(tenantId: string, id: string): Promise<string[]>;
  /** A campaign's own rules and library links; null when it uses no library pack. */
  linksOf(tenantId: string, campaignId: string): Promise<CampaignRuleLinks | null>;
  /**
   * The rules the engine would run for these own rules and library packs. Throws UnknownRulePacks
   * (the API's RULE_PACK_UNKNOWN) naming the ids not in the tenant's library.
   */
  resolve(
    tenantId: string,
    own: CallingRules | undefined,
    packIds: readonly string[],
  ): Promise<CallingRules | undefined>;
  /**
   * Set a campaign's own rules and library links and write its effective rules, under the
   * campaign's row lock with the packs read in the same transaction (a pack changed meanwhile is
   * either seen here or sees this link). No ids: the campaign goes back to its own rules only.
   * False when there is no such campaign in the tenant.
   */
  link(
    tenantId: string,
    campaignId: string,
    own: CallingRules | undefined,
    packIds: readonly string[],
  ): Promise<boolean>;
}

/** A pack id the tenant's library does not hold (the route answers RULE_PACK_UNKNOWN). */
export class UnknownRulePacks extends Error {
  override readonly name = 'UnknownRulePacks';
  constructor(readonly ids: readonly string[]) {
    super(`no such rule pack in this tenant: ${ids.join(', ')}`);
  }
}

interface RulePackRow {
  tenant_id: string;
  id: string;
  name: string;
  pack: unknown;
  created_at: Date;
  updated_at: Date;
}

/** The campaigns columns this file reads and writes. */
interface CampaignRulesRow {
  tenant_id: string;
  id: string;
  status: string;
  calling_window: unknown;
  dispositions: unknown;
  calling_rules: unknown;
  own_calling_rules: unknown;
}

const toStored = (row: RulePackRow): StoredRulePack => ({
  id: String(row.id),
  pack: rulePackSchema.parse(row.pack),
  createdAt: fromTimestamp(row.created_at),
  updatedAt: fromTimestamp(row.updated_at),
});

/** The campaign's own packs, then the library's in the order the campaign names them. */
export function effectiveRules(
  own: CallingRules | undefined,
  library: readonly RulePack[],
): CallingRules | undefined {
  if (library.length === 0) return own;
  return callingRulesSchema.parse({
    ...(own?.preset === undefined ? {} : { preset: own.preset }),
    packs: [...(own?.packs ?? []), ...library],
  });
}

const json = (value: unknown): string | null => (value === undefined ? null : JSON.stringify(value));

/** Ids of the campaigns (not archived) that use a pack, in id order. */
async function usersOf(conn: Knex | Knex.Transaction, tenant: string, packId: string): Promise<string[]> {
  const rows = await conn('campaign_rule_packs as l')
    .join('campaigns as c', function () {
      this.on('c.tenant_id', '=', 'l.tenant_id').andOn('c.id', '=', 'l.campaign_id');
    })
    .select('c.id')
    .where('l.tenant_id', tenant)
    .where('l.pack_id', packId)
    .whereNot('c.status', 'archived')
    .orderBy('c.id');
  return rows.map((r: { id: string }) => r.id);
}

export function createRulePackRepository(knex: Knex): RulePackRepository {
  /** The packs of these ids in the tenant, in the order asked, read (and share-locked) in `trx`. */
  async function packsOf(
    trx: Knex | Knex.Transaction,
    tenantId: string,
    ids: readonly string[],
    lock: boolean,
  ) {
    if (ids.length === 0) return [];
    const q = trx<RulePackRow>('rule_packs')
      .where({ tenant_id: tenantId })
      .whereIn('id', [...ids]);
    const rows = await (lock ? q.forShare() : q);
    const byId = new Map(rows.map((r) => [String(r.id), r]));
    const missing = ids.filter((id) => !byId.has(id));
    if (missing.length > 0) throw new UnknownRulePacks(missing);
    return ids.map((id) => rulePackSchema.parse(byId.get(id)!.pack));
  }

  /**
   * Write one campaign's effective rules (validated with its window and outcome codes, as the
   * engine will) in `trx`. A campaign the rules do not fit is named in the error.
   */
  async function writeEffective(
    trx: Knex.Transaction,
    tenantId: string,
    campaign: { id: string; calling_window: unknown; dispositions: unknown },
    rules: CallingRules | undefined,
    own: CallingRules | undefined | null,
  ): Promise<void> {
    try {
      parseCampaignConfig({
        window: campaign.calling_window,
        dispositions: campaign.dispositions,
        ...(rules === undefined ? {} : { callingRules: rules }),
      });
    } catch (err) {
      if (err instanceof EngineError)
        throw new EngineError('CAMPAIGN_INVALID', `campaign ${campaign.id}: ${err.message}`, err.details);
      throw err;
    }
    await trx('campaigns')
      .where({ tenant_id: tenantId, id: campaign.id })
      .update({
        calling_rules: json(rules),
        own_calling_rules: own === null ? null : JSON.stringify(own ?? { packs: [] }),
        updated_at: knex.fn.now(),
      });
  }

  return {
    async create(tenantId, input) {
      const pack = parseInput(rulePackSchema, input, 'rule pack');
      try {
        const [row] = await knex<RulePackRow>('rule_packs')
          .insert({ tenant_id: tenantOf(tenantId), name: pack.name, pack: JSON.stringify(pack) })
          .returning('*');
        return toStored(row!);
      } catch (err) {
        if (pgCode(err) === PG_UNIQUE_VIOLATION)
          throw new DbError('CONFLICT', `the tenant has a rule pack named "${pack.name}"`);
        if (pgCode(err) === PG_FOREIGN_KEY_VIOLATION) throw new DbError('TENANT_UNKNOWN');
        throw err;
      }
    },

    async get(tenantId, id) {
      const row = await knex<RulePackRow>('rule_packs')
        .where({ tenant_id: tenantOf(tenantId), id: parseInput(rulePackIdSchema, id, 'rule pack id') })
        .first();
      return row ? toStored(row) : undefined;
    },

    async list(tenantId, page) {
      const after = page.after === undefined ? undefined : parseInput(rulePackIdSchema, page.after, 'after');
      const q = keyset(knex<RulePackRow>('rule_packs').where({ tenant_id: tenantOf(tenantId) }), 'id', {
        after,
        limit: page.limit,
      });
      return pageOf(await q, page.limit, toStored, (p) => p.id);
    },

    async update(tenantId, id, input) {
      const tenant = tenantOf(tenantId);
      const packId = parseInput(rulePackIdSchema, id, 'rule pack id');
      const pack = parseInput(rulePackSchema, input, 'rule pack');
      try {
        return await knex.transaction(async (trx) => {
          const [row] = await trx<RulePackRow>('rule_packs')
            .where({ tenant_id: tenant, id: packId })
            .update({
              name: pack.name,
              pack: JSON.stringify(pack),
              updated_at: knex.fn.now() as unknown as Date,
            })
            .returning('*');
          if (!row) return undefined;
          // Every campaign using it, locked in id order (as any other writer of campaigns would).
          const campaigns = await trx('campaigns as c')
            .select('c.id', 'c.calling_window', 'c.dispositions', 'c.own_calling_rules')
            .where('c.tenant_id', tenant)
            .whereNot('c.status', 'archived')
            .whereExists(
              trx('campaign_rule_packs as l')
                .where('l.tenant_id', tenant)
                .whereRaw('l.campaign_id = c.id')
                .where('l.pack_id', packId),
            )
            .orderBy('c.id')
            .forUpdate();
          for (const c of campaigns as {
            id: string;
            calling_window: unknown;
            dispositions: unknown;
            own_calling_rules: unknown;
          }[]) {
            const links = await trx('campaign_rule_packs')
              .select('pack_id')
              .where({ tenant_id: tenant, campaign_id: c.id })
              .orderBy('position');
            const own = callingRulesSchema.parse(c.own_calling_rules ?? {});
            const library = await packsOf(
              trx,
              tenant,
              links.map((l: { pack_id: string }) => String(l.pack_id)),
              false,
            );
            await writeEffective(trx, tenant, c, effectiveRules(own, library), own);
          }
          return { rulePack: toStored(row), campaigns: campaigns.map((c: { id: string }) => c.id) };
        });
      } catch (err) {
        if (pgCode(err) === PG_UNIQUE_VIOLATION)
          throw new DbError('CONFLICT', `the tenant has a rule pack named "${pack.name}"`);
        throw err;
      }
    },

    async remove(tenantId, id) {
      const tenant = tenantOf(tenantId);
      const packId = parseInput(rulePackIdSchema, id, 'rule pack id');
      return knex.transaction(async (trx): Promise<RemoveResult> => {
        const row = await trx<RulePackRow>('rule_packs')
          .where({ tenant_id: tenant, id: packId })
          .forUpdate()
          .first();
        if (!row) return { removed: false, reason: 'unknown' };
        const users = await usersOf(trx, tenant, packId);
        if (users.length > 0) return { removed: false, reason: 'in_use', campaigns: users };
        // An archived campaign's link is history only: it goes with the pack.
        await trx('campaign_rule_packs').where({ tenant_id: tenant, pack_id: packId }).delete();
        await trx('rule_packs').where({ tenant_id: tenant, id: packId }).delete();
        return { removed: true };
      });
    },

    async usedBy(tenantId, id) {
      return usersOf(knex, tenantOf(tenantId), parseInput(rulePackIdSchema, id, 'rule pack id'));
    },

    async linksOf(tenantId, campaignId) {
      const tenant = tenantOf(tenantId);
      const row = await knex<CampaignRulesRow>('campaigns')
        .select('own_calling_rules')
        .where({ tenant_id: tenant, id: campaignId })
        .first();
      if (!row || row.own_calling_rules === null) return null;
      const links = await knex('campaign_rule_packs')
        .select('pack_id')
        .where({ tenant_id: tenant, campaign_id: campaignId })
        .orderBy('position');
      const own = callingRulesSchema.parse(row.own_calling_rules);
      return {
        own: own.preset === undefined && own.packs.length === 0 ? undefined : own,
        packIds: links.map((l: { pack_id: string }) => String(l.pack_id)),
      };
    },

    async resolve(tenantId, own, packIds) {
      return effectiveRules(own, await packsOf(knex, tenantOf(tenantId), packIds, false));
    },

    async link(tenantId, campaignId, own, packIds) {
      const tenant = tenantOf(tenantId);
      const ids = [...new Set(packIds.map((id) => parseInput(rulePackIdSchema, id, 'rule pack id')))];
      return knex.transaction(async (trx) => {
        const campaign = await trx<CampaignRulesRow>('campaigns')
          .select('id', 'calling_window', 'dispositions')
          .where({ tenant_id: tenant, id: campaignId })
          .forUpdate()
          .first();
        if (!campaign) return false;
        const library = await packsOf(trx, tenant, ids, true);
        await trx('campaign_rule_packs').where({ tenant_id: tenant, campaign_id: campaignId }).delete();
        if (ids.length > 0) {
          await trx('campaign_rule_packs').insert(
            ids.map((packId, position) => ({
              tenant_id: tenant,
              campaign_id: campaignId,
              pack_id: packId,
              position,
            })),
          );
        }
        await writeEffective(
          trx,
          tenant,
          campaign,
          effectiveRules(own, library),
          ids.length === 0 ? null : own,
        );
        return true;
      });
    },
  };
}
