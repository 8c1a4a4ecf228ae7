// Follow-ups in the system of record (migration 0012): a campaign's message templates, and each
// follow-up sent with its metadata (channel, template, time, status, the attempt it follows).
// SMS follow-ups are their own durable outbox: the worker (gateway/followups) claims due pending
// rows of every tenant with FOR UPDATE SKIP LOCKED and a visibility timeout, so several gateways
// share the work, none posts a row another holds, and a process that dies mid-post leaves the row
// to be claimed again when the timeout passes (at least once). The number is never copied into a
// follow-up: the worker reads it from the lead when it posts, so erasing the lead (which deletes
// its follow-ups) leaves nothing behind.
import type { Knex } from 'knex';
import { z } from 'zod';
import { campaignIdSchema } from '../engine/ids.js';
import { DbError, pgCode, PG_FOREIGN_KEY_VIOLATION } from './errors.js';
import {
  dbLeadIdSchema,
  fromTimestamp,
  parseInput,
  storableText,
  tenantOf,
  toTimestamp,
} from './validate.js';

export const FOLLOWUP_CHANNELS = ['sms', 'whatsapp'] as const;
export type FollowupChannel = (typeof FOLLOWUP_CHANNELS)[number];
export const FOLLOWUP_STATUSES = ['pending', 'sent', 'failed', 'handed_over'] as const;
export type FollowupStatus = (typeof FOLLOWUP_STATUSES)[number];

export const templateIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,64}$/, 'letters, digits, _ and - (1 to 64)');
export const followupIdSchema = z.string().regex(/^[1-9]\d{0,18}$/, 'must be a positive integer id');

/** The variables a template may use: the lead's name, first name, and its custom fields. */
export const TEMPLATE_VARIABLE = /\{\{\s*(name|firstName|fields\.[^{}]{1,64}?)\s*\}\}/g;

export const templateInputSchema = z.strictObject({
  channel: z.enum(FOLLOWUP_CHANNELS),
  body: storableText(1000)
    .min(1)
    .refine(
      (b) => !/\{\{/.test(b.replace(TEMPLATE_VARIABLE, '')),
      'a {{variable}} must be name, firstName or fields.KEY',
    )
    .describe('The message; {{name}}, {{firstName}} and {{fields.KEY}} are filled from the lead'),
});
export type TemplateInput = z.input<typeof templateInputSchema>;

export interface FollowupTemplate {
  readonly id: string;
  readonly campaignId: string;
  readonly channel: FollowupChannel;
  readonly body: string;
  readonly createdAt: number;
  readonly updatedAt: number;
}

export interface Followup {
  readonly id: string;
  readonly campaignId: string;
  readonly leadId: string;
  /** The call attempt it follows (its lease id), when it follows one. */
  readonly leaseId: string | null;
  readonly templateId: string;
  readonly channel: FollowupChannel;
  readonly status: FollowupStatus;
  readonly attempts: number;
  readonly lastStatus: number | null;
  readonly lastError: string | null;
  readonly providerRef: string | null;
  readonly sentAt: number | null;
  readonly createdBy: string;
  readonly createdAt: number;
}

export interface NewFollowup {
  readonly campaignId: string;
  readonly leadId: string;
  readonly leaseId: string | null;
  readonly templateId: string;
  readonly channel: FollowupChannel;
  /** As rendered for the lead. */
  readonly body: string;
  readonly createdBy: string;
}

/** An SMS the worker has claimed: everything it needs to post it. */
export interface ClaimedSms {
  readonly tenantId: string;
  readonly id: string;
  readonly phone: string;
  readonly body: string;
  /** Tries so far, this one included. */
  readonly attempts: number;
}

export interface SmsResult {
  readonly at: number;
  readonly statusCode: number | null;
  readonly error: string | null;
  readonly providerRef: string | null;
  readonly ok: boolean;
  /** When to try again after a failure; null gives up (status failed). */
  readonly retryAt: number | null;
}

export interface FollowupRepository {
  /** Create or replace a template. Fails with CAMPAIGN_UNKNOWN. */
  putTemplate(
    tenantId: string,
    campaignId: string,
    templateId: string,
    input: TemplateInput,
  ): Promise<FollowupTemplate>;
  templates(tenantId: string, campaignId: string): Promise<FollowupTemplate[]>;
  template(tenantId: string, campaignId: string, templateId: string): Promise<FollowupTemplate | undefined>;
  removeTemplate(tenantId: string, campaignId: string, templateId: string): Promise<boolean>;
  /** The agent of the lead's attempt under this lease id; undefined when there is no such attempt. */
  attemptAgent(tenantId: string, leadId: string, leaseId: string): Promise<{ agentId: string } | undefined>;
  /** Record a follow-up: SMS pending (due now), WhatsApp handed over. Fails with LEAD_UNKNOWN. */
  create(tenantId: string, f: NewFollowup, now: number): Promise<Followup>;
  list(
    tenantId: string,
    q: { leadId?: string; campaignId?: string; status?: FollowupStatus; after?: string; limit: number },
  ): Promise<Followup[]>;
  /** Claim up to `limit` due SMS of any tenant, hiding them for `visibilityMs`. */
  claimDueSms(now: number, limit: number, visibilityMs: number): Promise<ClaimedSms[]>;
  recordSms(tenantId: string, followupId: string, result: SmsResult): Promise<void>;
}

interface TemplateRow {
  campaign_id: string;
  id: string;
  channel: FollowupChannel;
  body: string;
  created_at: Date;
  updated_at: Date;
}

interface FollowupRow {
  id: string;
  campaign_id: string;
  lead_id: string;
  lease_id: string | null;
  template_id: string;
  channel: FollowupChannel;
  status: FollowupStatus;
  attempts: number;
  last_status: number | null;
  last_error: string | null;
  provider_ref: string | null;
  sent_at: Date | null;
  created_by: string;
  created_at: Date;
}

const TEMPLATE_COLUMNS = ['campaign_id', 'id', 'channel', 'body', 'created_at', 'updated_at'];
// Never the body: it quotes the person, and lists are for the admin page and the API.
const FOLLOWUP_COLUMNS = [
  'id',
  'campaign_id',
  'lead_id',
  'lease_id',
  'template_id',
  'channel',
  'status',
  'attempts',
  'last_status',
  'last_error',
  'provider_ref',
  'sent_at',
  'created_by',
  'created_at',
];

const toTemplate = (r: TemplateRow): FollowupTemplate => ({
  id: r.id,
  campaignId: r.campaign_id,
  channel: r.channel,
  body: r.body,
  createdAt: fromTimestamp(r.created_at),
  updatedAt: fromTimestamp(r.updated_at),
});

const toFollowup = (r: FollowupRow): Followup => ({
  id: String(r.id),
  campaignId: r.campaign_id,
  leadId: String(r.lead_id),
  leaseId: r.lease_id,
  templateId: r.template_id,
  channel: r.channel,
  status: r.status,
  attempts: r.attempts,
  lastStatus: r.last_status,
  lastError: r.last_error,
  providerRef: r.provider_ref,
  sentAt: r.sent_at === null ? null : fromTimestamp(r.sent_at),
  createdBy: r.created_by,
  createdAt: fromTimestamp(r.created_at),
});

export function createFollowupRepository(knex: Knex): FollowupRepository {
  const campaignOf = (c: string) => parseInput(campaignIdSchema, c, 'campaign id');
  const templateOf = (t: string) => parseInput(templateIdSchema, t, 'template id');
  const leadOf = (l: string) => parseInput(dbLeadIdSchema, l, 'lead id');

  return {
    async putTemplate(tenantId, campaignId, templateId, input) {
      const t = parseInput(templateInputSchema, input, 'template');
      try {
        const [row] = await knex('followup_templates')
          .insert({
            tenant_id: tenantOf(tenantId),
            campaign_id: campaignOf(campaignId),
            id: templateOf(templateId),
            channel: t.channel,
            body: t.body,
          })
          .onConflict(['tenant_id', 'campaign_id', 'id'])
          .merge({ channel: t.channel, body: t.body, updated_at: knex.fn.now() })
          .returning<TemplateRow[]>(TEMPLATE_COLUMNS);
        return toTemplate(row!);
      } catch (err) {
        if (pgCode(err) === PG_FOREIGN_KEY_VIOLATION) throw new DbError('CAMPAIGN_UNKNOWN');
        throw err;
      }
    },

    async templates(tenantId, campaignId) {
      const rows = await knex('followup_templates')
        .where({ tenant_id: tenantOf(tenantId), campaign_id: campaignOf(campaignId) })
        .orderBy('id')
        .select<TemplateRow[]>(TEMPLATE_COLUMNS);
      return rows.map(toTemplate);
    },

    async template(tenantId, campaignId, templateId) {
      const row = await knex('followup_templates')
        .where({
          tenant_id: tenantOf(tenantId),
          campaign_id: campaignOf(campaignId),
          id: templateOf(templateId),
        })
        .first<TemplateRow | undefined>(TEMPLATE_COLUMNS);
      return row ? toTemplate(row) : undefined;
    },

    async removeTemplate(tenantId, campaignId, templateId) {
      const n = await knex('followup_templates')
        .where({
          tenant_id: tenantOf(tenantId),
          campaign_id: campaignOf(campaignId),
          id: templateOf(templateId),
        })
        .delete();
      return n > 0;
    },

    async attemptAgent(tenantId, leadId, leaseId) {
      const row = await knex('call_attempts')
        .where({
          tenant_id: tenantOf(tenantId),
          lead_id: leadOf(leadId),
          lease_id: parseInput(storableText(200).min(1), leaseId, 'lease id'),
        })
        .first<{ agent_id: string } | undefined>('agent_id');
      return row ? { agentId: row.agent_id } : undefined;
    },

    async create(tenantId, f, now) {
      const tenant = tenantOf(tenantId);
      try {
        const [row] = await knex('followups')
          .insert({
            tenant_id: tenant,
            campaign_id: campaignOf(f.campaignId),
            lead_id: leadOf(f.leadId),
            lease_id: f.leaseId,
            template_id: templateOf(f.templateId),
            channel: parseInput(z.enum(FOLLOWUP_CHANNELS), f.channel, 'channel'),
            body: parseInput(storableText(4000), f.body, 'body'),
            status: f.channel === 'sms' ? 'pending' : 'handed_over',
            next_attempt_at: f.channel === 'sms' ? toTimestamp(now) : null,
            created_by: f.createdBy,
            created_at: toTimestamp(now),
          })
          .returning<FollowupRow[]>(FOLLOWUP_COLUMNS);
        return toFollowup(row!);
      } catch (err) {
        if (pgCode(err) === PG_FOREIGN_KEY_VIOLATION) throw new DbError('LEAD_UNKNOWN');
        throw err;
      }
    },

    async list(tenantId, q) {
      let query = knex('followups').where({ tenant_id: tenantOf(tenantId) });
      if (q.leadId !== undefined) query = query.andWhere({ lead_id: leadOf(q.leadId) });
      if (q.campaignId !== undefined) query = query.andWhere({ campaign_id: campaignOf(q.campaignId) });
      if (q.status !== undefined)
        query = query.andWhere({ status: parseInput(z.enum(FOLLOWUP_STATUSES), q.status, 'status') });
      if (q.after !== undefined)
        query = query.andWhere('id', '>', parseInput(followupIdSchema, q.after, 'after'));
      const rows = await query
        .orderBy('id')
        .limit(parseInput(z.number().int().min(1).max(500), q.limit, 'limit'))
        .select<FollowupRow[]>(FOLLOWUP_COLUMNS);
      return rows.map(toFollowup);
    },

    async claimDueSms(now, limit, visibilityMs) {
      // The one read that crosses tenants, on purpose: the worker serves every tenant's outbox.
      // Each row it returns carries its tenant, and every later write is scoped to it.
      const { rows } = await knex.raw<{
        rows: { tenant_id: string; id: string; phone: string; body: string; attempts: number }[];
      }>(
        `WITH due AS (
           SELECT tenant_id, id FROM followups
            WHERE status = 'pending' AND next_attempt_at <= ?
            ORDER BY next_attempt_at
            LIMIT ?
            FOR UPDATE SKIP LOCKED
         )
         UPDATE followups f
            SET attempts = f.attempts + 1, next_attempt_at = ?
           FROM due, leads l
          WHERE f.tenant_id = due.tenant_id AND f.id = due.id
            AND l.tenant_id = f.tenant_id AND l.id = f.lead_id
         RETURNING f.tenant_id, f.id, f.attempts, f.body, l.phone`,
        [toTimestamp(now), limit, toTimestamp(now + visibilityMs)],
      );
      return rows.map((r) => ({
        tenantId: r.tenant_id,
        id: String(r.id),
        phone: r.phone,
        body: r.body,
        attempts: r.attempts,
      }));
    },

    async recordSms(tenantId, followupId, result) {
      await knex('followups')
        .where({ tenant_id: tenantOf(tenantId), id: parseInput(followupIdSchema, followupId, 'id') })
        .update(
          result.ok
            ? {
                status: 'sent',
                sent_at: toTimestamp(result.at),
                last_status: result.statusCode,
                last_error: null,
                provider_ref: result.providerRef,
                next_attempt_at: null,
              }
            : result.retryAt === null
              ? {
                  status: 'failed',
                  last_status: result.statusCode,
                  last_error: result.error,
                  next_attempt_at: null,
                }
              : {
                  next_attempt_at: toTimestamp(result.retryAt),
                  last_status: result.statusCode,
                  last_error: result.error,
                },
        );
    },
  };
}
