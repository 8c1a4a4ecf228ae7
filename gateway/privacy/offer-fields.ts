// Data minimization in offers: a call:offer carries only the custom fields of the lead that its
// campaign shows agents (campaign_privacy.agent_fields; null shows them all). The hub asks
// synchronously while it sends an offer (the hot path), so the answer comes from a per-campaign
// cache that is filled before any offer of the campaign can reach this gateway: `warm` runs when
// an agent is made ready on the campaign. An answer older than `ttlMs` is read again in the
// background (at most one read per campaign at a time) and served meanwhile, so a change made
// through another gateway counts from the first offer after `ttlMs` plus one read; through this
// gateway at once (`refresh`). Should the cache know nothing of the campaign
// (its read failed), the offer carries no field at all: an agent missing a field is the safe side.
import type { ConsentRepository } from '../../db/privacy/index.js';
import type { Logger } from '../logger.js';

export interface OfferFields {
  /** Make sure the campaign's setting is known (called when an agent is made ready on it). */
  warm(tenantId: string, campaignId: string): Promise<void>;
  /** The fields an offer of this campaign may carry. */
  filter(
    tenantId: string,
    campaignId: string,
    fields: Readonly<Record<string, string>>,
  ): Readonly<Record<string, string>>;
  /** Read the campaign's setting again now (it was just changed through this gateway). */
  refresh(tenantId: string, campaignId: string): Promise<void>;
}

export function createOfferFields(
  consent: Pick<ConsentRepository, 'campaignSettings'>,
  now: () => number,
  logger: Logger,
  ttlMs = 5_000,
): OfferFields {
  const known = new Map<string, { shown: ReadonlySet<string> | null; until: number }>();
  const loading = new Map<string, Promise<void>>();
  const key = (t: string, c: string) => `${t}\u0000${c}`;

  function load(tenantId: string, campaignId: string): Promise<void> {
    const k = key(tenantId, campaignId);
    const running = loading.get(k);
    if (running) return running;
    const p = consent
      .campaignSettings(tenantId, campaignId)
      .then(
        (s) => {
          known.set(k, {
            shown: s.agentFields === null ? null : new Set(s.agentFields),
            until: now() + ttlMs,
          });
        },
        (err: unknown) => logger.error({ err, campaignId }, 'privacy.offer_fields_failed'),
      )
      .finally(() => loading.delete(k));
    loading.set(k, p);
    return p;
  }

  return {
    async warm(tenantId, campaignId) {
      const entry = known.get(key(tenantId, campaignId));
      if (!entry) await load(tenantId, campaignId);
      else if (entry.until <= now()) void load(tenantId, campaignId);
    },
    filter(tenantId, campaignId, fields) {
      const entry = known.get(key(tenantId, campaignId));
      if (!entry) return {};
      if (entry.until <= now()) void load(tenantId, campaignId); // served stale once, then fresh
      const { shown } = entry;
      if (shown === null) return fields;
      const out: Record<string, string> = {};
      for (const [k, v] of Object.entries(fields)) if (shown.has(k)) out[k] = v;
      return out;
    },
    refresh: load,
  };
}
