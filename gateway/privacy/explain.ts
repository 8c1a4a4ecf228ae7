// "Why not dialled?": each rule that decides whether a lead may be offered, evaluated for the
// lead now, in the order the rules hold a lead back, and the moment it will next be dialable.
//
// The facts come from the system of record (db/privacy/explain-facts.ts: the lead, its last
// outcome, its pending callback, the do-not-call and erasure lists), the campaign row, the
// consent ledger, and the queue itself. The queue is read through the QueueStore port's
// `snapshot` (the port has no per-lead read): O(campaign size) per request, acceptable for an
// admin's question and for a campaign summary, which reads the snapshot once for all its leads.
//
// nextDialableAt is null when nothing but a person can change the answer (final, removed, listed,
// erased, no consent, attempts used up, campaign not active, absent from the queue until a
// rebuild) or while a lease holds the lead (its outcome decides); otherwise the latest of now,
// the lead's due time and the moment the per-number calling rules let its number through (caps,
// gap, lockout: engine/calling-rules.ts), moved to the next opening of its calling window (every
// candidate zone open, the campaign's hours with its preset, regional hours and holidays), or
// null when no opening falls within the window horizon.
import { DateTime } from 'luxon';
import {
  EMPTY_HISTORY,
  heldUntil,
  holidaysOf,
  hoursOfRules,
  limitsOf,
  NO_RULES,
} from '../../engine/calling-rules.js';
import type { CallingRules, NumberHistory } from '../../engine/calling-rules.js';
import { hoursOfWindow, openIntervalsOf, WINDOW_HORIZON_MS, zoneKey } from '../../engine/calling-window.js';
import type { CallingWindow, HoursOf, ZoneKey } from '../../engine/calling-window.js';
import type { Dispositions } from '../../engine/disposition.js';
import { LIVE_STATES, PHASE_OF_STATE } from '../../engine/lease.js';
import type { QueueSnapshot } from '../../engine/queue-store.js';
import type { LeadFacts } from '../../db/privacy/index.js';
import type { GapHolder } from '../calls/tenant-gap.js';

export const PREDICATES = [
  'lead',
  'campaign',
  'dnc',
  'suppression',
  'consent',
  'attempts',
  'lease',
  'due',
  'calling_window',
  'holiday',
  'call_cap',
  'call_gap',
  'tenant_gap',
  'lockout',
  'queue',
] as const;
export type PredicateName = (typeof PREDICATES)[number];

export interface PredicateResult {
  readonly name: PredicateName;
  /** True when this rule lets the lead through now. */
  readonly pass: boolean;
  readonly detail: Readonly<Record<string, unknown>>;
}

export interface Explanation {
  readonly leadId: string;
  readonly campaignId: string;
  readonly at: string;
  readonly dialableNow: boolean;
  /** The first rule that holds the lead back, or null. */
  readonly heldBy: PredicateName | null;
  readonly nextDialableAt: string | null;
  readonly predicates: readonly PredicateResult[];
}

/** Where the queue holds a lead. */
export interface QueuePosition {
  readonly where: 'ready' | 'scheduled' | 'pinned' | 'leased' | 'revoked';
  /** Due time of a scheduled or pinned entry (epoch ms). */
  readonly dueAt: number | null;
  readonly pinnedAgentId: string | null;
  readonly lease: {
    readonly leaseId: string;
    readonly phase: string;
    readonly agentId: string;
    readonly expiresAt: number;
  } | null;
}

/** Every lead the queue holds, by lead id, from one snapshot. */
export function queuePositions(snap: QueueSnapshot): Map<string, QueuePosition> {
  const out = new Map<string, QueuePosition>();
  const leadOf = (member: string) => snap.records[member];
  for (const members of Object.values(snap.ready)) {
    for (const m of members) {
      const id = leadOf(m);
      if (id !== undefined) out.set(id, { where: 'ready', dueAt: null, pinnedAgentId: null, lease: null });
    }
  }
  for (const [m, due] of snap.scheduled) {
    const id = leadOf(m);
    if (id !== undefined) out.set(id, { where: 'scheduled', dueAt: due, pinnedAgentId: null, lease: null });
  }
  for (const [agent, entries] of Object.entries(snap.pinned)) {
    for (const [m, due] of entries) {
      const id = leadOf(m);
      if (id !== undefined) out.set(id, { where: 'pinned', dueAt: due, pinnedAgentId: agent, lease: null });
    }
  }
  for (const [leaseId, l] of Object.entries(snap.leases)) {
    const id = leadOf(l.member);
    if (id === undefined || !LIVE_STATES.has(l.state)) continue;
    out.set(id, {
      where: 'leased',
      dueAt: null,
      pinnedAgentId: null,
      lease: {
        leaseId,
        phase: l.state === 'c' ? 'completing' : (PHASE_OF_STATE[l.state] ?? 'offered'),
        agentId: l.agentId,
        expiresAt: l.expiresAt,
      },
    });
  }
  for (const m of Object.values(snap.revoked)) {
    const id = leadOf(m);
    if (id !== undefined && !out.has(id))
      out.set(id, { where: 'revoked', dueAt: null, pinnedAgentId: null, lease: null });
  }
  return out;
}

/** Consent as the explanation needs it (gateway/privacy/consent-gate.ts decides it). */
export interface ConsentFacts {
  /** The campaign offers only numbers with live voice consent (kind marketing). */
  readonly required: boolean;
  readonly live: boolean;
  readonly expiresAt: number | null;
}

export interface CampaignFacts {
  readonly status: 'active' | 'paused' | 'archived';
  readonly window: CallingWindow;
  readonly dispositions: Dispositions;
  /** The campaign's preset and rule packs (absent: none). */
  readonly callingRules?: CallingRules;
}

/**
 * The window's next opening at or after `from` for the key (every zone of it open), or null when
 * none falls within the horizon. Memoized per key and minute by the caller's cache.
 */
export function nextOpenFrom(window: CallingWindow | HoursOf, key: ZoneKey, from: number): number | null {
  const hoursOf = typeof window === 'function' ? window : hoursOfWindow(window);
  const [first] = openIntervalsOf(hoursOf, key, from, from + WINDOW_HORIZON_MS);
  return first === undefined ? null : Math.max(first.start, from);
}

type WindowCache = Map<string, number | null>;

function opening(cache: WindowCache, hoursOf: HoursOf, zones: readonly string[] | null, from: number) {
  const key = zoneKey(zones ?? null);
  const memo = `${key}\u0000${from}`;
  let at = cache.get(memo);
  if (at === undefined) {
    at = nextOpenFrom(hoursOf, key, from);
    cache.set(memo, at);
  }
  return at;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** What one lead's explanation is made of. */
export interface ExplainFacts {
  readonly lead: LeadFacts;
  readonly campaign: CampaignFacts;
  /** Where the campaign's queue holds the lead (absent: it does not). */
  readonly queue?: QueuePosition | undefined;
  readonly consent: ConsentFacts;
  /** The number's call history in this campaign's queue (snapshot `numbers`; absent: none). */
  readonly history?: NumberHistory | undefined;
  /** Who holds the number under the tenant-wide gap (gateway/calls/tenant-gap.ts; absent: nobody). */
  readonly tenantHold?: GapHolder | null | undefined;
}

/**
 * Every predicate of the lead at `now`. `cache` memoizes window openings: a campaign's
 * explanations share one.
 */
export function explainLead(facts: ExplainFacts, now: number, cache: WindowCache = new Map()): Explanation {
  const { lead, campaign, queue, consent, history = EMPTY_HISTORY, tenantHold = null } = facts;
  const results: PredicateResult[] = [];
  // Rules whose failure only a person (or the call's outcome) can undo: no next moment.
  let blocked = false;
  const add = (name: PredicateName, pass: boolean, detail: Record<string, unknown>, blocks = true) => {
    results.push({ name, pass, detail });
    if (!pass && blocks) blocked = true;
  };

  add('lead', lead.status === 'queued', { status: lead.status });
  add('campaign', campaign.status === 'active', { status: campaign.status });
  add('dnc', !lead.dnc, { listed: lead.dnc });
  add('suppression', !lead.erased, { erased: lead.erased });
  add('consent', !consent.required || consent.live, {
    required: consent.required,
    channel: 'voice',
    live: consent.live,
    expiresAt: iso(consent.expiresAt),
  });

  const policy = lead.lastOutcome === null ? undefined : campaign.dispositions[lead.lastOutcome];
  const max = policy?.maxAttempts ?? 0;
  add('attempts', max === 0 || lead.attempts < max, {
    used: lead.attempts,
    max: max === 0 ? null : max,
    lastOutcome: lead.lastOutcome,
  });

  const lease = queue?.lease ?? null;
  add(
    'lease',
    lease === null,
    lease === null
      ? { leased: false }
      : {
          leased: true,
          leaseId: lease.leaseId,
          phase: lease.phase,
          agentId: lease.agentId,
          expiresAt: iso(lease.expiresAt),
        },
  );

  // The queue's own due time when it holds the lead; the system of record's otherwise.
  const dueAt = queue?.dueAt ?? lead.callback?.dueAt ?? lead.dueAt;
  const kind = lead.callback !== null ? 'callback' : dueAt !== null ? 'retry' : null;
  const pinned = queue?.pinnedAgentId ?? lead.callback?.agentId ?? lead.pinnedAgentId;
  add('due', dueAt === null || dueAt <= now, { dueAt: iso(dueAt), kind, onlyAgentId: pinned ?? null }, false);

  const zones = lead.timeZone ?? [];
  const rules = campaign.callingRules ?? NO_RULES;
  // The campaign's hours with its preset, the regional hours and the holidays of its packs.
  const hoursOf = hoursOfRules(campaign.window, rules);
  const key = zoneKey(zones);
  const limits = key === '' ? null : limitsOf(rules, key);
  // The per-number rules hold the number until this moment (null: they let it through now).
  const ruleHold = heldUntil(limits, history, now);
  // Another campaign's call holds the number for the tenant-wide gap (this campaign's own calls
  // are its call_gap above).
  const tenantUntil =
    tenantHold !== null && tenantHold.campaignId !== lead.campaignId && tenantHold.until > now
      ? tenantHold.until
      : null;
  const from = Math.max(now, dueAt ?? now, ruleHold ?? now, tenantUntil ?? now);
  const perZone = zones.map((zone) => {
    const next = opening(cache, hoursOf, [zone], now);
    return { zone, open: next === now, nextOpenAt: iso(next) };
  });
  const openNow = zones.length > 0 && opening(cache, hoursOf, zones, now) === now;
  const nextWindow = opening(cache, hoursOf, zones, from);
  add(
    'calling_window',
    openNow,
    {
      zones: perZone,
      unknownZone: zones.length === 0,
      // Every candidate zone must be open at once (a number that may be in two zones).
      nextOpenAt: iso(opening(cache, hoursOf, zones, now)),
    },
    nextWindow === null,
  );

  // Rule packs (engine/calling-rules.ts): holidays close the window above; listed on their own so
  // an admin sees which region's holiday it is. The rest hold only until a time: never blocking.
  const holidays = zones.map((zone) => {
    const date = DateTime.fromMillis(now, { zone }).toISODate() ?? '';
    return { zone, date, holiday: holidaysOf(rules, zone).has(date) };
  });
  add('holiday', !holidays.some((h) => h.holiday), { zones: holidays }, false);
  const caps = (limits?.caps ?? []).map((cap) => {
    const inside = history.calls.filter((t) => t > now - cap.periodMs);
    const full = inside.length >= cap.count;
    return {
      count: cap.count,
      periodMs: cap.periodMs,
      used: inside.length,
      freeAt: full ? iso(inside[inside.length - cap.count]! + cap.periodMs) : null,
    };
  });
  add(
    'call_cap',
    caps.every((c) => c.freeAt === null),
    { caps },
    false,
  );
  const lastCallAt = history.calls.length > 0 ? history.calls[history.calls.length - 1]! : null;
  const gapUntil =
    limits !== null && limits.minGapMs > 0 && lastCallAt !== null ? lastCallAt + limits.minGapMs : null;
  add(
    'call_gap',
    gapUntil === null || gapUntil <= now,
    { minGapMs: limits?.minGapMs ?? 0, lastCallAt: iso(lastCallAt), until: iso(gapUntil) },
    false,
  );
  add(
    'tenant_gap',
    tenantUntil === null,
    {
      minGapMs: limits?.minGapMs ?? 0,
      heldByCampaignId: tenantUntil === null ? null : tenantHold!.campaignId,
      until: iso(tenantUntil === Infinity ? null : tenantUntil),
    },
    tenantUntil === Infinity,
  );
  // As the lease does: a lockout counts only while the lead's zone is under limits.
  const lockedUntil = limits !== null && history.lockedUntil > now ? history.lockedUntil : null;
  add('lockout', lockedUntil === null, { lockedUntil: iso(lockedUntil) }, false);

  const inQueue = queue !== undefined && queue.where !== 'revoked';
  add(
    'queue',
    lead.status !== 'queued' || inQueue,
    { where: queue?.where ?? 'absent' },
    lead.status === 'queued',
  );

  const failing = results.find((r) => !r.pass);
  const dialableNow = failing === undefined;
  const next = dialableNow ? now : blocked ? null : nextWindow;
  return {
    leadId: lead.leadId,
    campaignId: lead.campaignId,
    at: new Date(now).toISOString(),
    dialableNow,
    heldBy: failing?.name ?? null,
    nextDialableAt: iso(next),
    predicates: results,
  };
}
