// The independent checker. It knows the system only from outside: what every device saw (each
// offer, acceptance, resume, revocation, completion sent and how it was answered), what the
// harness did (freezes, do-not-call additions and when they were acknowledged), the call_attempts
// and leads rows in Postgres, and at the end what the Redis queue holds. From that history it
// checks the three promises, in the style of Jepsen's total-queue checker:
//  - double-lease: two devices holding one lead at once (a device holds a lease from its offer or
//    resume until it is answered, revoked, refused, or loses its connection);
//  - lost / duplicated / acknowledged-not-persisted / misapplied: every acknowledged outcome is
//    in Postgres exactly once for the right lead; a final lead has one final outcome, is never
//    offered again, and at the end every lead is final (or removed) in Postgres or queued in Redis;
//  - dnc-offered: no number offered after its do-not-call addition was acknowledged;
//  - retry-too-early: a retry never offered before its due time.
import type { FloorEvent } from './floor-protocol.js';

/** Events from different processes race by a few ms (a revoke and the next offer): allowed. */
export const RACE_TOLERANCE_MS = 300;

export type HarnessEvent =
  | { kind: 'freeze'; t: number; agentId: string }
  | { kind: 'thaw'; t: number; agentId: string }
  | { kind: 'dnc-acked'; t: number; phones: string[] }
  /** A fault the harness injected (for the record; the checks do not depend on it). */
  | { kind: 'fault'; t: number; what: string };

export type HistoryEvent = FloorEvent | HarnessEvent;

export interface AttemptRow {
  readonly lease_id: string;
  readonly lead_id: string;
  readonly agent_id: string;
  readonly outcome: string;
  readonly disposition: string;
  readonly late: boolean;
  readonly voided: boolean;
  readonly completed_at: number;
}

export interface LeadRow {
  readonly id: string;
  readonly phone: string;
  readonly status: string;
}

export interface EndState {
  readonly attempts: readonly AttemptRow[];
  readonly leads: readonly LeadRow[];
  /** Lead ids the Redis queue holds (ready, scheduled, pinned) once drained. */
  readonly queued: ReadonlySet<string>;
  /** Live leases left in Redis once drained (should be none). */
  readonly liveLeases: number;
  /** Lead ids the queue still has a record of, wherever (to tell "lost" from "stuck"). */
  readonly recorded: ReadonlySet<string>;
  /** For such leads, where the queue's bookkeeping has them (raw, for diagnosis). */
  readonly stuck: Readonly<Record<string, string>>;
}

export interface Anomaly {
  readonly type: string;
  readonly detail: string;
}

export interface ScenarioSummary {
  readonly offers: number;
  readonly accepted: number;
  readonly acknowledged: number;
  readonly duplicateAnswers: number;
  readonly retriedCompletions: number;
  readonly refusedByCode: Record<string, number>;
  readonly rows: number;
  readonly lateRows: number;
  readonly voidRows: number;
  readonly resumed: number;
  readonly anomalies: number;
}

interface Offer {
  readonly leaseId: string;
  readonly leadId: string;
  readonly phone: string;
  readonly agentId: string;
  readonly t: number;
}

interface Hold {
  readonly agentId: string;
  readonly leaseId: string;
  readonly leadId: string;
  readonly start: number;
  end: number;
}

const FINAL = new Set(['final', 'exhausted', 'dnc']);

export class Observer {
  readonly history: HistoryEvent[] = [];
  /** What each agent holds now, for the harness to aim faults at. */
  readonly live = new Map<
    string,
    { leaseId: string; leadId: string; phone: string; accepted: boolean; onCall: boolean }
  >();

  record(event: HistoryEvent): void {
    this.history.push(event);
    if (!('agentId' in event) || event.kind === 'freeze' || event.kind === 'thaw') return;
    const { agentId } = event;
    const held = this.live.get(agentId);
    if (event.kind === 'offer') {
      this.live.set(agentId, {
        leaseId: event.leaseId,
        leadId: event.leadId,
        phone: event.phone,
        accepted: false,
        onCall: false,
      });
    } else if (event.kind === 'accepted') {
      if (held?.leaseId === event.leaseId) held.accepted = true;
    } else if (event.kind === 'on-call') {
      if (held?.leaseId === event.leaseId) held.onCall = true;
    } else if (
      event.kind === 'completed' ||
      event.kind === 'complete-refused' ||
      event.kind === 'accept-refused'
    ) {
      if (held?.leaseId === event.leaseId) this.live.delete(agentId);
    } else if (event.kind === 'revoked') {
      if (event.reason !== 'removed' && held?.leaseId === event.leaseId) this.live.delete(agentId);
    } else if (event.kind === 'resume-lost') {
      if (!event.accepted) this.live.delete(agentId);
    }
  }

  of<K extends HistoryEvent['kind']>(kind: K): Extract<HistoryEvent, { kind: K }>[] {
    return this.history.filter((e): e is Extract<HistoryEvent, { kind: K }> => e.kind === kind);
  }

  /** Every lease offered, by id (the first offer). */
  offers(): Map<string, Offer> {
    const offers = new Map<string, Offer>();
    for (const e of this.of('offer')) if (!offers.has(e.leaseId)) offers.set(e.leaseId, e);
    return offers;
  }

  holds(): Hold[] {
    const holds: Hold[] = [];
    const open = new Map<string, Hold>();
    const close = (agentId: string, t: number, leaseId?: string) => {
      const h = open.get(agentId);
      if (!h || (leaseId !== undefined && h.leaseId !== leaseId)) return;
      h.end = t;
      open.delete(agentId);
    };
    const offers = this.offers();
    const sorted = [...this.history].sort((a, b) => a.t - b.t);
    let last = 0;
    for (const e of sorted) {
      last = Math.max(last, e.t);
      if (e.kind === 'offer' || e.kind === 'resumed') {
        close(e.agentId, e.t);
        const leadId = e.kind === 'offer' ? e.leadId : (offers.get(e.leaseId)?.leadId ?? '?');
        const h: Hold = { agentId: e.agentId, leaseId: e.leaseId, leadId, start: e.t, end: Infinity };
        holds.push(h);
        open.set(e.agentId, h);
      } else if (e.kind === 'completed' || e.kind === 'complete-refused' || e.kind === 'accept-refused') {
        close(e.agentId, e.t, e.leaseId);
      } else if (e.kind === 'revoked') {
        if (e.reason !== 'removed') close(e.agentId, e.t, e.leaseId);
      } else if (e.kind === 'disconnect' || e.kind === 'freeze') {
        close(e.agentId, e.t);
      }
    }
    for (const h of open.values()) h.end = last;
    return holds;
  }

  check(end: EndState): { anomalies: Anomaly[]; summary: ScenarioSummary } {
    const anomalies: Anomaly[] = [];
    const add = (type: string, detail: string) => anomalies.push({ type, detail });
    const offers = this.offers();

    // A lease id is issued once: never offered twice.
    const seen = new Map<string, number>();
    for (const e of this.of('offer')) seen.set(e.leaseId, (seen.get(e.leaseId) ?? 0) + 1);
    for (const [id, n] of seen) if (n > 1) add('lease-id-repeated', `${id} offered ${n} times`);
    for (const e of this.of('offer-while-holding')) {
      add('offer-while-holding', `${e.agentId} offered ${e.leaseId} while holding ${e.held}`);
    }

    // Double lease: two devices holding one lead at once.
    const byLead = new Map<string, Hold[]>();
    for (const h of this.holds()) {
      const list = byLead.get(h.leadId) ?? [];
      list.push(h);
      byLead.set(h.leadId, list);
    }
    for (const [leadId, hs] of byLead) {
      for (let i = 0; i < hs.length; i++) {
        for (let j = i + 1; j < hs.length; j++) {
          const a = hs[i]!;
          const b = hs[j]!;
          if (a.agentId === b.agentId) continue;
          const overlap = Math.min(a.end, b.end) - Math.max(a.start, b.start);
          if (overlap > RACE_TOLERANCE_MS) {
            add(
              'double-lease',
              `lead ${leadId}: ${a.agentId} (${a.leaseId}) and ${b.agentId} (${b.leaseId}) for ${overlap} ms`,
            );
          }
        }
      }
    }

    // An accepted call is never taken back by an offer timeout.
    const accepted = new Set(this.of('accepted').map((e) => e.leaseId));
    for (const e of this.of('revoked')) {
      if (e.reason === 'offer_timeout' && accepted.has(e.leaseId)) {
        add('accepted-call-revoked', `${e.leaseId} revoked offer_timeout after it was accepted`);
      }
    }

    // Every acknowledged outcome is in Postgres exactly once, for the right lead.
    const rows = new Map(end.attempts.map((r) => [r.lease_id, r]));
    const completed = this.of('completed');
    for (const e of completed) {
      const row = rows.get(e.leaseId);
      if (!row) add('acknowledged-not-persisted', `${e.leaseId} (${e.agentId})`);
      else if (row.voided) add('acknowledged-but-voided', e.leaseId);
      else if (row.lead_id !== e.leadId || row.outcome !== e.outcome) {
        add(
          'misapplied',
          `${e.leaseId}: acknowledged ${e.outcome} for lead ${e.leadId}, stored ${row.outcome} for ${row.lead_id}`,
        );
      }
    }
    const live = end.attempts.filter((r) => !r.voided);
    for (const r of live) {
      const offer = offers.get(r.lease_id);
      if (!offer) add('row-without-offer', r.lease_id);
      else if (offer.leadId !== r.lead_id)
        add('misapplied', `${r.lease_id}: offered lead ${offer.leadId}, row lead ${r.lead_id}`);
    }

    // Final means final: one final outcome per lead, never offered again afterwards.
    const finals = new Map<string, AttemptRow[]>();
    for (const r of live) {
      const kind = r.disposition.split(':')[0]!;
      if (!FINAL.has(kind)) continue;
      const list = finals.get(r.lead_id) ?? [];
      list.push(r);
      finals.set(r.lead_id, list);
    }
    const ackAt = new Map<string, number>();
    for (const e of completed) if (!ackAt.has(e.leaseId)) ackAt.set(e.leaseId, e.t);
    const offersByLead = new Map<string, Offer[]>();
    for (const e of this.of('offer')) {
      const list = offersByLead.get(e.leadId) ?? [];
      list.push(e);
      offersByLead.set(e.leadId, list);
    }
    for (const [leadId, rs] of finals) {
      if (rs.length > 1) add('duplicated-final', `lead ${leadId}: ${rs.map((r) => r.lease_id).join(', ')}`);
      const first = rs[0]!;
      const finalAt = Math.min(ackAt.get(first.lease_id) ?? Infinity, first.completed_at);
      for (const o of offersByLead.get(leadId) ?? []) {
        if (o.leaseId !== first.lease_id && o.t > finalAt + RACE_TOLERANCE_MS) {
          add('final-offered-again', `lead ${leadId} offered as ${o.leaseId} after its final outcome`);
        }
      }
    }

    // A retry is not offered before it is due.
    for (const r of live) {
      const [kind, due] = r.disposition.split(':');
      if (kind !== 'retry') continue;
      for (const o of offersByLead.get(r.lead_id) ?? []) {
        if (o.t > r.completed_at && o.t < Number(due) - 50) {
          add('retry-too-early', `lead ${r.lead_id} offered ${Number(due) - o.t} ms before due`);
        }
      }
    }

    // No number offered after its do-not-call addition was acknowledged.
    const dncAt = new Map<string, number>();
    const setDnc = (phone: string, t: number) => dncAt.set(phone, Math.min(dncAt.get(phone) ?? Infinity, t));
    for (const e of this.of('dnc-acked')) for (const p of e.phones) setDnc(p, e.t);
    for (const e of completed) {
      if (e.outcome === 'dnc') {
        const phone = offers.get(e.leaseId)?.phone;
        if (phone) setDnc(phone, e.t);
      }
    }
    for (const e of this.of('offer')) {
      const at = dncAt.get(e.phone);
      if (at !== undefined && e.t > at + RACE_TOLERANCE_MS) {
        add('dnc-offered', `lead ${e.leadId} offered ${e.t - at} ms after its do-not-call was acknowledged`);
      }
    }

    // Nothing lost: every lead final or removed in Postgres, or queued in Redis; never both.
    if (end.liveLeases > 0) add('leases-left', `${end.liveLeases} live leases after the drain`);
    for (const lead of end.leads) {
      const inQueue = end.queued.has(lead.id);
      if (lead.status === 'queued' && !inQueue) {
        const where = end.recorded.has(lead.id)
          ? `recorded but in no queue: ${end.stuck[lead.id] ?? '?'}`
          : 'unknown to the queue';
        add('lost', `lead ${lead.id} queued in Postgres, not in the Redis queue (${where})`);
      }
      if (lead.status !== 'queued' && inQueue)
        add('final-requeued', `lead ${lead.id} is ${lead.status} yet queued: ${end.stuck[lead.id] ?? '?'}`);
      if (lead.status === 'final' && !finals.has(lead.id)) add('final-without-outcome', `lead ${lead.id}`);
      if (lead.status === 'queued' && finals.has(lead.id))
        add('final-not-final', `lead ${lead.id} has a final outcome yet is queued`);
    }

    const refusedByCode: Record<string, number> = {};
    for (const e of this.of('complete-refused')) refusedByCode[e.code] = (refusedByCode[e.code] ?? 0) + 1;
    const summary: ScenarioSummary = {
      offers: offers.size,
      accepted: accepted.size,
      acknowledged: new Set(completed.map((e) => e.leaseId)).size,
      duplicateAnswers: completed.filter((e) => e.duplicate).length,
      retriedCompletions: this.of('complete-retry').length,
      refusedByCode,
      rows: live.length,
      lateRows: live.filter((r) => r.late).length,
      voidRows: end.attempts.length - live.length,
      resumed: this.of('resumed').length,
      anomalies: anomalies.length,
    };
    return { anomalies, summary };
  }
}
