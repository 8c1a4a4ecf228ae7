// The state machine as the model of the running gateway: random sequences of device commands,
// offer acknowledgements, drops and reconnects from two devices, against a real gateway on real
// Redis and Postgres. Each command the pure transition function refuses from the state the device
// last saw is refused by the gateway with the same code; every acknowledgement's state is the
// state the gateway holds; and after every step the queue agrees: an agent is on a ready list
// only when its state is ready (on that campaign only), a lead has at most one live lease, and a
// live lease is held by exactly the session the agent's state says.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CampaignRef } from '../../engine/ids.js';
import { callOf, transition } from '../../gateway/calls/agent-machine.js';
import type { MachineEvent, MachineState } from '../../gateway/calls/agent-machine.js';
import type { AgentState, OfferPayload } from '../../gateway/protocol/schemas.js';
import { call, TestGateway } from '../support/gateway.js';
import type { Device } from '../support/gateway.js';

const T = 'model';
const RUNS = 20;

const stepArb = fc.oneof(
  {
    arbitrary: fc.record({ cmd: fc.constant('ready' as const), campaign: fc.constantFrom('A', 'B') }),
    weight: 4,
  },
  { arbitrary: fc.record({ cmd: fc.constant('pause' as const) }), weight: 1 },
  { arbitrary: fc.record({ cmd: fc.constant('accept' as const), own: fc.boolean() }), weight: 3 },
  { arbitrary: fc.record({ cmd: fc.constant('reject' as const), own: fc.boolean() }), weight: 1 },
  {
    arbitrary: fc.record({
      cmd: fc.constant('status' as const),
      status: fc.constantFrom('dialing' as const, 'connected' as const, 'ended' as const),
    }),
    weight: 3,
  },
  {
    arbitrary: fc.record({
      cmd: fc.constant('complete' as const),
      outcome: fc.constantFrom('answered', 'no_answer', 'bogus'),
      ready: fc.boolean(),
    }),
    weight: 3,
  },
  { arbitrary: fc.record({ cmd: fc.constant('reconnect' as const), resume: fc.boolean() }), weight: 1 },
);
const opArb = fc.record({ device: fc.nat(1), step: stepArb });
type Op = typeof opArb extends fc.Arbitrary<infer O> ? O : never;

interface Phone {
  socket: Device;
  /** The last offer the device received, for accept / reject / status / complete. */
  offer: OfferPayload | null;
  /** The state the device last saw (an acknowledgement or agent:state). */
  seen: AgentState | null;
}

describe('the gateway follows its state machine', () => {
  let g: TestGateway;
  let run = 0;
  beforeAll(async () => {
    g = await TestGateway.start({ config: { OFFER_ACK_TIMEOUT_MS: '2000', OFFER_TTL_MS: '20000' } });
    await g.seedTenant(T, 2);
  }, 60_000);
  afterAll(async () => {
    await g.stop();
  });

  async function attach(i: number, leaseId?: string): Promise<Phone> {
    const socket = await g.connect(T, i, leaseId ? { leaseId } : {});
    const phone: Phone = { socket, offer: null, seen: null };
    socket.on('call:offer', (offer, ack) => {
      phone.offer = offer;
      ack({ accept: false });
    });
    socket.on('call:resumed', (r) => {
      if (phone.offer?.leaseId !== r.leaseId)
        phone.offer = {
          leaseId: r.leaseId,
          lead: phone.offer?.lead as never,
          campaign: r.campaign,
          expiresAt: r.expiresAt,
        };
    });
    socket.on('agent:state', (s) => {
      phone.seen = s;
    });
    return phone;
  }

  /** Let dispatches in flight and every session's queued events finish: the floor is still. */
  async function settle(): Promise<void> {
    for (let i = 0; i < 3; i++) {
      await g.gateway.dispatcher.idle();
      await Promise.all([...g.gateway.hub.sessions.all()].map((s) => s.run(() => Promise.resolve())));
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  /** The gateway's own state of an agent (after its queued events have run). */
  async function serverState(agent: string): Promise<MachineState | null> {
    const session = g.gateway.hub.sessions.get(T, agent);
    if (!session) return null;
    await session.run(() => Promise.resolve());
    return session.state;
  }

  async function checkInvariants(refs: readonly CampaignRef[]): Promise<void> {
    const states = await Promise.all(['a0', 'a1'].map((a) => serverState(a)));
    const live = new Map<string, { agentId: string; member: string }>();
    for (const ref of refs) {
      const snap = await g.store.store.snapshot(ref);
      const ready = new Set(snap.agents.map(([agent]) => agent));
      for (const [i, s] of states.entries()) {
        const agent = `a${i}`;
        const shouldBe = s?.name === 'ready' && s.campaignId === ref.campaignId;
        expect(ready.has(agent), `${agent} on ${ref.campaignId}'s ready list while ${s?.name}`).toBe(
          shouldBe,
        );
      }
      const members = new Set<string>();
      for (const [leaseId, l] of Object.entries(snap.leases)) {
        expect(members.has(l.member), `lead ${l.member} has two live leases`).toBe(false);
        members.add(l.member);
        live.set(leaseId, { agentId: l.agentId, member: l.member });
      }
    }
    for (const [i, s] of states.entries()) {
      const held = s ? callOf(s) : null;
      const mine = [...live].filter(([, l]) => l.agentId === `a${i}`).map(([id]) => id);
      const ours = held && refs.some((r) => r.campaignId === held.campaignId);
      if (held && ours && s?.name !== 'offline')
        expect(mine, `a${i} holds ${held.leaseId}`).toContain(held.leaseId);
    }
  }

  /** The machine event a command is, given what the device knows. */
  function eventOf(op: Op, phone: Phone): { event: MachineEvent; payload: unknown; name: string } | null {
    const leaseId = phone.offer?.leaseId ?? 'none.e1.1.L1.AAAAAAAAAAAAAAAA';
    const { step } = op;
    switch (step.cmd) {
      case 'ready':
        return {
          name: 'agent:ready',
          event: { type: 'ready', campaignId: `${run}${step.campaign}` },
          payload: { campaignId: `${run}${step.campaign}` },
        };
      case 'pause':
        return {
          name: 'agent:pause',
          event: { type: 'pause', reason: 'coffee' },
          payload: { reason: 'coffee' },
        };
      case 'accept': {
        const id = step.own ? leaseId : 'none.e1.1.L1.AAAAAAAAAAAAAAAA';
        return { name: 'call:accept', event: { type: 'accept', leaseId: id }, payload: { leaseId: id } };
      }
      case 'reject': {
        const id = step.own ? leaseId : 'none.e1.1.L1.AAAAAAAAAAAAAAAA';
        return {
          name: 'call:reject',
          event: { type: 'reject', leaseId: id, reason: 'declined' },
          payload: { leaseId: id, reason: 'declined' },
        };
      }
      case 'status':
        return {
          name: 'call:status',
          event: { type: 'status', leaseId, status: step.status },
          payload: { leaseId, status: step.status },
        };
      case 'complete':
        return {
          name: 'call:complete',
          event: { type: 'complete', leaseId, ready: step.ready },
          payload: { leaseId, outcome: step.outcome, durationSec: 5, ready: step.ready },
        };
      case 'reconnect':
        return null;
      default: {
        const never: never = step;
        throw new Error(String(never));
      }
    }
  }

  it(`on ${RUNS} random sequences of commands, drops and reconnects`, async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 5, maxLength: 18 }), async (ops) => {
        run++;
        const refs = [await g.campaign(T, `${run}A`), await g.campaign(T, `${run}B`)];
        await g.leads(T, `${run}A`, 6, run * 100);
        await g.leads(T, `${run}B`, 6, run * 100 + 50);
        const phones = [await attach(0), await attach(1)];
        try {
          for (const op of ops) {
            const phone = phones[op.device]!;
            const agent = `a${op.device}`;
            if (op.step.cmd === 'reconnect') {
              const held = phone.offer?.leaseId;
              phone.socket.disconnect();
              await new Promise((r) => setTimeout(r, 30));
              phones[op.device] = await attach(op.device, op.step.resume ? held : undefined);
              if (op.step.resume) phones[op.device]!.offer = phone.offer;
              await settle();
              await checkInvariants(refs);
              continue;
            }
            await settle();
            const before = await serverState(agent);
            const cmd = eventOf(op, phone)!;
            // What the machine says, from the state the gateway holds now: a refusal that needs no
            // store is exactly the gateway's answer.
            const predicted = transition(before!, cmd.event, Date.now());
            const refusal = predicted.effects.find((e) => e.type === 'refuse');
            const ack = (await call(phone.socket, cmd.name as 'agent:ready', cmd.payload)) as
              { ok: true; state: AgentState } | { ok: false; error: { code: string } };
            if (refusal && refusal.type === 'refuse') {
              expect(ack, `${cmd.name} in ${before!.name}`).toMatchObject({
                ok: false,
                error: { code: refusal.code },
              });
            }
            await settle();
            const after = await serverState(agent);
            if (ack.ok) {
              // The acknowledged state is the state the command left (a dispatch it caused may
              // have moved on since: an offer).
              const moved = after!.name === 'offered' && ack.state.state === 'ready';
              if (!moved) expect(ack.state.state, `${cmd.name} acknowledged`).toBe(after!.name);
              phone.seen = ack.state;
            }
            await checkInvariants(refs);
          }
        } finally {
          for (const p of phones) p.socket.disconnect();
          await new Promise((r) => setTimeout(r, 50));
        }
      }),
      { numRuns: RUNS },
    );
  }, 600_000); // 20 sequences take 3-4 min on 2 busy cores: a bound against hangs, not a timing
});
