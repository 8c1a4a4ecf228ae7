// The agent state machine's table, drawn: every sample state against every sample event, the
// transitions that change the state collected into a Mermaid state diagram for the README. The
// samples cover every state (in each variant that matters) and every event, so the diagram is the
// transition table's, and the table test (test/calls/agent-machine.test.ts) runs on the same pairs.
import { LOGIN_STATE, transition } from './agent-machine.js';
import type { HeldCall, MachineEvent, MachineState } from './agent-machine.js';

/** A sample call, held under lease L1. */
export const SAMPLE_CALL: HeldCall = {
  leaseId: 'L1',
  campaignId: 'c1',
  leadId: '7',
  leadFirstName: 'Ada',
  expiresAt: 1_005_000,
};
export const OTHER_CALL: HeldCall = { ...SAMPLE_CALL, leaseId: 'L2' };

/** Every state, in every variant that matters. */
export const SAMPLE_STATES: readonly MachineState[] = [
  LOGIN_STATE(0),
  { name: 'paused', since: 0, reason: 'lunch', campaignId: 'c1' },
  { name: 'ready', since: 0, campaignId: 'c1' },
  { name: 'offered', since: 0, campaignId: 'c1', call: SAMPLE_CALL, acked: false, pauseAfter: null },
  { name: 'offered', since: 0, campaignId: 'c1', call: SAMPLE_CALL, acked: true, pauseAfter: null },
  { name: 'dialing', since: 0, campaignId: 'c1', call: SAMPLE_CALL, pauseAfter: null },
  { name: 'dialing', since: 0, campaignId: 'c1', call: SAMPLE_CALL, pauseAfter: 'supervisor' },
  { name: 'on_call', since: 0, campaignId: 'c1', call: SAMPLE_CALL, pauseAfter: null },
  { name: 'wrap_up', since: 0, campaignId: 'c1', call: SAMPLE_CALL, pauseAfter: null },
  { name: 'wrap_up', since: 0, campaignId: 'c1', call: null, pauseAfter: null },
  { name: 'offline', since: 0, campaignId: 'c1', call: SAMPLE_CALL, phase: 'on_call' },
  { name: 'offline', since: 0, campaignId: null, call: null },
];

/** Every event, for the held lease and for another one where a lease is named. */
export const SAMPLE_EVENTS: readonly MachineEvent[] = [
  { type: 'ready', campaignId: 'c1' },
  { type: 'ready', campaignId: 'c2' },
  { type: 'pause', reason: 'coffee' },
  { type: 'accept', leaseId: 'L1' },
  { type: 'accept', leaseId: 'L2' },
  { type: 'reject', leaseId: 'L1', reason: 'declined' },
  { type: 'reject', leaseId: 'L2', reason: 'declined' },
  { type: 'status', leaseId: 'L1', status: 'dialing' },
  { type: 'status', leaseId: 'L1', status: 'ringing' },
  { type: 'status', leaseId: 'L1', status: 'connected' },
  { type: 'status', leaseId: 'L1', status: 'ended' },
  { type: 'status', leaseId: 'L2', status: 'connected' },
  { type: 'complete', leaseId: 'L1', ready: false },
  { type: 'complete', leaseId: 'L1', ready: true },
  { type: 'complete', leaseId: 'L2', ready: false },
  { type: 'ready_done', campaignId: 'c1', offer: null },
  { type: 'ready_done', campaignId: 'c1', offer: OTHER_CALL },
  { type: 'ready_failed', code: 'CAMPAIGN_UNKNOWN', left: false, afterCall: false },
  { type: 'ready_failed', code: 'CAMPAIGN_UNKNOWN', left: true, afterCall: false },
  { type: 'ready_failed', code: 'UNAVAILABLE', left: false, afterCall: true },
  { type: 'accept_done', leaseId: 'L1', expiresAt: 1_090_000, then: null },
  { type: 'accept_done', leaseId: 'L1', expiresAt: 1_090_000, then: 'connected' },
  { type: 'accept_failed', leaseId: 'L1', code: 'LEASE_EXPIRED', retryable: false },
  { type: 'accept_failed', leaseId: 'L1', code: 'OUTSIDE_CALLING_WINDOW', retryable: false },
  { type: 'accept_failed', leaseId: 'L1', code: 'UNAVAILABLE', retryable: true },
  { type: 'complete_done', leaseId: 'L1', ready: false },
  { type: 'complete_done', leaseId: 'L1', ready: true },
  { type: 'complete_done', leaseId: 'L2', ready: false },
  { type: 'complete_failed', leaseId: 'L1', code: 'LEASE_STALE', retryable: false },
  { type: 'complete_failed', leaseId: 'L1', code: 'UNAVAILABLE', retryable: true },
  { type: 'complete_failed', leaseId: 'L1', code: 'OUTCOME_UNKNOWN', retryable: false },
  { type: 'offer', call: OTHER_CALL },
  { type: 'offer', call: { ...OTHER_CALL, campaignId: 'c2' } },
  { type: 'offer_acked', leaseId: 'L1', accept: false },
  { type: 'offer_acked', leaseId: 'L1', accept: true },
  { type: 'offer_timeout', leaseId: 'L1' },
  { type: 'offer_deadline', leaseId: 'L1' },
  { type: 'revoke', leaseId: 'L1', reason: 'expired' },
  { type: 'revoke', leaseId: 'L1', reason: 'removed' },
  { type: 'revoke', leaseId: 'L1', reason: 'shutdown' },
  { type: 'revoke', leaseId: 'L2', reason: 'expired' },
  { type: 'disconnect' },
  { type: 'resume', call: SAMPLE_CALL, phase: 'offered' },
  { type: 'resume', call: SAMPLE_CALL, phase: 'dialing' },
  { type: 'resume', call: SAMPLE_CALL, phase: 'on_call' },
  { type: 'resume', call: SAMPLE_CALL, phase: 'wrap_up' },
  { type: 'grace_expired' },
  { type: 'replaced' },
  { type: 'campaign_closed', campaignId: 'c1' },
  { type: 'campaign_closed', campaignId: 'c2' },
  { type: 'force_pause', reason: 'supervisor' },
  { type: 'drain' },
];

const LABELS: Record<MachineEvent['type'], (e: MachineEvent) => string> = {
  ready: () => 'agent:ready',
  pause: () => 'agent:pause',
  accept: () => 'call:accept',
  reject: () => 'call:reject',
  status: (e) => `call:status ${(e as Extract<MachineEvent, { type: 'status' }>).status}`,
  complete: () => 'call:complete',
  ready_done: (e) =>
    (e as Extract<MachineEvent, { type: 'ready_done' }>).offer
      ? 'agent:ready ok + call:offer'
      : 'agent:ready ok',
  ready_failed: () => 'agent:ready refused',
  accept_done: () => 'call:accept ok',
  accept_failed: () => 'call:accept refused, lease gone',
  complete_done: () => 'call:complete ok',
  complete_failed: () => 'call:complete refused, lease gone',
  offer: () => 'call:offer',
  offer_acked: () => 'offer ack',
  offer_timeout: () => 'no offer ack',
  offer_deadline: () => 'acked offer expired',
  revoke: (e) => `call:revoked ${(e as Extract<MachineEvent, { type: 'revoke' }>).reason}`,
  disconnect: () => 'connection lost',
  resume: (e) => `resume ${(e as Extract<MachineEvent, { type: 'resume' }>).phase}`,
  grace_expired: () => 'grace period over',
  replaced: () => 'newer session',
  campaign_closed: () => 'campaign paused',
  force_pause: () => 'supervisor pause',
  drain: () => 'gateway stopping',
};

export interface Edge {
  readonly from: MachineState['name'];
  readonly to: MachineState['name'];
  readonly labels: readonly string[];
}

/** Every state change the table makes, from the sample pairs, merged by (from, to). */
export function transitionEdges(): Edge[] {
  const edges = new Map<
    string,
    { from: MachineState['name']; to: MachineState['name']; labels: Set<string> }
  >();
  for (const s of SAMPLE_STATES) {
    for (const e of SAMPLE_EVENTS) {
      const t = transition(s, e, 1_000_000);
      if (t.state.name === s.name) continue;
      const key = `${s.name}>${t.state.name}`;
      const edge = edges.get(key) ?? { from: s.name, to: t.state.name, labels: new Set<string>() };
      edge.labels.add(LABELS[e.type](e));
      edges.set(key, edge);
    }
  }
  return [...edges.values()]
    .map((e) => ({ from: e.from, to: e.to, labels: [...e.labels].sort() }))
    .sort((a, b) => (a.from + a.to < b.from + b.to ? -1 : 1));
}

/** The Mermaid state diagram of the agent's life, generated from the transition table. */
export function stateDiagram(): string {
  const lines = ['stateDiagram-v2', '  [*] --> paused: connect (reason login)'];
  for (const e of transitionEdges()) lines.push(`  ${e.from} --> ${e.to}: ${e.labels.join(', ')}`);
  return lines.join('\n');
}
