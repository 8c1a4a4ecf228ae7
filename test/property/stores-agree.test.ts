// Model-based property test: random sequences of queue operations applied to the in-memory store
// (the reference model) and to the Redis store give identical observable results (every return
// value, every error code, the full queue snapshot), and after every step each lead is in exactly
// one state and has at most one live lease.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALWAYS_OPEN } from '../../engine/calling-window.js';
import type { CallingWindow } from '../../engine/calling-window.js';
import type { CallingRulesInput } from '../../engine/calling-rules.js';
import { parseCampaignConfig } from '../../engine/campaign.js';
import { isEngineError } from '../../engine/errors.js';
import { asAgentId, asDeviceId, asTenantId, campaignRef } from '../../engine/ids.js';
import type { CampaignRef } from '../../engine/ids.js';
import type { LeadInput } from '../../engine/lead.js';
import { MemoryQueueStore } from '../../engine/memory/memory-queue-store.js';
import type { CommittedCompletion, QueueSnapshot, QueueStore } from '../../engine/queue-store.js';
import { startRedisCluster } from '../support/redis-servers.js';
import type { RedisCluster } from '../support/redis-servers.js';
import { fixedEpoch, makeStore, TEST_LEASE_IDS, useRedisCluster } from '../support/stores.js';
import type { TestStore } from '../support/stores.js';

const RUNS = 2_000;
const CLUSTER_RUNS = 300;
const DATABASE = 1; // this file's own Redis database: its snapshots SCAN a small keyspace
const TENANT = asTenantId('prop');
const T0 = Date.UTC(2026, 0, 5, 10, 30); // Monday 10:30Z: London open, New York opens at 14:00Z
const OFFER_TTL = 5_000;
const CALL_TTL = 60_000;

const WINDOWS: readonly CallingWindow[] = [
  ALWAYS_OPEN,
  { rules: [{ days: [1, 2, 3, 4, 5], from: '09:00', to: '21:00' }] },
];
const ZONES: readonly LeadInput['timeZone'][] = [
  'Europe/London',
  'Europe/London',
  'Europe/Paris',
  'America/New_York',
  null,
  ['America/New_York', 'America/Los_Angeles'],
];
// Calling rules (engine/calling-rules.ts): none, limits for every number, limits for one region.
const RULES: readonly (CallingRulesInput | undefined)[] = [
  undefined,
  {
    packs: [
      {
        name: 'all',
        minGapMs: 600_000,
        maxCalls: [{ count: 2, periodMs: 43_200_000 }],
        lockout: { outcomes: ['busy'], durationMs: 3_600_000 },
      },
    ],
  },
  { packs: [{ name: 'uk', zones: ['Europe/London'], minGapMs: 3_600_000 }] },
];
const configOf = (window: number, rules: number) =>
  parseCampaignConfig({
    window: WINDOWS[window],
    dispositions: { sale: { final: true } },
    ...(RULES[rules] ? { callingRules: RULES[rules] } : {}),
  });
const OUTCOMES = ['answered', 'no_answer', 'busy', 'voicemail', 'callback', 'dnc', 'sale', 'bogus'] as const;
const TICKS = [1, 1_000, 5_000, 30_000, 600_000, 3_600_000, 43_200_000] as const;
const PHONES = 12;
const AGENTS = 4;

const leadArb = fc.record({
  phone: fc.nat(PHONES - 1),
  priority: fc.nat(2),
  due: fc.constantFrom(-60_000, 0, 0, 0, 60_000, 3_600_000),
  zone: fc.nat(ZONES.length - 1),
  pin: fc.integer({ min: -2 * AGENTS, max: AGENTS - 1 }),
  attempts: fc.nat(2),
});

const opArb = fc.oneof(
  {
    arbitrary: fc.record({
      op: fc.constant('enqueue' as const),
      leads: fc.array(leadArb, { minLength: 1, maxLength: 4 }),
    }),
    weight: 4,
  },
  {
    arbitrary: fc.record({
      op: fc.constant('ready' as const),
      agents: fc.uniqueArray(fc.nat(AGENTS - 1), { minLength: 1, maxLength: AGENTS }),
      session: fc.constantFrom('', 's1', 's2'),
    }),
    weight: 4,
  },
  {
    arbitrary: fc.record({
      op: fc.constant('notReady' as const),
      agent: fc.nat(AGENTS - 1),
      session: fc.constantFrom(undefined, 's1', 's2'),
    }),
    weight: 1,
  },
  { arbitrary: fc.record({ op: fc.constant('lease' as const), agent: fc.nat(AGENTS - 1) }), weight: 2 },
  {
    arbitrary: fc.record({ op: fc.constant('dispatch' as const), max: fc.integer({ min: 1, max: 4 }) }),
    weight: 4,
  },
  {
    arbitrary: fc.record({
      op: fc.constant('readyDispatch' as const),
      agents: fc.array(fc.nat(AGENTS - 1), { maxLength: AGENTS }),
      max: fc.integer({ min: 1, max: 4 }),
    }),
    weight: 2,
  },
  {
    arbitrary: fc.record({ op: fc.constant('accept' as const), lease: fc.nat(), wrongAgent: fc.boolean() }),
    weight: 3,
  },
  {
    arbitrary: fc.record({
      op: fc.constantFrom('extend' as const, 'acceptMany' as const, 'expire' as const),
      leases: fc.array(fc.nat(), { minLength: 1, maxLength: 3 }),
    }),
    weight: 1,
  },
  {
    arbitrary: fc.record({ op: fc.constant('reject' as const), lease: fc.nat(), wrongAgent: fc.boolean() }),
    weight: 1,
  },
  {
    arbitrary: fc.record({
      op: fc.constant('complete' as const),
      items: fc.array(
        fc.record({
          lease: fc.integer({ min: -1, max: 1_000 }),
          outcome: fc.nat(OUTCOMES.length - 1),
          callback: fc.option(
            fc.record({
              in: fc.constantFrom(0, 60_000, 7_200_000),
              scope: fc.constantFrom('agent', 'anyone'),
            }),
          ),
          owner: fc.boolean(),
        }),
        { minLength: 1, maxLength: 3 },
      ),
    }),
    weight: 4,
  },
  {
    arbitrary: fc.record({
      op: fc.constant('claim' as const),
      lease: fc.nat(),
      outcome: fc.nat(OUTCOMES.length - 1),
      earlier: fc.constantFrom(0, 1_000, 60_000),
    }),
    weight: 3,
  },
  { arbitrary: fc.record({ op: fc.constant('applyClaim' as const), claim: fc.nat() }), weight: 3 },
  { arbitrary: fc.record({ op: fc.constant('voidClaim' as const), lease: fc.nat() }), weight: 1 },
  {
    arbitrary: fc.record({
      op: fc.constant('phase' as const),
      lease: fc.nat(),
      phase: fc.constantFrom('on_call' as const, 'wrap_up' as const),
    }),
    weight: 1,
  },
  {
    arbitrary: fc.record({ op: fc.constant('expired' as const), limit: fc.integer({ min: 1, max: 5 }) }),
    weight: 1,
  },
  {
    arbitrary: fc.record({
      op: fc.constant('reclaim' as const),
      limit: fc.integer({ min: 1, max: 5 }),
      only: fc.option(fc.array(fc.nat(), { maxLength: 3 })),
    }),
    weight: 2,
  },
  {
    arbitrary: fc.record({ op: fc.constant('promote' as const), limit: fc.integer({ min: 1, max: 5 }) }),
    weight: 1,
  },
  {
    arbitrary: fc.record({
      op: fc.constant('remove' as const),
      phones: fc.array(fc.nat(PHONES - 1), { minLength: 1, maxLength: 2 }),
    }),
    weight: 1,
  },
  {
    // An admin's edit or a callback: the lead queued under one number rewritten in place (maybe
    // to another number, taken or suppressed ones included), or a wrong id (absent).
    arbitrary: fc.record({
      op: fc.constant('update' as const),
      phone: fc.nat(PHONES - 1),
      to: fc.nat(PHONES - 1),
      wrongId: fc.boolean(),
      lead: leadArb,
      keepDue: fc.boolean(),
      fields: fc.boolean(),
    }),
    weight: 2,
  },
  { arbitrary: fc.record({ op: fc.constant('tick' as const), ms: fc.constantFrom(...TICKS) }), weight: 4 },
  {
    arbitrary: fc.record({
      op: fc.constant('window' as const),
      which: fc.nat(WINDOWS.length - 1),
      rules: fc.nat(RULES.length - 1),
    }),
    weight: 1,
  },
  {
    arbitrary: fc.record({ op: fc.constant('rebuild' as const), leads: fc.array(leadArb, { maxLength: 4 }) }),
    weight: 1,
  },
  { arbitrary: fc.record({ op: fc.constant('stats' as const) }), weight: 1 },
);

type Op = typeof opArb extends fc.Arbitrary<infer T> ? T : never;
type LeadSpec = typeof leadArb extends fc.Arbitrary<infer T> ? T : never;

const agentId = (i: number) => asAgentId(`a${i}`);
const phoneOf = (i: number) => `+4420794600${String(i).padStart(2, '0')}`;

/** Both stores' results, errors reduced to their codes, so they can be compared as values. */
async function outcome(run: () => Promise<unknown>): Promise<unknown> {
  try {
    return { value: await run() };
  } catch (err) {
    if (isEngineError(err)) return { error: err.code };
    throw err;
  }
}

interface World {
  now: number;
  leases: string[];
  leadSerial: number;
  /** Decisions claimed so far, as the system of record would commit them. */
  claims: CommittedCompletion[];
}

function makeLeads(world: World, specs: readonly LeadSpec[], now: number): LeadInput[] {
  return specs.map((l) => ({
    id: `L${++world.leadSerial}`,
    phone: phoneOf(l.phone),
    name: `Lead ${l.phone}`,
    timeZone: ZONES[l.zone]!,
    priority: l.priority,
    dueAt: now + l.due,
    attempts: l.attempts,
    ...(l.pin >= 0 ? { pinnedAgentId: agentId(l.pin) } : {}),
  }));
}

/** Apply one operation to a store; the returned value is what the test compares. */
async function apply(store: QueueStore, ref: CampaignRef, op: Op, world: World): Promise<unknown> {
  const now = world.now;
  const leaseAt = (k: number) =>
    world.leases[k % Math.max(world.leases.length, 1)] ??
    TEST_LEASE_IDS.format({
      tenantId: TENANT,
      campaignId: ref.campaignId,
      epoch: 'e1',
      counter: 99,
      leadId: 'L0',
      agentId: 'a0',
    });
  const ownerOf = async (leaseId: string) => {
    const view = await store.peekLease(TENANT, leaseId, now).catch(() => null);
    return view?.agentId ?? agentId(0);
  };
  switch (op.op) {
    case 'enqueue':
      return outcome(() => store.enqueue(ref, makeLeads(world, op.leads, now), now));
    case 'ready':
      return outcome(() =>
        store.setAgentsReady(
          ref,
          op.agents.map((a) => ({ agentId: agentId(a), deviceId: asDeviceId(`d${a}`), session: op.session })),
          now,
        ),
      );
    case 'notReady':
      return outcome(() => store.setAgentNotReady(ref, agentId(op.agent), op.session));
    case 'lease':
      return outcome(() =>
        store.lease(
          ref,
          { agentId: agentId(op.agent), deviceId: asDeviceId(`d${op.agent}`) },
          now,
          OFFER_TTL,
        ),
      );
    case 'dispatch':
      return outcome(() => store.dispatch(ref, now, op.max, OFFER_TTL));
    case 'update': {
      // The lead id under that number, read from this store (both hold the same queue, or the
      // comparison of an earlier step has failed already).
      const snap = await store.snapshot(ref).catch(() => null);
      const member = snap?.phones[phoneOf(op.phone)];
      const leadId = op.wrongId || member === undefined ? 'L0' : (snap?.records[member] ?? 'L0');
      const l = op.lead;
      return outcome(() =>
        store.updateLead(
          ref,
          phoneOf(op.phone),
          {
            id: leadId,
            phone: phoneOf(op.to),
            name: `Edited ${op.to}`,
            timeZone: ZONES[l.zone]!,
            priority: l.priority,
            ...(op.keepDue ? {} : { dueAt: now + l.due }),
            ...(l.pin >= 0 ? { pinnedAgentId: agentId(l.pin) } : {}),
            ...(op.fields ? { fields: { crm: `X${op.to}` } } : {}),
          },
          now,
        ),
      );
    }
    case 'readyDispatch':
      return outcome(() =>
        store.readyAndDispatch(
          ref,
          op.agents.map((a) => ({ agentId: agentId(a), deviceId: asDeviceId(`d${a}`) })),
          now,
          op.max,
          OFFER_TTL,
        ),
      );
    case 'accept': {
      const leaseId = leaseAt(op.lease);
      const owner = op.wrongAgent ? agentId(9) : await ownerOf(leaseId);
      return outcome(() => store.accept(TENANT, { leaseId, agentId: owner }, now, CALL_TTL));
    }
    case 'extend': {
      const refs = await Promise.all(
        op.leases.map(async (k) => ({ leaseId: leaseAt(k), agentId: await ownerOf(leaseAt(k)) })),
      );
      return outcome(() => store.extend(TENANT, refs, now, CALL_TTL));
    }
    case 'expire': {
      const refs = await Promise.all(
        op.leases.map(async (k) => ({ leaseId: leaseAt(k), agentId: await ownerOf(leaseAt(k)) })),
      );
      return outcome(() => store.expire(TENANT, refs, now));
    }
    case 'acceptMany': {
      const refs = await Promise.all(
        op.leases.map(async (k) => ({ leaseId: leaseAt(k), agentId: await ownerOf(leaseAt(k)) })),
      );
      return outcome(() => store.acceptMany(TENANT, refs, now, CALL_TTL));
    }
    case 'reject': {
      const leaseId = leaseAt(op.lease);
      const owner = op.wrongAgent ? agentId(9) : await ownerOf(leaseId);
      return outcome(() => store.reject(TENANT, { leaseId, agentId: owner }, now));
    }
    case 'complete': {
      const items = await Promise.all(
        op.items.map(async (i) => {
          const leaseId = i.lease < 0 ? 'garbage' : leaseAt(i.lease);
          return {
            leaseId,
            outcome: OUTCOMES[i.outcome]!,
            ...(i.owner ? { agentId: await ownerOf(leaseId) } : {}),
            ...(i.callback ? { callback: { at: now + i.callback.in, scope: i.callback.scope } } : {}),
          };
        }),
      );
      return outcome(() => store.complete(TENANT, items, now));
    }
    case 'claim': {
      const leaseId = leaseAt(op.lease);
      const item = { leaseId, outcome: OUTCOMES[op.outcome]!, completedAt: now - op.earlier };
      const result = await outcome(() => store.claimCompletions(TENANT, [item], now, CALL_TTL));
      const [r] = (result as { value?: Awaited<ReturnType<QueueStore['claimCompletions']>> }).value ?? [];
      if (r?.ok && !r.duplicate) {
        world.claims.push({
          leaseId,
          outcome: r.outcome,
          attempts: r.attempts,
          disposition: r.disposition,
          leadId: r.leadId,
          late: r.late,
        });
      }
      return result;
    }
    case 'applyClaim': {
      const committed = world.claims[op.claim % Math.max(world.claims.length, 1)];
      if (!committed) return undefined;
      return outcome(() => store.applyCompletions(TENANT, [committed], now));
    }
    case 'voidClaim':
      return outcome(() => store.voidClaims(ref, now, [leaseAt(op.lease)]));
    case 'phase': {
      const leaseId = leaseAt(op.lease);
      const owner = await ownerOf(leaseId);
      return outcome(() =>
        store.setPhase(TENANT, [{ leaseId, agentId: owner, phase: op.phase }], now, CALL_TTL),
      );
    }
    case 'expired':
      return outcome(() => store.expiredLeases(ref, now, op.limit));
    case 'reclaim':
      return outcome(() =>
        store.reclaim(ref, now, op.limit, op.only === null ? undefined : op.only.map((k) => leaseAt(k))),
      );
    case 'promote':
      return outcome(() => store.promote(ref, now, op.limit));
    case 'remove':
      return outcome(() => store.removeNumbers(ref, op.phones.map(phoneOf), now));
    case 'window':
      return outcome(() => store.defineCampaign(ref, configOf(op.which, op.rules), now));
    case 'rebuild':
      return outcome(() => store.rebuild(ref, [makeLeads(world, op.leads, now)], now));
    case 'stats':
      return outcome(() => store.stats(ref, now));
    case 'tick':
      return undefined;
    default: {
      const never: never = op;
      throw new Error(`unknown op ${JSON.stringify(never)}`);
    }
  }
}

/** Every lead in exactly one state, at most one live lease per lead and per agent. */
function checkInvariants(s: QueueSnapshot): void {
  const where = new Map<string, string[]>();
  const at = (member: string, place: string) => where.set(member, [...(where.get(member) ?? []), place]);
  for (const [zone, members] of Object.entries(s.ready)) for (const m of members) at(m, `ready:${zone}`);
  for (const [m] of s.scheduled) at(m, 'scheduled');
  for (const [agent, entries] of Object.entries(s.pinned))
    for (const [m] of entries) at(m, `pinned:${agent}`);
  const leasedAgents = new Set<string>();
  for (const [leaseId, l] of Object.entries(s.leases)) {
    at(l.member, `lease:${leaseId}`);
    // A claimed lease holds its lead until its outcome is applied, not its agent: a late outcome
    // (claimed from an expired or revoked lease) comes from an agent that may be on its next call.
    if (l.state === 'c') continue;
    expect(leasedAgents.has(l.agentId), `agent ${l.agentId} holds two live leases`).toBe(false);
    leasedAgents.add(l.agentId);
  }
  for (const [leaseId, member] of Object.entries(s.revoked)) at(member, `revoked:${leaseId}`);
  for (const member of Object.keys(s.records)) {
    expect(where.get(member), `lead ${member} must be in exactly one state`).toHaveLength(1);
  }
  for (const [member, places] of where) {
    expect(s.records[member], `${places.join(',')} holds ${member} without a record`).toBeDefined();
  }
  // A lead revoked mid-call keeps its record (its outcome is still to come, perhaps being
  // completed right now) but not its number; every other lead is indexed by its number.
  const indexed = new Set(Object.values(s.phones));
  const outOfIndex = new Set([
    ...Object.values(s.revoked),
    ...Object.values(s.leases)
      .filter((l) => l.state === 'c')
      .map((l) => l.member),
  ]);
  for (const member of Object.keys(s.records)) {
    expect(indexed.has(member) || outOfIndex.has(member), `lead ${member} without its number`).toBe(true);
  }
  for (const member of Object.values(s.phones)) expect(s.records[member]).toBeDefined();
  for (const [agent] of s.agents)
    expect(leasedAgents.has(agent), `ready agent ${agent} holds a lease`).toBe(false);
}

function leaseIdsIn(value: unknown, into: string[]): void {
  if (Array.isArray(value)) {
    for (const v of value) leaseIdsIn(v, into);
  } else if (value && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    if (typeof o.leaseId === 'string' && !into.includes(o.leaseId)) into.push(o.leaseId);
    for (const v of Object.values(o)) if (v && typeof v === 'object') leaseIdsIn(v, into);
  }
}

// On one Redis, and on a 3-master Redis Cluster of this file's own (fewer runs: the scripts are the
// same, what the cluster adds is routing by the campaign's hash tag, and every run is a new
// campaign on a new slot).
describe.each<{ kind: 'redis' | 'cluster'; runs: number }>([
  { kind: 'redis', runs: RUNS },
  { kind: 'cluster', runs: CLUSTER_RUNS },
])('the memory and Redis stores agree ($kind)', ({ kind, runs }) => {
  let redis: TestStore;
  let cluster: RedisCluster | undefined;
  let run = 0;

  beforeAll(async () => {
    if (kind === 'cluster') {
      cluster = await startRedisCluster(3);
      useRedisCluster(cluster.nodes);
    }
    redis = await makeStore(kind, {
      ...(kind === 'redis' ? { database: DATABASE } : {}),
      tombstoneRetentionMs: 120_000,
    });
  }, 60_000);
  afterAll(async () => {
    await redis?.dispose();
    useRedisCluster(null);
    await cluster?.stop();
  });

  it(`on ${runs} random operation sequences, with the invariants after every step`, async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.nat(WINDOWS.length - 1),
        fc.nat(RULES.length - 1),
        fc.array(leadArb, { minLength: 1, maxLength: 8, size: 'large' }),
        fc.array(opArb, { minLength: 1, maxLength: 40, size: 'large' }),
        async (w, rulesAt, initial, generated) => {
          // Every sequence starts with leads queued and agents ready, so most steps meet live leases.
          const ops: Op[] = [
            { op: 'enqueue', leads: initial },
            { op: 'ready', agents: [0, 1, 2, 3], session: '' },
            ...generated,
          ];
          const ref = campaignRef('prop', `c${++run}`);
          const memory = new MemoryQueueStore({
            newEpoch: fixedEpoch,
            tombstoneRetentionMs: 120_000,
            leaseIds: TEST_LEASE_IDS,
          });
          const config = configOf(w, rulesAt);
          await memory.defineCampaign(ref, config, T0);
          await redis.store.defineCampaign(ref, config, T0);
          const worldA: World = { now: T0, leases: [], leadSerial: 0, claims: [] };
          const worldB: World = { now: T0, leases: [], leadSerial: 0, claims: [] };
          try {
            for (const [step, op] of ops.entries()) {
              if (op.op === 'tick') {
                worldA.now += op.ms;
                worldB.now += op.ms;
                continue;
              }
              const a = await apply(memory, ref, op, worldA);
              const b = await apply(redis.store, ref, op, worldB);
              expect(b, `step ${step} ${op.op}`).toEqual(a);
              leaseIdsIn(a, worldA.leases);
              leaseIdsIn(b, worldB.leases);
              const [sa, sb] = await Promise.all([memory.snapshot(ref), redis.store.snapshot(ref)]);
              expect(sb, `snapshot after step ${step} ${op.op}`).toEqual(sa);
              checkInvariants(sa);
            }
          } finally {
            await redis.store.dropCampaign(ref);
          }
        },
      ),
      { numRuns: runs },
    );
  }, 600_000);
});
