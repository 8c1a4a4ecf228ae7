// Several numbers per lead, tried in order, each with its own zones (table lead_phones, migration
// 0013). A lead with one number has no rows here; a lead with more has one row per number, in the
// order they are tried, and leads.phone is the one being dialled now (the queue's number).
//
// These are the table's pieces; `leads.advance` (db/leads.ts) moves a lead to its next number
// with them.
import type { Knex } from 'knex';
import { z } from 'zod';
import { zoneKey } from '../engine/calling-window.js';
import { isEngineError } from '../engine/errors.js';
import { e164Schema, leadInputSchema } from '../engine/lead.js';
import { DbError } from './errors.js';
import { MAX_LEAD_PHONES } from './migrations/0013_lead_phones.js';

export { MAX_LEAD_PHONES };

/** One further number of a new lead: E.164, with its candidate zones (null: none known). */
export const leadNumberSchema = z.object({
  phone: e164Schema,
  timeZone: leadInputSchema.shape.timeZone,
});
export type LeadNumberInput = z.input<typeof leadNumberSchema>;

/** A number of a lead as stored and read back. */
export interface LeadNumber {
  /** 1 for the number the lead was imported with, then in the order they are tried. */
  readonly position: number;
  readonly phone: string;
  /** Candidate zones; null when none is known. */
  readonly timeZone: string[] | null;
  /** The number being dialled now (the lead's phone). */
  readonly current: boolean;
}

/** A number as its row holds it (position and zone key). */
export interface NumberColumns {
  readonly position: number;
  readonly phone: string;
  readonly time_zone: string | null;
}

/**
 * A new lead's numbers as rows: the first (its phone and zone key, as leadColumns stores them) then
 * the further ones, each number once, at most MAX_LEAD_PHONES; [] when it has only one. Throws
 * INPUT_INVALID naming the lead.
 */
export function numberColumns(
  first: { readonly phone: string; readonly time_zone: string | null },
  further: readonly LeadNumberInput[] | undefined,
  index: number,
): NumberColumns[] {
  if (!further || further.length === 0) return [];
  const rows: NumberColumns[] = [{ position: 1, phone: first.phone, time_zone: first.time_zone }];
  for (const n of further) {
    const parsed = leadNumberSchema.safeParse(n);
    if (!parsed.success) {
      throw new DbError('INPUT_INVALID', `lead ${index}: phones: ${z.prettifyError(parsed.error)}`, {
        index,
      });
    }
    if (rows.some((r) => r.phone === parsed.data.phone)) continue;
    if (rows.length >= MAX_LEAD_PHONES) {
      throw new DbError('INPUT_INVALID', `lead ${index}: at most ${MAX_LEAD_PHONES} numbers`, { index });
    }
    let key: string;
    try {
      key = zoneKey(parsed.data.timeZone);
    } catch (err) {
      if (isEngineError(err)) throw new DbError('INPUT_INVALID', `lead ${index}: ${err.message}`, { index });
      throw err;
    }
    rows.push({ position: rows.length + 1, phone: parsed.data.phone, time_zone: key === '' ? null : key });
  }
  return rows.length > 1 ? rows : [];
}

/** Store the numbers of new leads (a lead already holding rows keeps them: a retried import). */
export async function insertNumbers(
  db: Knex,
  tenantId: string,
  leads: readonly { readonly leadId: string; readonly numbers: readonly NumberColumns[] }[],
): Promise<void> {
  const rows = leads.flatMap((l) =>
    l.numbers.map((n) => ({
      lead_id: l.leadId,
      position: n.position,
      phone: n.phone,
      time_zone: n.time_zone,
    })),
  );
  for (let i = 0; i < rows.length; i += 5000) {
    await db.raw(
      `INSERT INTO lead_phones (tenant_id, lead_id, position, phone, time_zone)
       SELECT ?, r.lead_id, r.position, r.phone, r.time_zone
       FROM jsonb_to_recordset(?::jsonb) AS r(lead_id bigint, position smallint, phone text, time_zone text)
       ON CONFLICT DO NOTHING`,
      [tenantId, JSON.stringify(rows.slice(i, i + 5000))],
    );
  }
}

export const zonesOfKey = (key: string | null): string[] | null => (key === null ? null : key.split(','));

/** The numbers of one lead in the order they are tried; a lead with one number lists just it. */
export async function listNumbers(
  db: Knex,
  tenantId: string,
  lead: { readonly id: string; readonly phone: string; readonly timeZone: string[] | null },
): Promise<LeadNumber[]> {
  const rows = await db<NumberColumns & { tenant_id: string; lead_id: string }>('lead_phones')
    .where({ tenant_id: tenantId, lead_id: lead.id })
    .orderBy('position');
  if (rows.length === 0) return [{ position: 1, phone: lead.phone, timeZone: lead.timeZone, current: true }];
  return rows.map((r) => ({
    position: r.position,
    phone: r.phone,
    timeZone: zonesOfKey(r.time_zone),
    current: r.phone === lead.phone,
  }));
}

/** Which of these leads have more than one number. */
export async function withFurtherNumbers(
  db: Knex,
  tenantId: string,
  leadIds: readonly string[],
): Promise<Set<string>> {
  if (leadIds.length === 0) return new Set();
  const { rows } = await db.raw<{ rows: { lead_id: string }[] }>(
    `SELECT DISTINCT lead_id FROM lead_phones WHERE tenant_id = ? AND lead_id = ANY(?::bigint[])`,
    [tenantId, [...new Set(leadIds)]],
  );
  return new Set(rows.map((r) => String(r.lead_id)));
}

/**
 * An edit of a lead's number or zone, inside the edit's transaction: the current number's row
 * follows (a number the lead already lists just becomes current, with the zone given).
 */
export async function followEdit(
  trx: Knex.Transaction,
  tenantId: string,
  leadId: string,
  before: { readonly phone: string },
  after: { readonly phone: string; readonly time_zone: string | null },
): Promise<void> {
  const listed = await trx('lead_phones')
    .where({ tenant_id: tenantId, lead_id: leadId, phone: after.phone })
    .update({ time_zone: after.time_zone });
  if (listed > 0 || after.phone === before.phone) return;
  await trx('lead_phones')
    .where({ tenant_id: tenantId, lead_id: leadId, phone: before.phone })
    .update({ phone: after.phone, time_zone: after.time_zone });
}

/** A number of the lead with what a move must know of it: on the DNC list, queued under another lead. */
export interface NumberToTry extends NumberColumns {
  readonly listed: boolean;
  readonly taken: boolean;
}

/**
 * The lead's numbers (locked until the transaction ends, so an erasure of one waits, or is waited
 * for), each with whether it is on the tenant's do-not-call list or queued in the campaign under
 * another lead; [] for a lead with one number.
 */
export async function lockNumbers(
  trx: Knex.Transaction,
  tenantId: string,
  leadId: string,
  campaignId: string,
): Promise<NumberToTry[]> {
  const { rows } = await trx.raw<{ rows: NumberToTry[] }>(
    `SELECT p.position, p.phone, p.time_zone,
       EXISTS (SELECT 1 FROM dnc d WHERE d.tenant_id = p.tenant_id AND d.phone = p.phone) AS listed,
       EXISTS (SELECT 1 FROM leads o
               WHERE o.tenant_id = p.tenant_id AND o.campaign_id = ? AND o.status = 'queued'
                 AND o.phone = p.phone AND o.id <> p.lead_id) AS taken
     FROM lead_phones p
     WHERE p.tenant_id = ? AND p.lead_id = ?
     ORDER BY p.position
     FOR UPDATE OF p`,
    [campaignId, tenantId, leadId],
  );
  return rows;
}

/** The numbers to try after `current`, in order, wrapping after the last (`current` left out). */
export function nextNumbers<N extends { readonly phone: string }>(
  numbers: readonly N[],
  current: string,
): N[] {
  const at = numbers.findIndex((n) => n.phone === current);
  return numbers.map((_, k) => numbers[(at + 1 + k) % numbers.length]!).filter((n) => n.phone !== current);
}
