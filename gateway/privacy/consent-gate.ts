// Consent as routing sees it: a campaign of the marketing kind offers only numbers with live
// voice consent (db/consent.ts). This module answers, for a campaign and a set of numbers,
// whether consent is required and live; consent.ts acts on it (withdrawal, expiry sweep).
import type { TenantId } from '../../engine/ids.js';
import type { Database } from '../../db/index.js';
import type { ConsentFacts } from './explain.js';

export interface ConsentGate {
  /** Consent facts for each number (every number of `phones` has an entry). */
  forCampaign(
    tenantId: TenantId,
    campaignId: string,
    phones: readonly string[],
  ): Promise<Map<string, ConsentFacts>>;
}

export function createConsentGate(db: Database, now: () => number): ConsentGate {
  return {
    async forCampaign(tenantId, campaignId, phones) {
      const { consent, keys } = db.privacy;
      const settings = await consent.campaignSettings(tenantId, campaignId);
      const hashes = await keys.hashesOf(tenantId, [...new Set(phones)]);
      const live = await consent.liveFor(tenantId, [...hashes.values()], 'voice', now());
      const out = new Map<string, ConsentFacts>();
      for (const phone of phones) {
        const l = live.get(hashes.get(phone)!.toString('hex'));
        out.set(phone, {
          required: settings.kind === 'marketing',
          live: l?.live ?? false,
          expiresAt: l?.expiresAt ?? null,
        });
      }
      return out;
    },
  };
}
