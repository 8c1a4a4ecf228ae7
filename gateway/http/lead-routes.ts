// Editing and removing one lead through the admin API.
//
// PATCH edits a queued lead (name, custom fields, number, time zone) and re-prioritizes it
// (priority, due time): one Postgres transaction inside which the engine's `updateLead` rewrites
// the queued copy in place (queue-follow.ts), so both agree; a lead under a live lease (offered, on
// the call) is refused LEAD_BUSY with nothing changed, never edited under the call. A number is
// normalised as CSV imports do (national formats of the tenant plan's country), scrubbed against
// the do-not-call and erasure lists, and gets the zones it rings in unless `timeZone` is given
// (none derivable: the campaign's default zone, else the plan's, else refused).
//
// Several numbers per lead: `POST …/leads` takes `phones: [{ phone, timeZone? }, ...]` instead of
// `phone` (tried in that order; every number's zones are the ones given, else the zones it rings
// in, else the campaign's default zone, else the plan's, else the batch is refused); `phone` alone
// works as before. GET and PATCH answer the lead with its `numbers`, the current one marked. PATCH
// with `phones` (on its own) replaces the whole list, read, zoned and checked as at intake (a
// listed, erased or, in a marketing campaign, unconsented number is refused, naming it), in one
// transaction with the queue's copy (`leads.replaceNumbers`).
//
// Removing one lead through the admin API. Postgres first (the lead becomes 'removed', its row and
// call history stay, its pending callbacks are cancelled), then the live queue: the lead leaves
// its campaign's queue wherever it is (ready, scheduled, or under a lease: a call in progress is
// revoked for routing and its outcome is still saved, as for a number listed mid-call, and the
// lead never returns). Its number is not suppressed: another lead with it may be queued later,
// except while the removed lead's call is still held (its completion could requeue it).
import { Router } from 'express';
import { z } from 'zod';
import type { CountryCode } from 'libphonenumber-js';
import { isValidZone } from '../../engine/calling-window.js';
import { isEngineError } from '../../engine/errors.js';
import { e164Schema, leadInputSchema, MAX_PRIORITY } from '../../engine/lead.js';
import { tenantIdSchema } from '../../engine/ids.js';
import type { CampaignRef, TenantId } from '../../engine/ids.js';
import { MAX_LEAD_PHONES } from '../../db/index.js';
import type { Database, LeadNumber, LeadNumberInput, NewLead, StoredLead } from '../../db/index.js';
import type { AddedLeads, RowResult } from '../leads/intake.js';
import { GatewayError } from '../errors.js';
import type { Gateway } from '../gateway.js';
import { requireRole } from './access.js';
import type { Audit } from './audit-trail.js';
import { normalisePhone } from '../leads/phone-numbers.js';
import { MAX_CANDIDATE_ZONES, phoneZones } from '../leads/phone-zones.js';
import { followInQueue } from './queue-follow.js';

const zoneName = z
  .string()
  .min(1)
  .max(64)
  .refine(isValidZone, 'must be an IANA time zone such as Europe/London');

/** One number of a lead sent as JSON: E.164, and its zones (left out: the zones it rings in). */
export const leadNumberBodySchema = z.strictObject({
  phone: e164Schema,
  /** One IANA zone, or several candidates (dialled only when all are open). */
  timeZone: z.union([zoneName, z.array(zoneName).min(1).max(MAX_CANDIDATE_ZONES)]).optional(),
});

/** A lead of `POST …/leads`: `phone` (and `timeZone`) as before, or its numbers in `phones`. */
export const newLeadBodySchema = leadInputSchema
  .omit({ id: true })
  .extend({
    phone: e164Schema.optional(),
    /** The lead's numbers in the order they are tried (the first is dialled first). */
    phones: z
      .array(leadNumberBodySchema)
      .min(1)
      .max(MAX_LEAD_PHONES)
      .refine((ns) => new Set(ns.map((n) => n.phone)).size === ns.length, 'each number once')
      .optional(),
  })
  .refine((l) => (l.phone === undefined) !== (l.phones === undefined), {
    message: 'give phone or phones, not both',
    path: ['phones'],
  })
  .refine((l) => l.phones === undefined || l.timeZone === null, {
    message: 'with phones, give each number its own timeZone',
    path: ['timeZone'],
  });
export type NewLeadBody = z.output<typeof newLeadBodySchema>;

/** The zones a number rings in (1 to 8), else `fallback`, else null. */
function zonesOrDefault(phone: string, fallback: string | undefined): string | string[] | null {
  const derived = phoneZones().zonesOf(phone);
  if (derived.length > 0 && derived.length <= MAX_CANDIDATE_ZONES) return [...derived];
  return fallback ?? null;
}

/**
 * The leads of a JSON batch as the intake takes them. A lead sent with `phone` keeps what the API
 * always did (no `timeZone`: the zones its number rings in when the campaign has a default zone,
 * else that default; without one it stays zoneless). A lead sent with `phones` has each number's
 * zones given, else derived, else the campaign's default, else the plan's: a number without any
 * is refused (LEAD_INVALID naming it), since it could never be dialled.
 */
export async function newLeadsOf(
  db: Database,
  tenantId: string,
  campaignId: string,
  body: readonly NewLeadBody[],
): Promise<NewLead[]> {
  const campaignZone = (await db.campaigns.get(tenantId, campaignId))?.defaultTimeZone ?? undefined;
  const planZone =
    campaignZone === undefined && body.some((l) => l.phones)
      ? ((await db.tenants.get(tenantId))?.plan.defaultTimeZone ?? undefined)
      : undefined;
  const fallback = campaignZone ?? planZone;
  return body.map((l, i): NewLead => {
    const { phone, phones, ...rest } = l;
    if (!phones) {
      const timeZone =
        rest.timeZone === null && campaignZone ? zonesOrDefault(phone!, campaignZone) : rest.timeZone;
      return { ...rest, phone: phone!, timeZone };
    }
    const zoned = phones.map((n, k) => {
      const timeZone = n.timeZone ?? zonesOrDefault(n.phone, fallback);
      if (timeZone === null)
        throw new GatewayError(
          'LEAD_INVALID',
          `leads[${i}].phones[${k}].timeZone: no zone is known for this number (and no default zone is set): give timeZone`,
        );
      return { phone: n.phone, timeZone };
    });
    const [first, ...further] = zoned;
    return { ...rest, phone: first!.phone, timeZone: first!.timeZone, alternates: further };
  });
}

/** One number of a lead as GET and PATCH answer it. */
export const leadNumberViewSchema = z.object({
  /** 1 for the number the lead was added with, then in the order they are tried. */
  position: z.number().int(),
  phone: z.string(),
  /** Candidate zones; null: none known (never dialled). */
  timeZone: z.array(z.string()).nullable(),
  /** The number dialled now (the lead's `phone`). */
  current: z.boolean(),
});

/** A lead as GET and PATCH answer it. */
export const leadViewSchema = z.object({
  id: z.string(),
  campaignId: z.string(),
  /** The number dialled now. */
  phone: z.string(),
  name: z.string(),
  timeZone: z.array(z.string()).nullable(),
  priority: z.number().int(),
  status: z.enum(['queued', 'final', 'removed']),
  attempts: z.number().int(),
  dueAt: z.string().nullable(),
  fields: z.record(z.string(), z.string()),
  createdAt: z.string().nullable(),
  updatedAt: z.string().nullable(),
  /** Every number of the lead, in the order they are tried (one entry for a lead of one number). */
  numbers: z.array(leadNumberViewSchema),
});
export const leadResponseSchema = z.object({ lead: leadViewSchema });
export const leadReadResponseSchema = leadResponseSchema.extend({
  /** Its call attempts, newest 100 (as GET /attempts lists them). */
  attempts: z.array(
    z.looseObject({
      /** The number the call dialled (null: not recorded, or erased since). */
      phone: z.string().nullable(),
      /** Its place among the lead's numbers (1: the first, or its only one); null: not recorded. */
      phonePosition: z.number().int().nullable(),
    }),
  ),
});

/** A lead as GET and PATCH answer it: its row, and its numbers in the order they are tried. */
export async function leadWithNumbers(db: Database, tenantId: string, leadId: string) {
  const [lead, numbers] = await Promise.all([
    db.reads.lead(tenantId, leadId),
    db.leads.numbers(tenantId, leadId),
  ]);
  return lead && { ...lead, numbers: numbers ?? ([] as LeadNumber[]) };
}

/** PATCH: each field optional; what is left out keeps its value. */
export const leadPatchBodySchema = z
  .strictObject({
    /** As people type it: national formats of the tenant plan's country are read. */
    phone: z.string().trim().min(1).max(64).optional(),
    name: leadInputSchema.shape.name.unwrap().optional(),
    /** Fields to set; null removes one. */
    fields: z
      .record(z.string().min(1).max(64), z.string().max(1000).nullable())
      .refine((f) => Object.keys(f).length <= 100, 'at most 100 fields')
      .optional(),
    /** One zone, several candidates (dialled only when all are open), or null (never dialled). */
    timeZone: z.union([zoneName, z.array(zoneName).min(1).max(MAX_CANDIDATE_ZONES), z.null()]).optional(),
    priority: z.number().int().min(0).max(MAX_PRIORITY).optional(),
    /** When it becomes dialable (ISO 8601 with an offset); null: now. Moves a pending callback. */
    dueAt: z.iso.datetime({ offset: true }).nullable().optional(),
    /**
     * The lead's whole list of numbers, replaced, in the order they are tried: the first is dialled
     * now. Each as people type it, with its zones (left out: the zones it rings in, else the
     * campaign's default, else the plan's). Sent on its own.
     */
    phones: z
      .array(
        z.strictObject({
          phone: z.string().trim().min(1).max(64),
          timeZone: leadNumberBodySchema.shape.timeZone,
        }),
      )
      .min(1)
      .max(MAX_LEAD_PHONES)
      .optional(),
  })
  .refine((b) => Object.keys(b).length > 0, { message: 'name at least one field to change' })
  .refine((b) => b.phones === undefined || Object.keys(b).length === 1, {
    message: 'phones replaces the list on its own: send other changes in another PATCH',
    path: ['phones'],
  });

export type LeadPatchBody = z.output<typeof leadPatchBodySchema>;

export const leadPathParams = z.object({
  tenantId: tenantIdSchema,
  leadId: z.string().regex(/^[1-9]\d{0,18}$/),
});
export const leadRemoveResponseSchema = z.object({
  removed: z.literal(true),
  leadId: z.string(),
  /** A call in progress was revoked for routing (its outcome is still saved). */
  revokedCall: z.boolean(),
});

export function leadRoutes(gateway: Gateway, audit: Audit): Router {
  const { db, store, clock } = gateway.deps;
  const router = Router({ mergeParams: true });
  const admin = requireRole('admin');

  const follow = followInQueue(gateway);

  /** The numbers of a PATCH's `phones`, read, zoned and checked as at intake; throws naming the one at fault. */
  async function phonesOf(
    tenantId: TenantId,
    campaignId: string,
    phones: NonNullable<LeadPatchBody['phones']>,
  ): Promise<LeadNumberInput[]> {
    const [tenant, campaign, settings] = await Promise.all([
      db.tenants.get(tenantId),
      db.campaigns.get(tenantId, campaignId),
      db.privacy.consent.campaignSettings(tenantId, campaignId),
    ]);
    const fallback = campaign?.defaultTimeZone ?? tenant?.plan.defaultTimeZone ?? undefined;
    const numbers = phones.map((n, k): LeadNumberInput => {
      // E.164 is taken as given, as the JSON intake takes it; anything else is read as a CSV import reads it.
      const read = e164Schema.safeParse(n.phone).success
        ? ({ ok: true, e164: n.phone } as const)
        : normalisePhone(n.phone, tenant?.plan.defaultCountry as CountryCode | undefined);
      if (!read.ok)
        throw new GatewayError('LEAD_INVALID', `phones[${k}].phone: ${read.code}, not a number it can dial`);
      const timeZone = n.timeZone ?? zonesOrDefault(read.e164, fallback);
      if (timeZone === null)
        throw new GatewayError(
          'LEAD_INVALID',
          `phones[${k}].timeZone: no zone is known for this number (and no default zone is set): give timeZone`,
        );
      return { phone: read.e164, timeZone };
    });
    numbers.forEach((n, k) => {
      const j = numbers.findIndex((m) => m.phone === n.phone);
      if (j !== k) throw new GatewayError('LEAD_INVALID', `phones[${k}]: the same number as phones[${j}]`);
    });
    const all = numbers.map((n) => n.phone);
    const [onDnc, erased] = await Promise.all([
      db.dnc.filterListed(tenantId, all),
      db.privacy.suppressions.filterSuppressed(tenantId, all),
    ]);
    const refused = new Set([...onDnc, ...erased]);
    const listed = all.findIndex((p) => refused.has(p));
    if (listed >= 0)
      throw new GatewayError(
        'INPUT_INVALID',
        `phones[${listed}]: the number is on the do-not-call or erasure list`,
      );
    if (settings.kind === 'marketing') {
      const { keys, consent } = db.privacy;
      const hashes = await keys.hashesOf(tenantId, all);
      const live = await consent.liveFor(tenantId, [...hashes.values()], 'voice', clock.now());
      const without = all.findIndex((p) => {
        const hash = hashes.get(p);
        return !hash || !live.get(hash.toString('hex'))?.live;
      });
      if (without >= 0)
        throw new GatewayError(
          'INPUT_INVALID',
          `phones[${without}]: no live voice consent for the number (a campaign of the marketing kind)`,
        );
    }
    return numbers;
  }

  router.patch('/tenants/:tenantId/leads/:leadId', admin, async (req, res) => {
    const { tenantId, leadId } = leadPathParams.parse(req.params);
    const body = leadPatchBodySchema.parse(req.body);
    const lead = await db.leads.get(tenantId, leadId);
    if (!lead) throw new GatewayError('NOT_FOUND', 'no such lead in this tenant');
    const result =
      body.phones !== undefined
        ? await db.leads.replaceNumbers(
            tenantId,
            leadId,
            await phonesOf(tenantId, lead.campaignId, body.phones),
            follow,
          )
        : await edit(tenantId, leadId, lead, body);
    if (!result.ok) {
      switch (result.reason) {
        case 'unknown':
          throw new GatewayError('NOT_FOUND', 'no such lead in this tenant');
        case 'not_queued':
          throw new GatewayError('LEAD_NOT_QUEUED');
        case 'duplicate':
          throw new GatewayError('CONFLICT', 'the number is queued in this campaign under another lead');
        default: {
          const never: never = result.reason;
          throw new Error(`unexpected reason ${String(never)}`);
        }
      }
    }
    await audit(req, res, 'lead.patch', leadId, { campaign: lead.campaignId, fields: result.changed });
    res.json({ lead: await leadWithNumbers(db, tenantId, leadId) });
  });

  /** A PATCH of the lead's fields (and its number dialled now). */
  async function edit(tenantId: TenantId, leadId: string, lead: StoredLead, body: LeadPatchBody) {
    let phone: string | undefined;
    let timeZone = body.timeZone;
    if (body.phone !== undefined) {
      const [tenant, campaign] = await Promise.all([
        db.tenants.get(tenantId),
        db.campaigns.get(tenantId, lead.campaignId),
      ]);
      const read = normalisePhone(body.phone, tenant?.plan.defaultCountry as CountryCode | undefined);
      if (!read.ok) throw new GatewayError('LEAD_INVALID', `phone: ${read.code}, not a number it can dial`);
      phone = read.e164;
      if (phone !== lead.phone) {
        const [onDnc, erased] = await Promise.all([
          db.dnc.filterListed(tenantId, [phone]),
          db.privacy.suppressions.filterSuppressed(tenantId, [phone]),
        ]);
        if (onDnc.length > 0 || erased.length > 0) {
          throw new GatewayError('INPUT_INVALID', 'phone: the number is on the do-not-call or erasure list');
        }
        if (timeZone === undefined) {
          const derived = phoneZones().zonesOf(phone);
          const fallback = campaign?.defaultTimeZone ?? tenant?.plan.defaultTimeZone;
          if (derived.length > 0 && derived.length <= MAX_CANDIDATE_ZONES) timeZone = [...derived];
          else if (fallback) timeZone = fallback;
          else
            throw new GatewayError(
              'LEAD_INVALID',
              'timeZone: no zone is known for this number (and no default zone is set): give timeZone',
            );
        }
      }
    }
    return db.leads.edit(
      tenantId,
      leadId,
      {
        phone,
        name: body.name,
        fields: body.fields,
        timeZone,
        priority: body.priority,
        dueAt: body.dueAt === undefined ? undefined : body.dueAt === null ? null : Date.parse(body.dueAt),
      },
      follow,
    );
  }

  router.delete('/tenants/:tenantId/leads/:leadId', admin, async (req, res) => {
    const { tenantId, leadId } = leadPathParams.parse(req.params);
    const lead = await db.leads.get(tenantId, leadId);
    if (!lead) throw new GatewayError('NOT_FOUND', 'no such lead in this tenant');
    if (!(await db.leads.removeOne(tenantId, leadId))) throw new GatewayError('LEAD_NOT_QUEUED');
    const ref: CampaignRef = { tenantId, campaignId: lead.campaignId };
    let revokedCall = false;
    try {
      // A number is queued at most once per campaign: this takes out exactly this lead.
      const gone = await store.removeNumbers(ref, [lead.phone], clock.now());
      const revoked = gone.flatMap((g) => (g.revoked ? [g.revoked] : []));
      if (revoked.length > 0) {
        revokedCall = true;
        gateway.hub.revoked(tenantId, revoked, 'removed');
        gateway.dispatcher.trigger(ref);
      }
      // removeNumbers also suppressed the number; a lead removal must not, unless it is listed.
      if (!(await db.dnc.has(tenantId, lead.phone))) await store.unsuppressNumbers(ref, [lead.phone]);
    } catch (err) {
      // A paused campaign without a queue or an archived one: nothing queued to take out.
      if (!isEngineError(err, 'CAMPAIGN_UNKNOWN')) throw err;
    }
    await audit(req, res, 'lead.remove', leadId, { campaign: lead.campaignId, revokedCall });
    res.json({ removed: true, leadId, revokedCall });
  });

  return router;
}

// ---------------------------------------------------------------------------------------------
// Adding leads as JSON within the tenant plan's custom-field limits (plan.leadFields).

/** A row over the plan's custom-field limits, as a CSV import rejects it. */
export interface OverPlanRow {
  readonly index: number;
  readonly status: 'rejected';
  /** FIELD_OVER_PLAN: a value longer than maxValueLength (`field` names it); FIELDS_OVER_PLAN: more than maxCount fields. */
  readonly code: 'FIELD_OVER_PLAN' | 'FIELDS_OVER_PLAN';
  readonly field?: string;
}

export type AddedWithinPlan = Omit<AddedLeads, 'rows'> & {
  /** Rows over the plan's custom-field limits, not added. */
  readonly overPlan: number;
  readonly rows: readonly (RowResult | OverPlanRow)[];
};

/**
 * What the leads table's trigger (migration 0012) would refuse in one row's fields, tested the
 * same way (values counted in characters), in the CSV import's order: a long value, then too many.
 */
export function overPlan(
  fields: Readonly<Record<string, string>>,
  limits: { readonly maxCount: number; readonly maxValueLength: number },
): Pick<OverPlanRow, 'code' | 'field'> | null {
  const long = Object.entries(fields).find(([, v]) => [...v].length > limits.maxValueLength);
  if (long) return { code: 'FIELD_OVER_PLAN', field: long[0] };
  if (Object.keys(fields).length > limits.maxCount) return { code: 'FIELDS_OVER_PLAN' };
  return null;
}

/**
 * Add a JSON batch of leads: a row over the plan's limits is rejected on its own (its code, and
 * the field at fault) and the rest are added, instead of the trigger failing the whole batch.
 * Row indexes (and `duplicateOfRow`) are the batch's own.
 */
export async function addLeadsWithinPlan(
  gateway: Gateway,
  tenantId: TenantId,
  campaignId: string,
  leads: readonly NewLead[],
  limits: { readonly maxCount: number; readonly maxValueLength: number } | undefined,
): Promise<AddedWithinPlan> {
  const rejected: OverPlanRow[] = [];
  const kept: number[] = [];
  leads.forEach((lead, index) => {
    const fault = limits ? overPlan(lead.fields ?? {}, limits) : null;
    if (fault) rejected.push({ index, status: 'rejected', ...fault });
    else kept.push(index);
  });
  const added: AddedLeads =
    kept.length === 0
      ? { inserted: 0, queued: 0, alreadyQueued: 0, suppressed: 0, duplicates: 0, noConsent: 0, rows: [] }
      : await gateway.addLeads(
          tenantId,
          campaignId,
          rejected.length === 0 ? leads : kept.map((i) => leads[i]!),
        );
  if (rejected.length === 0) return { ...added, overPlan: 0 };
  const rows: (RowResult | OverPlanRow)[] = added.rows.map((r) => ({
    ...r,
    index: kept[r.index]!,
    ...(r.duplicateOfRow === undefined ? {} : { duplicateOfRow: kept[r.duplicateOfRow]! }),
  }));
  rows.push(...rejected);
  rows.sort((a, b) => a.index - b.index);
  return { ...added, overPlan: rejected.length, rows };
}
