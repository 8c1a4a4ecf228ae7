// The "why not dialled?" reads: one lead, or a whole campaign counted by the first rule holding
// each lead back. Gathers the facts (explain.ts says what each rule means) from Postgres, the
// consent ledger and one queue snapshot, then evaluates them with the same pure function.
import { isEngineError } from '../../engine/errors.js';
import { campaignRef } from '../../engine/ids.js';
import type { TenantId } from '../../engine/ids.js';
import type { Gateway } from '../gateway.js';
import { GatewayError } from '../errors.js';
import type { ConsentGate } from './consent-gate.js';
import { EMPTY_HISTORY } from '../../engine/calling-rules.js';
import type { CallingRules, NumberHistory } from '../../engine/calling-rules.js';
import type { GapHolder } from '../calls/tenant-gap.js';
import type { LeadFacts } from '../../db/privacy/index.js';
import { explainLead, PREDICATES, queuePositions } from './explain.js';
import type { CampaignFacts, ExplainFacts, Explanation, PredicateName, QueuePosition } from './explain.js';

export interface CampaignExplanation {
  readonly campaignId: string;
  readonly at: string;
  readonly leads: number;
  readonly dialableNow: number;
  /** Leads by the first rule that holds them back (every rule listed, zeros included). */
  readonly heldBy: Readonly<Record<PredicateName, number>>;
}

export interface ExplainService {
  lead(tenantId: TenantId, leadId: string): Promise<Explanation>;
  campaign(tenantId: TenantId, campaignId: string): Promise<CampaignExplanation>;
}

const PAGE = 1_000;

/** The queue's view of one campaign (one snapshot). */
interface QueueView {
  readonly at: Map<string, QueuePosition>;
  readonly history: (phone: string) => NumberHistory;
}

export function createExplainService(gateway: Gateway, consent: ConsentGate): ExplainService {
  const { db, store, clock } = gateway.deps;

  /**
   * The queue's view of the campaign: where it holds each lead, and each number's call history
   * under the calling rules; empty when the queue does not hold the campaign.
   */
  async function positions(tenantId: TenantId, campaignId: string): Promise<QueueView> {
    try {
      const snap = await store.snapshot(campaignRef(tenantId, campaignId));
      return { at: queuePositions(snap), history: (phone) => snap.numbers[phone] ?? EMPTY_HISTORY };
    } catch (err) {
      if (isEngineError(err, 'CAMPAIGN_UNKNOWN')) return { at: new Map(), history: () => EMPTY_HISTORY };
      throw err;
    }
  }

  /**
   * Who holds each number under the tenant-wide gap; asked of the reservations only when the
   * campaign keeps a gap (a rule pack's minGapMs), else nothing is held.
   */
  async function tenantHolds(
    tenantId: TenantId,
    rules: CallingRules | undefined,
    phones: readonly string[],
    now: number,
  ): Promise<Map<string, GapHolder | null>> {
    const out = new Map<string, GapHolder | null>();
    if (!rules?.packs.some((p) => p.minGapMs > 0)) return out;
    const held = await Promise.all(phones.map((p) => gateway.tenantGap.holder(tenantId, p, now)));
    phones.forEach((p, i) => out.set(p, held[i]!));
    return out;
  }

  /** Each lead's facts, with its campaign's: consent, place in the queue, history and gap hold. */
  async function gather(
    tenantId: TenantId,
    campaignId: string,
    campaign: CampaignFacts,
    queue: QueueView,
    leads: readonly LeadFacts[],
    now: number,
  ): Promise<ExplainFacts[]> {
    const phones = leads.map((l) => l.phone);
    const consents = await consent.forCampaign(tenantId, campaignId, phones);
    const holds = await tenantHolds(tenantId, campaign.callingRules, phones, now);
    return leads.map((lead) => ({
      lead,
      campaign,
      queue: queue.at.get(lead.leadId),
      consent: consents.get(lead.phone)!,
      history: queue.history(lead.phone),
      tenantHold: holds.get(lead.phone),
    }));
  }

  async function campaignOf(tenantId: TenantId, campaignId: string): Promise<CampaignFacts> {
    const campaign = await db.campaigns.get(tenantId, campaignId);
    if (!campaign) throw new GatewayError('CAMPAIGN_UNKNOWN');
    return {
      status: campaign.status,
      window: campaign.config.window,
      dispositions: campaign.config.dispositions,
      ...(campaign.config.callingRules ? { callingRules: campaign.config.callingRules } : {}),
    };
  }

  return {
    async lead(tenantId, leadId) {
      const facts = await db.privacy.explain.lead(tenantId, leadId);
      if (!facts) throw new GatewayError('NOT_FOUND', 'no such lead in this tenant');
      const campaign = await campaignOf(tenantId, facts.campaignId);
      const queue = await positions(tenantId, facts.campaignId);
      const now = clock.now();
      const [gathered] = await gather(tenantId, facts.campaignId, campaign, queue, [facts], now);
      return explainLead(gathered!, now);
    },

    async campaign(tenantId, campaignId) {
      const campaign = await campaignOf(tenantId, campaignId);
      const now = clock.now();
      const queue = await positions(tenantId, campaignId);
      const heldBy = Object.fromEntries(PREDICATES.map((p) => [p, 0])) as Record<PredicateName, number>;
      const cache = new Map<string, number | null>();
      let leads = 0;
      let dialableNow = 0;
      let after: string | undefined;
      for (;;) {
        const page = await db.privacy.explain.campaignPage(tenantId, {
          campaignId,
          limit: PAGE,
          ...(after === undefined ? {} : { after }),
        });
        if (page.length === 0) break;
        for (const facts of await gather(tenantId, campaignId, campaign, queue, page, now)) {
          const e = explainLead(facts, now, cache);
          leads++;
          if (e.heldBy === null) dialableNow++;
          else heldBy[e.heldBy]++;
        }
        after = page[page.length - 1]!.leadId;
        if (page.length < PAGE) break;
      }
      return { campaignId, at: new Date(now).toISOString(), leads, dialableNow, heldBy };
    },
  };
}
