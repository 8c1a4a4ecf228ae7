// The life of an agent's session, as one pure transition function: (state, event, now) →
// (state, effects). Every pair of state and event has an explicit answer: a device command that
// does not fit the state is refused with a code, a server event that does not apply is ignored
// (named, never silently), and everything a transition must cause — a store call, a frame to the
// device, a timer — is returned as an effect for the socket layer (agent-hub.ts) to carry out.
//
// Commands that need the queue are two steps: the command asks for a store effect, and its
// result comes back as an event (ready_done, accept_done, complete_done ...). The hub runs each
// session's events one at a time, so nothing happens to a session between a command and its
// result: a late offer acknowledgement, a timeout or a revocation is judged against the state the
// finished command left.
//
// The promises this function keeps (test/calls/agent-machine.test.ts checks every pair):
//  - an accepted call is never taken back by an offer timeout, and never released by any event
//    but the device's own reject before the call connected;
//  - an agent is ready on at most one campaign, and in routing only in state `ready`;
//  - an offer that reaches a session that is not ready on its campaign goes straight back;
//  - a session whose call vanished (expired, lost, refused) lands in a state where `agent:ready`
//    works;
//  - a resumed call returns to the state it was in.
import type { WireErrorCode } from '../protocol/errors.js';
import type { AgentState, RevokeReason } from '../protocol/schemas.js';

/** The call a session holds (or held, during the grace period after a drop). */
export interface HeldCall {
  readonly leaseId: string;
  readonly campaignId: string;
  readonly leadId: string | null;
  /** For the wallboard: the lead's first name only, when known. */
  readonly leadFirstName: string | null;
  readonly expiresAt: number;
  /**
   * Revoked for routing while in progress (its number listed mid-call): the queue keeps its lease
   * as a tombstone, not renewable, and still takes its outcome. Nothing to extend.
   */
  readonly routingRevoked?: true;
  /**
   * When the queue recorded the accept (the `now` it was given): the call's start under the
   * calling rules, so a rebuild that lost the number's history counts the call in progress.
   */
  readonly acceptedAt?: number;
}

export type CallPhase = 'offered' | 'dialing' | 'on_call' | 'wrap_up';
export type CallStatus = 'dialing' | 'ringing' | 'connected' | 'ended';

export type MachineState =
  | {
      readonly name: 'offline';
      readonly since: number;
      readonly campaignId: string | null;
      /** The call kept for the grace period, and how far it had got. */
      readonly call: HeldCall | null;
      readonly phase?: CallPhase;
    }
  | {
      readonly name: 'paused';
      readonly since: number;
      readonly reason: string;
      readonly campaignId: string | null;
    }
  | { readonly name: 'ready'; readonly since: number; readonly campaignId: string }
  | {
      readonly name: 'offered';
      readonly since: number;
      readonly campaignId: string;
      readonly call: HeldCall;
      /** The device acknowledged the offer frame (its ack timer is off). */
      readonly acked: boolean;
      readonly pauseAfter: string | null;
    }
  | {
      readonly name: 'dialing' | 'on_call';
      readonly since: number;
      readonly campaignId: string;
      readonly call: HeldCall;
      /** A supervisor paused the agent mid-call: paused with this reason once the call is saved. */
      readonly pauseAfter: string | null;
    }
  | {
      readonly name: 'wrap_up';
      readonly since: number;
      readonly campaignId: string;
      /** The call whose outcome is still to be reported; null once it is saved. */
      readonly call: HeldCall | null;
      readonly pauseAfter: string | null;
    };

export type StateName = MachineState['name'];

export type MachineEvent =
  // device commands (payloads validated at the edge)
  | { readonly type: 'ready'; readonly campaignId: string }
  | { readonly type: 'pause'; readonly reason: string }
  | { readonly type: 'accept'; readonly leaseId: string }
  | { readonly type: 'reject'; readonly leaseId: string; readonly reason: string }
  | { readonly type: 'status'; readonly leaseId: string; readonly status: CallStatus }
  | { readonly type: 'complete'; readonly leaseId: string; readonly ready: boolean }
  // results of the store effects the machine asked for
  | { readonly type: 'ready_done'; readonly campaignId: string; readonly offer: HeldCall | null }
  | {
      readonly type: 'ready_failed';
      readonly code: WireErrorCode;
      readonly left: boolean;
      /** It was the `ready: true` of a completion: the outcome is saved, the agent stays in wrap-up. */
      readonly afterCall: boolean;
    }
  | {
      readonly type: 'accept_done';
      readonly leaseId: string;
      readonly expiresAt: number;
      readonly then: CallStatus | null;
      /** Accepted in the offer's acknowledgement: no command waits for the answer. */
      readonly viaAck?: boolean;
      /** The `now` the queue recorded the accept at. */
      readonly acceptedAt?: number;
    }
  | {
      readonly type: 'accept_failed';
      readonly leaseId: string;
      readonly code: WireErrorCode;
      readonly retryable: boolean;
      readonly viaAck?: boolean;
    }
  | { readonly type: 'complete_done'; readonly leaseId: string; readonly ready: boolean }
  | {
      readonly type: 'complete_failed';
      readonly leaseId: string;
      readonly code: WireErrorCode;
      readonly retryable: boolean;
    }
  // the server
  | { readonly type: 'offer'; readonly call: HeldCall }
  | { readonly type: 'offer_acked'; readonly leaseId: string; readonly accept: boolean }
  | { readonly type: 'offer_timeout'; readonly leaseId: string }
  /** An acknowledged offer's lease ran out (its expiresAt, and a margin) and it was not accepted. */
  | { readonly type: 'offer_deadline'; readonly leaseId: string }
  | { readonly type: 'revoke'; readonly leaseId: string; readonly reason: RevokeReason }
  | { readonly type: 'disconnect' }
  | { readonly type: 'resume'; readonly call: HeldCall; readonly phase: CallPhase }
  | { readonly type: 'grace_expired' }
  | { readonly type: 'replaced' }
  | { readonly type: 'campaign_closed'; readonly campaignId: string }
  | { readonly type: 'force_pause'; readonly reason: string }
  | { readonly type: 'drain' };

export type EventType = MachineEvent['type'];

/** Device commands: the events a device sends and gets an acknowledgement for. */
export const COMMANDS = ['ready', 'pause', 'accept', 'reject', 'status', 'complete'] as const;
export type CommandType = (typeof COMMANDS)[number];

export type Effect =
  /** Answer the device's command with an error (the command changed nothing unless stated). */
  | { readonly type: 'refuse'; readonly code: WireErrorCode; readonly message?: string }
  /** Answer the device's command with these extra fields (besides ok and the state). */
  | { readonly type: 'reply'; readonly fields: Readonly<Record<string, unknown>> }
  /** Mark the agent ready on the campaign and dispatch in the same step (→ ready_done / ready_failed). */
  | {
      readonly type: 'mark_ready';
      readonly campaignId: string;
      readonly leaving: string | null;
      /** Asked by a completion's `ready: true`, not by agent:ready. */
      readonly afterCall?: boolean;
    }
  | { readonly type: 'mark_not_ready'; readonly campaignId: string }
  /** Take the offered call (→ accept_done / accept_failed). */
  | {
      readonly type: 'accept_lease';
      readonly call: HeldCall;
      readonly then: CallStatus | null;
      /** Asked by `{ accept: true }` in the offer's acknowledgement: announce the result. */
      readonly viaAck?: boolean;
    }
  /** Give the lead back (head of its priority, no attempt counted) and dispatch again. */
  | { readonly type: 'release_lease'; readonly call: HeldCall }
  /** Expire the lease now: the reaper puts the lead back, a late outcome is still accepted. */
  | { readonly type: 'expire_lease'; readonly call: HeldCall }
  /** Remember how far the call got, so a device that resumes it is put back there. */
  | { readonly type: 'save_phase'; readonly call: HeldCall; readonly phase: 'on_call' | 'wrap_up' }
  /** Save the outcome (claim, commit, apply) (→ complete_done / complete_failed). */
  | { readonly type: 'complete_call'; readonly leaseId: string }
  | { readonly type: 'send_offer'; readonly call: HeldCall }
  | { readonly type: 'cancel_offer_timer' }
  /**
   * Judge an acknowledged offer at its lease's expiry (→ offer_deadline): one the device never
   * accepted ends then, on this gateway's clock, whether or not the queue still holds its lease.
   */
  | { readonly type: 'start_offer_deadline'; readonly call: HeldCall }
  | { readonly type: 'send_revoked'; readonly leaseId: string; readonly reason: RevokeReason }
  | { readonly type: 'send_resumed'; readonly call: HeldCall; readonly phase: CallPhase }
  /** Push agent:state: a change the device did not ask for. */
  | { readonly type: 'announce' }
  | { readonly type: 'start_grace'; readonly call: HeldCall }
  | { readonly type: 'send_replaced' }
  | { readonly type: 'disconnect' };

export interface Transition {
  readonly state: MachineState;
  readonly effects: readonly Effect[];
  /** Why nothing happened, when an event does not apply to the state (for logs and the table test). */
  readonly ignored?: string;
}

/** Codes meaning the lease is gone for this session: the call cannot go on under it. */
const LEASE_GONE: ReadonlySet<WireErrorCode> = new Set([
  'LEASE_STALE',
  'LEASE_UNKNOWN',
  'LEASE_EXPIRED',
  'LEASE_NOT_OWNED',
  'CAMPAIGN_UNKNOWN',
  'OUTSIDE_CALLING_WINDOW',
  'NUMBER_GAP',
]);

export const LOGIN_STATE = (now: number): MachineState => ({
  name: 'paused',
  since: now,
  reason: 'login',
  campaignId: null,
});

/** How far the call a state holds had got (null when it holds none). */
export function phaseOf(s: MachineState): CallPhase | null {
  switch (s.name) {
    case 'offered':
    case 'dialing':
    case 'on_call':
      return s.name;
    case 'wrap_up':
      return s.call ? 'wrap_up' : null;
    case 'offline':
      return s.call ? (s.phase ?? 'dialing') : null;
    case 'paused':
    case 'ready':
      return null;
    default: {
      const never: never = s;
      throw new Error(`unknown state ${JSON.stringify(never)}`);
    }
  }
}

/** The call a state holds, if any. */
export function callOf(s: MachineState): HeldCall | null {
  switch (s.name) {
    case 'offered':
    case 'dialing':
    case 'on_call':
      return s.call;
    case 'wrap_up':
    case 'offline':
      return s.call;
    case 'paused':
    case 'ready':
      return null;
    default: {
      const never: never = s;
      throw new Error(`unknown state ${JSON.stringify(never)}`);
    }
  }
}

export function campaignOf(s: MachineState): string | null {
  return s.campaignId;
}

/** The state as the wire protocol shows it (agent:state, acks, the wallboard). */
export function wireState(s: MachineState): AgentState {
  const campaign = s.campaignId === null ? {} : { campaignId: s.campaignId };
  if (s.name === 'paused') return { state: 'paused', reason: s.reason, since: s.since, ...campaign };
  return { state: s.name, since: s.since, ...campaign };
}

const stay = (state: MachineState, effects: readonly Effect[] = []): Transition => ({ state, effects });
const ignore = (state: MachineState, why: string): Transition => ({ state, effects: [], ignored: why });
const refuse = (state: MachineState, code: WireErrorCode, message?: string): Transition => ({
  state,
  effects: [{ type: 'refuse', code, ...(message === undefined ? {} : { message }) }],
});

const paused = (now: number, reason: string, campaignId: string | null): MachineState => ({
  name: 'paused',
  since: now,
  reason,
  campaignId,
});
const wrapUp = (
  now: number,
  campaignId: string,
  call: HeldCall | null,
  pauseAfter: string | null,
): MachineState => ({
  name: 'wrap_up',
  since: now,
  campaignId,
  call,
  pauseAfter,
});
/** After a call's outcome is saved: wrap-up, or paused if a supervisor asked for it mid-call. */
const afterCall = (now: number, campaignId: string, pauseAfter: string | null): MachineState =>
  pauseAfter === null ? wrapUp(now, campaignId, null, null) : paused(now, pauseAfter, campaignId);

const sameCall = (s: MachineState, leaseId: string): boolean => callOf(s)?.leaseId === leaseId;

const NOT_HELD = 'This session does not hold that lease (reconnect with auth.leaseId to resume a call)';

const phaseState = (
  now: number,
  campaignId: string,
  call: HeldCall,
  phase: CallPhase,
  pauseAfter: string | null,
): MachineState => {
  switch (phase) {
    case 'offered':
      return { name: 'offered', since: now, campaignId, call, acked: true, pauseAfter };
    case 'dialing':
    case 'on_call':
      return { name: phase, since: now, campaignId, call, pauseAfter };
    case 'wrap_up':
      return wrapUp(now, campaignId, call, pauseAfter);
    default: {
      const never: never = phase;
      throw new Error(`unknown phase ${String(never)}`);
    }
  }
};

/**
 * agent:ready and agent:pause need a connected session holding no call: the refusal, saying what
 * to do first, for a state that holds one (or is offline).
 */
function callFirst(s: MachineState): Transition {
  switch (s.name) {
    case 'offered':
      return refuse(s, 'NOT_READY', 'accept or reject the offered call first');
    case 'dialing':
    case 'on_call':
      return refuse(s, 'NOT_READY', 'finish the current call first');
    case 'wrap_up':
      return refuse(s, 'NOT_READY', 'report the outcome of the current call first');
    case 'offline':
      return refuse(s, 'NOT_READY', 'the session is offline');
    case 'paused':
    case 'ready':
      return stay(s);
    default:
      return unreachable(s);
  }
}

/** Where a status report moves an accepted call: only forward (dialling → on the call → ended). */
function statusState(
  s: Extract<MachineState, { name: 'dialing' | 'on_call' | 'wrap_up' }>,
  call: HeldCall,
  status: CallStatus,
  now: number,
): Transition {
  const rank = { dialing: 1, on_call: 2, wrap_up: 3 } as const;
  if (status === 'dialing' || status === 'ringing') return stay(s);
  const target = status === 'connected' ? 'on_call' : 'wrap_up';
  if (rank[target] <= rank[s.name]) return stay(s);
  const next: MachineState =
    target === 'wrap_up'
      ? wrapUp(now, s.campaignId, call, s.pauseAfter)
      : { name: 'on_call', since: now, campaignId: s.campaignId, call, pauseAfter: s.pauseAfter };
  return stay(next, [{ type: 'save_phase', call, phase: target }]);
}

/** The one transition function: every state, every event. */
export function transition(s: MachineState, e: MachineEvent, now: number): Transition {
  switch (e.type) {
    // ---- device commands ----
    case 'ready':
      switch (s.name) {
        case 'paused':
          return stay(s, [{ type: 'mark_ready', campaignId: e.campaignId, leaving: null }]);
        case 'ready':
          return stay(s, [
            {
              type: 'mark_ready',
              campaignId: e.campaignId,
              leaving: s.campaignId === e.campaignId ? null : s.campaignId,
            },
          ]);
        case 'wrap_up':
          return s.call
            ? callFirst(s)
            : stay(s, [{ type: 'mark_ready', campaignId: e.campaignId, leaving: null }]);
        case 'offered':
        case 'dialing':
        case 'on_call':
        case 'offline':
          return callFirst(s);
        default:
          return unreachable(s);
      }

    case 'pause':
      switch (s.name) {
        case 'ready':
          return stay(paused(now, e.reason, s.campaignId), [
            { type: 'mark_not_ready', campaignId: s.campaignId },
          ]);
        case 'paused':
          return stay(paused(now, e.reason, s.campaignId));
        case 'wrap_up':
          return s.call ? callFirst(s) : stay(paused(now, e.reason, s.campaignId));
        case 'offered':
        case 'dialing':
        case 'on_call':
        case 'offline':
          return callFirst(s);
        default:
          return unreachable(s);
      }

    case 'accept':
      switch (s.name) {
        case 'offered':
          return sameCall(s, e.leaseId)
            ? stay(s, [{ type: 'cancel_offer_timer' }, { type: 'accept_lease', call: s.call, then: null }])
            : refuse(s, 'LEASE_NOT_HELD', NOT_HELD);
        case 'dialing':
        case 'on_call':
        case 'wrap_up':
          // Accepted already (by the offer's acknowledgement, or a repeat): the same answer again.
          return s.call && sameCall(s, e.leaseId)
            ? stay(s, [{ type: 'reply', fields: { expiresAt: s.call.expiresAt } }])
            : refuse(s, 'LEASE_NOT_HELD', NOT_HELD);
        case 'paused':
        case 'ready':
          return refuse(s, 'LEASE_NOT_HELD', NOT_HELD);
        case 'offline':
          return refuse(s, 'NOT_READY', 'the session is offline');
        default:
          return unreachable(s);
      }

    case 'reject':
      switch (s.name) {
        case 'offered':
        case 'dialing':
          return sameCall(s, e.leaseId)
            ? stay(paused(now, e.reason, s.campaignId), [
                { type: 'cancel_offer_timer' },
                { type: 'release_lease', call: s.call },
              ])
            : refuse(s, 'LEASE_NOT_HELD', NOT_HELD);
        case 'on_call':
        case 'wrap_up':
          return s.call && sameCall(s, e.leaseId)
            ? refuse(s, 'NOT_READY', 'a call that connected is completed with its outcome, not rejected')
            : refuse(s, 'LEASE_NOT_HELD', NOT_HELD);
        case 'paused':
        case 'ready':
          return refuse(s, 'LEASE_NOT_HELD', NOT_HELD);
        case 'offline':
          return refuse(s, 'NOT_READY', 'the session is offline');
        default:
          return unreachable(s);
      }

    case 'status':
      switch (s.name) {
        case 'offered':
          // Dialling before accepting is accepting: take the call, then record the status.
          return sameCall(s, e.leaseId)
            ? stay(s, [
                { type: 'cancel_offer_timer' },
                { type: 'accept_lease', call: s.call, then: e.status },
              ])
            : refuse(s, 'LEASE_NOT_HELD', NOT_HELD);
        case 'dialing':
        case 'on_call':
        case 'wrap_up':
          return s.call && sameCall(s, e.leaseId)
            ? statusState(s, s.call, e.status, now)
            : refuse(s, 'LEASE_NOT_HELD', NOT_HELD);
        case 'paused':
        case 'ready':
          return refuse(s, 'LEASE_NOT_HELD', NOT_HELD);
        case 'offline':
          return refuse(s, 'NOT_READY', 'the session is offline');
        default:
          return unreachable(s);
      }

    case 'complete':
      // The outcome of a call that really happened is saved whatever the session is doing now:
      // the queue fences it by lease id and agent. Only an offline session cannot send one.
      switch (s.name) {
        case 'offline':
          return refuse(s, 'NOT_READY', 'the session is offline');
        case 'offered':
          return stay(
            s,
            sameCall(s, e.leaseId)
              ? [{ type: 'cancel_offer_timer' }, { type: 'complete_call', leaseId: e.leaseId }]
              : [{ type: 'complete_call', leaseId: e.leaseId }],
          );
        case 'paused':
        case 'ready':
        case 'dialing':
        case 'on_call':
        case 'wrap_up':
          return stay(s, [{ type: 'complete_call', leaseId: e.leaseId }]);
        default:
          return unreachable(s);
      }

    // ---- results of store effects ----
    case 'ready_done':
      switch (s.name) {
        case 'paused':
        case 'ready':
        case 'wrap_up': {
          const keepSince = s.name === 'ready' && s.campaignId === e.campaignId;
          if (e.offer) {
            return stay(
              {
                name: 'offered',
                since: now,
                campaignId: e.campaignId,
                call: e.offer,
                acked: false,
                pauseAfter: null,
              },
              [{ type: 'send_offer', call: e.offer }],
            );
          }
          return stay({ name: 'ready', since: keepSince ? s.since : now, campaignId: e.campaignId });
        }
        case 'offered':
        case 'dialing':
        case 'on_call':
        case 'offline':
          // Not reachable while a session's events run one at a time; an offer it carries goes back.
          return e.offer
            ? stay(s, [{ type: 'release_lease', call: e.offer }])
            : ignore(s, 'not waiting to be ready');
        default:
          return unreachable(s);
      }

    case 'ready_failed':
      // The outcome before it is saved: that is the answer; the agent stays in wrap-up.
      if (e.afterCall) return stay(s);
      if (s.name === 'ready' && e.left) {
        // It left its campaign for another that refused it: in routing nowhere now.
        return stay(paused(now, 'ready_refused', s.campaignId), [
          { type: 'refuse', code: e.code },
          { type: 'announce' },
        ]);
      }
      return refuse(s, e.code);

    case 'accept_done':
      if (s.name === 'offered' && sameCall(s, e.leaseId)) {
        const call = {
          ...s.call,
          expiresAt: e.expiresAt,
          ...(e.acceptedAt === undefined ? {} : { acceptedAt: e.acceptedAt }),
        };
        const dialing: MachineState = {
          name: 'dialing',
          since: now,
          campaignId: s.campaignId,
          call,
          pauseAfter: s.pauseAfter,
        };
        // Accepted in the offer's acknowledgement: no command waits, and the device is dialling
        // already (that is what accepting in the acknowledgement saves a round trip for), so
        // success is silent; only a failure is announced (accept_failed below).
        const reply: readonly Effect[] = e.viaAck
          ? []
          : [{ type: 'reply', fields: { expiresAt: e.expiresAt } }];
        if (e.then === null) return stay(dialing, reply);
        const next = statusState(dialing, call, e.then, now);
        return stay(next.state, [...reply, ...next.effects]);
      }
      return ignore(s, 'no offer of that lease is waiting');

    case 'accept_failed':
      if (s.name === 'offered' && sameCall(s, e.leaseId)) {
        if (e.retryable || !LEASE_GONE.has(e.code)) {
          // Still offered. Accepted in the acknowledgement, the device learns it from
          // agent:state (offered, not dialing) and may send call:accept.
          return e.viaAck
            ? stay(s, [{ type: 'announce' }, { type: 'start_offer_deadline', call: s.call }])
            : refuse(s, e.code);
        }
        if (e.code === 'NUMBER_GAP') {
          // Withdrawn at accept for the tenant-wide gap: the device is told as for any offer
          // taken back (a device that accepted in the acknowledgement is dialling already).
          return stay(paused(now, 'gap', s.campaignId), [
            { type: 'refuse', code: e.code },
            { type: 'send_revoked', leaseId: s.call.leaseId, reason: 'gap' },
            { type: 'announce' },
          ]);
        }
        const reason = e.code === 'OUTSIDE_CALLING_WINDOW' ? 'window_closed' : 'call_lost';
        return stay(paused(now, reason, s.campaignId), [
          { type: 'refuse', code: e.code },
          { type: 'announce' },
        ]);
      }
      return refuse(s, e.code);

    case 'complete_done':
      switch (s.name) {
        case 'offered':
        case 'dialing':
        case 'on_call':
        case 'wrap_up':
          if (s.call && sameCall(s, e.leaseId)) {
            const next = afterCall(now, s.campaignId, s.pauseAfter);
            if (next.name === 'paused')
              return stay(next, [{ type: 'cancel_offer_timer' }, { type: 'announce' }]);
            return stay(next, [
              { type: 'cancel_offer_timer' },
              ...(e.ready
                ? [{ type: 'mark_ready', campaignId: s.campaignId, leaving: null, afterCall: true } as const]
                : []),
            ]);
          }
          // Another (earlier) call's outcome: this one goes on; ready after wrap-up if asked.
          return s.name === 'wrap_up' && s.call === null && e.ready
            ? stay(s, [{ type: 'mark_ready', campaignId: s.campaignId, leaving: null, afterCall: true }])
            : stay(s);
        case 'paused':
        case 'ready':
        case 'offline':
          return stay(s);
        default:
          return unreachable(s);
      }

    case 'complete_failed':
      switch (s.name) {
        case 'offered':
        case 'dialing':
        case 'on_call':
        case 'wrap_up':
          if (s.call && sameCall(s, e.leaseId) && !e.retryable && LEASE_GONE.has(e.code)) {
            // Its lease is gone: the call is over for this session, and ready works again.
            return stay(afterCall(now, s.campaignId, s.pauseAfter), [
              { type: 'cancel_offer_timer' },
              { type: 'refuse', code: e.code },
              { type: 'announce' },
            ]);
          }
          return refuse(s, e.code);
        case 'paused':
        case 'ready':
        case 'offline':
          return refuse(s, e.code);
        default:
          return unreachable(s);
      }

    // ---- the server ----
    case 'offer':
      if (s.name === 'ready' && s.campaignId === e.call.campaignId) {
        return stay(
          {
            name: 'offered',
            since: now,
            campaignId: s.campaignId,
            call: e.call,
            acked: false,
            pauseAfter: null,
          },
          [{ type: 'send_offer', call: e.call }],
        );
      }
      // Not ready on this campaign (paused, busy, switched campaigns, gone): the lead goes back.
      return {
        state: s,
        effects: [{ type: 'release_lease', call: e.call }],
        ignored: `offer while ${s.name}`,
      };

    case 'offer_acked':
      if (s.name === 'offered' && sameCall(s, e.leaseId)) {
        const acked = { ...s, acked: true };
        return stay(
          acked,
          e.accept
            ? [
                { type: 'cancel_offer_timer' },
                { type: 'accept_lease', call: s.call, then: null, viaAck: true },
              ]
            : [{ type: 'cancel_offer_timer' }, { type: 'start_offer_deadline', call: s.call }],
        );
      }
      // Accepted already by call:accept (or revoked meanwhile): a late acknowledgement changes nothing.
      return ignore(s, 'no unacknowledged offer of that lease');

    case 'offer_timeout':
      if (s.name === 'offered' && !s.acked && sameCall(s, e.leaseId)) {
        return stay(paused(now, 'offer_timeout', s.campaignId), [
          { type: 'release_lease', call: s.call },
          { type: 'send_revoked', leaseId: s.call.leaseId, reason: 'offer_timeout' },
          { type: 'announce' },
        ]);
      }
      // An acknowledged or accepted call is never taken back by an offer timeout.
      return ignore(s, 'offer acknowledged, accepted or gone');

    case 'offer_deadline':
      // Acknowledged, never accepted, and its lease has run out: the offer ends here, as the
      // reaper's revocation would end it. The queue may have lost the lease (a Redis failover
      // whose replica never got it): then no revocation comes, and without this the agent would
      // stay offered for ever. Expiring it also lets the reaper put the lead back if it is held.
      if (s.name === 'offered' && s.acked && sameCall(s, e.leaseId)) {
        return stay(paused(now, 'offer_expired', s.campaignId), [
          { type: 'expire_lease', call: s.call },
          { type: 'send_revoked', leaseId: s.call.leaseId, reason: 'expired' },
          { type: 'announce' },
        ]);
      }
      return ignore(s, 'offer accepted or gone');

    case 'revoke': {
      const call = callOf(s);
      if (!call || call.leaseId !== e.leaseId) return ignore(s, 'not holding that lease');
      switch (s.name) {
        case 'offline':
          return stay({ ...s, call: null });
        case 'offered':
          return stay(paused(now, e.reason === 'expired' ? 'offer_expired' : e.reason, s.campaignId), [
            { type: 'cancel_offer_timer' },
            ...(e.reason === 'shutdown' ? [{ type: 'release_lease', call } as const] : []),
            { type: 'send_revoked', leaseId: call.leaseId, reason: e.reason },
            { type: 'announce' },
          ]);
        case 'dialing':
        case 'on_call':
        case 'wrap_up':
          // Taken away for routing; a number removed mid-call keeps the call open for its outcome.
          return stay(
            wrapUp(
              now,
              s.campaignId,
              e.reason === 'removed' ? { ...call, routingRevoked: true } : null,
              s.pauseAfter,
            ),
            [{ type: 'send_revoked', leaseId: call.leaseId, reason: e.reason }, { type: 'announce' }],
          );
        case 'paused':
        case 'ready':
          return ignore(s, 'not holding that lease');
        default:
          return unreachable(s);
      }
    }

    case 'disconnect':
      switch (s.name) {
        case 'ready':
          return stay({ name: 'offline', since: now, campaignId: s.campaignId, call: null }, [
            { type: 'mark_not_ready', campaignId: s.campaignId },
          ]);
        case 'offered':
        case 'dialing':
        case 'on_call':
        case 'wrap_up': {
          const call = s.call;
          const offline: MachineState = {
            name: 'offline',
            since: now,
            campaignId: s.campaignId,
            call,
            phase: s.name,
          };
          // A tunnel, a lift: the call is kept for the grace period, for the device to resume it.
          return stay(offline, call ? [{ type: 'cancel_offer_timer' }, { type: 'start_grace', call }] : []);
        }
        case 'paused':
          return stay({ name: 'offline', since: now, campaignId: s.campaignId, call: null });
        case 'offline':
          return ignore(s, 'offline already');
        default:
          return unreachable(s);
      }

    case 'grace_expired':
      if (s.name === 'offline' && s.call) {
        return stay({ ...s, call: null }, [{ type: 'expire_lease', call: s.call }]);
      }
      return ignore(s, 'no call held offline');

    case 'replaced': {
      // A newer session of the same agent took over. A call this one held is kept for the grace
      // period, as after a drop: the newer session resumes it by naming its lease id.
      const call = callOf(s);
      const phase = phaseOf(s);
      const effects: Effect[] = [
        { type: 'cancel_offer_timer' },
        { type: 'send_replaced' },
        { type: 'disconnect' },
      ];
      if (s.name === 'ready') effects.unshift({ type: 'mark_not_ready', campaignId: s.campaignId });
      if (call && s.name !== 'offline') effects.push({ type: 'start_grace', call });
      return stay(
        { name: 'offline', since: now, campaignId: s.campaignId, call, ...(phase ? { phase } : {}) },
        effects,
      );
    }

    case 'resume':
      if (s.name === 'paused' && s.reason === 'login') {
        const next = phaseState(now, e.call.campaignId, e.call, e.phase, null);
        return stay(next, [{ type: 'send_resumed', call: e.call, phase: e.phase }, { type: 'announce' }]);
      }
      return ignore(s, 'a call is resumed only at login');

    case 'campaign_closed':
      if (s.name === 'ready' && s.campaignId === e.campaignId) {
        return stay(paused(now, 'campaign_closed', s.campaignId), [
          { type: 'mark_not_ready', campaignId: s.campaignId },
          { type: 'announce' },
        ]);
      }
      return ignore(s, 'not ready on that campaign');

    case 'force_pause':
      switch (s.name) {
        case 'ready':
          return stay(paused(now, e.reason, s.campaignId), [
            { type: 'mark_not_ready', campaignId: s.campaignId },
            { type: 'announce' },
          ]);
        case 'paused':
          return stay(paused(now, e.reason, s.campaignId), [{ type: 'announce' }]);
        case 'offered':
          // Not taken yet: the offer goes back to the queue.
          return stay(paused(now, e.reason, s.campaignId), [
            { type: 'cancel_offer_timer' },
            { type: 'release_lease', call: s.call },
            { type: 'send_revoked', leaseId: s.call.leaseId, reason: 'paused' },
            { type: 'announce' },
          ]);
        case 'dialing':
        case 'on_call':
          // Never cuts a call: paused as soon as its outcome is saved.
          return stay({ ...s, pauseAfter: e.reason });
        case 'wrap_up':
          return s.call
            ? stay({ ...s, pauseAfter: e.reason })
            : stay(paused(now, e.reason, s.campaignId), [{ type: 'announce' }]);
        case 'offline':
          return ignore(s, 'offline');
        default:
          return unreachable(s);
      }

    case 'drain':
      switch (s.name) {
        case 'ready':
          return stay(paused(now, 'shutdown', s.campaignId), [
            { type: 'mark_not_ready', campaignId: s.campaignId },
            { type: 'announce' },
          ]);
        case 'offered':
          // Not taken yet: back to the queue, for another gateway's agents.
          return stay(paused(now, 'shutdown', s.campaignId), [
            { type: 'cancel_offer_timer' },
            { type: 'release_lease', call: s.call },
            { type: 'send_revoked', leaseId: s.call.leaseId, reason: 'shutdown' },
            { type: 'announce' },
          ]);
        case 'paused':
        case 'dialing':
        case 'on_call':
        case 'wrap_up':
        case 'offline':
          return ignore(s, 'nothing to give back');
        default:
          return unreachable(s);
      }

    default: {
      const never: never = e;
      throw new Error(`unknown event ${JSON.stringify(never)}`);
    }
  }
}

function unreachable(s: never): never {
  throw new Error(`unknown state ${JSON.stringify(s)}`);
}
