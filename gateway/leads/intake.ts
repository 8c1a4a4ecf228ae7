// Adding leads to a live campaign: one outcome per row, the same in Postgres and in the queue.
// A row is queued (written to Postgres and queued in the engine), already queued (a retry of the
// same import: its lead is found and queued again if the queue lacks it), or rejected with a
// reason (on the do-not-call list, without live voice consent in a campaign of the marketing
// kind, a duplicate of a number queued in the campaign or earlier in the batch). A row never
// stays in Postgres as queued without being in the queue: leads inserted for rows the queue
// refuses are deleted again, and if the queue cannot be reached at all, the rows inserted by
// this call are deleted before the error is answered, so a retry of the same batch converges to
// the same result.
//
// A batch goes through three steps, each its own method of the intake so that a long import can
// run them as a pipeline (batch N queued while batch N+1 is copied and batch N+2 read): `check`
// (the reads: lists, consent, queued leads; nothing written), `store` (new leads into Postgres,
// one COPY) and `queue` (the engine's enqueue, then what it refused taken back out of Postgres).
import type { Clock } from '../../engine/clock.js';
import type { CampaignRef, TenantId } from '../../engine/ids.js';
import type { LeadInput } from '../../engine/lead.js';
import type { QueueStore } from '../../engine/queue-store.js';
import { numberColumns, PreparedLeads } from '../../db/index.js';
import type { Database, NewLead, NumberColumns, StoredLead } from '../../db/index.js';
import { leadInputOf } from './lead-input.js';
import type { Logger } from '../logger.js';

export type RowStatus = 'queued' | 'already_queued' | 'duplicate' | 'dnc' | 'no_consent';

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
  /** Numbers without live voice consent, refused by a campaign of the marketing kind. */
  readonly noConsent: number;
  readonly rows: readonly RowResult[];
}

const ENQUEUE_CHUNK = 5_000;

const asInput = (l: StoredLead): LeadInput => leadInputOf(l, true);

export interface IntakeDeps {
  readonly db: Database;
  readonly store: QueueStore;
  readonly clock: Clock;
  readonly logger: Logger;
}

/** A batch after its reads: the rows already decided, and the rest to write. */
export interface CheckedLeads {
  readonly leads: readonly NewLead[];
  /** Decided rows (do-not-call, no consent, repeated in the batch); the rest are undefined. */
  readonly rows: readonly (RowResult | undefined)[];
  /** Indexes of the rows to write or find, first of their number in the batch. */
  readonly candidates: readonly number[];
  /** The lead already queued in the campaign under a candidate's number. */
  readonly existing: ReadonlyMap<string, StoredLead>;
  /** The candidates without one (new leads), in order, and their checked columns. */
  readonly fresh: readonly number[];
  readonly prepared: PreparedLeads;
  /** The numbers of new leads with more than one (index into `fresh` → rows), listed ones dropped. */
  readonly numbers: ReadonlyMap<number, readonly NumberColumns[]>;
}

/** A batch whose new leads are in Postgres (not yet queued). */
export interface StoredLeads {
  /** The rows the check decided (the rest is decided by the queue); the batch's leads and columns are not kept. */
  readonly rows: CheckedLeads['rows'];
  readonly inputs: readonly { index: number; input: LeadInput; isNew: boolean }[];
}

export interface LeadIntake {
  readonly ref: CampaignRef;
  /** The reads of a batch; nothing written. */
  check(leads: readonly NewLead[]): Promise<CheckedLeads>;
  /** Its new leads into Postgres (one COPY, all or none). */
  store(checked: CheckedLeads): Promise<StoredLeads>;
  /**
   * Its leads into the queue; what the queue refuses leaves Postgres again, and when the queue
   * cannot be reached, every lead `store` wrote for it (the error is then thrown).
   */
  queue(stored: StoredLeads): Promise<AddedLeads>;
  /** Take back what `store` wrote, for a batch that will not be queued (an earlier one failed). */
  discard(stored: StoredLeads): Promise<void>;
  /** The numbers of `phones` the campaign refuses for lack of live voice consent (what `check` asks). */
  unconsented(phones: readonly string[]): Promise<Set<string>>;
}

export interface IntakeOptions {
  /** The campaign offers only numbers with live voice consent (kind marketing). */
  readonly consentRequired: boolean;
  /** Called after a batch queued something (to wake the dispatcher). */
  readonly onQueued?: () => void;
}

/**
 * The intake of a CSV import into one campaign: in a campaign of the marketing kind, a number
 * without live voice consent is refused (`no_consent`). The campaign's kind is read once; a
 * campaign made marketing while the import runs has its leads held by the consent sweep.
 */
export async function openLeadIntake(
  deps: IntakeDeps,
  ref: CampaignRef,
  onQueued?: () => void,
): Promise<LeadIntake> {
  const settings = await deps.db.privacy.consent.campaignSettings(ref.tenantId, ref.campaignId);
  return createLeadIntake(deps, ref, {
    consentRequired: settings.kind === 'marketing',
    ...(onQueued ? { onQueued } : {}),
  });
}

export function createLeadIntake(deps: IntakeDeps, ref: CampaignRef, options: IntakeOptions): LeadIntake {
  const { db, store, clock, logger } = deps;
  const tenantId: TenantId = ref.tenantId;

  /** The numbers of `phones` without live voice consent (none when the campaign does not ask). */
  async function unconsented(phones: readonly string[]): Promise<Set<string>> {
    if (!options.consentRequired || phones.length === 0) return new Set();
    const { keys, consent } = db.privacy;
    const hashes = await keys.hashesOf(tenantId, [...new Set(phones)]);
    const live = await consent.liveFor(tenantId, [...hashes.values()], 'voice', clock.now());
    const out = new Set<string>();
    for (const [phone, hash] of hashes) if (!live.get(hash.toString('hex'))?.live) out.add(phone);
    return out;
  }

  /**
   * The numbers of `phones` erased on request. Hashing every number (HMAC) is most of what this
   * costs, so it is done only when the batch's scrub found that the tenant erased anybody at all.
   */
  async function erased(phones: readonly string[], anyErased: boolean): Promise<string[]> {
    return anyErased ? db.privacy.suppressions.filterSuppressed(tenantId, phones) : [];
  }

  async function discardNew(inputs: StoredLeads['inputs']): Promise<void> {
    const ids = inputs.filter((x) => x.isNew).map((x) => String(x.input.id));
    if (ids.length > 0) await db.leads.discard(tenantId, ids);
  }

  return {
    ref,
    unconsented,

    async check(leads) {
      const rows = new Array<RowResult | undefined>(leads.length);
      const phones = leads.map((l) => l.phone);
      // Further numbers are scrubbed with the same reads (the common batch has none).
      const further: string[] = [];
      for (const l of leads) if (l.alternates) for (const n of l.alternates) further.push(n.phone);
      const scrubbed = further.length > 0 ? [...phones, ...further] : phones;
      // Scrub before anything is written: the do-not-call list, numbers erased on request (kept
      // only as keyed hashes, reported as 'dnc' too), numbers without consent where the campaign
      // asks for it, and numbers twice in the batch. The list, whether anybody was erased and the
      // queued lead of every number of the batch come in one round trip (those of refused numbers
      // or repeated rows are simply not used); consent, asked only by a marketing campaign, beside it.
      const [scrub, noConsent] = await Promise.all([
        db.imports.scrubBatch(tenantId, ref.campaignId, phones, further),
        unconsented(scrubbed),
      ]);
      const onErasure = await erased(scrubbed, scrub.anyErased);
      const listed = onErasure.length > 0 ? new Set([...scrub.listed, ...onErasure]) : scrub.listed;
      const queuedLeads = scrub.queued;
      const firstRow = new Map<string, number>();
      const candidates: number[] = [];
      leads.forEach((l, index) => {
        if (listed.has(l.phone)) rows[index] = { index, status: 'dnc' };
        else if (noConsent.has(l.phone)) rows[index] = { index, status: 'no_consent' };
        else if (firstRow.has(l.phone))
          rows[index] = { index, status: 'duplicate', duplicateOfRow: firstRow.get(l.phone)! };
        else {
          firstRow.set(l.phone, index);
          candidates.push(index);
        }
      });
      const existing = new Map(queuedLeads.map((l) => [l.phone, l]));
      // A number with a queued lead in this campaign already is that lead (queued again if the
      // queue lacks it: the retry of an import that failed half way); the rest are new leads,
      // checked and made columns here, so the step that copies them only copies.
      const fresh = candidates.filter((i) => !existing.has(leads[i]!.phone));
      const prepared = new PreparedLeads(fresh.map((i) => leads[i]!));
      const numbers = new Map<number, readonly NumberColumns[]>();
      if (further.length > 0) {
        fresh.forEach((i, k) => {
          const usable = leads[i]!.alternates?.filter((n) => !listed.has(n.phone) && !noConsent.has(n.phone));
          const columns = numberColumns(prepared.rows[k]!, usable, i);
          if (columns.length > 0) numbers.set(k, columns);
        });
      }
      return { leads, rows, candidates, existing, fresh, prepared, numbers };
    },

    async store(checked) {
      const { leads, candidates, existing, fresh, prepared, numbers } = checked;
      const ids = fresh.length > 0 ? await db.imports.copyLeads(tenantId, ref.campaignId, prepared) : [];
      if (numbers.size > 0) {
        try {
          await db.leads.addNumbers(
            tenantId,
            [...numbers].map(([k, n]) => ({ leadId: ids[k]!, numbers: n })),
          );
        } catch (err) {
          // The leads without their numbers would be leads of one number: they go again.
          await db.leads
            .discard(tenantId, ids)
            .catch((e: unknown) => logger.error({ err: e }, 'leads.discard_failed'));
          throw err;
        }
      }
      const inserted = new Map(fresh.map((i, k) => [i, ids[k]!]));
      const inputs = candidates.map((index) => {
        const found = existing.get(leads[index]!.phone);
        return found
          ? { index, input: asInput(found), isNew: false }
          : { index, input: { ...leads[index]!, id: inserted.get(index)! }, isNew: true };
      });
      return { rows: checked.rows, inputs };
    },

    async discard(stored) {
      await discardNew(stored.inputs);
    },

    async queue(stored) {
      const { inputs } = stored;
      const rows = [...stored.rows];
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
        // The queue could not take them: what this batch inserted goes again, so nothing is queued
        // in Postgres alone, and a retry starts from where it started.
        await discardNew(inputs).catch((e: unknown) => logger.error({ err: e }, 'leads.discard_failed'));
        throw err;
      }
      if (discard.length > 0) await db.leads.discard(tenantId, discard);
      if (removed.length > 0) await db.leads.markRemoved(tenantId, removed);

      const done = rows.map((r, index) => r ?? { index, status: 'duplicate' as const });
      const counts: Record<RowStatus, number> = {
        queued: 0,
        already_queued: 0,
        duplicate: 0,
        dnc: 0,
        no_consent: 0,
      };
      for (const r of done) counts[r.status]++;
      if (counts.queued > 0) options.onQueued?.();
      return {
        inserted: inputs.filter((x) => x.isNew && rows[x.index]?.status === 'queued').length,
        queued: counts.queued,
        alreadyQueued: counts.already_queued,
        suppressed: counts.dnc,
        duplicates: counts.duplicate,
        noConsent: counts.no_consent,
        rows: done,
      };
    },
  };
}

/**
 * One batch through every step: the JSON API. It refuses no number for lack of consent: in a
 * campaign of the marketing kind its leads are queued and then held by the consent sweep
 * (gateway/privacy/consent.ts), and recording consent queues them again, as the API promises.
 * A CSV import refuses them instead (`openLeadIntake`), in its rejects.
 */
export async function addLeads(
  deps: IntakeDeps,
  ref: CampaignRef,
  leads: readonly NewLead[],
  onQueued?: () => void,
): Promise<AddedLeads> {
  const intake = createLeadIntake(deps, ref, {
    consentRequired: false,
    ...(onQueued ? { onQueued } : {}),
  });
  return intake.queue(await intake.store(await intake.check(leads)));
}
