// A lead with several numbers moves to its next one after a call that did not reach the person:
// an outcome whose disposition is a retry and whose campaign policy does not count it as a contact
// (no answer, busy, voicemail, failed, and a campaign's own codes of that kind). A contact, a
// callback or a final outcome leaves the lead on its number.
//
// The move is decided (`plan`) once the outcome is committed, before the queue applies it: a retry
// that would be due before the move can land (a delay of 0, or a short one) is applied held back
// (`held`: scheduled `holdMs` ahead rather than at its due time), so no device can be offered the
// lead on the number it is leaving. After the device is answered the move runs (`move`): Postgres
// (`leads.advance`, the lead and its numbers locked) and the live queue (the engine's one atomic
// `updateLead`, which rewrites the queued copy's number and zone plan in place, at its committed
// due time, keeping its first-in place) change together, and a held lead that does not move is
// released at its due time on its own number. A number the queue refuses (suppressed: listed or
// erased; a duplicate: another lead's in the campaign) is skipped for the following one, and so
// is, in a campaign of the marketing kind, a number without live voice consent (the consent sweep
// would hold the lead only later). If the process dies in between, the lead keeps its number: it is
// offered on it again once the hold runs out (or at its due time after a rebuild from Postgres),
// never on a number it must not.
import { isEngineError } from '../../engine/errors.js';
import { campaignRef } from '../../engine/ids.js';
import type { CampaignId, CampaignRef, TenantId } from '../../engine/ids.js';
import type { Clock } from '../../engine/clock.js';
import type { Disposition } from '../../engine/disposition.js';
import type { CommittedCompletion, QueueStore } from '../../engine/queue-store.js';
import type { Database, NumberFollow, StoredLead } from '../../db/index.js';
import { leadInputOf } from '../leads/lead-input.js';
import type { Logger } from '../logger.js';

/** A completion committed for the first time, about to be applied. */
export interface CommittedOutcome {
  readonly campaignId: CampaignId;
  readonly leadId: string;
  readonly leaseId: string;
  readonly outcome: string;
  readonly disposition: Disposition;
}

/** A committed retry that moves its lead to its next number. */
export interface PlannedMove {
  readonly campaignId: CampaignId;
  readonly leadId: string;
  readonly leaseId: string;
  /** The committed retry's due time. */
  readonly dueAt: number;
  /** Applied held back until this time (epoch ms) rather than at `dueAt`; null: not held. */
  readonly heldUntil: number | null;
  /** A campaign of the marketing kind: a number without live voice consent is skipped. */
  readonly marketing: boolean;
}

export interface NextNumberDeps {
  readonly db: Pick<Database, 'leads' | 'campaigns' | 'privacy'>;
  readonly store: QueueStore;
  readonly clock: Clock;
  readonly logger: Logger;
  /** How long a retry is held back for its move (the claim's hold: far longer than a move takes). */
  readonly holdMs: number;
  /** A held lead is dialable again (moved or released): offer it. */
  readonly onRequeued?: ((ref: CampaignRef) => void) | undefined;
}

export interface NextNumbers {
  /** Which of these committed outcomes move their lead. Never throws ([]: every lead keeps its number). */
  plan(tenantId: TenantId, committed: readonly CommittedOutcome[]): Promise<PlannedMove[]>;
  /** The completion as the queue is to apply it: a held move's retry is scheduled at `heldUntil`. */
  held(planned: ReadonlyMap<string, PlannedMove>, item: CommittedCompletion): CommittedCompletion;
  /** Move the planned leads (held ones released, moved or not). Never throws. */
  move(tenantId: TenantId, planned: readonly PlannedMove[]): Promise<void>;
}

export function nextNumbers(deps: NextNumberDeps): NextNumbers {
  const { db, store, clock, logger, holdMs } = deps;

  /** Whether the number has live voice consent on record. */
  async function consented(tenantId: TenantId, phone: string): Promise<boolean> {
    const { keys, consent } = db.privacy;
    const hash = (await keys.hashesOf(tenantId, [phone])).get(phone);
    if (!hash) return false;
    const live = await consent.liveFor(tenantId, [hash], 'voice', clock.now());
    return live.get(hash.toString('hex'))?.live ?? false;
  }

  /** The queued copy of `lead` as the queue takes it, at the committed due time. */
  const queuedCopy = (lead: StoredLead, m: PlannedMove) => ({ ...leadInputOf(lead), dueAt: m.dueAt });

  const follow =
    (tenantId: TenantId, m: PlannedMove): NumberFollow =>
    async (after, before) => {
      if (m.marketing && !(await consented(tenantId, after.phone))) return 'refused';
      let result;
      try {
        result = await store.updateLead(
          campaignRef(tenantId, m.campaignId),
          before.phone,
          queuedCopy(after, m),
          clock.now(),
        );
      } catch (err) {
        // A paused or archived campaign has no live queue: its rebuild reads the row as moved.
        if (isEngineError(err, 'CAMPAIGN_UNKNOWN')) return 'moved';
        throw err;
      }
      switch (result) {
        case 'updated':
        case 'absent': // not in the queue (lost, not rebuilt yet): a rebuild queues the row as moved
          return 'moved';
        case 'leased':
          return 'busy';
        case 'duplicate':
        case 'suppressed':
          return 'refused';
        default: {
          const never: never = result;
          throw new Error(`unexpected updateLead result ${String(never)}`);
        }
      }
    };

  /** A held lead that did not move: back at its committed due time, on its own number. */
  async function release(tenantId: TenantId, m: PlannedMove): Promise<void> {
    const lead = await db.leads.get(tenantId, m.leadId);
    if (!lead || lead.status !== 'queued') return;
    try {
      await store.updateLead(
        campaignRef(tenantId, m.campaignId),
        lead.phone,
        queuedCopy(lead, m),
        clock.now(),
      );
    } catch (err) {
      if (!isEngineError(err, 'CAMPAIGN_UNKNOWN')) throw err;
    }
  }

  async function moveOne(tenantId: TenantId, m: PlannedMove): Promise<void> {
    const lead = await db.leads.get(tenantId, m.leadId);
    const moved =
      lead && lead.status === 'queued'
        ? await db.leads.advance(tenantId, m.leadId, lead.phone, follow(tenantId, m))
        : ({ moved: false, reason: 'not_queued' } as const);
    if (moved.moved) {
      logger.info(
        { tenantId, leadId: m.leadId, position: moved.position, skipped: moved.skipped },
        'lead.number_moved',
      );
    } else {
      logger.info({ tenantId, leadId: m.leadId, reason: moved.reason }, 'lead.number_kept');
      if (m.heldUntil !== null) await release(tenantId, m);
    }
  }

  return {
    async plan(tenantId, committed) {
      const retries = committed.filter((c) => c.disposition.kind === 'retry');
      if (retries.length === 0) return [];
      try {
        const several = await db.leads.withFurtherNumbers(
          tenantId,
          retries.map((c) => c.leadId),
        );
        if (several.size === 0) return [];
        // Per campaign: the outcome codes that move a lead (retries not counted as a contact).
        const campaigns = new Map<string, { moves: Set<string>; marketing: boolean } | undefined>();
        const planned: PlannedMove[] = [];
        const now = clock.now();
        for (const c of retries) {
          if (!several.has(c.leadId) || c.disposition.kind !== 'retry') continue;
          if (!campaigns.has(c.campaignId)) {
            const campaign = await db.campaigns.get(tenantId, c.campaignId);
            const settings = campaign && (await db.privacy.consent.campaignSettings(tenantId, c.campaignId));
            campaigns.set(
              c.campaignId,
              campaign && {
                moves: new Set(
                  Object.entries(campaign.config.dispositions).flatMap(([code, p]) =>
                    p.contact ? [] : [code],
                  ),
                ),
                marketing: settings?.kind === 'marketing',
              },
            );
          }
          const campaign = campaigns.get(c.campaignId);
          if (!campaign?.moves.has(c.outcome)) continue;
          const dueAt = c.disposition.dueAt;
          planned.push({
            campaignId: c.campaignId,
            leadId: c.leadId,
            leaseId: c.leaseId,
            dueAt,
            // Due before the move could land: held back until it has.
            heldUntil: dueAt < now + holdMs ? now + holdMs : null,
            marketing: campaign.marketing,
          });
        }
        return planned;
      } catch (err) {
        // The outcome is saved; the lead stays on its number for its next attempt.
        logger.error({ err, tenantId }, 'lead.number_move_failed');
        return [];
      }
    },

    held(planned, item) {
      const m = planned.get(item.leaseId);
      if (!m || m.heldUntil === null || item.disposition.kind !== 'retry') return item;
      return { ...item, disposition: { kind: 'retry', dueAt: m.heldUntil } };
    },

    async move(tenantId, planned) {
      const requeued = new Map<string, CampaignRef>();
      for (const m of planned) {
        try {
          await moveOne(tenantId, m);
        } catch (err) {
          // The outcome is saved and applied; the lead stays on its number (held ones until the
          // hold runs out) for its next attempt.
          logger.error({ err, tenantId, leadId: m.leadId }, 'lead.number_move_failed');
        }
        if (m.heldUntil !== null) requeued.set(m.campaignId, campaignRef(tenantId, m.campaignId));
      }
      for (const ref of requeued.values()) deps.onRequeued?.(ref);
    },
  };
}
