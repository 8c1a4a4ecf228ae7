// A lead with several numbers moves to its next one after a call that did not reach the person:
// an outcome whose disposition is a retry and whose campaign policy does not count it as a contact
// (no answer, busy, voicemail, failed, and a campaign's own codes of that kind). A contact, a
// callback or a final outcome leaves the lead on its number.
//
// The move runs once the outcome is committed and applied (the lead is back in the queue, no
// longer under its lease) and the device answered: Postgres (`leads.advance`, the lead and its
// numbers locked) and the live queue (the engine's one atomic `updateLead`, which rewrites the
// queued copy's number and zone plan in place, keeping its due time and first-in place) change
// together. A number the queue refuses (suppressed: listed or erased; a duplicate: another lead's
// in the campaign) is skipped for the following one, and so is, in a campaign of the marketing
// kind, a number without live voice consent (the consent sweep would hold the lead only later); a lead leased again meanwhile (a retry due at
// once) is left on its number. If the process dies in between, the lead keeps its number: its
// next attempt dials the same one again, never a number it must not.
import { isEngineError } from '../../engine/errors.js';
import { campaignRef } from '../../engine/ids.js';
import type { CampaignId, TenantId } from '../../engine/ids.js';
import type { LeadInput } from '../../engine/lead.js';
import type { Clock } from '../../engine/clock.js';
import type { Dispositions } from '../../engine/disposition.js';
import type { QueueStore } from '../../engine/queue-store.js';
import type { Database, NumberFollow, StoredLead } from '../../db/index.js';
import { leadInputOf } from '../leads/lead-input.js';
import type { Logger } from '../logger.js';

/** A completion committed and applied for the first time. */
export interface AppliedOutcome {
  readonly campaignId: CampaignId;
  readonly leadId: string;
  readonly outcome: string;
  readonly retry: boolean;
}

export interface NextNumberDeps {
  readonly db: Pick<Database, 'leads' | 'campaigns' | 'privacy'>;
  readonly store: QueueStore;
  readonly clock: Clock;
  readonly logger: Logger;
}

/** The lead as the queue takes it: no `dueAt`, so the queue keeps the retry's due time. */
const queuedCopy = (l: StoredLead): LeadInput => leadInputOf(l);

export function nextNumbers(deps: NextNumberDeps) {
  const { db, store, clock, logger } = deps;

  /** Whether the number has live voice consent on record. */
  async function consented(tenantId: TenantId, phone: string): Promise<boolean> {
    const { keys, consent } = db.privacy;
    const hash = (await keys.hashesOf(tenantId, [phone])).get(phone);
    if (!hash) return false;
    const live = await consent.liveFor(tenantId, [hash], 'voice', clock.now());
    return live.get(hash.toString('hex'))?.live ?? false;
  }

  const follow =
    (tenantId: TenantId, campaignId: CampaignId, marketing: boolean): NumberFollow =>
    async (after, before) => {
      if (marketing && !(await consented(tenantId, after.phone))) return 'refused';
      let result;
      try {
        result = await store.updateLead(
          campaignRef(tenantId, campaignId),
          before.phone,
          queuedCopy(after),
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

  /** Move the leads these outcomes leave on a number that did not reach them. Never throws. */
  return async function afterOutcomes(tenantId: TenantId, applied: readonly AppliedOutcome[]): Promise<void> {
    const retries = applied.filter((a) => a.retry);
    if (retries.length === 0) return;
    try {
      const several = await db.leads.withFurtherNumbers(
        tenantId,
        retries.map((a) => a.leadId),
      );
      if (several.size === 0) return;
      const campaigns = new Map<string, { dispositions: Dispositions; marketing: boolean } | undefined>();
      for (const a of retries) {
        if (!several.has(a.leadId)) continue;
        if (!campaigns.has(a.campaignId)) {
          const c = await db.campaigns.get(tenantId, a.campaignId);
          const settings = c && (await db.privacy.consent.campaignSettings(tenantId, a.campaignId));
          campaigns.set(
            a.campaignId,
            c && { dispositions: c.config.dispositions, marketing: settings?.kind === 'marketing' },
          );
        }
        const campaign = campaigns.get(a.campaignId);
        const policy = campaign?.dispositions[a.outcome];
        if (!campaign || !policy || policy.contact) continue;
        const lead = await db.leads.get(tenantId, a.leadId);
        if (!lead || lead.status !== 'queued') continue;
        const moved = await db.leads.advance(
          tenantId,
          a.leadId,
          lead.phone,
          follow(tenantId, a.campaignId, campaign.marketing),
        );
        if (moved.moved) {
          logger.info(
            { tenantId, leadId: a.leadId, position: moved.position, skipped: moved.skipped },
            'lead.number_moved',
          );
        } else {
          logger.info({ tenantId, leadId: a.leadId, reason: moved.reason }, 'lead.number_kept');
        }
      }
    } catch (err) {
      // The outcome is saved and applied; the lead stays on its number for its next attempt.
      logger.error({ err, tenantId }, 'lead.number_move_failed');
    }
  };
}
