// Campaigns: a tenant's named call lists with their queue configuration (calling window and
// disposition policies), stored as the engine parsed them so that what Postgres holds is exactly
// what the queue runs.
import type { Knex } from 'knex';
import { z } from 'zod';
import { parseCampaignConfig } from '../engine/campaign.js';
import type { CampaignConfig, CampaignConfigInput } from '../engine/campaign.js';
import type { CampaignId, TenantId } from '../engine/ids.js';
import { campaignIdSchema, tenantIdSchema } from '../engine/ids.js';
import { DbError, pgCode, PG_FOREIGN_KEY_VIOLATION } from './errors.js';
import { fromTimestamp, parseInput, storableText, tenantOf } from './validate.js';

export const CAMPAIGN_STATUSES = ['active', 'paused', 'archived'] as const;
export type CampaignStatus = (typeof CAMPAIGN_STATUSES)[number];

const campaignInputSchema = z.object({
  tenantId: tenantIdSchema,
  id: campaignIdSchema,
  name: storableText(200).min(1),
  status: z.enum(CAMPAIGN_STATUSES),
  config: z.unknown(),
  ...leaseSettingsShape(),
});

/** Per-campaign lease lengths and default zone; null: the deployment's (or plan's) default. */
function leaseSettingsShape() {
  return {
    offerTtlMs: z.number().int().min(1_000).max(300_000).nullable().optional(),
    callTtlMs: z.number().int().min(10_000).max(3_600_000).nullable().optional(),
    defaultTimeZone: z.string().min(1).max(64).nullable().optional(),
  };
}

export interface CampaignInput {
  readonly tenantId: string;
  readonly id: string;
  readonly name: string;
  readonly status: CampaignStatus;
  readonly config: CampaignConfig | CampaignConfigInput;
  /** How long an offer waits to be accepted (ms); null or absent: the deployment's OFFER_TTL_MS. */
  readonly offerTtlMs?: number | null | undefined;
  /** Lease of an accepted call between heartbeats (ms); null or absent: CALL_TTL_MS. */
  readonly callTtlMs?: number | null | undefined;
  /** Zone of leads whose zone is neither given nor derivable (IANA); null or absent: the plan's. */
  readonly defaultTimeZone?: string | null | undefined;
}

export interface Campaign {
  readonly tenantId: TenantId;
  readonly id: CampaignId;
  readonly name: string;
  readonly status: CampaignStatus;
  readonly config: CampaignConfig;
  readonly offerTtlMs: number | null;
  readonly callTtlMs: number | null;
  readonly defaultTimeZone: string | null;
  readonly createdAt: number;
  readonly updatedAt: number;
}

/** What the queue rebuild needs to define a campaign in the engine. */
export interface ActiveCampaign {
  readonly tenantId: TenantId;
  readonly campaignId: CampaignId;
  readonly config: CampaignConfig;
  /** The campaign's own lease lengths (ms); null: the deployment's. */
  readonly offerTtlMs: number | null;
  readonly callTtlMs: number | null;
}

export interface CampaignRepository {
  /**
   * Create or replace a campaign's name, status and config; its lease lengths and default zone too
   * when given (null clears one; left out, a replace keeps it). Fails with TENANT_UNKNOWN or
   * CAMPAIGN_INVALID.
   */
  upsert(input: CampaignInput): Promise<Campaign>;
  get(tenantId: string, campaignId: string): Promise<Campaign | undefined>;
  /**
   * Every active campaign of every tenant. The one read that crosses tenants, on purpose: at
   * start the gateway rebuilds the engine's queues for all of them before it serves anyone. It
   * returns ids and queue config only, no lead data. Nothing that acts for a tenant may call it.
   */
  listActive(): Promise<ActiveCampaign[]>;
  /** Ids of every campaign of the tenant, whatever its status (do-not-call reaches them all). */
  listIds(tenantId: string): Promise<CampaignId[]>;
  /**
   * Change some of a campaign's name, status, calling window and dispositions, keeping the rest,
   * under a row lock so two concurrent edits of different fields both stand. An archived campaign
   * is not edited (CONFLICT): archiving is its last state. Undefined when there is no such
   * campaign in the tenant. Fails with CAMPAIGN_INVALID as upsert does.
   */
  update(tenantId: string, campaignId: string, patch: CampaignPatch): Promise<Campaign | undefined>;
}

export interface CampaignPatch {
  readonly name?: string | undefined;
  readonly status?: CampaignStatus | undefined;
  readonly window?: CampaignConfigInput['window'] | undefined;
  readonly dispositions?: CampaignConfigInput['dispositions'] | undefined;
  /** Preset and rule packs (replaced as a whole); null removes them. */
  readonly callingRules?: CampaignConfigInput['callingRules'] | null | undefined;
  /** null clears it (back to the default); undefined keeps it. */
  readonly offerTtlMs?: number | null | undefined;
  readonly callTtlMs?: number | null | undefined;
  readonly defaultTimeZone?: string | null | undefined;
}

interface CampaignRow {
  tenant_id: string;
  id: string;
  name: string;
  status: CampaignStatus;
  calling_window: unknown;
  dispositions: unknown;
  /** 0019: preset and rule packs, or null. */
  calling_rules: unknown;
  offer_ttl_ms: number | null;
  call_ttl_ms: number | null;
  default_time_zone: string | null;
  created_at: Date;
  updated_at: Date;
}

const configOf = (
  row: Pick<CampaignRow, 'calling_window' | 'dispositions'> & Partial<Pick<CampaignRow, 'calling_rules'>>,
): CampaignConfig =>
  parseCampaignConfig({
    window: row.calling_window,
    dispositions: row.dispositions,
    ...(row.calling_rules === null || row.calling_rules === undefined
      ? {}
      : { callingRules: row.calling_rules }),
  });

const rulesColumn = (config: CampaignConfig): string | null =>
  config.callingRules === undefined ? null : JSON.stringify(config.callingRules);

const toCampaign = (row: CampaignRow): Campaign => ({
  tenantId: row.tenant_id as TenantId,
  id: row.id as CampaignId,
  name: row.name,
  status: row.status,
  config: configOf(row),
  offerTtlMs: row.offer_ttl_ms,
  callTtlMs: row.call_ttl_ms,
  defaultTimeZone: row.default_time_zone,
  createdAt: fromTimestamp(row.created_at),
  updatedAt: fromTimestamp(row.updated_at),
});

const settingsSchema = z.object(leaseSettingsShape());

/** The lease settings a patch changes, as columns (undefined: kept). */
function settingsPatch(patch: CampaignPatch): Partial<CampaignRow> {
  const p = parseInput(settingsSchema, patch, 'campaign settings');
  return {
    ...(p.offerTtlMs === undefined ? {} : { offer_ttl_ms: p.offerTtlMs }),
    ...(p.callTtlMs === undefined ? {} : { call_ttl_ms: p.callTtlMs }),
    ...(p.defaultTimeZone === undefined ? {} : { default_time_zone: p.defaultTimeZone }),
  };
}

export function createCampaignRepository(knex: Knex): CampaignRepository {
  return {
    async upsert(input) {
      const c = parseInput(campaignInputSchema, input, 'campaign');
      // Throws the engine's CAMPAIGN_INVALID: the same error the queue would give for this config.
      const config = parseCampaignConfig(c.config);
      try {
        const { rows } = await knex.raw<{ rows: CampaignRow[] }>(
          `INSERT INTO campaigns (tenant_id, id, name, status, calling_window, dispositions, calling_rules,
             offer_ttl_ms, call_ttl_ms, default_time_zone)
           VALUES (?, ?, ?, ?, ?::jsonb, ?::jsonb, ?::jsonb, ?, ?, ?)
           ON CONFLICT (tenant_id, id) DO UPDATE SET
             name = excluded.name,
             status = excluded.status,
             calling_window = excluded.calling_window,
             dispositions = excluded.dispositions,
             calling_rules = excluded.calling_rules,
             offer_ttl_ms = CASE WHEN ?::boolean THEN excluded.offer_ttl_ms ELSE campaigns.offer_ttl_ms END,
             call_ttl_ms = CASE WHEN ?::boolean THEN excluded.call_ttl_ms ELSE campaigns.call_ttl_ms END,
             default_time_zone = CASE WHEN ?::boolean
               THEN excluded.default_time_zone ELSE campaigns.default_time_zone END,
             updated_at = now()
           RETURNING *`,
          [
            c.tenantId,
            c.id,
            c.name,
            c.status,
            JSON.stringify(config.window),
            JSON.stringify(config.dispositions),
            rulesColumn(config),
            c.offerTtlMs ?? null,
            c.callTtlMs ?? null,
            c.defaultTimeZone ?? null,
            // A setting left out (undefined) keeps its value on a replace; null clears it.
            c.offerTtlMs !== undefined,
            c.callTtlMs !== undefined,
            c.defaultTimeZone !== undefined,
          ],
        );
        return toCampaign(rows[0]!);
      } catch (err) {
        if (pgCode(err) === PG_FOREIGN_KEY_VIOLATION) throw new DbError('TENANT_UNKNOWN');
        throw err;
      }
    },

    async get(tenantId, campaignId) {
      const row = await knex<CampaignRow>('campaigns')
        .where({ tenant_id: tenantOf(tenantId), id: campaignId })
        .first();
      return row ? toCampaign(row) : undefined;
    },

    async listIds(tenantId) {
      const rows = await knex<CampaignRow>('campaigns')
        .select('id')
        .where({ tenant_id: tenantOf(tenantId) })
        .orderBy('id');
      return rows.map((row) => row.id as CampaignId);
    },

    async update(tenantId, campaignId, patch) {
      const tenant = tenantOf(tenantId);
      return knex.transaction(async (trx) => {
        const row = await trx<CampaignRow>('campaigns')
          .where({ tenant_id: tenant, id: campaignId })
          .forUpdate()
          .first();
        if (!row) return undefined;
        if (row.status === 'archived') {
          throw new DbError('CONFLICT', 'an archived campaign cannot be changed');
        }
        const current = toCampaign(row);
        const name = parseInput(campaignInputSchema.shape.name, patch.name ?? current.name, 'name');
        const rules = patch.callingRules === undefined ? current.config.callingRules : patch.callingRules;
        const config = parseCampaignConfig({
          window: patch.window ?? current.config.window,
          dispositions: patch.dispositions ?? current.config.dispositions,
          ...(rules === null || rules === undefined ? {} : { callingRules: rules }),
        });
        const [updated] = await trx<CampaignRow>('campaigns')
          .where({ tenant_id: tenant, id: campaignId })
          .update({
            name,
            status: patch.status ?? current.status,
            calling_window: JSON.stringify(config.window),
            dispositions: JSON.stringify(config.dispositions),
            calling_rules: rulesColumn(config),
            ...settingsPatch(patch),
            updated_at: knex.fn.now() as unknown as Date,
          })
          .returning('*');
        return toCampaign(updated!);
      });
    },

    async listActive() {
      const rows = await knex<CampaignRow>('campaigns')
        .select(
          'tenant_id',
          'id',
          'calling_window',
          'dispositions',
          'calling_rules',
          'offer_ttl_ms',
          'call_ttl_ms',
        )
        .where({ status: 'active' })
        .orderBy(['tenant_id', 'id']);
      return rows.map((row) => ({
        tenantId: row.tenant_id as TenantId,
        campaignId: row.id as CampaignId,
        config: configOf(row),
        offerTtlMs: row.offer_ttl_ms,
        callTtlMs: row.call_ttl_ms,
      }));
    },
  };
}
