// The minimum gap between two calls to one number across all of a tenant's campaigns. A
// campaign's own rules (caps, gap, lockout) are checked inside its atomic lease against the
// number's history in that campaign's Redis Cluster slot; a gap across campaigns cannot be, since
// two campaigns live on two slots. So at accept, before the queue takes the call, a second step
// reserves the number in the tenant's own slot: one `SET <prefix>{t:<tenant>}:gap:<digits>
// <leaseId> NX PX <gap> GET` (engine/keys.ts tenantGapKey), atomic on its one key. A refused
// reservation withdraws the offer: the lead goes back due when the reservation ends.
//
// Why reserve before the accept rather than after: the accept records the call in the campaign's
// history (it counts against its caps), which nothing may undo. A reservation whose accept then
// fails only delays the number's next call in another campaign (fail safe). A reservation held by
// an earlier call of the same campaign is handed over to this one: the campaign's own history,
// checked inside the lease, already allowed this call (the behaviour within one campaign is
// unchanged).
import { limitsOf } from '../../engine/calling-rules.js';
import type { CallingRules } from '../../engine/calling-rules.js';
import { zoneKey, zonesOf } from '../../engine/calling-window.js';
import type { AgentId, CampaignRef, TenantId } from '../../engine/ids.js';
import { tenantGapKey } from '../../engine/keys.js';
import type { LeadInput, QueuedLead } from '../../engine/lead.js';
import { parseLeaseId } from '../../engine/lease.js';
import type { QueueStore } from '../../engine/queue-store.js';
import { RedisQueueStore } from '../../engine/redis/redis-queue-store.js';
import type { StoredLead } from '../../db/index.js';
import type { Logger } from '../logger.js';

/** The reservation made, or until when (epoch ms) another campaign's call holds the number. */
export type GapReservation = { readonly ok: true } | { readonly ok: false; readonly until: number };

/** Where reservations are kept: Redis (every gateway shares them) or this process (memory store). */
export interface GapReservations {
  /**
   * Reserve the number for `gapMs` under `leaseId`. Granted when nothing holds it, when this
   * lease holds it (a retried accept), or when an earlier lease of the same campaign does (handed
   * over); refused while a lease of another campaign holds it.
   */
  reserve(
    tenantId: TenantId,
    phone: string,
    leaseId: string,
    gapMs: number,
    now: number,
  ): Promise<GapReservation>;
  /** Delete the numbers' reservations (a data subject's erasure). */
  erase(tenantId: TenantId, phones: readonly string[]): Promise<void>;
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
  unlink(keys: string | string[]): Promise<number>;
}

export function redisGapReservations(client: GapClient, prefix: string): GapReservations {
  const setGet = async (key: string, leaseId: string, gapMs: number, condition: 'NX' | 'XX') => {
    const old = await client.set(key, leaseId, {
      condition,
      expiration: { type: 'PX', value: gapMs },
      GET: true,
    });
    return old === null ? null : old.toString();
  };
  return {
    async reserve(tenantId, phone, leaseId, gapMs, now) {
      const key = tenantGapKey(prefix, tenantId, digitsOf(phone));
      const campaign = campaignOf(leaseId);
      // A bounded compare-and-set loop: each round either decides or saw the key change under it.
      for (let round = 0; round < 3; round++) {
        const holder = await setGet(key, leaseId, gapMs, 'NX');
        if (holder === null || holder === leaseId) return { ok: true };
        if (campaignOf(holder) !== campaign) {
          const ttl = await client.pTTL(key);
          return { ok: false, until: now + (ttl >= 0 ? ttl : ttl === -1 ? gapMs : 0) };
        }
        // The campaign's own earlier call: this call takes the reservation over.
        const replaced = await setGet(key, leaseId, gapMs, 'XX');
        if (replaced === holder || replaced === leaseId) return { ok: true };
        if (replaced === null) continue; // it expired in between: reserve afresh
        // Another campaign reserved it in the instant between the two commands, and the
        // hand-over replaced that: give it back (for this call's gap, the best bound known) and refuse.
        await client.set(key, replaced, { expiration: { type: 'PX', value: gapMs } });
        return { ok: false, until: now + gapMs };
      }
      const ttl = await client.pTTL(key);
      return { ok: false, until: now + Math.max(ttl, 0) };
    },
    async erase(tenantId, phones) {
      // One key per UNLINK: on a cluster a multi-key command must stay on one slot, and these do,
      // but a single-key command needs no thought.
      for (const phone of phones) await client.unlink(tenantGapKey(prefix, tenantId, digitsOf(phone)));
    },
  };
}

/** Reservations in this process: the memory store's one-process mode. */
export function memoryGapReservations(): GapReservations {
  const held = new Map<string, { leaseId: string; until: number }>();
  return {
    reserve(tenantId, phone, leaseId, gapMs, now) {
      const key = tenantGapKey('', tenantId, digitsOf(phone));
      const current = held.get(key);
      if (
        current &&
        current.until > now &&
        current.leaseId !== leaseId &&
        campaignOf(current.leaseId) !== campaignOf(leaseId)
      ) {
        return Promise.resolve({ ok: false, until: current.until });
      }
      held.set(key, { leaseId, until: now + gapMs });
      return Promise.resolve({ ok: true });
    },
    erase(tenantId, phones) {
      for (const phone of phones) held.delete(tenantGapKey('', tenantId, digitsOf(phone)));
      return Promise.resolve();
    },
  };
}

/** The reservations beside the store's queue: in its Redis (same key prefix), else in this process. */
export function gapReservationsFor(store: QueueStore): GapReservations {
  if (store instanceof RedisQueueStore) return redisGapReservations(store.client, store.keyPrefix);
  return memoryGapReservations();
}

/** The call being accepted. */
export interface GapCall {
  readonly tenantId: TenantId;
  readonly campaignId: string;
  readonly leaseId: string;
  readonly agentId: AgentId;
  /** The offered lead as the session holds it; absent (a resumed offer): read from Postgres. */
  readonly lead: QueuedLead | undefined;
}

export interface TenantGap {
  /**
   * Before the queue accepts the call: reserve its number for the gap of the rules that apply to
   * it (the strictest gap of the lead's zones in its campaign; none: nothing reserved). Refused,
   * the offer is withdrawn (the lead goes back to the queue, due when the reservation ends) and
   * the answer says until when.
   */
  beforeAccept(call: GapCall, now: number): Promise<GapReservation>;
  /** Delete the numbers' reservations (a data subject's erasure). */
  erase(tenantId: TenantId, phones: readonly string[]): Promise<void>;
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

  /** The lead as updateLead takes it, from the session's copy or the system of record. */
  async function leadInput(call: GapCall): Promise<LeadInput | null> {
    if (call.lead) {
      const l = call.lead;
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
    const stored = await deps.leadOf(call.tenantId, parseLeaseId(call.leaseId).leadId);
    if (!stored || stored.campaignId !== call.campaignId) return null;
    return {
      id: stored.id,
      phone: stored.phone,
      name: stored.name,
      timeZone: stored.timeZone,
      priority: stored.priority,
      ...(stored.pinnedAgentId === null ? {} : { pinnedAgentId: stored.pinnedAgentId }),
      fields: stored.fields,
    };
  }

  /**
   * Take the offer back and put its lead back due at `until`. Two queue steps (reject, then
   * updateLead with the due time): in between, a dispatch may offer the lead again, and that
   * offer's accept is refused the same way, so the number is never dialled inside the gap.
   */
  async function withdraw(call: GapCall, lead: LeadInput, until: number, now: number): Promise<void> {
    const ref = { tenantId: call.tenantId, campaignId: call.campaignId as CampaignRef['campaignId'] };
    await store.reject(call.tenantId, { leaseId: call.leaseId, agentId: call.agentId }, now);
    const placed = await store.updateLead(ref, lead.phone, { ...lead, dueAt: until }, now);
    if (placed !== 'updated')
      logger.warn({ campaignId: call.campaignId, leadId: lead.id, placed }, 'gap.withdrawn_lead_not_moved');
  }

  return {
    async beforeAccept(call, now) {
      const ref = { tenantId: call.tenantId, campaignId: call.campaignId as CampaignRef['campaignId'] };
      const rules = await deps.rulesOf(ref);
      // Presets keep no gap: only a pack of the tenant's can.
      if (!rules || !rules.packs.some((p) => p.minGapMs > 0)) return { ok: true };
      const lead = await leadInput(call);
      if (!lead) return { ok: true }; // the lead is gone: the accept itself fails
      const zone = call.lead ? call.lead.timeZone : zoneKey(lead.timeZone);
      const gapMs = limitsOf(rules, zone)?.minGapMs ?? 0;
      if (gapMs <= 0) return { ok: true };
      const reserved = await reservations.reserve(call.tenantId, lead.phone, call.leaseId, gapMs, now);
      if (reserved.ok) return reserved;
      await withdraw(call, lead, reserved.until, now).catch((err: unknown) =>
        // The lease stays with its offer until it expires; the reaper then puts the lead back,
        // and its next accept is refused again while the reservation lasts.
        logger.warn({ err, campaignId: call.campaignId, leaseId: call.leaseId }, 'gap.withdraw_failed'),
      );
      logger.info(
        { tenantId: call.tenantId, campaignId: call.campaignId, leadId: lead.id, until: reserved.until },
        'gap.offer_withdrawn',
      );
      return reserved;
    },
    erase: (tenantId, phones) => reservations.erase(tenantId, phones),
  };
}
