// Leads: the system of record for who is to be called. The engine's Redis queue is a cache of
// the queued leads here and can be rebuilt from them at any time (`streamQueued`), so a lead's
// row always says where it stands: queued (ready or scheduled), final, or removed (do-not-call
// or erasure). Outcomes move leads through these states in the outcome writer's transaction.
// A lead may have several numbers, tried in order (db/lead-phones.ts): its row's phone and zone
// are those of the one dialled now, and `advance` moves it to the next.
import type { Knex } from 'knex';
import { z } from 'zod';
import { zoneKey, zonesOf } from '../engine/calling-window.js';
import type { ZoneKey } from '../engine/calling-window.js';
import { isEngineError } from '../engine/errors.js';
import type { AgentId, CampaignId, TenantId } from '../engine/ids.js';
import { campaignIdSchema } from '../engine/ids.js';
import { leadInputSchema, plainLead } from '../engine/lead.js';
import type { LeadInput } from '../engine/lead.js';
import { DbError, pgCode, PG_FOREIGN_KEY_VIOLATION } from './errors.js';
import {
  followEdit,
  insertNumbers,
  listNumbers,
  lockNumbers,
  nextNumbers,
  numberColumns,
  withFurtherNumbers,
  zonesOfKey,
} from './lead-phones.js';
import type { LeadNumber, LeadNumberInput, NumberColumns } from './lead-phones.js';
import {
  dbLeadIdSchema,
  fromTimestamp,
  isStorableJson,
  parseInput,
  PHONE_E164,
  tenantOf,
  toTimestamp,
} from './validate.js';

export const LEAD_STATUSES = ['queued', 'final', 'removed'] as const;
export type LeadStatus = (typeof LEAD_STATUSES)[number];

/**
 * A lead to import: the engine's lead input without an id (Postgres assigns it), and the further
 * numbers to try after its phone, in order, each with its own zones (db/lead-phones.ts).
 */
export type NewLead = Omit<LeadInput, 'id'> & {
  readonly alternates?: readonly LeadNumberInput[] | undefined;
};

const newLeadSchema = leadInputSchema.omit({ id: true });

export interface StoredLead {
  readonly tenantId: TenantId;
  readonly id: string;
  readonly campaignId: CampaignId;
  readonly phone: string;
  readonly name: string;
  /** Candidate time zones; null when unknown (never dialled). */
  readonly timeZone: string[] | null;
  readonly priority: number;
  readonly status: LeadStatus;
  /** Attempts made so far. */
  readonly attempts: number;
  /** When a queued lead becomes dialable (retry or callback); null means now. */
  readonly dueAt: number | null;
  readonly pinnedAgentId: AgentId | null;
  readonly fields: Readonly<Record<string, string>>;
  readonly createdAt: number;
  readonly updatedAt: number;
}

export interface RemovedLead {
  readonly leadId: string;
  readonly campaignId: CampaignId;
}

export interface LeadRepository {
  /**
   * Insert leads into a campaign, all or nothing (every lead is validated first). Returns the new
   * ids in input order. Fails with INPUT_INVALID or CAMPAIGN_UNKNOWN.
   */
  insertBatch(tenantId: string, campaignId: string, leads: readonly NewLead[]): Promise<string[]>;
  /**
   * The campaign's queued leads in id (import) order, as the engine enqueues them, in chunks read
   * by keyset pagination (no long transaction, no OFFSET). Leads whose number is on the tenant's
   * DNC list are skipped even if still marked queued: a rebuild must never bring one back.
   */
  streamQueued(tenantId: string, campaignId: string, chunkSize?: number): AsyncIterable<LeadInput[]>;
  get(tenantId: string, leadId: string): Promise<StoredLead | undefined>;
  /**
   * The numbers of `phones` that already have a queued lead in this campaign, each once: an
   * import skips them, since the engine queues a number at most once per campaign.
   */
  filterQueued(tenantId: string, campaignId: string, phones: readonly string[]): Promise<string[]>;
  /**
   * The queued leads of this campaign with one of these numbers (the oldest per number): a
   * retried import queues these again rather than inserting the number twice, so it converges.
   */
  findQueued(tenantId: string, campaignId: string, phones: readonly string[]): Promise<StoredLead[]>;
  /**
   * Delete leads an import inserted but could not queue (the queue refused them, or failed):
   * only leads with no call attempt, in this tenant. Returns how many were deleted.
   */
  discard(tenantId: string, leadIds: readonly string[]): Promise<number>;
  /**
   * DNC or erasure: every queued lead of the tenant with one of these numbers becomes 'removed'
   * and its pending callbacks are cancelled. Final leads keep their status (their history
   * stands). Returns the leads removed, so the caller can take them out of the engine's queues.
   */
  markRemoved(tenantId: string, phones: readonly string[]): Promise<RemovedLead[]>;
  countByStatus(tenantId: string, campaignId: string): Promise<Record<LeadStatus, number>>;
  /**
   * An admin removes one queued lead: it becomes 'removed' (its row and attempts stay) and its
   * pending callbacks are cancelled. False when it is not queued (final, removed, or unknown).
   */
  removeOne(tenantId: string, leadId: string): Promise<boolean>;
  /**
   * An admin edits one queued lead (under a row lock): the fields given change, the rest stay;
   * the live queue follows inside the transaction (`follow` throws to roll it back). A `dueAt`
   * moves the lead's pending callback with it (null, due now, cancels it: the lead is for anyone). `duplicate` when the
   * new number is queued in the campaign under another lead.
   */
  edit(tenantId: string, leadId: string, edit: LeadEdit, follow: FollowLead): Promise<LeadEditResult>;
  /**
   * An admin replaces a queued lead's whole list of numbers (under a row lock, its numbers too):
   * the first becomes the one dialled now (the lead's phone and zones), the rest follow in order
   * (a list of one leaves no lead_phones rows); the live queue follows inside the transaction
   * (`follow` throws to roll it back). `duplicate` when the first number is queued in the campaign
   * under another lead. The numbers must be checked already (E.164, each once, at most
   * MAX_LEAD_PHONES, not listed or erased); throws INPUT_INVALID on a bad zone.
   */
  replaceNumbers(
    tenantId: string,
    leadId: string,
    numbers: readonly LeadNumberInput[],
    follow: FollowLead,
  ): Promise<LeadEditResult>;
  /** Store the numbers of leads with more than one (`numberColumns`); a lead holding some keeps them. */
  addNumbers(
    tenantId: string,
    leads: readonly { readonly leadId: string; readonly numbers: readonly NumberColumns[] }[],
  ): Promise<void>;
  /** A lead's numbers in the order they are tried, the current one marked; undefined: no such lead. */
  numbers(tenantId: string, leadId: string): Promise<LeadNumber[] | undefined>;
  /** Which of these leads have more than one number. */
  withFurtherNumbers(tenantId: string, leadIds: readonly string[]): Promise<Set<string>>;
  /**
   * Move a queued lead from `fromPhone` to its next usable number, in one transaction on its row
   * and its numbers (both locked: an erasure of one of them waits, or is waited for). The numbers
   * after the current one are tried in order, wrapping after the last: one on the tenant's
   * do-not-call list or queued in the campaign under another lead is skipped, and so is one the
   * live queue refuses (`follow`: the engine's updateLead says suppressed or duplicate). The first
   * the queue takes becomes the lead's phone, with its zones. Nothing moves when the lead is no
   * longer queued on `fromPhone`, has one number, is on a call (`follow` says busy) or has no
   * usable number left (it keeps its own).
   */
  advance(tenantId: string, leadId: string, fromPhone: string, follow: NumberFollow): Promise<AdvanceResult>;
}

/** What the live queue said to a lead's move: taken (or it holds no copy), refused, or the lead is busy. */
export type NumberFollow = (after: StoredLead, before: StoredLead) => Promise<'moved' | 'refused' | 'busy'>;

export type AdvanceResult =
  | { readonly moved: true; readonly phone: string; readonly position: number; readonly skipped: number }
  | { readonly moved: false; readonly reason: 'not_queued' | 'one_number' | 'busy' | 'none_usable' };

export interface LeadEdit {
  /** E.164, already normalised. */
  readonly phone?: string | undefined;
  readonly name?: string | undefined;
  /** Fields to set; a null value removes the field. */
  readonly fields?: Readonly<Record<string, string | null>> | undefined;
  /** One zone, several candidates, or null (never dialled). */
  readonly timeZone?: string | readonly string[] | null | undefined;
  readonly priority?: number | undefined;
  /** When the lead becomes dialable (epoch ms); null: now. */
  readonly dueAt?: number | null | undefined;
}

export type LeadEditResult =
  | { readonly ok: true; readonly lead: StoredLead; readonly before: StoredLead; readonly changed: string[] }
  | { readonly ok: false; readonly reason: 'unknown' | 'not_queued' | 'duplicate' };

/** Make the live queue follow a lead's new row, inside the transaction that writes it. */
export type FollowLead = (after: StoredLead, before: StoredLead) => Promise<void>;

export interface LeadRow {
  tenant_id: string;
  id: string;
  campaign_id: string;
  phone: string;
  name: string;
  time_zone: string | null;
  priority: number;
  status: LeadStatus;
  attempts: number;
  next_due_at: Date | null;
  pinned_agent_id: string | null;
  fields: Record<string, string>;
  created_at: Date;
  updated_at: Date;
}

/** Rows per INSERT: ~11 parameters each keeps a statement far below Postgres's 65,535. */
const INSERT_CHUNK = 1000;
const MAX_STREAM_CHUNK = 50_000;

const zonesOfRow = (timeZone: string | null): string[] | null =>
  timeZone === null ? null : zonesOf(timeZone as ZoneKey);

const e164 = z.string().regex(PHONE_E164);

function toLeadInput(row: LeadRow): LeadInput {
  return {
    id: row.id,
    phone: row.phone,
    name: row.name,
    timeZone: zonesOfRow(row.time_zone),
    priority: row.priority,
    attempts: row.attempts,
    ...(row.next_due_at === null ? {} : { dueAt: fromTimestamp(row.next_due_at) }),
    ...(row.pinned_agent_id === null ? {} : { pinnedAgentId: row.pinned_agent_id }),
    fields: row.fields,
  };
}

/** A row as the repositories answer it. */
export const storedLeadOf = (row: LeadRow): StoredLead => ({
  tenantId: row.tenant_id as TenantId,
  id: row.id,
  campaignId: row.campaign_id as CampaignId,
  phone: row.phone,
  name: row.name,
  timeZone: zonesOfRow(row.time_zone),
  priority: row.priority,
  status: row.status,
  attempts: row.attempts,
  dueAt: row.next_due_at === null ? null : fromTimestamp(row.next_due_at),
  pinnedAgentId: row.pinned_agent_id as AgentId | null,
  fields: row.fields,
  createdAt: fromTimestamp(row.created_at),
  updatedAt: fromTimestamp(row.updated_at),
});

/**
 * One new lead checked (schema, storable text, a valid zone key) as the columns it is stored in.
 * Every path that writes leads (INSERT here, COPY in imports.ts) goes through it.
 */
export function leadColumns(lead: NewLead, index: number) {
  let l = plainLead(lead, false);
  if (!l) {
    const parsed = newLeadSchema.safeParse(lead);
    if (!parsed.success) {
      throw new DbError('INPUT_INVALID', `lead ${index}: ${z.prettifyError(parsed.error)}`, { index });
    }
    l = parsed.data;
  }
  if (!isStorableJson(l.name) || !isStorableJson(l.fields ?? {})) {
    throw new DbError('INPUT_INVALID', `lead ${index}: text must not contain unpaired surrogates`, { index });
  }
  let zones: ZoneKey;
  try {
    zones = zoneKey(l.timeZone);
  } catch (err) {
    if (isEngineError(err)) throw new DbError('INPUT_INVALID', `lead ${index}: ${err.message}`, { index });
    throw err;
  }
  return {
    phone: l.phone,
    name: l.name,
    time_zone: zones === '' ? null : (zones as string),
    priority: l.priority,
    attempts: l.attempts,
    next_due_at: l.dueAt === undefined ? null : toTimestamp(l.dueAt),
    pinned_agent_id: (l.pinnedAgentId ?? null) as string | null,
    fields: JSON.stringify(l.fields ?? {}),
  };
}

export type LeadColumns = ReturnType<typeof leadColumns>;

const toInsertRow = (tenantId: string, campaignId: string, lead: NewLead, index: number) => ({
  tenant_id: tenantId,
  campaign_id: campaignId,
  ...leadColumns(lead, index),
});

const phonesSchema = z.array(z.string().regex(PHONE_E164, 'numbers must be E.164')).max(100_000);

export function createLeadRepository(knex: Knex): LeadRepository {
  async function* pages(
    tenantId: TenantId,
    campaignId: string,
    chunkSize: number,
  ): AsyncGenerator<LeadInput[]> {
    let after = '0';
    for (;;) {
      const { rows } = await knex.raw<{ rows: LeadRow[] }>(
        `SELECT l.* FROM leads l
         WHERE l.tenant_id = ? AND l.campaign_id = ? AND l.status = 'queued' AND l.id > ?::bigint
           AND NOT EXISTS (SELECT 1 FROM dnc d WHERE d.tenant_id = l.tenant_id AND d.phone = l.phone)
         ORDER BY l.id
         LIMIT ?`,
        [tenantId, campaignId, after, chunkSize],
      );
      const last = rows.at(-1);
      if (last === undefined) return;
      yield rows.map(toLeadInput);
      if (rows.length < chunkSize) return;
      after = last.id;
    }
  }

  return {
    async insertBatch(tenantId, campaignId, leads) {
      const tenant = tenantOf(tenantId);
      const campaign = parseInput(campaignIdSchema, campaignId, 'campaign id');
      const rows = leads.map((lead, index) => toInsertRow(tenant, campaign, lead, index));
      if (rows.length === 0) return [];
      try {
        return await knex.transaction(async (trx) => {
          const ids: string[] = [];
          for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
            // A multi-row INSERT assigns identities and returns rows in VALUES order, so ids
            // come back in input order and id order is import order.
            const inserted = await trx('leads')
              .insert(rows.slice(i, i + INSERT_CHUNK))
              .returning<{ id: string }[]>('id');
            for (const row of inserted) ids.push(row.id);
          }
          return ids;
        });
      } catch (err) {
        if (pgCode(err) === PG_FOREIGN_KEY_VIOLATION) throw new DbError('CAMPAIGN_UNKNOWN');
        throw err;
      }
    },

    streamQueued(tenantId, campaignId, chunkSize = 5000) {
      const tenant = tenantOf(tenantId);
      const campaign = parseInput(campaignIdSchema, campaignId, 'campaign id');
      const size = parseInput(z.number().int().min(1).max(MAX_STREAM_CHUNK), chunkSize, 'chunk size');
      return pages(tenant, campaign, size);
    },

    async get(tenantId, leadId) {
      const tenant = tenantOf(tenantId);
      if (!dbLeadIdSchema.safeParse(leadId).success) return undefined;
      const row = await knex<LeadRow>('leads').where({ tenant_id: tenant, id: leadId }).first();
      return row ? storedLeadOf(row) : undefined;
    },

    async filterQueued(tenantId, campaignId, phones) {
      const tenant = tenantOf(tenantId);
      const campaign = parseInput(campaignIdSchema, campaignId, 'campaign id');
      const numbers = parseInput(phonesSchema, phones, 'phones');
      if (numbers.length === 0) return [];
      const { rows } = await knex.raw<{ rows: { phone: string }[] }>(
        `SELECT DISTINCT phone FROM leads
         WHERE tenant_id = ? AND campaign_id = ? AND status = 'queued' AND phone = ANY(?::text[])`,
        [tenant, campaign, [...new Set(numbers)]],
      );
      const queued = new Set(rows.map((r) => r.phone));
      return [...new Set(numbers)].filter((p) => queued.has(p));
    },

    async findQueued(tenantId, campaignId, phones) {
      const tenant = tenantOf(tenantId);
      const campaign = parseInput(campaignIdSchema, campaignId, 'campaign id');
      const numbers = parseInput(phonesSchema, phones, 'phones');
      if (numbers.length === 0) return [];
      const { rows } = await knex.raw<{ rows: LeadRow[] }>(
        `SELECT DISTINCT ON (phone) * FROM leads
         WHERE tenant_id = ? AND campaign_id = ? AND status = 'queued' AND phone = ANY(?::text[])
         ORDER BY phone, id`,
        [tenant, campaign, [...new Set(numbers)]],
      );
      return rows.map(storedLeadOf);
    },

    async discard(tenantId, leadIds) {
      const tenant = tenantOf(tenantId);
      const ids = parseInput(z.array(dbLeadIdSchema).max(100_000), leadIds, 'lead ids');
      if (ids.length === 0) return 0;
      const { rowCount } = await knex.raw<{ rowCount: number }>(
        `DELETE FROM leads l WHERE l.tenant_id = ? AND l.id = ANY(?::bigint[])
           AND NOT EXISTS (SELECT 1 FROM call_attempts a WHERE a.tenant_id = l.tenant_id AND a.lead_id = l.id)`,
        [tenant, ids],
      );
      return rowCount;
    },

    async markRemoved(tenantId, phones) {
      const tenant = tenantOf(tenantId);
      const numbers = parseInput(phonesSchema, phones, 'phones');
      const removed = await removeQueuedByPhone(
        knex,
        numbers.map((phone) => ({ tenant_id: tenant, phone })),
      );
      return removed.map((r) => ({ leadId: r.id, campaignId: r.campaign_id as CampaignId }));
    },

    async removeOne(tenantId, leadId) {
      const tenant = tenantOf(tenantId);
      if (!/^[1-9]\d{0,18}$/.test(leadId)) return false;
      return knex.transaction(async (trx) => {
        const n = await trx('leads')
          .where({ tenant_id: tenant, id: leadId, status: 'queued' })
          .update({ status: 'removed', next_due_at: null, pinned_agent_id: null, updated_at: knex.fn.now() });
        if (n === 0) return false;
        await trx('callbacks')
          .where({ tenant_id: tenant, lead_id: leadId, status: 'pending' })
          .update({ status: 'cancelled', updated_at: knex.fn.now() });
        return true;
      });
    },

    async edit(tenantId, leadId, edit, follow) {
      const tenant = tenantOf(tenantId);
      if (!dbLeadIdSchema.safeParse(leadId).success) return { ok: false, reason: 'unknown' };
      return knex.transaction(async (trx): Promise<LeadEditResult> => {
        const row = await trx<LeadRow>('leads').where({ tenant_id: tenant, id: leadId }).forUpdate().first();
        if (!row) return { ok: false, reason: 'unknown' };
        if (row.status !== 'queued') return { ok: false, reason: 'not_queued' };
        const before = storedLeadOf(row);
        const fields: Record<string, string> = { ...before.fields };
        for (const [k, v] of Object.entries(edit.fields ?? {})) {
          if (v === null) delete fields[k];
          else fields[k] = v;
        }
        const dueAt = edit.dueAt === undefined ? before.dueAt : edit.dueAt;
        const columns = leadColumns(
          {
            phone: edit.phone ?? before.phone,
            name: edit.name ?? before.name,
            timeZone: (edit.timeZone === undefined
              ? before.timeZone
              : edit.timeZone) as LeadInput['timeZone'],
            priority: edit.priority ?? before.priority,
            attempts: before.attempts,
            ...(dueAt === null ? {} : { dueAt }),
            // Due now (null) ends a pending callback: the lead is for anyone again.
            ...(before.pinnedAgentId === null || edit.dueAt === null
              ? {}
              : { pinnedAgentId: before.pinnedAgentId }),
            fields,
          },
          0,
        );
        if (columns.phone !== before.phone) {
          const taken: unknown = await trx('leads')
            .where({
              tenant_id: tenant,
              campaign_id: before.campaignId,
              status: 'queued',
              phone: columns.phone,
            })
            .whereNot({ id: leadId })
            .first('id');
          if (taken) return { ok: false, reason: 'duplicate' };
        }
        const [updated] = await trx<LeadRow>('leads')
          .where({ tenant_id: tenant, id: leadId })
          .update({ ...columns, updated_at: trx.fn.now() } as never)
          .returning('*');
        const after = storedLeadOf(updated!);
        if (columns.phone !== before.phone || columns.time_zone !== row.time_zone) {
          await followEdit(trx, tenant, leadId, before, columns);
        }
        if (edit.dueAt !== undefined) {
          const pending = trx('callbacks').where({ tenant_id: tenant, lead_id: leadId, status: 'pending' });
          if (edit.dueAt === null) await pending.update({ status: 'cancelled', updated_at: trx.fn.now() });
          else await pending.update({ due_at: toTimestamp(edit.dueAt), updated_at: trx.fn.now() });
        }
        const changed = (['phone', 'name', 'timeZone', 'priority', 'dueAt', 'fields'] as const).filter(
          (k) => JSON.stringify(before[k]) !== JSON.stringify(after[k]),
        );
        await follow(after, before);
        return { ok: true, lead: after, before, changed };
      });
    },

    async replaceNumbers(tenantId, leadId, numbers, follow) {
      const tenant = tenantOf(tenantId);
      if (!dbLeadIdSchema.safeParse(leadId).success) return { ok: false, reason: 'unknown' };
      const [first, ...further] = numbers;
      if (first === undefined) throw new DbError('INPUT_INVALID', 'phones: at least one number');
      return knex.transaction(async (trx): Promise<LeadEditResult> => {
        const row = await trx<LeadRow>('leads').where({ tenant_id: tenant, id: leadId }).forUpdate().first();
        if (!row) return { ok: false, reason: 'unknown' };
        if (row.status !== 'queued') return { ok: false, reason: 'not_queued' };
        const before = storedLeadOf(row);
        const { id: _id, ...current } = toLeadInput(row);
        const { phone, time_zone } = leadColumns(
          { ...current, phone: first.phone, timeZone: first.timeZone ?? null },
          0,
        );
        const rows = numberColumns({ phone, time_zone }, further, 0);
        if (rows.length !== numbers.length && numbers.length > 1)
          throw new DbError('INPUT_INVALID', 'phones: each number once');
        if (phone !== before.phone) {
          const taken: unknown = await trx('leads')
            .where({ tenant_id: tenant, campaign_id: before.campaignId, status: 'queued', phone })
            .whereNot({ id: leadId })
            .first('id');
          if (taken) return { ok: false, reason: 'duplicate' };
        }
        // The old list, locked (an erasure of one of its numbers waits, or is waited for), then gone.
        await lockNumbers(trx, tenant, leadId, before.campaignId);
        await trx('lead_phones').where({ tenant_id: tenant, lead_id: leadId }).delete();
        await insertNumbers(trx, tenant, [{ leadId, numbers: rows }]);
        const [updated] = await trx<LeadRow>('leads')
          .where({ tenant_id: tenant, id: leadId })
          .update({ phone, time_zone, updated_at: trx.fn.now() } as never)
          .returning('*');
        const after = storedLeadOf(updated!);
        await follow(after, before);
        return { ok: true, lead: after, before, changed: ['phones'] };
      });
    },

    async addNumbers(tenantId, leads) {
      await insertNumbers(knex, tenantOf(tenantId), leads);
    },

    async numbers(tenantId, leadId) {
      const tenant = tenantOf(tenantId);
      if (!dbLeadIdSchema.safeParse(leadId).success) return undefined;
      const row = await knex<LeadRow>('leads').where({ tenant_id: tenant, id: leadId }).first();
      return row ? listNumbers(knex, tenant, storedLeadOf(row)) : undefined;
    },

    async withFurtherNumbers(tenantId, leadIds) {
      const ids = parseInput(z.array(dbLeadIdSchema).max(100_000), leadIds, 'lead ids');
      return withFurtherNumbers(knex, tenantOf(tenantId), ids);
    },

    async advance(tenantId, leadId, fromPhone, follow) {
      const tenant = tenantOf(tenantId);
      parseInput(dbLeadIdSchema, leadId, 'lead id');
      parseInput(e164, fromPhone, 'phone');
      return knex.transaction(async (trx): Promise<AdvanceResult> => {
        const row = await trx<LeadRow>('leads').where({ tenant_id: tenant, id: leadId }).forUpdate().first();
        if (!row || row.status !== 'queued' || row.phone !== fromPhone)
          return { moved: false, reason: 'not_queued' };
        const numbers = await lockNumbers(trx, tenant, leadId, row.campaign_id);
        if (numbers.length < 2) return { moved: false, reason: 'one_number' };
        const before = storedLeadOf(row);
        let skipped = 0;
        for (const n of nextNumbers(numbers, row.phone)) {
          // A listed number is never dialled; one queued under another lead would be a duplicate.
          if (n.listed || n.taken) {
            skipped++;
            continue;
          }
          const answer = await follow(
            { ...before, phone: n.phone, timeZone: zonesOfKey(n.time_zone) },
            before,
          );
          if (answer === 'busy') return { moved: false, reason: 'busy' };
          if (answer === 'refused') {
            skipped++;
            continue;
          }
          await trx('leads')
            .where({ tenant_id: tenant, id: leadId })
            .update({ phone: n.phone, time_zone: n.time_zone, updated_at: trx.fn.now() });
          return { moved: true, phone: n.phone, position: n.position, skipped };
        }
        return { moved: false, reason: 'none_usable' };
      });
    },

    async countByStatus(tenantId, campaignId) {
      const rows = await knex('leads')
        .select('status')
        .count<{ status: LeadStatus; n: string }[]>({ n: '*' })
        .where({ tenant_id: tenantOf(tenantId), campaign_id: campaignId })
        .groupBy('status');
      const counts: Record<LeadStatus, number> = { queued: 0, final: 0, removed: 0 };
      for (const row of rows) counts[row.status] = Number(row.n);
      return counts;
    },
  };
}

/**
 * Mark every queued lead with one of these (tenant, number) pairs 'removed' and cancel its
 * pending callbacks, in one statement. Shared by `markRemoved` and the outcome writer (a dnc
 * outcome takes the number's other queued leads out in the same transaction).
 */
export async function removeQueuedByPhone(
  db: Knex,
  numbers: readonly { tenant_id: string; phone: string }[],
): Promise<{ tenant_id: string; id: string; campaign_id: string }[]> {
  if (numbers.length === 0) return [];
  const { rows } = await db.raw<{ rows: { tenant_id: string; id: string; campaign_id: string }[] }>(
    `WITH numbers AS (
       SELECT DISTINCT tenant_id, phone FROM jsonb_to_recordset(?::jsonb) AS n(tenant_id text, phone text)
     ), removed AS (
       UPDATE leads l
       SET status = 'removed', next_due_at = NULL, pinned_agent_id = NULL, updated_at = now()
       FROM numbers n
       WHERE l.tenant_id = n.tenant_id AND l.phone = n.phone AND l.status = 'queued'
       RETURNING l.tenant_id, l.id, l.campaign_id
     ), cancelled AS (
       UPDATE callbacks c SET status = 'cancelled', updated_at = now()
       FROM removed r
       WHERE c.tenant_id = r.tenant_id AND c.lead_id = r.id AND c.status = 'pending'
     )
     SELECT tenant_id, id, campaign_id FROM removed ORDER BY tenant_id, id`,
    [JSON.stringify(numbers)],
  );
  return rows;
}
