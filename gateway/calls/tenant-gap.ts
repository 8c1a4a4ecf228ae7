// The minimum gap between two calls to one number across all of a tenant's campaigns. A
// campaign's own rules (caps, gap, lockout) are checked inside its atomic lease against the
// number's history in that campaign's Redis Cluster slot; a gap across campaigns cannot be, since
// two campaigns live on two slots. So a second step reserves the number in the tenant's own slot:
// `SET <prefix>{t:<tenant>}:gap:<digits> <leaseId> NX PX <ms> GET` (engine/keys.ts tenantGapKey),
// atomic on its one key, in two stages:
//  - before the offer is sent to the device, for the offer's lifetime (its remaining TTL and a
//    small margin, never more than the gap). Refused (another campaign's call holds the number),
//    the offer is never sent: the lead goes back due when the reservation ends, and the device
//    never sees the number (a device that accepts in the offer's acknowledgement dials at once,
//    so a check after the offer would come too late);
//  - at accept, before the queue takes the call, extended to the gap, only while this lease still
//    holds it (compare-and-set on the value). An offer accepted so late that its reservation
//    lapsed and another campaign's call took the number is withdrawn (NUMBER_GAP).
// A declined, expired or revoked offer lets its short reservation lapse.
//
// Why reserve before the accept rather than after: the accept records the call in the campaign's
// history (it counts against its caps), which nothing may undo. A reservation whose accept then
// fails only delays the number's next call in another campaign (fail safe). A reservation held by
// an earlier call of the same campaign is handed over to this one: the campaign's own history,
// checked inside the lease, already allowed this call (the behaviour within one campaign is
// unchanged). A reservation is never shortened by being taken: it is held for the longer of what
// was left and what is asked.
import { limitsOf } from '../../engine/calling-rules.js';
import type { CallingRules } from '../../engine/calling-rules.js';
import { zoneKey, zonesOf } from '../../engine/calling-window.js';
import type { ZoneKey } from '../../engine/calling-window.js';
import type { AgentId, CampaignRef, TenantId } from '../../engine/ids.js';
import { tenantGapKey } from '../../engine/keys.js';
import type { LeadInput, QueuedLead } from '../../engine/lead.js';
import { parseLeaseId } from '../../engine/lease.js';
import type { QueueStore } from '../../engine/queue-store.js';
import { RedisQueueStore } from '../../engine/redis/redis-queue-store.js';
import type { StoredLead } from '../../db/index.js';
import { leadInputOf } from '../leads/lead-input.js';
import type { Logger } from '../logger.js';

/** The reservation made, or until when (epoch ms) another campaign's call holds the number. */
export type GapReservation = { readonly ok: true } | { readonly ok: false; readonly until: number };

/** Where reservations are kept: Redis (every gateway shares them) or this process (memory store). */
export interface GapReservations {
  /**
   * Reserve the number for `ttlMs` under `leaseId`. Granted when nothing holds it, when this
   * lease holds it (its offer's reservation, or a retried accept), or when an earlier lease of the
   * same campaign does (handed over); refused while a lease of another campaign holds it. A held
   * reservation taken over keeps what was left of it when that is longer than `ttlMs`.
   * `boundMs` (default `ttlMs`): how long the number is held again for another campaign's call
   * that reserved it in the instant a take-over replaced it (its own length is lost by then).
   */
  reserve(
    tenantId: TenantId,
    phone: string,
    leaseId: string,
    ttlMs: number,
    now: number,
    boundMs?: number,
  ): Promise<GapReservation>;
  /** Delete the numbers' reservations (a data subject's erasure). */
  erase(tenantId: TenantId, phones: readonly string[]): Promise<void>;
  /** Who holds the number now (read only, for "why not dialled?"), or null. */
  holder(tenantId: TenantId, phone: string, now: number): Promise<GapHolder | null>;
}

/** A live reservation: the campaign whose call holds the number, and until when (epoch ms). */
export interface GapHolder {
  readonly campaignId: string | null;
  readonly until: number;
}

const digitsOf = (phone: string): string => (phone.startsWith('+') ? phone.slice(1) : phone);

const campaignOf = (leaseId: string): string | null => {
  try {
    return parseLeaseId(leaseId).campaignId;
  } catch {
    return null;
  }
};

/** The commands the reservations use: the store's client, single node or cluster (each names one key). */
interface GapClient {
  set(
    key: string,
    value: string,
    options: { condition?: 'NX' | 'XX'; expiration: { type: 'PX'; value: number }; GET?: true },
  ): Promise<string | { toString(): string } | null>;
  pTTL(key: string): Promise<number>;
  get(key: string): Promise<string | { toString(): string } | null>;
  unlink(keys: string | string[]): Promise<number>;
}

export function redisGapReservations(client: GapClient, prefix: string): GapReservations {
  const setGet = async (key: string, leaseId: string, ttlMs: number, condition: 'NX' | 'XX') => {
    const old = await client.set(key, leaseId, {
      condition,
      expiration: { type: 'PX', value: ttlMs },
      GET: true,
    });
    return old === null ? null : old.toString();
  };
  return {
    async reserve(tenantId, phone, leaseId, ttlMs, now, boundMs = ttlMs) {
      const key = tenantGapKey(prefix, tenantId, digitsOf(phone));
      const campaign = campaignOf(leaseId);
      // A bounded compare-and-set loop: each round either decides or saw the key change under it.
      for (let round = 0; round < 3; round++) {
        const holder = await setGet(key, leaseId, ttlMs, 'NX');
        if (holder === null) return { ok: true };
        if (holder !== leaseId && campaignOf(holder) !== campaign) {
          const ttl = await client.pTTL(key);
          return { ok: false, until: now + (ttl >= 0 ? ttl : ttl === -1 ? ttlMs : 0) };
        }
        // This lease's own reservation (made with its offer: the accept extends it to the gap) or
        // the campaign's own earlier call's (this call takes it over); never shortened.
        const left = await client.pTTL(key);
        const replaced = await setGet(key, leaseId, Math.max(ttlMs, left), 'XX');
        if (replaced === null) continue; // it expired in between: reserve afresh
        if (replaced === holder || replaced === leaseId || campaignOf(replaced) === campaign)
          return { ok: true };
        // It lapsed and another campaign reserved it in the instant between the commands, and
        // this take-over replaced that: give it back (for the best bound known) and refuse.
        await client.set(key, replaced, { expiration: { type: 'PX', value: boundMs } });
        return { ok: false, until: now + boundMs };
      }
      const ttl = await client.pTTL(key);
      return { ok: false, until: now + Math.max(ttl, 0) };
    },
    async erase(tenantId, phones) {
      // One key per UNLINK: on a cluster a multi-key command must stay on one slot, and these do,
      // but a single-key command needs no thought.
      for (const phone of phones) await client.unlink(tenantGapKey(prefix, tenantId, digitsOf(phone)));
    },
    async holder(tenantId, phone, now) {
      const key = tenantGapKey(prefix, tenantId, digitsOf(phone));
      const [leaseId, ttl] = await Promise.all([client.get(key), client.pTTL(key)]);
      if (leaseId === null || ttl === -2) return null;
      return { campaignId: campaignOf(leaseId.toString()), until: ttl >= 0 ? now + ttl : Infinity };
    },
  };
}

/** Reservations in this process: the memory store's one-process mode. */
export function memoryGapReservations(): GapReservations {
  const held = new Map<string, { leaseId: string; until: number }>();
  // Expired reservations are dropped once the map has doubled since the last sweep (as Redis
  // expires its keys), so a long-lived process does not keep one per number ever reserved.
  let sweepAt = 1_024;
  const sweep = (now: number) => {
    if (held.size < sweepAt) return;
    for (const [key, r] of held) if (r.until <= now) held.delete(key);
    sweepAt = Math.max(1_024, held.size * 2);
  };
  return {
    reserve(tenantId, phone, leaseId, ttlMs, now) {
      sweep(now);
      const key = tenantGapKey('', tenantId, digitsOf(phone));
      const current = held.get(key);
      const live = current !== undefined && current.until > now;
      if (live && current.leaseId !== leaseId && campaignOf(current.leaseId) !== campaignOf(leaseId)) {
        return Promise.resolve({ ok: false, until: current.until });
      }
      // Taken over (its own offer's, or the campaign's earlier call's): never shortened.
      held.set(key, { leaseId, until: Math.max(now + ttlMs, live ? current.until : 0) });
      return Promise.resolve({ ok: true });
    },
    erase(tenantId, phones) {
      for (const phone of phones) held.delete(tenantGapKey('', tenantId, digitsOf(phone)));
      return Promise.resolve();
    },
    holder(tenantId, phone, now) {
      const current = held.get(tenantGapKey('', tenantId, digitsOf(phone)));
      if (!current || current.until <= now) return Promise.resolve(null);
      return Promise.resolve({ campaignId: campaignOf(current.leaseId), until: current.until });
    },
  };
}

/** The reservations beside the store's queue: in its Redis (same key prefix), else in this process. */
export function gapReservationsFor(store: QueueStore): GapReservations {
  if (store instanceof RedisQueueStore) return redisGapReservations(store.client, store.keyPrefix);
  return memoryGapReservations();
}

/**
 * How long past its expiry an offer's reservation lasts: an accept sent just before the offer
 * expires still finds the number held (the gateway's and Redis's clocks, the accept's round trip),
 * and it outlasts the gateway's own end of an acknowledged offer (agent-hub.ts,
 * OFFER_DEADLINE_MARGIN_MS after the expiry).
 */
export const OFFER_MARGIN_MS = 2_000;

/** The call being offered or accepted. */
export interface GapCall {
  readonly tenantId: TenantId;
  readonly campaignId: string;
  readonly leaseId: string;
  readonly agentId: AgentId;
  /** The offered lead as the session holds it; absent (a resumed offer): read from Postgres. */
  readonly lead: QueuedLead | undefined;
}

/** The offer about to be sent to its device. */
export interface GapOffer extends GapCall {
  readonly lead: QueuedLead;
  /** When the offer expires (epoch ms). */
  readonly expiresAt: number;
}

export interface TenantGap {
  /**
   * Before the offer is sent to the device: reserve its number for the offer's lifetime (its
   * remaining TTL and OFFER_MARGIN_MS, at most the gap) when its campaign keeps a gap for the
   * lead's zones (none: nothing asked of Redis). Refused, the offer is taken back before the device
   * sees it (the lead goes back to the queue, due when the reservation ends) and the answer says
   * until when; the caller makes its agent ready again.
   */
  beforeOffer(offer: GapOffer, now: number): Promise<GapReservation>;
  /**
   * Before the queue accepts the call: reserve its number for the gap of the rules that apply to
   * it (the strictest gap of the lead's zones in its campaign; none: nothing reserved), extending
   * its offer's reservation while this lease still holds it. Refused (the offer's reservation
   * lapsed and another campaign's call took the number), the offer is withdrawn (the lead goes back to the queue, due when the reservation ends) and
   * the answer says until when.
   */
  beforeAccept(call: GapCall, now: number): Promise<GapReservation>;
  /** Delete the numbers' reservations (a data subject's erasure). */
  erase(tenantId: TenantId, phones: readonly string[]): Promise<void>;
  /** Who holds the number now across the tenant's campaigns (read only), or null. */
  holder(tenantId: TenantId, phone: string, now: number): Promise<GapHolder | null>;
}

export function createTenantGap(deps: {
  readonly reservations: GapReservations;
  readonly store: QueueStore;
  /** The campaign's calling rules (null: none, or the campaign is not active). */
  readonly rulesOf: (ref: CampaignRef) => Promise<CallingRules | null>;
  readonly leadOf: (tenantId: TenantId, leadId: string) => Promise<StoredLead | undefined>;
  readonly logger: Logger;
}): TenantGap {
  const { reservations, store, logger } = deps;

  const refOf = (call: GapCall): CampaignRef => ({
    tenantId: call.tenantId,
    campaignId: call.campaignId as CampaignRef['campaignId'],
  });

  /** The queued lead as updateLead takes it. */
  function queuedInput(l: QueuedLead): LeadInput {
    const zones = zonesOf(l.timeZone);
    return {
      id: l.id,
      phone: l.phone,
      name: l.name,
      timeZone: zones.length === 0 ? null : zones,
      priority: l.priority,
      ...(l.pinnedAgentId === null ? {} : { pinnedAgentId: l.pinnedAgentId }),
      fields: l.fields,
    };
  }

  /** The lead as updateLead takes it, from the session's copy or the system of record. */
  async function leadInput(call: GapCall): Promise<LeadInput | null> {
    if (call.lead) return queuedInput(call.lead);
    const stored = await deps.leadOf(call.tenantId, parseLeaseId(call.leaseId).leadId);
    if (!stored || stored.campaignId !== call.campaignId) return null;
    return leadInputOf(stored);
  }

  /**
   * Take the offer back and put its lead back due at `until`. Two queue steps (reject, then
   * updateLead with the due time): in between, a dispatch may offer the lead again, and that
   * offer is held back the same way, so the number is never offered inside the gap.
   */
  async function withdraw(call: GapCall, lead: LeadInput, until: number, now: number): Promise<void> {
    await store.reject(call.tenantId, { leaseId: call.leaseId, agentId: call.agentId }, now);
    const placed = await store.updateLead(refOf(call), lead.phone, { ...lead, dueAt: until }, now);
    if (placed !== 'updated')
      logger.warn({ campaignId: call.campaignId, leadId: lead.id, placed }, 'gap.withdrawn_lead_not_moved');
  }

  /**
   * Each campaign's gaps, worked out once per rules object (its campaign config's: an edit loads
   * a new config, so it counts from the next offer on, and the old one is dropped with it) and
   * per zone key, rather than walking the campaign's packs at every offer and accept.
   */
  const gaps = new WeakMap<CallingRules, { readonly any: boolean; readonly byZone: Map<ZoneKey, number> }>();
  function gapsOf(rules: CallingRules): { readonly any: boolean; readonly byZone: Map<ZoneKey, number> } {
    let entry = gaps.get(rules);
    if (!entry) {
      // Presets keep no gap, only a pack can.
      entry = { any: rules.packs.some((p) => p.minGapMs > 0), byZone: new Map() };
      gaps.set(rules, entry);
    }
    return entry;
  }

  /** Whether any of the campaign's packs keeps a gap (none: nothing to reserve, whatever the zone). */
  const keepsGap = (rules: CallingRules | null): rules is CallingRules => rules !== null && gapsOf(rules).any;

  /** The strictest gap the campaign keeps for the lead's zones (0: none). */
  function gapIn(rules: CallingRules | null, zone: ZoneKey): number {
    if (!keepsGap(rules)) return 0;
    const { byZone } = gapsOf(rules);
    let gapMs = byZone.get(zone);
    if (gapMs === undefined) {
      gapMs = limitsOf(rules, zone)?.minGapMs ?? 0;
      byZone.set(zone, gapMs);
    }
    return gapMs;
  }

  async function refused(
    call: GapCall,
    lead: LeadInput,
    reserved: GapReservation & { ok: false },
    now: number,
    event: string,
  ): Promise<GapReservation> {
    await withdraw(call, lead, reserved.until, now).catch((err: unknown) =>
      // The lease stays with its offer until it expires; the reaper then puts the lead back,
      // and its next offer is held back again while the reservation lasts.
      logger.warn({ err, campaignId: call.campaignId, leaseId: call.leaseId }, 'gap.withdraw_failed'),
    );
    logger.info(
      { tenantId: call.tenantId, campaignId: call.campaignId, leadId: lead.id, until: reserved.until },
      event,
    );
    return reserved;
  }

  return {
    async beforeOffer(offer, now) {
      const gapMs = gapIn(await deps.rulesOf(refOf(offer)), offer.lead.timeZone);
      if (gapMs <= 0) return { ok: true };
      const ttlMs = Math.min(gapMs, Math.max(offer.expiresAt - now, 0) + OFFER_MARGIN_MS);
      const { phone } = offer.lead;
      const reserved = await reservations.reserve(offer.tenantId, phone, offer.leaseId, ttlMs, now, gapMs);
      if (reserved.ok) return reserved;
      return refused(offer, queuedInput(offer.lead), reserved, now, 'gap.offer_held_back');
    },
    async beforeAccept(call, now) {
      const rules = await deps.rulesOf(refOf(call));
      if (!keepsGap(rules)) return { ok: true };
      const lead = await leadInput(call);
      if (!lead) return { ok: true }; // the lead is gone: the accept itself fails
      const gapMs = gapIn(rules, call.lead ? call.lead.timeZone : zoneKey(lead.timeZone));
      if (gapMs <= 0) return { ok: true };
      const reserved = await reservations.reserve(call.tenantId, lead.phone, call.leaseId, gapMs, now);
      if (reserved.ok) return reserved;
      return refused(call, lead, reserved, now, 'gap.offer_withdrawn');
    },
    erase: (tenantId, phones) => reservations.erase(tenantId, phones),
    holder: (tenantId, phone, now) => reservations.holder(tenantId, phone, now),
  };
}
