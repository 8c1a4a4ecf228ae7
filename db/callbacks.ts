// Callbacks through the admin API: list a campaign's pending callbacks, schedule one for a queued
// lead, move it (time or agent) or cancel it. A lead has at most one pending callback, and the
// lead's row carries it (next_due_at, pinned_agent_id), which is what a queue rebuild reads; so
// every change updates the callback and its lead in one transaction. The live queue follows inside
// that transaction (`FollowQueue`, given by the gateway, which knows the queue): if the queue
// refuses (the lead is on a call), the transaction rolls back and nothing changed anywhere.
import type { Knex } from 'knex';
import { z } from 'zod';
import type { AgentId, CampaignId } from '../engine/ids.js';
import { agentIdSchema, campaignIdSchema } from '../engine/ids.js';
import { storedLeadOf } from './leads.js';
import type { LeadRow, StoredLead } from './leads.js';
import { dbLeadIdSchema, fromTimestamp, parseInput, tenantOf, toTimestamp } from './validate.js';

export const CALLBACK_STATUSES = ['pending', 'done', 'cancelled'] as const;
export type CallbackStatus = (typeof CALLBACK_STATUSES)[number];

export interface Callback {
  readonly id: string;
  readonly campaignId: CampaignId;
  readonly leadId: string;
  /** The only agent who may take it; null: anyone. */
  readonly agentId: AgentId | null;
  readonly dueAt: number;
  readonly status: CallbackStatus;
  /** `outcome`: a call's outcome asked for it; `api`: scheduled through the admin API. */
  readonly source: 'outcome' | 'api';
  readonly createdAt: number;
  readonly updatedAt: number;
}

export interface CallbackQuery {
  /** `due`: due at `now` or earlier; `upcoming`: later; `all`: both. */
  readonly when: 'due' | 'upcoming' | 'all';
  readonly now: number;
  readonly agentId?: string | undefined;
  /** The `next` cursor of the page before. */
  readonly after?: string | undefined;
  readonly limit: number;
}

export interface CallbackPage {
  readonly items: Callback[];
  /** Pass back as `after` for the next page; null on the last. */
  readonly next: string | null;
}

/**
 * Make the live queue follow a lead's new state, inside the transaction that writes it. Throwing
 * rolls the transaction back. `before` is the lead as it was, `after` as it is written.
 */
export type FollowQueue = (after: StoredLead, before: StoredLead) => Promise<void>;

export type CallbackChange =
  | { readonly ok: true; readonly callback: Callback; readonly lead: StoredLead }
  | { readonly ok: false; readonly reason: 'unknown' | 'not_queued' | 'agent_unknown' };

export interface CallbackRepository {
  /** A campaign's pending callbacks in due order (then id), paged. */
  list(tenantId: string, campaignId: string, query: CallbackQuery): Promise<CallbackPage>;
  /** One callback of the tenant, whatever its status. */
  get(tenantId: string, callbackId: string): Promise<Callback | undefined>;
  /**
   * Schedule a callback for a queued lead of the campaign (`unknown` when the campaign does not
   * hold it): a pending callback it had is cancelled (a lead waits for one time), the lead becomes
   * due at `dueAt`, for `agentId` only or (null) anyone.
   */
  create(
    tenantId: string,
    campaignId: string,
    leadId: string,
    change: { dueAt: number; agentId: string | null },
    follow: FollowQueue,
  ): Promise<CallbackChange>;
  /** Move a pending callback to another time, another agent, or (agentId null) anyone. */
  move(
    tenantId: string,
    callbackId: string,
    change: { dueAt?: number | undefined; agentId?: string | null | undefined },
    follow: FollowQueue,
  ): Promise<CallbackChange>;
  /** Cancel a pending callback: its lead stays queued, due now for anyone. */
  cancel(tenantId: string, callbackId: string, follow: FollowQueue): Promise<CallbackChange>;
}

interface CallbackRow {
  id: string;
  campaign_id: string;
  lead_id: string;
  agent_id: string | null;
  due_at: Date;
  status: CallbackStatus;
  source: 'outcome' | 'api';
  created_at: Date;
  updated_at: Date;
}

const toCallback = (row: CallbackRow): Callback => ({
  id: String(row.id),
  campaignId: row.campaign_id as CampaignId,
  leadId: String(row.lead_id),
  agentId: row.agent_id as AgentId | null,
  dueAt: fromTimestamp(row.due_at),
  status: row.status,
  source: row.source,
  createdAt: fromTimestamp(row.created_at),
  updatedAt: fromTimestamp(row.updated_at),
});

const COLUMNS: string[] = [
  'id',
  'campaign_id',
  'lead_id',
  'agent_id',
  'due_at',
  'status',
  'source',
  'created_at',
  'updated_at',
];

/** Cursor of a page: the last item's due time (ms) and id. */
const cursorSchema = z.string().regex(/^\d{1,16}\.[1-9]\d{0,18}$/, 'must be a `next` cursor');

const failed = (reason: 'unknown' | 'not_queued' | 'agent_unknown'): CallbackChange => ({
  ok: false,
  reason,
});

export function createCallbackRepository(knex: Knex): CallbackRepository {
  /** The queued lead under a row lock, or why not. */
  async function lockLead(
    trx: Knex.Transaction,
    tenant: string,
    leadId: string,
  ): Promise<StoredLead | 'unknown' | 'not_queued'> {
    const row = await trx<LeadRow>('leads').where({ tenant_id: tenant, id: leadId }).forUpdate().first();
    if (!row) return 'unknown';
    return row.status === 'queued' ? storedLeadOf(row) : 'not_queued';
  }

  async function agentExists(
    trx: Knex.Transaction,
    tenant: string,
    agentId: string | null,
  ): Promise<boolean> {
    if (agentId === null) return true;
    return (await trx('users').where({ tenant_id: tenant, id: agentId }).first('id')) !== undefined;
  }

  /** Write the lead's wait (due time, pin) and let the queue follow; answers the lead as written. */
  async function schedule(
    trx: Knex.Transaction,
    before: StoredLead,
    dueAt: number | null,
    agentId: string | null,
    follow: FollowQueue,
  ): Promise<StoredLead> {
    const [row] = await trx<LeadRow>('leads')
      .where({ tenant_id: before.tenantId, id: before.id })
      .update({
        next_due_at: dueAt === null ? null : (toTimestamp(dueAt) as unknown as Date),
        pinned_agent_id: agentId,
        updated_at: trx.fn.now() as unknown as Date,
      })
      .returning('*');
    const after = storedLeadOf(row!);
    await follow(after, before);
    return after;
  }

  return {
    async list(tenantId, campaignId, q) {
      const tenant = tenantOf(tenantId);
      const campaign = parseInput(campaignIdSchema, campaignId, 'campaign id');
      const query = knex('callbacks')
        .select(COLUMNS)
        .where({ tenant_id: tenant, campaign_id: campaign, status: 'pending' })
        .orderBy([
          { column: 'due_at', order: 'asc' },
          { column: 'id', order: 'asc' },
        ])
        .limit(q.limit);
      if (q.when === 'due') void query.where('due_at', '<=', toTimestamp(q.now));
      if (q.when === 'upcoming') void query.where('due_at', '>', toTimestamp(q.now));
      if (q.agentId !== undefined) {
        void query.where('agent_id', parseInput(agentIdSchema, q.agentId, 'agent id'));
      }
      if (q.after !== undefined) {
        const [due, id] = parseInput(cursorSchema, q.after, 'after').split('.') as [string, string];
        void query.whereRaw('(due_at, id) > (?::timestamptz, ?::bigint)', [toTimestamp(Number(due)), id]);
      }
      const items = ((await query) as CallbackRow[]).map(toCallback);
      const last = items.at(-1);
      return { items, next: items.length === q.limit && last ? `${last.dueAt}.${last.id}` : null };
    },

    async get(tenantId, callbackId) {
      const tenant = tenantOf(tenantId);
      if (!dbLeadIdSchema.safeParse(callbackId).success) return undefined;
      const row = await knex('callbacks')
        .select(COLUMNS)
        .where({ tenant_id: tenant, id: callbackId })
        .first<CallbackRow | undefined>();
      return row ? toCallback(row) : undefined;
    },

    async create(tenantId, campaignId, leadId, change, follow) {
      const tenant = tenantOf(tenantId);
      if (!dbLeadIdSchema.safeParse(leadId).success) return failed('unknown');
      return knex.transaction(async (trx) => {
        const lead = await lockLead(trx, tenant, leadId);
        if (lead === 'unknown' || (typeof lead !== 'string' && lead.campaignId !== campaignId)) {
          return failed('unknown');
        }
        if (lead === 'not_queued') return failed('not_queued');
        if (!(await agentExists(trx, tenant, change.agentId))) return failed('agent_unknown');
        await trx('callbacks')
          .where({ tenant_id: tenant, lead_id: leadId, status: 'pending' })
          .update({ status: 'cancelled', updated_at: trx.fn.now() });
        const [row] = await trx('callbacks')
          .insert({
            tenant_id: tenant,
            campaign_id: lead.campaignId,
            lead_id: leadId,
            agent_id: change.agentId,
            due_at: toTimestamp(change.dueAt),
            source: 'api',
          })
          .returning<CallbackRow[]>(COLUMNS);
        const after = await schedule(trx, lead, change.dueAt, change.agentId, follow);
        return { ok: true, callback: toCallback(row!), lead: after };
      });
    },

    async move(tenantId, callbackId, change, follow) {
      const tenant = tenantOf(tenantId);
      if (!dbLeadIdSchema.safeParse(callbackId).success) return failed('unknown');
      return knex.transaction(async (trx) => {
        const cb = await trx('callbacks')
          .select(COLUMNS)
          .where({ tenant_id: tenant, id: callbackId, status: 'pending' })
          .forUpdate()
          .first<CallbackRow | undefined>();
        if (!cb) return failed('unknown');
        const lead = await lockLead(trx, tenant, String(cb.lead_id));
        if (lead === 'unknown' || lead === 'not_queued') return failed('unknown');
        const dueAt = change.dueAt ?? fromTimestamp(cb.due_at);
        const agentId = change.agentId === undefined ? cb.agent_id : change.agentId;
        if (!(await agentExists(trx, tenant, agentId))) return failed('agent_unknown');
        const [row] = await trx('callbacks')
          .where({ tenant_id: tenant, id: callbackId })
          .update({
            due_at: toTimestamp(dueAt) as unknown as Date,
            agent_id: agentId,
            updated_at: trx.fn.now() as unknown as Date,
          })
          .returning<CallbackRow[]>(COLUMNS);
        const after = await schedule(trx, lead, dueAt, agentId, follow);
        return { ok: true, callback: toCallback(row!), lead: after };
      });
    },

    async cancel(tenantId, callbackId, follow) {
      const tenant = tenantOf(tenantId);
      if (!dbLeadIdSchema.safeParse(callbackId).success) return failed('unknown');
      return knex.transaction(async (trx) => {
        const cb = await trx('callbacks')
          .select(COLUMNS)
          .where({ tenant_id: tenant, id: callbackId, status: 'pending' })
          .forUpdate()
          .first<CallbackRow | undefined>();
        if (!cb) return failed('unknown');
        const lead = await lockLead(trx, tenant, String(cb.lead_id));
        if (lead === 'unknown' || lead === 'not_queued') return failed('not_queued');
        const [row] = await trx('callbacks')
          .where({ tenant_id: tenant, id: callbackId })
          .update({ status: 'cancelled', updated_at: trx.fn.now() as unknown as Date })
          .returning<CallbackRow[]>(COLUMNS);
        const after = await schedule(trx, lead, null, null, follow);
        return { ok: true, callback: toCallback(row!), lead: after };
      });
    },
  };
}
