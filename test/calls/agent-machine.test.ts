// The agent state machine, pair by pair: every state against every event has an explicit answer,
// and the promises the call flow rests on hold for each of them.
import { describe, expect, it } from 'vitest';
import { callOf, LOGIN_STATE, transition } from '../../gateway/calls/agent-machine.js';
import type { Effect, EventType, MachineEvent, StateName } from '../../gateway/calls/agent-machine.js';
import { AGENT_STATES } from '../../gateway/protocol/schemas.js';
import { OTHER_CALL, SAMPLE_CALL, SAMPLE_EVENTS, SAMPLE_STATES } from '../../gateway/calls/state-diagram.js';

const NOW = 1_000_000;
const call = SAMPLE_CALL;
const other = OTHER_CALL;
const STATES = SAMPLE_STATES;
const EVENTS = SAMPLE_EVENTS;

const ALL_EVENT_TYPES: readonly EventType[] = [
  'ready',
  'pause',
  'accept',
  'reject',
  'status',
  'complete',
  'ready_done',
  'ready_failed',
  'accept_done',
  'accept_failed',
  'complete_done',
  'complete_failed',
  'offer',
  'offer_acked',
  'offer_timeout',
  'offer_deadline',
  'revoke',
  'disconnect',
  'resume',
  'grace_expired',
  'replaced',
  'campaign_closed',
  'force_pause',
  'drain',
];
const COMMANDS = new Set<EventType>(['ready', 'pause', 'accept', 'reject', 'status', 'complete']);

const has = (effects: readonly Effect[], type: Effect['type']) => effects.some((e) => e.type === type);
const released = (effects: readonly Effect[]) =>
  effects.flatMap((e) => (e.type === 'release_lease' ? [e.call.leaseId] : []));

describe('the agent state machine', () => {
  const pairs = STATES.flatMap((s) => EVENTS.map((e) => [s, e] as const));

  it('covers every state and every event', () => {
    expect(new Set(STATES.map((s) => s.name))).toEqual(new Set<StateName>(AGENT_STATES));
    expect(new Set(EVENTS.map((e) => e.type))).toEqual(new Set(ALL_EVENT_TYPES));
  });

  it('answers every pair: a new state and its effects, or a reason it does not apply', () => {
    for (const [s, e] of pairs) {
      const t = transition(s, e, NOW);
      const label = `${s.name} × ${e.type}`;
      expect(AGENT_STATES, label).toContain(t.state.name);
      // A device command always gets an answer: refused, or carried on by an effect or a new state.
      if (COMMANDS.has(e.type)) {
        expect(t.ignored, label).toBeUndefined();
      }
      // A state always carries what it needs.
      if (['offered', 'dialing', 'on_call'].includes(t.state.name))
        expect(callOf(t.state), label).not.toBeNull();
      if (t.state.name !== 'offline' && t.state.name !== 'paused')
        expect(t.state.campaignId, label).not.toBeNull();
    }
  });

  it('never takes back an accepted call by an offer timeout (defect 1)', () => {
    for (const s of STATES) {
      const t = transition(s, { type: 'offer_timeout', leaseId: 'L1' }, NOW);
      if (s.name === 'offered' && !s.acked) {
        expect(released(t.effects)).toEqual(['L1']);
        expect(t.state.name).toBe('paused');
      } else {
        expect(t.effects, s.name).toEqual([]);
        expect(t.state).toBe(s);
      }
    }
    // A late acknowledgement after call:accept changes nothing either.
    const dialing = STATES.find((s) => s.name === 'dialing')!;
    expect(transition(dialing, { type: 'offer_acked', leaseId: 'L1', accept: false }, NOW)).toMatchObject({
      state: dialing,
      effects: [],
    });
  });

  it('announces a call accepted in the offer acknowledgement only when the accept failed', () => {
    const offered = STATES.find((s) => s.name === 'offered' && !s.acked)!;
    const acked = transition(offered, { type: 'offer_acked', leaseId: 'L1', accept: true }, NOW);
    expect(acked.effects).toContainEqual({ type: 'accept_lease', call, then: null, viaAck: true });
    const done = transition(
      acked.state,
      { type: 'accept_done', leaseId: 'L1', expiresAt: NOW + 90_000, then: null, viaAck: true },
      NOW,
    );
    expect(done.state.name).toBe('dialing');
    expect(done.effects).toEqual([]); // the device is dialling already: success is silent
    // A failure that leaves the offer standing says so too (still offered: call:accept may retry).
    const failed = transition(
      acked.state,
      { type: 'accept_failed', leaseId: 'L1', code: 'UNAVAILABLE', retryable: true, viaAck: true },
      NOW,
    );
    expect(failed.state.name).toBe('offered');
    // ... and it still ends when its lease runs out, if no call:accept takes it (defect 14).
    expect(failed.effects).toEqual([{ type: 'announce' }, { type: 'start_offer_deadline', call }]);
    // Accepted with call:accept, the command's own answer carries the result.
    const viaCommand = transition(
      acked.state,
      { type: 'accept_done', leaseId: 'L1', expiresAt: 5, then: null },
      NOW,
    );
    expect(viaCommand.effects).toEqual([{ type: 'reply', fields: { expiresAt: 5 } }]);
  });

  it('ends an acknowledged offer that was never accepted when its lease runs out, never an accepted call (defect 14)', () => {
    const offered = STATES.find((s) => s.name === 'offered' && !s.acked)!;
    const acked = transition(offered, { type: 'offer_acked', leaseId: 'L1', accept: false }, NOW);
    expect(acked.effects).toContainEqual({ type: 'start_offer_deadline', call });
    const ended = transition(acked.state, { type: 'offer_deadline', leaseId: 'L1' }, NOW);
    expect(ended.state).toMatchObject({ name: 'paused', reason: 'offer_expired' });
    expect(ended.effects).toEqual([
      { type: 'expire_lease', call },
      { type: 'send_revoked', leaseId: 'L1', reason: 'expired' },
      { type: 'announce' },
    ]);
    const accepted = transition(acked.state, { type: 'accept', leaseId: 'L1' }, NOW);
    const done = transition(
      accepted.state,
      { type: 'accept_done', leaseId: 'L1', expiresAt: NOW + 90_000, then: null },
      NOW,
    );
    expect(done.state.name).toBe('dialing');
    const late = transition(done.state, { type: 'offer_deadline', leaseId: 'L1' }, NOW);
    expect(late.state).toBe(done.state);
    expect(late.effects).toEqual([]);
    // Not acknowledged: the acknowledgement timeout ends it (offer_timeout), not the deadline.
    expect(transition(offered, { type: 'offer_deadline', leaseId: 'L1' }, NOW).effects).toEqual([]);
  });

  it('releases a call that connected only ... never: only an offer, or a dialling call the device rejects', () => {
    for (const [s, e] of pairs) {
      const t = transition(s, e, NOW);
      const heldBefore = callOf(s);
      if (!heldBefore || !released(t.effects).includes(heldBefore.leaseId)) continue;
      const label = `${s.name} × ${e.type}`;
      expect(['offered', 'dialing'], label).toContain(s.name);
      if (s.name === 'dialing') expect(e.type, label).toBe('reject');
    }
  });

  it('makes an agent ready only from a state with no call, on one campaign at a time (defect 7)', () => {
    for (const [s, e] of pairs) {
      const t = transition(s, e, NOW);
      for (const effect of t.effects) {
        if (effect.type !== 'mark_ready') continue;
        const label = `${s.name} × ${e.type}`;
        // From a state holding no call, or the call just saved (ready: true after a completion).
        const callFree = callOf(s) === null || e.type === 'complete_done';
        expect(callFree, label).toBe(true);
        if (s.name === 'ready' && s.campaignId !== effect.campaignId)
          expect(effect.leaving, label).toBe(s.campaignId);
      }
      // The ready state is reached only through the queue's answer.
      if (t.state.name === 'ready' && s.name !== 'ready') expect(e.type).toBe('ready_done');
    }
  });

  it('sends an offer only to a session ready on its campaign; any other goes straight back', () => {
    for (const s of STATES) {
      for (const offer of [other, { ...other, campaignId: 'c2' }]) {
        const t = transition(s, { type: 'offer', call: offer }, NOW);
        if (s.name === 'ready' && s.campaignId === offer.campaignId) {
          expect(t.state).toMatchObject({ name: 'offered', call: offer, acked: false });
          expect(has(t.effects, 'send_offer')).toBe(true);
        } else {
          expect(released(t.effects), s.name).toEqual([offer.leaseId]);
          expect(t.state).toBe(s);
        }
      }
    }
  });

  it('leaves a session whose call vanished where agent:ready works (defect 9)', () => {
    const vanish: MachineEvent[] = [
      { type: 'revoke', leaseId: 'L1', reason: 'expired' },
      { type: 'accept_failed', leaseId: 'L1', code: 'LEASE_EXPIRED', retryable: false },
      { type: 'accept_failed', leaseId: 'L1', code: 'CAMPAIGN_UNKNOWN', retryable: false },
      { type: 'complete_failed', leaseId: 'L1', code: 'LEASE_STALE', retryable: false },
      { type: 'complete_failed', leaseId: 'L1', code: 'LEASE_UNKNOWN', retryable: false },
    ];
    for (const s of STATES.filter((x) => x.name !== 'offline' && callOf(x))) {
      for (const e of vanish) {
        const after = transition(s, e, NOW).state;
        if (after === s) continue; // that result does not apply in this state
        const ready = transition(after, { type: 'ready', campaignId: 'c1' }, NOW);
        expect(has(ready.effects, 'mark_ready'), `${s.name} × ${e.type} → ${after.name}`).toBe(true);
      }
    }
  });

  it('puts a resumed call back in the state it was in (defect 11)', () => {
    for (const phase of ['offered', 'dialing', 'on_call', 'wrap_up'] as const) {
      const t = transition(LOGIN_STATE(0), { type: 'resume', call, phase }, NOW);
      expect(t.state.name).toBe(phase);
      expect(callOf(t.state)).toEqual(call);
      expect(t.effects).toEqual([{ type: 'send_resumed', call, phase }, { type: 'announce' }]);
    }
  });

  it('moves a call forward only, and remembers how far it got', () => {
    const dialing = STATES.find((s) => s.name === 'dialing' && s.pauseAfter === null)!;
    const connected = transition(dialing, { type: 'status', leaseId: 'L1', status: 'connected' }, NOW);
    expect(connected.state.name).toBe('on_call');
    expect(connected.effects).toEqual([{ type: 'save_phase', call, phase: 'on_call' }]);
    const back = transition(connected.state, { type: 'status', leaseId: 'L1', status: 'dialing' }, NOW);
    expect(back).toEqual({ state: connected.state, effects: [] });
    const ended = transition(connected.state, { type: 'status', leaseId: 'L1', status: 'ended' }, NOW);
    expect(ended.state).toMatchObject({ name: 'wrap_up', call });
  });

  it('keeps a call revoked mid-call because its number was listed open for its outcome (defect 5)', () => {
    const onCall = STATES.find((s) => s.name === 'on_call')!;
    const t = transition(onCall, { type: 'revoke', leaseId: 'L1', reason: 'removed' }, NOW);
    expect(t.state).toMatchObject({ name: 'wrap_up', call });
    expect(t.effects).toContainEqual({ type: 'send_revoked', leaseId: 'L1', reason: 'removed' });
    expect(
      has(
        transition(t.state, { type: 'complete', leaseId: 'L1', ready: false }, NOW).effects,
        'complete_call',
      ),
    ).toBe(true);
  });

  it('never cuts a call for a supervisor: the agent is paused once the outcome is saved', () => {
    const onCall = STATES.find((s) => s.name === 'on_call')!;
    const marked = transition(onCall, { type: 'force_pause', reason: 'coaching' }, NOW).state;
    expect(marked).toMatchObject({ name: 'on_call', pauseAfter: 'coaching' });
    const after = transition(marked, { type: 'complete_done', leaseId: 'L1', ready: true }, NOW);
    expect(after.state).toMatchObject({ name: 'paused', reason: 'coaching' });
    expect(has(after.effects, 'mark_ready')).toBe(false);
  });

  it('keeps a dropped call for the grace period, then expires it (never releases it)', () => {
    const onCall = STATES.find((s) => s.name === 'on_call')!;
    const dropped = transition(onCall, { type: 'disconnect' }, NOW);
    expect(dropped.state).toMatchObject({ name: 'offline', call });
    expect(dropped.effects).toContainEqual({ type: 'start_grace', call });
    const expired = transition(dropped.state, { type: 'grace_expired' }, NOW);
    expect(expired.effects).toEqual([{ type: 'expire_lease', call }]);
    expect(released(expired.effects)).toEqual([]);
  });
});
