// Adding leads to a live campaign: one outcome per row, the same in Postgres and in the queue.
// A row is queued (written to Postgres and queued in the engine), already queued (a retry of the
// same import: its lead is found and queued again if the queue lacks it), or rejected with a
// reason (on the do-not-call list, a duplicate of a number queued in the campaign or earlier in
// the batch). A row never stays in Postgres as queued without being in the queue: leads inserted
// for rows the queue refuses are deleted again, and if the queue cannot be reached at all, the
// rows inserted by this call are deleted before the error is answered, so a retry of the same
// batch converges to the same result.
import type { Clock } from '../../engine/clock.js';
import type { CampaignRef, TenantId } from '../../engine/ids.js';
import type { LeadInput } from '../../engine/lead.js';
import type { QueueStore } from '../../engine/queue-store.js';
import type { Database, NewLead, StoredLead } from '../../db/index.js';
import type { Logger } from '../logger.js';

export type RowStatus = 'queued' | 'already_queued' | 'duplicate' | 'dnc';

export interface RowResult {
  /** Position of the row in the batch. */
  readonly index: number;
  readonly status: RowStatus;
  /** The lead the row is queued as (queued, already_queued). */
  readonly leadId?: string;
  /** For a duplicate: the row earlier in this batch with the same number. */
  readonly duplicateOfRow?: number;
}

export interface AddedLeads {
  /** New leads written to Postgres (and queued). */
  readonly inserted: number;
  /** Rows queued now, new or found again. */
  readonly queued: number;
  /** Rows whose lead was queued already (a retried import). */
  readonly alreadyQueued: number;
  /** Numbers on the tenant's do-not-call list, not imported. */
  readonly suppressed: number;
  /** Numbers queued in the campaign under another lead, or earlier in the batch. */
  readonly duplicates: number;
  readonly rows: readonly RowResult[];
}

const ENQUEUE_CHUNK = 5_000;

const asInput = (l: StoredLead): LeadInput => ({
  id: l.id,
  phone: l.phone,
  name: l.name,
  timeZone: l.timeZone,
  priority: l.priority,
  attempts: l.attempts,
  ...(l.dueAt === null ? {} : { dueAt: l.dueAt }),
  ...(l.pinnedAgentId === null ? {} : { pinnedAgentId: l.pinnedAgentId }),
  fields: l.fields,
});

export async function addLeads(
  deps: { readonly db: Database; readonly store: QueueStore; readonly clock: Clock; readonly logger: Logger },
  ref: CampaignRef,
  leads: readonly NewLead[],
): Promise<AddedLeads> {
  const { db, store, clock, logger } = deps;
  const tenantId: TenantId = ref.tenantId;
  const rows = new Array<RowResult | undefined>(leads.length);
  const phones = leads.map((l) => l.phone);

  // Scrub before anything is written: the do-not-call list, numbers erased on request (kept
  // only as keyed hashes, reported as 'dnc' too), and numbers twice in the batch.
  const listed = new Set([
    ...(await db.dnc.filterListed(tenantId, phones)),
    ...(await db.privacy.suppressions.filterSuppressed(tenantId, phones)),
  ]);
  const firstRow = new Map<string, number>();
  const candidates: number[] = [];
  leads.forEach((l, index) => {
    if (listed.has(l.phone)) rows[index] = { index, status: 'dnc' };
    else if (firstRow.has(l.phone))
      rows[index] = { index, status: 'duplicate', duplicateOfRow: firstRow.get(l.phone)! };
    else {
      firstRow.set(l.phone, index);
      candidates.push(index);
    }
  });

  // A number with a queued lead in this campaign already is that lead (queued again if the queue
  // lacks it: the retry of an import that failed half way); the rest are new leads.
  const existing = new Map(
    (
      await db.leads.findQueued(
        tenantId,
        ref.campaignId,
        candidates.map((i) => leads[i]!.phone),
      )
    ).map((l) => [l.phone, l]),
  );
  const fresh = candidates.filter((i) => !existing.has(leads[i]!.phone));
  const ids =
    fresh.length > 0
      ? await db.imports.copyLeads(
          tenantId,
          ref.campaignId,
          fresh.map((i) => leads[i]!),
        )
      : [];
  const inserted = new Map(fresh.map((i, k) => [i, ids[k]!]));
  const inputs: { index: number; input: LeadInput; isNew: boolean }[] = candidates.map((index) => {
    const found = existing.get(leads[index]!.phone);
    return found
      ? { index, input: asInput(found), isNew: false }
      : { index, input: { ...leads[index]!, id: inserted.get(index)! }, isNew: true };
  });

  const discard: string[] = [];
  const removed: string[] = [];
  try {
    for (let c = 0; c < inputs.length; c += ENQUEUE_CHUNK) {
      const chunk = inputs.slice(c, c + ENQUEUE_CHUNK);
      const byId = new Map(chunk.map((x) => [x.input.id, x]));
      const r = await store.enqueue(
        ref,
        chunk.map((x) => x.input),
        clock.now(),
      );
      const refused = new Set<string>();
      for (const id of r.alreadyQueued) {
        const x = byId.get(id)!;
        rows[x.index] = { index: x.index, status: 'already_queued', leadId: id };
        refused.add(id);
      }
      for (const id of r.duplicates) {
        const x = byId.get(id)!;
        rows[x.index] = { index: x.index, status: 'duplicate' };
        if (x.isNew) discard.push(id);
        refused.add(id);
      }
      for (const id of r.suppressed) {
        // Listed while this import ran (the queue checks its own suppression set atomically).
        const x = byId.get(id)!;
        rows[x.index] = { index: x.index, status: 'dnc' };
        if (x.isNew) discard.push(id);
        else removed.push(x.input.phone);
        refused.add(id);
      }
      for (const x of chunk) {
        if (!refused.has(x.input.id))
          rows[x.index] = { index: x.index, status: 'queued', leadId: x.input.id };
      }
    }
  } catch (err) {
    // The queue could not take them: what this call inserted goes again, so nothing is queued in
    // Postgres alone, and a retry starts from where it started.
    const rollback = inputs.filter((x) => x.isNew).map((x) => String(x.input.id));
    await db.leads
      .discard(tenantId, rollback)
      .catch((e: unknown) => logger.error({ err: e }, 'leads.discard_failed'));
    throw err;
  }
  if (discard.length > 0) await db.leads.discard(tenantId, discard);
  if (removed.length > 0) await db.leads.markRemoved(tenantId, removed);

  const done = rows.map((r, index) => r ?? { index, status: 'duplicate' as const });
  const count = (s: RowStatus) => done.filter((r) => r.status === s).length;
  return {
    inserted: inputs.filter((x) => x.isNew && rows[x.index]?.status === 'queued').length,
    queued: count('queued'),
    alreadyQueued: count('already_queued'),
    suppressed: count('dnc'),
    duplicates: count('duplicate'),
    rows: done,
  };
}
