// The consent ledger in action (db/consent.ts holds it):
//  - record: a consent for a number and channel; a number held for lack of voice consent is
//    queued again at once in the tenant's marketing campaigns;
//  - withdraw: an opt-out on any channel withdraws every consent of the number and goes the
//    do-not-call way for every channel (gateway.suppress: listed in Postgres first, out of every
//    queue, live leases revoked);
//  - the hold: a campaign of kind marketing offers only numbers with live voice consent. Leads
//    are queued by the intake (gateway/leads, not ours), so the hold is applied right after: a
//    sweep takes queued leads without live voice consent out of the campaign's queue (their row
//    stays queued in Postgres, and "why not dialled?" names consent as what holds them). Leads
//    added since the last look are checked every second; every lead of every marketing campaign
//    every minute, which also catches consents that expired and leads a rebuild queued again. A
//    lead on a call when its consent lapses keeps the call; it is held once the call is over.
import { isEngineError } from '../../engine/errors.js';
import type { TenantId } from '../../engine/ids.js';
import { campaignRef } from '../../engine/ids.js';
import type { LeadInput } from '../../engine/lead.js';
import type { Consent, NewConsent } from '../../db/privacy/index.js';
import type { Gateway } from '../gateway.js';
import { queuePositions } from './explain.js';
import type { PeriodicJob } from './jobs.js';
import { leadInputOf } from '../leads/lead-input.js';

export interface ConsentService {
  record(
    tenantId: TenantId,
    phone: string,
    consent: NewConsent,
  ): Promise<{ consent: Consent; released: number }>;
  /** Withdraw every consent of the number and put it on the do-not-call list. */
  withdraw(tenantId: TenantId, phone: string): Promise<{ withdrawn: number; removed: number }>;
  list(tenantId: TenantId, phone: string): Promise<Consent[]>;
  /**
   * Hold the queued leads of marketing campaigns that lack live voice consent: with `full`,
   * every lead; otherwise only those added since the last look. Returns how many were held.
   */
  sweep(full: boolean): Promise<number>;
  /** Hold every lead of one campaign that lacks consent (it just became marketing). */
  sweepCampaign(tenantId: TenantId, campaignId: string): Promise<number>;
}

const PAGE = 1_000;
export const NEW_LEADS_EVERY_MS = 1_000;
export const FULL_SWEEP_EVERY_MS = 60_000;

export function createConsentService(gateway: Gateway): ConsentService {
  const { db, store, clock, logger } = gateway.deps;
  const { consent, keys } = db.privacy;
  /** Per campaign, the highest lead id looked at (this process). */
  const seen = new Map<string, string>();

  async function holdIn(tenantId: TenantId, campaignId: string, full: boolean): Promise<number> {
    const key = `${tenantId}\u0000${campaignId}`;
    let after = full ? undefined : seen.get(key);
    const lacking: { leadId: string; phone: string }[] = [];
    for (;;) {
      const page = await db.privacy.explain.campaignPage(tenantId, {
        campaignId,
        limit: PAGE,
        ...(after === undefined ? {} : { after }),
      });
      if (page.length === 0) break;
      const queued = page.filter((l) => l.status === 'queued' && !l.dnc && !l.erased);
      const hashes = await keys.hashesOf(tenantId, [...new Set(queued.map((l) => l.phone))]);
      const live = await consent.liveFor(tenantId, [...hashes.values()], 'voice', clock.now());
      for (const l of queued) {
        if (!live.has(hashes.get(l.phone)!.toString('hex')))
          lacking.push({ leadId: l.leadId, phone: l.phone });
      }
      after = page[page.length - 1]!.leadId;
      seen.set(key, after);
      if (page.length < PAGE) break;
    }
    if (lacking.length === 0) return 0;
    const ref = campaignRef(tenantId, campaignId);
    let positions;
    try {
      positions = queuePositions(await store.snapshot(ref));
    } catch (err) {
      if (isEngineError(err, 'CAMPAIGN_UNKNOWN')) return 0; // not live: nothing is offered from it
      throw err;
    }
    // Only what the queue holds and no call is using.
    const phones = [
      ...new Set(
        lacking
          .filter((l) => {
            const p = positions.get(l.leadId);
            return p !== undefined && p.where !== 'leased' && p.where !== 'revoked';
          })
          .map((l) => l.phone),
      ),
    ];
    if (phones.length === 0) return 0;
    // eraseNumbers drops the entries without suppressing the numbers in the queue, so recorded
    // consent can queue them again; none of these numbers is listed (filtered above).
    const gone = await store.eraseNumbers(ref, phones);
    logger.info({ tenantId, campaignId, held: gone.length }, 'consent.held');
    return gone.length;
  }

  async function leadInputs(tenantId: TenantId, ids: readonly string[]): Promise<LeadInput[]> {
    const out: LeadInput[] = [];
    for (const id of ids) {
      const lead = await db.leads.get(tenantId, id);
      if (lead && lead.status === 'queued') out.push(leadInputOf(lead, true));
    }
    return out;
  }

  return {
    async record(tenantId, phone, input) {
      const hash = await keys.hashOf(tenantId, phone);
      const recorded = await consent.record(tenantId, hash, input, clock.now());
      let released = 0;
      if (recorded.channel === 'voice' && recorded.live) {
        // Queue again what the hold took out (enqueue is idempotent for leads still queued).
        const marketing = new Set((await consent.marketingCampaigns(tenantId)).map((c) => c.campaignId));
        const queued = (await db.privacy.queuedLeadIds(tenantId, phone)).filter((q) =>
          marketing.has(q.campaignId),
        );
        for (const campaignId of new Set(queued.map((q) => q.campaignId))) {
          const ref = campaignRef(tenantId, campaignId);
          const leads = await leadInputs(
            tenantId,
            queued.filter((q) => q.campaignId === campaignId).map((q) => q.leadId),
          );
          try {
            const r = await store.enqueue(ref, leads, clock.now());
            released += r.enqueued;
            if (r.enqueued > 0) gateway.dispatcher.trigger(ref);
          } catch (err) {
            if (!isEngineError(err, 'CAMPAIGN_UNKNOWN')) throw err;
          }
        }
      }
      return { consent: recorded, released };
    },

    async withdraw(tenantId, phone) {
      const hash = await keys.hashOf(tenantId, phone);
      // The ledger first, then the do-not-call path (durable in Postgres before the queues).
      const withdrawn = await consent.withdraw(tenantId, hash, clock.now());
      const removed = await gateway.suppress(tenantId, [phone], 'api');
      return { withdrawn, removed };
    },

    async list(tenantId, phone) {
      return consent.list(tenantId, await keys.hashOf(tenantId, phone), clock.now());
    },

    async sweep(full) {
      let held = 0;
      for (const c of await consent.marketingCampaigns()) {
        held += await holdIn(c.tenantId as TenantId, c.campaignId, full);
      }
      return held;
    },

    sweepCampaign: (tenantId, campaignId) => holdIn(tenantId, campaignId, true),
  };
}

export const consentJobs = (service: ConsentService): PeriodicJob[] => [
  {
    name: 'consent.new_leads',
    everyMs: NEW_LEADS_EVERY_MS,
    run: async () => void (await service.sweep(false)),
  },
  { name: 'consent.full', everyMs: FULL_SWEEP_EVERY_MS, run: async () => void (await service.sweep(true)) },
];
