// Rectification: correct what is held about a number (the name, custom fields) on every lead of
// the tenant that has it, in one transaction. The new values pass the same limits as an import
// (engine leadInputSchema), so a corrected lead is one the queue accepts. The phone number itself
// is not rectified here: a wrong number is a different person (erase it, import the right one).
// A lead holding the number as a further number (several numbers per lead) is corrected too.
import type { Knex } from 'knex';
import { z } from 'zod';
import { leadInputSchema } from '../../engine/lead.js';
import { DbError } from '../errors.js';
import type { StoredLead } from '../leads.js';
import { isStorableJson, parseInput, PHONE_E164, tenantOf } from '../validate.js';

export const rectificationSchema = z
  .object({
    name: leadInputSchema.shape.name.unwrap(),
    /** Fields to set; a null value removes the field. */
    fields: z.record(z.string().min(1).max(64), z.string().max(1000).nullable()),
  })
  .partial()
  .refine((c) => c.name !== undefined || c.fields !== undefined, 'give name or fields to correct');

export type Rectification = z.input<typeof rectificationSchema>;

export interface RectifiedLead {
  readonly leadId: string;
  readonly campaignId: string;
  readonly status: StoredLead['status'];
  /** The names of what changed on this lead (never the values). */
  readonly changed: readonly string[];
}

/** Apply `changes` to every lead with `phone` in the tenant, inside `trx`. */
export async function rectifyNumber(
  trx: Knex.Transaction,
  tenantId: string,
  phone: string,
  changes: Rectification,
): Promise<RectifiedLead[]> {
  const tenant = tenantOf(tenantId);
  const number = parseInput(z.string().regex(PHONE_E164), phone, 'phone');
  const c = parseInput(rectificationSchema, changes, 'rectification');
  // Every lead holding the number: as the one it is dialled on, or as a further number.
  const rows = await trx('leads')
    .where('tenant_id', tenant)
    .andWhere((q) => {
      void q
        .where('phone', number)
        .orWhereIn('id', trx('lead_phones').select('lead_id').where({ tenant_id: tenant, phone: number }));
    })
    .orderBy('id')
    .forUpdate()
    .select<
      {
        id: string;
        campaign_id: string;
        status: StoredLead['status'];
        name: string;
        fields: Record<string, string>;
      }[]
    >('id', 'campaign_id', 'status', 'name', 'fields');
  const out: RectifiedLead[] = [];
  for (const row of rows) {
    const changed: string[] = [];
    const fields = { ...row.fields };
    for (const [k, v] of Object.entries(c.fields ?? {})) {
      if (v === null ? k in fields : fields[k] !== v) changed.push(`fields.${k}`);
      if (v === null) delete fields[k];
      else fields[k] = v;
    }
    const name = c.name ?? row.name;
    if (name !== row.name) changed.push('name');
    // The whole lead must still be one the queue accepts (field count and size limits).
    const check = leadInputSchema.safeParse({ id: row.id, phone: number, name, fields });
    if (!check.success || !isStorableJson(fields) || !isStorableJson(name)) {
      throw new DbError(
        'INPUT_INVALID',
        `lead ${row.id}: ${check.success ? 'unstorable text' : z.prettifyError(check.error)}`,
      );
    }
    if (changed.length > 0) {
      await trx('leads')
        .where({ tenant_id: tenant, id: row.id })
        .update({ name, fields: JSON.stringify(fields), updated_at: trx.fn.now() });
    }
    out.push({ leadId: row.id, campaignId: row.campaign_id, status: row.status, changed });
  }
  return out;
}
