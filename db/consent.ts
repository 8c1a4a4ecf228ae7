// The consent ledger: per number (as its keyed hash, db/privacy/subject-keys.ts) and channel, who
// gave consent (source), when, until when, and the evidence. Consent is live from given_at until
// expires_at (none: until withdrawn) unless withdrawn. Also each campaign's privacy settings: its
// kind (marketing campaigns need live voice consent) and the callback hand-over delay.
import type { Knex } from 'knex';
import { z } from 'zod';
import { campaignIdSchema } from '../engine/ids.js';
import { DbError, pgCode, PG_FOREIGN_KEY_VIOLATION } from './errors.js';
import { fromTimestamp, parseInput, storableText, tenantOf, toTimestamp } from './validate.js';

export const CONSENT_CHANNELS = ['voice', 'sms', 'whatsapp'] as const;
export type ConsentChannel = (typeof CONSENT_CHANNELS)[number];
export const CAMPAIGN_KINDS = ['service', 'marketing'] as const;
export type CampaignKind = (typeof CAMPAIGN_KINDS)[number];

const newConsentSchema = z
  .object({
    channel: z.enum(CONSENT_CHANNELS),
    source: storableText(200).min(1),
    givenAt: z.number().int().min(0),
    expiresAt: z.number().int().min(0).nullable(),
    evidenceRef: storableText(500).nullable(),
  })
  .refine((c) => c.expiresAt === null || c.expiresAt > c.givenAt, 'expiresAt must be after givenAt');

export type NewConsent = z.input<typeof newConsentSchema>;

export interface Consent {
  readonly id: string;
  readonly channel: ConsentChannel;
  readonly source: string;
  readonly givenAt: number;
  readonly expiresAt: number | null;
  readonly evidenceRef: string | null;
  readonly withdrawnAt: number | null;
  /** Live at the time the answer was made. */
  readonly live: boolean;
}

export interface LiveConsent {
  readonly live: boolean;
  /** When the latest-ending live consent ends (null: open-ended, or none live). */
  readonly expiresAt: number | null;
}

export interface CampaignPrivacy {
  readonly kind: CampaignKind;
  /** Minutes an agent-only callback waits for its agent after falling due; null: for ever. */
  readonly callbackHandoverMin: number | null;
  /** The lead's custom fields an offer shows the agent; null: all of them. */
  readonly agentFields: readonly string[] | null;
}

export const campaignPrivacySchema = z.strictObject({
  kind: z.enum(CAMPAIGN_KINDS).default('service'),
  callbackHandoverMin: z.number().int().min(0).max(10_080).nullable().default(null),
  agentFields: z
    .array(storableText(64).min(1))
    .max(100)
    .transform((f) => [...new Set(f)])
    .nullable()
    .default(null)
    .describe("The lead's custom fields an offer shows the agent (data minimization); null or absent: all"),
});

export interface ConsentRepository {
  /** Record a consent for the number (hash only kept). Fails with TENANT_UNKNOWN. */
  record(tenantId: string, phoneHash: Buffer, consent: NewConsent, now: number): Promise<Consent>;
  /** Withdraw every live consent of the number on every channel; returns how many rows. */
  withdraw(tenantId: string, phoneHash: Buffer, at: number): Promise<number>;
  /** Every consent on record for the number, newest first. */
  list(tenantId: string, phoneHash: Buffer, now: number): Promise<Consent[]>;
  /** Live consent on one channel for many numbers, by hash (hex). */
  liveFor(
    tenantId: string,
    phoneHashes: readonly Buffer[],
    channel: ConsentChannel,
    now: number,
  ): Promise<Map<string, LiveConsent>>;
  campaignSettings(tenantId: string, campaignId: string): Promise<CampaignPrivacy>;
  /** Fails with CAMPAIGN_UNKNOWN. */
  setCampaignSettings(
    tenantId: string,
    campaignId: string,
    settings: CampaignPrivacy,
  ): Promise<CampaignPrivacy>;
  /** Campaigns of the tenant (or of every tenant, for the periodic sweep) of the marketing kind. */
  marketingCampaigns(tenantId?: string): Promise<{ tenantId: string; campaignId: string }[]>;
}

interface ConsentRow {
  id: string;
  channel: ConsentChannel;
  source: string;
  given_at: Date;
  expires_at: Date | null;
  evidence_ref: string | null;
  withdrawn_at: Date | null;
}

const isLive = (r: ConsentRow, now: number) =>
  r.withdrawn_at === null &&
  fromTimestamp(r.given_at) <= now &&
  (r.expires_at === null || fromTimestamp(r.expires_at) > now);

const toConsent = (r: ConsentRow, now: number): Consent => ({
  id: String(r.id),
  channel: r.channel,
  source: r.source,
  givenAt: fromTimestamp(r.given_at),
  expiresAt: r.expires_at === null ? null : fromTimestamp(r.expires_at),
  evidenceRef: r.evidence_ref,
  withdrawnAt: r.withdrawn_at === null ? null : fromTimestamp(r.withdrawn_at),
  live: isLive(r, now),
});

const hashSchema = z.instanceof(Buffer).refine((b) => b.length === 32, 'must be a 32-byte hash');

export function createConsentRepository(knex: Knex): ConsentRepository {
  return {
    async record(tenantId, phoneHash, consent, now) {
      const tenant = tenantOf(tenantId);
      const hash = parseInput(hashSchema, phoneHash, 'phone hash');
      const c = parseInput(newConsentSchema, consent, 'consent');
      try {
        const { rows } = await knex.raw<{ rows: ConsentRow[] }>(
          `INSERT INTO consents (tenant_id, phone_hash, channel, source, given_at, expires_at, evidence_ref)
           VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING *`,
          [
            tenant,
            hash,
            c.channel,
            c.source,
            toTimestamp(c.givenAt),
            c.expiresAt === null ? null : toTimestamp(c.expiresAt),
            c.evidenceRef,
          ],
        );
        return toConsent(rows[0]!, now);
      } catch (err) {
        if (pgCode(err) === PG_FOREIGN_KEY_VIOLATION) throw new DbError('TENANT_UNKNOWN');
        throw err;
      }
    },

    async withdraw(tenantId, phoneHash, at) {
      const { rowCount } = await knex.raw<{ rowCount: number }>(
        `UPDATE consents SET withdrawn_at = ?
          WHERE tenant_id = ? AND phone_hash = ? AND withdrawn_at IS NULL`,
        [toTimestamp(at), tenantOf(tenantId), parseInput(hashSchema, phoneHash, 'phone hash')],
      );
      return rowCount;
    },

    async list(tenantId, phoneHash, now) {
      const rows = await knex<ConsentRow>('consents')
        .where('tenant_id', tenantOf(tenantId))
        .andWhere('phone_hash', parseInput(hashSchema, phoneHash, 'phone hash'))
        .orderBy('id', 'desc');
      return rows.map((r) => toConsent(r, now));
    },

    async liveFor(tenantId, phoneHashes, channel, now) {
      const tenant = tenantOf(tenantId);
      const out = new Map<string, LiveConsent>();
      if (phoneHashes.length === 0) return out;
      const { rows } = await knex.raw<{
        rows: { phone_hash: Buffer; open_ended: boolean; ends: Date | null }[];
      }>(
        `SELECT phone_hash, bool_or(expires_at IS NULL) AS open_ended, max(expires_at) AS ends
           FROM consents
          WHERE tenant_id = ? AND channel = ? AND phone_hash = ANY(?::bytea[])
            AND withdrawn_at IS NULL AND given_at <= ? AND (expires_at IS NULL OR expires_at > ?)
          GROUP BY phone_hash`,
        [
          tenant,
          parseInput(z.enum(CONSENT_CHANNELS), channel, 'channel'),
          [...phoneHashes],
          toTimestamp(now),
          toTimestamp(now),
        ],
      );
      for (const r of rows) {
        out.set(r.phone_hash.toString('hex'), {
          live: true,
          expiresAt: r.open_ended || r.ends === null ? null : fromTimestamp(r.ends),
        });
      }
      return out;
    },

    async campaignSettings(tenantId, campaignId) {
      const row = await knex('campaign_privacy')
        .where({
          tenant_id: tenantOf(tenantId),
          campaign_id: parseInput(campaignIdSchema, campaignId, 'campaign id'),
        })
        .first<
          | { kind: CampaignKind; callback_handover_min: number | null; agent_fields: string[] | null }
          | undefined
        >('kind', 'callback_handover_min', 'agent_fields');
      return row
        ? { kind: row.kind, callbackHandoverMin: row.callback_handover_min, agentFields: row.agent_fields }
        : { kind: 'service', callbackHandoverMin: null, agentFields: null };
    },

    async setCampaignSettings(tenantId, campaignId, settings) {
      const tenant = tenantOf(tenantId);
      const id = parseInput(campaignIdSchema, campaignId, 'campaign id');
      const s = parseInput(campaignPrivacySchema, settings, 'campaign privacy');
      try {
        await knex.raw(
          `INSERT INTO campaign_privacy (tenant_id, campaign_id, kind, callback_handover_min, agent_fields)
           VALUES (?, ?, ?, ?, ?::text[])
           ON CONFLICT (tenant_id, campaign_id) DO UPDATE SET
             kind = excluded.kind, callback_handover_min = excluded.callback_handover_min,
             agent_fields = excluded.agent_fields, updated_at = now()`,
          [tenant, id, s.kind, s.callbackHandoverMin, s.agentFields],
        );
      } catch (err) {
        if (pgCode(err) === PG_FOREIGN_KEY_VIOLATION) throw new DbError('CAMPAIGN_UNKNOWN');
        throw err;
      }
      return s;
    },

    async marketingCampaigns(tenantId) {
      const q = knex('campaign_privacy as p')
        .join('campaigns as c', function () {
          this.on('c.tenant_id', 'p.tenant_id').andOn('c.id', 'p.campaign_id');
        })
        .where('p.kind', 'marketing')
        .whereNot('c.status', 'archived')
        .orderBy(['p.tenant_id', 'p.campaign_id'])
        .select<{ tenant_id: string; campaign_id: string }[]>('p.tenant_id', 'p.campaign_id');
      if (tenantId !== undefined) void q.where('p.tenant_id', tenantOf(tenantId));
      const rows = await q;
      return rows.map((r) => ({ tenantId: r.tenant_id, campaignId: r.campaign_id }));
    },
  };
}
