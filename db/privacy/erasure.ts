// Erasure in the system of record: one transaction that leaves nothing of a number in the
// tenant's tables but its keyed hash on the erasure list.
//
// - Every lead with the number is deleted, in every campaign and whatever its status; its call
//   attempts (notes, tags, follow-ups) and callbacks go with it (ON DELETE CASCADE).
// - A lead that has it as a further number (not the one being dialled) keeps its other numbers:
//   the number leaves its list (lead_phones), first of all, so a lead moving to it meanwhile either
//   moved before (and is deleted as a lead with the number) or finds it gone.
// - The call attempts that dialled it on a lead that lives on (dialling another of its numbers
//   now) keep their history but not the number (its place among the lead's numbers stays).
// - Its do-not-call row is deleted: the hash on the erasure list suppresses it from now on.
// - Free text elsewhere that quotes the number (notes and custom fields of other leads, the audit
//   log) has the digits overwritten with "[erased]"; the rows themselves stay.
// - Webhook events that quote the number (dnc.added) are deleted with their deliveries, and the
//   number's consent ledger rows (kept by hash) go too.
//
// The hash is inserted first, in the same transaction, so a commit that removes the number also
// suppresses it; the queue side (engine eraseNumbers) runs after the commit.
import type { Knex } from 'knex';
import type { CampaignId } from '../../engine/ids.js';
import { parseInput, PHONE_E164, tenantOf } from '../validate.js';
import { z } from 'zod';

export const ERASED_MARK = '[erased]';

export interface ErasedRecords {
  /** The leads deleted, so the caller can take them out of the engine's queues. */
  readonly leads: readonly { readonly leadId: string; readonly campaignId: CampaignId }[];
  readonly attempts: number;
  readonly callbacks: number;
  readonly dncEntries: number;
  /** Leads' lists it was in (as any of their numbers, the deleted leads' included). */
  readonly numbers: number;
  /** Rows whose free text quoted the number and was overwritten. */
  readonly scrubbed: { readonly notes: number; readonly fields: number; readonly audit: number };
  /** Attempts of leads that live on (on another of their numbers) that no longer say they dialled it. */
  readonly dialled: number;
}

/** Erase `phone` in the tenant inside `trx`, suppressing its hash. */
export async function eraseNumber(
  trx: Knex.Transaction,
  tenantId: string,
  phone: string,
  phoneHash: Buffer,
): Promise<ErasedRecords> {
  const tenant = tenantOf(tenantId);
  const number = parseInput(z.string().regex(PHONE_E164), phone, 'phone');
  const digits = number.slice(1);
  const like = `%${digits}%`;

  await trx.raw(
    `INSERT INTO suppressions (tenant_id, phone_hash, reason) VALUES (?, ?, 'erasure')
     ON CONFLICT (tenant_id, phone_hash) DO NOTHING`,
    [tenant, phoneHash],
  );
  const numbers = await trx.raw<{ rowCount: number }>(
    `DELETE FROM lead_phones WHERE tenant_id = ? AND phone = ?`,
    [tenant, number],
  );
  const { rows: counts } = await trx.raw<{ rows: { attempts: string; callbacks: string }[] }>(
    `SELECT
       (SELECT count(*) FROM call_attempts a JOIN leads l ON l.tenant_id = a.tenant_id AND l.id = a.lead_id
         WHERE l.tenant_id = ? AND l.phone = ?) AS attempts,
       (SELECT count(*) FROM callbacks c JOIN leads l ON l.tenant_id = c.tenant_id AND l.id = c.lead_id
         WHERE l.tenant_id = ? AND l.phone = ?) AS callbacks`,
    [tenant, number, tenant, number],
  );
  const { rows: deleted } = await trx.raw<{ rows: { id: string; campaign_id: string }[] }>(
    `DELETE FROM leads WHERE tenant_id = ? AND phone = ? RETURNING id, campaign_id`,
    [tenant, number],
  );
  const dnc = await trx.raw<{ rowCount: number }>(`DELETE FROM dnc WHERE tenant_id = ? AND phone = ?`, [
    tenant,
    number,
  ]);
  const dialled = await trx.raw<{ rowCount: number }>(
    `UPDATE call_attempts SET phone = NULL WHERE tenant_id = ? AND phone = ?`,
    [tenant, number],
  );
  const notes = await trx.raw<{ rowCount: number }>(
    `UPDATE call_attempts SET notes = replace(notes, ?, ?)
     WHERE tenant_id = ? AND notes LIKE ?`,
    [digits, ERASED_MARK, tenant, like],
  );
  const followUps = await trx.raw<{ rowCount: number }>(
    `UPDATE call_attempts SET follow_up = replace(follow_up::text, ?, ?)::jsonb
     WHERE tenant_id = ? AND follow_up::text LIKE ?`,
    [digits, ERASED_MARK, tenant, like],
  );
  const fields = await trx.raw<{ rowCount: number }>(
    `UPDATE leads SET fields = replace(fields::text, ?, ?)::jsonb, name = replace(name, ?, ?), updated_at = now()
     WHERE tenant_id = ? AND (fields::text LIKE ? OR name LIKE ?)`,
    [digits, ERASED_MARK, digits, ERASED_MARK, tenant, like, like],
  );
  const audit = await trx.raw<{ rowCount: number }>(
    `UPDATE audit_log SET subject = replace(subject, ?, ?), details = replace(details::text, ?, ?)::jsonb
     WHERE tenant_id = ? AND (subject LIKE ? OR details::text LIKE ?)`,
    [digits, ERASED_MARK, digits, ERASED_MARK, tenant, like, like],
  );
  // Events not yet delivered are not delivered any more: the person is gone.
  await trx.raw(`DELETE FROM webhook_events WHERE tenant_id = ? AND payload::text LIKE ?`, [tenant, like]);
  await trx.raw(`DELETE FROM consents WHERE tenant_id = ? AND phone_hash = ?`, [tenant, phoneHash]);
  return {
    leads: deleted.map((r) => ({ leadId: r.id, campaignId: r.campaign_id as CampaignId })),
    attempts: Number(counts[0]!.attempts),
    callbacks: Number(counts[0]!.callbacks),
    dncEntries: dnc.rowCount,
    numbers: numbers.rowCount,
    scrubbed: { notes: notes.rowCount + followUps.rowCount, fields: fields.rowCount, audit: audit.rowCount },
    dialled: dialled.rowCount,
  };
}
