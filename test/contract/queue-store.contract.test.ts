// The QueueStore contract (DESIGN.md "Semantics"), run against both adapters: whatever holds
// for the in-memory store must hold for Redis, and the other way round; and for the Redis store on
// a 3-master Redis Cluster (every script touches one campaign's hash-tagged keys: no CROSSSLOT).
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ALWAYS_OPEN } from '../../engine/calling-window.js';
import type { CallingWindow } from '../../engine/calling-window.js';
import { parseCampaignConfig } from '../../engine/campaign.js';
import type { CampaignConfigInput } from '../../engine/campaign.js';
import { isEngineError } from '../../engine/errors.js';
import type { EngineErrorCode } from '../../engine/errors.js';
import { asAgentId, asDeviceId, asTenantId, campaignRef } from '../../engine/ids.js';
import type { CampaignRef } from '../../engine/ids.js';
import type { LeadInput } from '../../engine/lead.js';
import type { Lease } from '../../engine/lease.js';
import type { QueueStore, ReadyAgent } from '../../engine/queue-store.js';
import { REBUILD_WAITED } from '../../engine/queue-store.js';
import { redisKeysHolding } from '../support/redis-scan.js';
import { startRedisCluster } from '../support/redis-servers.js';
import type { RedisCluster } from '../support/redis-servers.js';
import { countingEpoch, makeStore, TEST_LEASE_IDS, useRedisCluster } from '../support/stores.js';
import type { StoreKind, TestStore } from '../support/stores.js';

const T0 = Date.UTC(2026, 0, 5, 12, 0); // Monday 12:00 UTC: London 12:00, New York 07:00, Tokyo 21:00
const TENANT = asTenantId('acme');
const OFFER_TTL = 5_000;
const CALL_TTL = 60_000;
const MIN = 60_000;

const BUSINESS_HOURS: CallingWindow = { rules: [{ days: [1, 2, 3, 4, 5], from: '09:00', to: '21:00' }] };

const lead = (i: number, extra: Partial<LeadInput> = {}): LeadInput => ({
  id: `L${i}`,
  phone: `+4477009${String(i).padStart(5, '0')}`,
  name: `Lead ${i}`,
  timeZone: 'Europe/London',
  ...extra,
});
const agent = (i: number): ReadyAgent => ({ agentId: asAgentId(`a${i}`), deviceId: asDeviceId(`d${i}`) });
/** A well-formed, correctly signed lease id this test never leased. */
const idOf = (campaignId: string, epoch: string, counter: number, leadId = 'L1', agentId = 'a1') =>
  TEST_LEASE_IDS.format({ tenantId: 'acme', campaignId, epoch, counter, leadId, agentId });

async function expectCode(promise: Promise<unknown>, code: EngineErrorCode): Promise<void> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isEngineError(err), `expected EngineError ${code}, got ${String(err)}`).toBe(true);
  expect((err as { code: string }).code).toBe(code);
}

describe.each<StoreKind>(['memory', 'redis', 'cluster'])('QueueStore contract: %s', (kind) => {
  let t: TestStore;
  let store: QueueStore;
  let ref: CampaignRef;

  // 'cluster': a 3-master Redis Cluster of this file's own, from the redis-server binary.
  let cluster: RedisCluster | undefined;
  beforeAll(async () => {
    if (kind !== 'cluster') return;
    cluster = await startRedisCluster(3);
    useRedisCluster(cluster.nodes);
  }, 60_000);
  afterAll(async () => {
    useRedisCluster(null);
    await cluster?.stop();
  });

  const define = (config: Partial<CampaignConfigInput> = {}, r = ref, now = T0) =>
    store.defineCampaign(r, parseCampaignConfig({ window: ALWAYS_OPEN, ...config }), now);

  /** Ready the agents and dispatch, returning the leases by agent. */
  async function offer(agents: readonly ReadyAgent[], now = T0, max = 100): Promise<Lease[]> {
    await store.setAgentsReady(ref, agents, now);
    return [...(await store.dispatch(ref, now, max, OFFER_TTL)).leases];
  }

  async function leaseOne(a = agent(1), now = T0): Promise<Lease> {
    const l = await store.lease(ref, a, now, OFFER_TTL);
    expect(l).not.toBeNull();
    return l!;
  }

  const complete = async (leaseId: string, outcome: string, now: number, extra: object = {}) =>
    (await store.complete(TENANT, [{ leaseId, outcome, ...extra }], now))[0]!;

  beforeEach(async () => {
    t = await makeStore(kind);
    store = t.store;
    ref = campaignRef('acme', 'spring');
  });
  afterEach(async () => {
    await t.dispose();
  });

  describe('order', () => {
    it('offers higher priority first, then earliest due, then first in', async () => {
      await define();
      await store.enqueue(
        ref,
        [
          lead(1, { priority: 1 }),
          lead(2, { priority: 5, dueAt: T0 - 10 * MIN }),
          lead(3, { priority: 5, dueAt: T0 - 20 * MIN }),
          lead(4, { priority: 5, dueAt: T0 - 20 * MIN }),
          lead(5, { priority: 9 }),
          lead(6, { priority: 1 }),
        ],
        T0,
      );
      const order: string[] = [];
      for (let i = 0; i < 6; i++) {
        const l = await store.lease(ref, agent(i), T0, OFFER_TTL);
        order.push(l!.lead.id);
      }
      expect(order).toEqual(['L5', 'L3', 'L4', 'L2', 'L1', 'L6']);
      expect(await store.lease(ref, agent(9), T0, OFFER_TTL)).toBeNull();
    });

    it('keeps first-in order across batches and past ten thousand leads', async () => {
      await define();
      await store.enqueue(
        ref,
        Array.from({ length: 9_999 }, (_, i) => lead(i + 1)),
        T0,
      );
      await store.enqueue(ref, [lead(20_001), lead(20_002)], T0);
      // Sequence numbers 9,999 and 10,000 gain a digit: order must not follow string length alone.
      const middle = Array.from({ length: 9_997 }, (_, i) => lead(i + 2).phone);
      expect(await store.removeNumbers(ref, middle, T0)).toHaveLength(9_997);
      await store.enqueue(ref, [lead(30_000, { priority: 1 })], T0 + 1);
      const agents = Array.from({ length: 6 }, (_, i) => agent(i));
      const ids = (await offer(agents)).map((l) => l.lead.id);
      expect(ids).toEqual(['L30000', 'L1', 'L9999', 'L20001', 'L20002']);
    });

    it('offers a lead with a due time in the future only once it falls due', async () => {
      await define();
      await store.enqueue(ref, [lead(1, { dueAt: T0 + 10 * MIN })], T0);
      expect(await store.lease(ref, agent(1), T0, OFFER_TTL)).toBeNull();
      expect((await store.stats(ref, T0)).scheduled).toBe(1);
      const l = await store.lease(ref, agent(1), T0 + 10 * MIN, OFFER_TTL);
      expect(l?.lead.id).toBe('L1');
    });
  });

  describe('enqueue', () => {
    it('skips a number already queued in the campaign and reports it', async () => {
      await define();
      const r1 = await store.enqueue(ref, [lead(1), lead(2)], T0);
      expect(r1).toEqual({ enqueued: 2, duplicates: [], alreadyQueued: [], suppressed: [] });
      const r2 = await store.enqueue(
        ref,
        [lead(3, { phone: lead(1).phone }), lead(4), lead(5, { phone: lead(4).phone })],
        T0,
      );
      expect(r2).toEqual({ enqueued: 1, duplicates: ['L3', 'L5'], alreadyQueued: [], suppressed: [] });
      expect((await store.stats(ref, T0)).ready).toBe(3);
    });

    it('reports a lead queued before under the same id and number as already queued, so a retried import converges', async () => {
      await define();
      await store.enqueue(ref, [lead(1), lead(2)], T0);
      const again = await store.enqueue(ref, [lead(1), lead(2), lead(3)], T0 + 1);
      expect(again).toEqual({ enqueued: 1, duplicates: [], alreadyQueued: ['L1', 'L2'], suppressed: [] });
      expect((await store.stats(ref, T0)).ready).toBe(3);
    });

    it('refuses a batch with a malformed lead, names it, and writes nothing', async () => {
      await define();
      await store.enqueue(ref, [lead(1)], T0);
      const before = await store.snapshot(ref);
      for (const bad of [
        { ...lead(2), phone: '07700 900123' },
        { ...lead(2), id: 'has space' },
        { ...lead(2), priority: 300 },
        { ...lead(2), timeZone: 'Mars/Olympus_Mons' },
        { ...lead(2), name: 'tab\there' },
      ]) {
        const err = await store.enqueue(ref, [lead(3), bad], T0).catch((e: unknown) => e);
        expect(isEngineError(err, 'LEAD_INVALID')).toBe(true);
        expect((err as { details: { index: number } }).details.index).toBe(1);
      }
      expect(await store.snapshot(ref)).toEqual(before);
    });

    it('refuses every operation on an unknown campaign with CAMPAIGN_UNKNOWN', async () => {
      const unknown = campaignRef('acme', 'nope');
      await expectCode(store.enqueue(unknown, [lead(1)], T0), 'CAMPAIGN_UNKNOWN');
      await expectCode(store.lease(unknown, agent(1), T0, OFFER_TTL), 'CAMPAIGN_UNKNOWN');
      await expectCode(store.dispatch(unknown, T0, 5, OFFER_TTL), 'CAMPAIGN_UNKNOWN');
      await expectCode(store.setAgentsReady(unknown, [agent(1)], T0), 'CAMPAIGN_UNKNOWN');
      await expectCode(store.reclaim(unknown, T0, 10), 'CAMPAIGN_UNKNOWN');
      await expectCode(store.promote(unknown, T0, 10), 'CAMPAIGN_UNKNOWN');
      await expectCode(store.stats(unknown, T0), 'CAMPAIGN_UNKNOWN');
      await expectCode(store.removeNumbers(unknown, ['+447700900001'], T0), 'CAMPAIGN_UNKNOWN');
      await expectCode(
        store.accept(TENANT, { leaseId: idOf('nope', 'e1', 1), agentId: asAgentId('a1') }, T0, CALL_TTL),
        'CAMPAIGN_UNKNOWN',
      );
      const [r] = await store.complete(TENANT, [{ leaseId: idOf('nope', 'e1', 1), outcome: 'answered' }], T0);
      expect(r).toMatchObject({ ok: false, code: 'CAMPAIGN_UNKNOWN' });
      expect(await store.hasCampaign(unknown)).toBe(false);
    });
  });

  describe('calling windows', () => {
    it('offers only leads whose local calling hours are open now, checked inside the lease', async () => {
      await define({ window: BUSINESS_HOURS });
      await store.enqueue(
        ref,
        [
          lead(1, { timeZone: 'America/New_York', priority: 9 }), // 07:00 local: closed
          lead(2, { timeZone: 'Asia/Tokyo', priority: 9 }), // 21:00 local: closed (end is exclusive)
          lead(3, { timeZone: 'Europe/London' }), // 12:00 local: open
        ],
        T0,
      );
      const first = await store.lease(ref, agent(1), T0, OFFER_TTL);
      expect(first?.lead.id).toBe('L3');
      expect(await store.lease(ref, agent(2), T0, OFFER_TTL)).toBeNull();
      // Two hours later New York opens (09:00 local); Tokyo stays closed.
      const later = await store.lease(ref, agent(2), T0 + 120 * MIN, OFFER_TTL);
      expect(later?.lead.id).toBe('L1');
      expect(await store.lease(ref, agent(3), T0 + 120 * MIN, OFFER_TTL)).toBeNull();
    });

    it('never offers a lead whose zone is unknown', async () => {
      await define();
      await store.enqueue(ref, [lead(1, { timeZone: null })], T0);
      expect(await store.lease(ref, agent(1), T0, OFFER_TTL)).toBeNull();
      const stats = await store.stats(ref, T0);
      expect(stats.zones).toEqual([{ zone: '', ready: 1, open: false }]);
    });

    it('offers a lead with several candidate zones only when every zone is open', async () => {
      await define({ window: BUSINESS_HOURS });
      await store.enqueue(ref, [lead(1, { timeZone: ['America/New_York', 'America/Los_Angeles'] })], T0);
      // 16:00Z: New York 11:00 (open), Los Angeles 08:00 (closed)
      expect(await store.lease(ref, agent(1), Date.UTC(2026, 0, 5, 16), OFFER_TTL)).toBeNull();
      // 17:00Z: Los Angeles 09:00, both open
      const l = await store.lease(ref, agent(1), Date.UTC(2026, 0, 5, 17), OFFER_TTL);
      expect(l?.lead.timeZone).toBe('America/Los_Angeles,America/New_York');
    });

    it('applies a changed window at once to leads already queued', async () => {
      await define({ window: BUSINESS_HOURS });
      await store.enqueue(ref, [lead(1)], T0);
      await define({ window: { rules: [{ days: [6, 7], from: '09:00', to: '17:00' }] } });
      expect(await store.lease(ref, agent(1), T0, OFFER_TTL)).toBeNull();
      await define({ window: BUSINESS_HOURS });
      expect((await store.lease(ref, agent(1), T0, OFFER_TTL))?.lead.id).toBe('L1');
    });
  });

  describe('dispatch and fairness', () => {
    it('gives the next lead to the agent idle longest, many pairs per call', async () => {
      await define();
      await store.enqueue(ref, [lead(1), lead(2), lead(3)], T0);
      await store.setAgentsReady(ref, [agent(3)], T0 - 3000);
      await store.setAgentsReady(ref, [agent(1)], T0 - 1000);
      await store.setAgentsReady(ref, [agent(2)], T0 - 2000);
      await store.setAgentsReady(ref, [agent(4)], T0);
      const { leases } = await store.dispatch(ref, T0, 10, OFFER_TTL);
      expect(leases.map((l) => [l.agentId, l.deviceId, l.lead.id])).toEqual([
        ['a3', 'd3', 'L1'],
        ['a2', 'd2', 'L2'],
        ['a1', 'd1', 'L3'],
      ]);
      expect((await store.stats(ref, T0)).readyAgents).toBe(1);
    });

    it('marks agents ready and pairs them in the same step', async () => {
      await define();
      await store.enqueue(ref, [lead(1), lead(2)], T0);
      await leaseOne(agent(9));
      await store.setAgentsReady(ref, [agent(3)], T0 - 1000);
      const r = await store.readyAndDispatch(ref, [agent(1), agent(9)], T0, 10, OFFER_TTL);
      expect(r.ready).toEqual([
        { ok: true, agentId: 'a1' },
        expect.objectContaining({ ok: false, code: 'AGENT_BUSY' }),
      ]);
      // The longest idle goes first, whether it became ready now or earlier.
      expect(r.leases.map((l) => [l.agentId, l.lead.id])).toEqual([['a3', 'L2']]);
      expect((await store.stats(ref, T0)).readyAgents).toBe(1);
    });

    it('keeps an agent its place when it says ready twice', async () => {
      await define();
      await store.setAgentsReady(ref, [agent(1)], T0 - 5000);
      await store.setAgentsReady(ref, [agent(2)], T0 - 1000);
      await store.setAgentsReady(ref, [agent(1)], T0);
      await store.enqueue(ref, [lead(1)], T0);
      const [l] = (await store.dispatch(ref, T0, 1, OFFER_TTL)).leases;
      expect(l?.agentId).toBe('a1');
    });

    it('never gives an agent two live leases', async () => {
      await define();
      await store.enqueue(ref, [lead(1), lead(2)], T0);
      await leaseOne();
      await expectCode(store.lease(ref, agent(1), T0, OFFER_TTL), 'AGENT_BUSY');
      const [ready] = await store.setAgentsReady(ref, [agent(1)], T0);
      expect(ready).toMatchObject({ ok: false, code: 'AGENT_BUSY' });
      expect((await store.dispatch(ref, T0, 10, OFFER_TTL)).leases).toEqual([]);
    });

    it('tells which lease makes an agent busy, and none once it is given back', async () => {
      await define();
      await store.enqueue(ref, [lead(1), lead(2)], T0);
      expect(await store.agentLease(ref, agent(1).agentId, T0)).toBeNull();
      const held = await leaseOne();
      expect(await store.agentLease(ref, agent(1).agentId, T0)).toEqual({
        leaseId: held.leaseId,
        state: 'o',
        live: true,
        phase: 'offered',
        leadId: held.lead.id,
        agentId: agent(1).agentId,
        deviceId: agent(1).deviceId,
        at: held.expiresAt,
      });
      await store.reject(TENANT, { leaseId: held.leaseId, agentId: agent(1).agentId }, T0);
      expect(await store.agentLease(ref, agent(1).agentId, T0)).toBeNull();
      const [ready] = await store.setAgentsReady(ref, [agent(1)], T0);
      expect(ready).toMatchObject({ ok: true });
      await expectCode(
        store.agentLease(campaignRef('acme', 'nope'), agent(1).agentId, T0),
        'CAMPAIGN_UNKNOWN',
      );
    });

    it('frees an agent once its lease expired, also while that call is being completed late', async () => {
      await define();
      await store.enqueue(ref, [lead(1), lead(2)], T0);
      const held = await leaseOne();
      const later = T0 + OFFER_TTL + 1;
      await store.reclaim(ref, later, 10);
      expect(await store.agentLease(ref, agent(1).agentId, later)).toBeNull();
      const [claimed] = await store.claimCompletions(
        TENANT,
        [{ leaseId: held.leaseId, agentId: agent(1).agentId, outcome: 'no_answer' }],
        later,
        CALL_TTL,
      );
      expect(claimed).toMatchObject({ ok: true, late: true });
      expect(await store.agentLease(ref, agent(1).agentId, later)).toBeNull();
      const [ready] = await store.setAgentsReady(ref, [agent(1)], later);
      expect(ready).toMatchObject({ ok: true });
      const [next] = (await store.dispatch(ref, later, 1, OFFER_TTL)).leases;
      expect(next).toMatchObject({ agentId: 'a1', lead: { id: 'L2' } });
    });

    it('takes an agent out of routing when it is no longer ready', async () => {
      await define();
      await store.enqueue(ref, [lead(1)], T0);
      await store.setAgentsReady(ref, [agent(1)], T0);
      expect(await store.setAgentNotReady(ref, asAgentId('a1'))).toBe(true);
      expect(await store.setAgentNotReady(ref, asAgentId('a1'))).toBe(false);
      expect((await store.dispatch(ref, T0, 10, OFFER_TTL)).leases).toEqual([]);
    });
  });

  describe('leases', () => {
    it('carries everything the offer needs', async () => {
      await define();
      await store.enqueue(
        ref,
        [
          lead(1, {
            name: 'Zoë Ω Smith',
            fields: { plan: 'gold', note: 'pipe | and, comma' },
            attempts: 2,
            priority: 7,
          }),
        ],
        T0,
      );
      const l = await leaseOne();
      expect(l).toMatchObject({
        campaignId: 'spring',
        agentId: 'a1',
        deviceId: 'd1',
        state: 'offered',
        expiresAt: T0 + OFFER_TTL,
        pinned: false,
        lead: {
          id: 'L1',
          phone: '+447700900001',
          name: 'Zoë Ω Smith',
          timeZone: 'Europe/London',
          priority: 7,
          attempts: 2,
          pinnedAgentId: null,
          fields: { plan: 'gold', note: 'pipe | and, comma' },
        },
      });
      expect(l.leaseId).toMatch(/^spring\.e1\.\d+\.L1\.[A-Za-z0-9_-]{16}$/);
    });

    it('extends a lease on acceptance and on heartbeats, only while it is live', async () => {
      await define();
      await store.enqueue(ref, [lead(1)], T0);
      const l = await leaseOne();
      const a1 = asAgentId('a1');
      const [early] = await store.extend(TENANT, [{ leaseId: l.leaseId, agentId: a1 }], T0 + 1, CALL_TTL);
      expect(early).toMatchObject({ ok: false, code: 'LEASE_NOT_ACCEPTED' });
      await expectCode(
        store.accept(TENANT, { leaseId: l.leaseId, agentId: asAgentId('a2') }, T0 + 1, CALL_TTL),
        'LEASE_NOT_OWNED',
      );
      const acc = await store.accept(TENANT, { leaseId: l.leaseId, agentId: a1 }, T0 + 1000, CALL_TTL);
      expect(acc.expiresAt).toBe(T0 + 1000 + CALL_TTL);
      const [beat] = await store.extend(TENANT, [{ leaseId: l.leaseId, agentId: a1 }], T0 + 30_000, CALL_TTL);
      expect(beat).toEqual({ ok: true, leaseId: l.leaseId, expiresAt: T0 + 30_000 + CALL_TTL });
      const [late] = await store.extend(
        TENANT,
        [{ leaseId: l.leaseId, agentId: a1 }],
        T0 + 30_000 + CALL_TTL,
        CALL_TTL,
      );
      expect(late).toMatchObject({ ok: false, code: 'LEASE_EXPIRED' });
    });

    it('does not let a device take an offer that has expired', async () => {
      await define();
      await store.enqueue(ref, [lead(1)], T0);
      const l = await leaseOne();
      await expectCode(
        store.accept(TENANT, { leaseId: l.leaseId, agentId: asAgentId('a1') }, T0 + OFFER_TTL, CALL_TTL),
        'LEASE_EXPIRED',
      );
    });

    it('tells a stale lease id from an unknown or malformed one', async () => {
      await define();
      await store.enqueue(ref, [lead(1)], T0);
      const l = await leaseOne();
      await store.reject(TENANT, { leaseId: l.leaseId, agentId: asAgentId('a1') }, T0);
      const a1 = asAgentId('a1');
      await expectCode(
        store.accept(TENANT, { leaseId: l.leaseId, agentId: a1 }, T0, CALL_TTL),
        'LEASE_STALE',
      );
      await expectCode(
        store.accept(TENANT, { leaseId: idOf('spring', 'e1', 999), agentId: a1 }, T0, CALL_TTL),
        'LEASE_UNKNOWN',
      );
      await expectCode(
        store.accept(TENANT, { leaseId: idOf('spring', 'other', 1), agentId: a1 }, T0, CALL_TTL),
        'LEASE_UNKNOWN',
      );
      await expectCode(
        store.accept(TENANT, { leaseId: 'not a lease', agentId: a1 }, T0, CALL_TTL),
        'LEASE_UNKNOWN',
      );
      await expectCode(store.peekLease(TENANT, idOf('spring', 'e1', 999), T0), 'LEASE_UNKNOWN');
    });

    it('puts a rejected lead back at the head of its priority with no attempt counted', async () => {
      await define();
      await store.enqueue(
        ref,
        [lead(1, { priority: 3 }), lead(2, { priority: 3 }), lead(3, { priority: 4 })],
        T0,
      );
      const first = await leaseOne(agent(1));
      expect(first.lead.id).toBe('L3');
      const second = await leaseOne(agent(2));
      expect(second.lead.id).toBe('L1');
      await store.reject(TENANT, { leaseId: second.leaseId, agentId: asAgentId('a2') }, T0);
      const again = await leaseOne(agent(3));
      expect(again.lead).toMatchObject({ id: 'L1', attempts: 0 });
      const r = await complete(second.leaseId, 'answered', T0);
      expect(r).toMatchObject({ ok: false, code: 'LEASE_STALE' });
    });
  });

  describe('completion', () => {
    it('removes a lead on a final outcome and remembers the answer for a repeat', async () => {
      await define();
      await store.enqueue(ref, [lead(1)], T0);
      const l = await leaseOne();
      const r = await complete(l.leaseId, 'answered', T0 + 1000);
      expect(r).toEqual({
        ok: true,
        leaseId: l.leaseId,
        leadId: 'L1',
        outcome: 'answered',
        attempts: 1,
        disposition: { kind: 'final' },
        duplicate: false,
        late: false,
        dncPhone: null,
      });
      const again = await complete(l.leaseId, 'answered', T0 + 5000);
      expect(again).toEqual({ ...r, duplicate: true });
      const stats = await store.stats(ref, T0);
      expect(stats).toMatchObject({ ready: 0, scheduled: 0, leased: 0 });
      expect((await store.snapshot(ref)).records).toEqual({});
      expect(await store.peekLease(TENANT, l.leaseId, T0 + 5000)).toMatchObject({
        state: 'd',
        live: false,
        phase: null,
        leadId: 'L1',
      });
    });

    it('schedules a retry after the policy delay and gives up after the maximum attempts', async () => {
      await define({ dispositions: { no_answer: { final: false, retryDelayMs: 10 * MIN, maxAttempts: 2 } } });
      await store.enqueue(ref, [lead(1)], T0);
      const first = await leaseOne();
      const r1 = await complete(first.leaseId, 'no_answer', T0);
      expect(r1).toMatchObject({
        ok: true,
        attempts: 1,
        disposition: { kind: 'retry', dueAt: T0 + 10 * MIN },
      });
      expect(await store.lease(ref, agent(1), T0 + 10 * MIN - 1, OFFER_TTL)).toBeNull();
      expect(await store.promote(ref, T0 + 10 * MIN, 100)).toBe(1);
      const second = await leaseOne(agent(1), T0 + 10 * MIN);
      expect(second.lead.attempts).toBe(1);
      const r2 = await complete(second.leaseId, 'no_answer', T0 + 11 * MIN);
      expect(r2).toMatchObject({ ok: true, attempts: 2, disposition: { kind: 'exhausted' } });
      expect((await store.snapshot(ref)).records).toEqual({});
    });

    it('schedules a callback for the agent only, ahead of everything else for that agent', async () => {
      await define();
      await store.enqueue(ref, [lead(1), lead(2, { priority: 9 }), lead(3, { priority: 9 })], T0);
      const l = await leaseOne(agent(1));
      expect(l.lead.id).toBe('L2');
      const r = await complete(l.leaseId, 'callback', T0, {
        callback: { at: T0 + 30 * MIN, scope: 'agent' },
      });
      expect(r).toMatchObject({
        ok: true,
        disposition: { kind: 'callback', dueAt: T0 + 30 * MIN, pinnedAgentId: 'a1' },
      });
      // Not due yet: the agent gets the next lead in the normal order.
      const early = await leaseOne(agent(1), T0 + MIN);
      expect(early.lead.id).toBe('L3');
      await complete(early.leaseId, 'answered', T0 + MIN);
      // Due: another agent never gets it, the pinned agent gets it before higher-priority leads.
      await store.enqueue(ref, [lead(4, { priority: 200 })], T0 + 30 * MIN);
      const other = await leaseOne(agent(2), T0 + 30 * MIN);
      expect(other.lead.id).toBe('L4');
      const mine = await leaseOne(agent(1), T0 + 30 * MIN);
      expect(mine).toMatchObject({ pinned: true, lead: { id: 'L2', pinnedAgentId: 'a1', attempts: 1 } });
    });

    it('schedules a callback for anyone into the shared queue', async () => {
      await define();
      await store.enqueue(ref, [lead(1)], T0);
      const l = await leaseOne(agent(1));
      await complete(l.leaseId, 'callback', T0, { callback: { at: T0 + 5 * MIN, scope: 'anyone' } });
      const other = await leaseOne(agent(2), T0 + 5 * MIN);
      expect(other).toMatchObject({ pinned: false, lead: { id: 'L1', pinnedAgentId: null } });
    });

    it('refuses a callback outcome without a callback, and a callback on another outcome', async () => {
      await define();
      await store.enqueue(ref, [lead(1)], T0);
      const l = await leaseOne();
      expect(await complete(l.leaseId, 'callback', T0)).toMatchObject({
        ok: false,
        code: 'CALLBACK_REQUIRED',
      });
      expect(await complete(l.leaseId, 'busy', T0, { callback: { at: T0, scope: 'agent' } })).toMatchObject({
        ok: false,
        code: 'CALLBACK_INVALID',
      });
      expect(
        await complete(l.leaseId, 'callback', T0, { callback: { at: T0, scope: 'team' } }),
      ).toMatchObject({
        ok: false,
        code: 'CALLBACK_INVALID',
      });
      expect((await store.snapshot(ref)).leases[l.leaseId]).toBeDefined();
    });

    it('refuses an outcome the campaign does not define and changes nothing', async () => {
      await define({ dispositions: { sale: { final: true, contact: true } } });
      await store.enqueue(ref, [lead(1)], T0);
      const l = await leaseOne();
      const before = await store.snapshot(ref);
      expect(await complete(l.leaseId, 'refund', T0)).toMatchObject({ ok: false, code: 'OUTCOME_UNKNOWN' });
      expect(await complete(l.leaseId, 'Not A Code!', T0)).toMatchObject({
        ok: false,
        code: 'OUTCOME_UNKNOWN',
      });
      expect(await store.snapshot(ref)).toEqual(before);
      expect(await complete(l.leaseId, 'sale', T0)).toMatchObject({
        ok: true,
        disposition: { kind: 'final' },
      });
    });

    it('reports the number of a do-not-call outcome so the tenant list can take it', async () => {
      await define();
      await store.enqueue(ref, [lead(1)], T0);
      const l = await leaseOne();
      const r = await complete(l.leaseId, 'dnc', T0);
      expect(r).toMatchObject({ ok: true, disposition: { kind: 'dnc' }, dncPhone: '+447700900001' });
      expect((await store.snapshot(ref)).phones).toEqual({});
    });

    it('claims a completion with its decision, then applies the committed decision without deciding again', async () => {
      await define({ dispositions: { busy: { final: false, retryDelayMs: 10 * MIN, maxAttempts: 5 } } });
      await store.enqueue(ref, [lead(1), lead(2)], T0);
      const l = await leaseOne();
      const [claimed] = await store.claimCompletions(
        TENANT,
        [{ leaseId: l.leaseId, outcome: 'busy' }],
        T0 + 10,
        MIN,
      );
      expect(claimed).toMatchObject({
        ok: true,
        leadId: 'L1',
        attempts: 1,
        duplicate: false,
        disposition: { kind: 'retry', dueAt: T0 + 10 + 10 * MIN },
      });
      // Claimed: held for the commit, its agent still busy, nothing of it offered or reclaimed.
      expect((await store.snapshot(ref)).leases[l.leaseId]).toMatchObject({
        state: 'c',
        expiresAt: T0 + 10 + MIN,
      });
      expect(await store.reclaim(ref, T0 + 2 * MIN, 100)).toEqual([]);
      expect(await store.expiredLeases(ref, T0 + 2 * MIN, 10)).toEqual([
        { leaseId: l.leaseId, state: 'c', leadId: 'L1', agentId: 'a1', deviceId: 'd1' },
      ]);
      // A retry claims again and decides again (the first attempt may never have committed).
      const [reclaimed] = await store.claimCompletions(
        TENANT,
        [{ leaseId: l.leaseId, outcome: 'busy' }],
        T0 + 20,
        MIN,
      );
      expect(reclaimed).toMatchObject({
        ok: true,
        disposition: { kind: 'retry', dueAt: T0 + 20 + 10 * MIN },
      });
      // The system of record committed the first decision: that is what is applied.
      const committed = claimed as Extract<typeof claimed, { ok: true }>;
      const [applied] = await store.applyCompletions(
        TENANT,
        [
          {
            leaseId: l.leaseId,
            agentId: asAgentId('a1'),
            outcome: committed.outcome,
            attempts: committed.attempts,
            disposition: committed.disposition,
            leadId: committed.leadId,
            late: committed.late,
          },
        ],
        T0 + 30,
      );
      expect(applied).toEqual({ ...committed, dncPhone: null });
      const snap = await store.snapshot(ref);
      expect(snap.scheduled).toEqual([[snap.phones['+447700900001']!, T0 + 10 + 10 * MIN]]);
      expect(snap.leases).toEqual({});
      const [again] = await store.claimCompletions(
        TENANT,
        [{ leaseId: l.leaseId, outcome: 'busy' }],
        T0 + 40,
        MIN,
      );
      expect(again).toMatchObject({
        ok: true,
        duplicate: true,
        disposition: { kind: 'retry', dueAt: T0 + 10 + 10 * MIN },
      });
    });

    it('requeues an expired claim only once its commit is fenced out, and refuses the claim from then on', async () => {
      await define();
      await store.enqueue(ref, [lead(1)], T0);
      const l = await leaseOne();
      await store.claimCompletions(TENANT, [{ leaseId: l.leaseId, outcome: 'answered' }], T0, MIN);
      expect(await store.reclaim(ref, T0 + 2 * MIN, 100)).toEqual([]);
      const voided = await store.voidClaims(ref, T0 + 2 * MIN, [l.leaseId]);
      expect(voided).toEqual([
        { leaseId: l.leaseId, leadId: 'L1', agentId: 'a1', deviceId: 'd1', state: 'offered' },
      ]);
      expect(await complete(l.leaseId, 'answered', T0 + 2 * MIN + 1)).toMatchObject({
        ok: false,
        code: 'LEASE_STALE',
      });
      const next = await leaseOne(agent(2), T0 + 2 * MIN + 2);
      expect(next.lead).toMatchObject({ id: 'L1', attempts: 0 });
    });

    it("takes a late completion's lead out of the queue when it is claimed, so the reaper cannot lease it meanwhile", async () => {
      await define();
      await store.enqueue(ref, [lead(1)], T0);
      const l = await leaseOne();
      await store.reclaim(ref, T0 + OFFER_TTL, 100);
      expect((await store.stats(ref, T0 + OFFER_TTL)).ready).toBe(1);
      const [claimed] = await store.claimCompletions(
        TENANT,
        [{ leaseId: l.leaseId, outcome: 'answered' }],
        T0 + OFFER_TTL + 1,
        MIN,
      );
      expect(claimed).toMatchObject({ ok: true, late: true });
      expect((await store.stats(ref, T0 + OFFER_TTL + 1)).ready).toBe(0);
      expect(await store.lease(ref, agent(2), T0 + OFFER_TTL + 2, OFFER_TTL)).toBeNull();
    });

    it('computes retry and callback times from the completion time when given', async () => {
      await define({ dispositions: { no_answer: { final: false, retryDelayMs: 10 * MIN, maxAttempts: 3 } } });
      await store.enqueue(ref, [lead(1)], T0);
      const l = await leaseOne();
      const r = await complete(l.leaseId, 'no_answer', T0 + 3 * MIN, { completedAt: T0 + MIN });
      expect(r).toMatchObject({ ok: true, disposition: { kind: 'retry', dueAt: T0 + 11 * MIN } });
      expect(await complete(l.leaseId, 'no_answer', T0, { completedAt: T0 + MIN })).toMatchObject({
        ok: false,
        code: 'INPUT_INVALID',
      });
    });

    it('checks that a completion comes from the agent holding the lease', async () => {
      await define();
      await store.enqueue(ref, [lead(1)], T0);
      const l = await leaseOne();
      const r = await complete(l.leaseId, 'answered', T0, { agentId: asAgentId('a2') });
      expect(r).toMatchObject({ ok: false, code: 'LEASE_NOT_OWNED' });
    });

    it('completes a batch with one result per item, in order', async () => {
      await define();
      await store.enqueue(ref, [lead(1), lead(2)], T0);
      const leases = await offer([agent(1), agent(2)]);
      const results = await store.complete(
        TENANT,
        [
          { leaseId: leases[0]!.leaseId, outcome: 'answered' },
          { leaseId: 'garbage', outcome: 'answered' },
          { leaseId: leases[1]!.leaseId, outcome: 'busy' },
        ],
        T0,
      );
      expect(results.map((r) => (r.ok ? r.disposition.kind : r.code))).toEqual([
        'final',
        'LEASE_UNKNOWN',
        'retry',
      ]);
    });
  });

  describe('expiry and fencing', () => {
    it('puts the lead of an expired lease back at the head, with no attempt counted', async () => {
      await define();
      await store.enqueue(ref, [lead(1), lead(2)], T0);
      const l = await leaseOne();
      expect(await store.reclaim(ref, T0 + OFFER_TTL - 1, 100)).toEqual([]);
      const reclaimed = await store.reclaim(ref, T0 + OFFER_TTL, 100);
      expect(reclaimed).toEqual([
        { leaseId: l.leaseId, leadId: 'L1', agentId: 'a1', deviceId: 'd1', state: 'offered' },
      ]);
      expect(await store.reclaim(ref, T0 + OFFER_TTL, 100)).toEqual([]);
      const again = await leaseOne(agent(2), T0 + OFFER_TTL);
      expect(again.lead).toMatchObject({ id: 'L1', attempts: 0 });
    });

    it('lists expired leases not yet reclaimed, without touching them', async () => {
      await define();
      await store.enqueue(ref, [lead(1), lead(2)], T0);
      const [a, b] = await offer([agent(1), agent(2)]);
      await store.accept(TENANT, { leaseId: b!.leaseId, agentId: asAgentId('a2') }, T0, CALL_TTL);
      expect(await store.expiredLeases(ref, T0 + OFFER_TTL - 1, 10)).toEqual([]);
      const ids = async (now: number) =>
        (await store.expiredLeases(ref, now, 10)).map((l) => [l.leaseId, l.state]);
      expect(await ids(T0 + OFFER_TTL)).toEqual([[a!.leaseId, 'o']]);
      expect(await ids(T0 + CALL_TTL)).toEqual([
        [a!.leaseId, 'o'],
        [b!.leaseId, 'a'],
      ]);
      expect((await store.stats(ref, T0 + CALL_TTL)).leased).toBe(2);
    });

    it('never lets a stale lease id change a newer lease', async () => {
      await define();
      await store.enqueue(ref, [lead(1)], T0);
      const old = await leaseOne(agent(1));
      await store.reclaim(ref, T0 + OFFER_TTL, 100);
      const fresh = await leaseOne(agent(2), T0 + OFFER_TTL);
      expect(fresh.lead.id).toBe('L1');
      const a1 = asAgentId('a1');
      expect(await complete(old.leaseId, 'answered', T0 + OFFER_TTL + 1)).toMatchObject({
        ok: false,
        code: 'LEASE_STALE',
      });
      await expectCode(
        store.accept(TENANT, { leaseId: old.leaseId, agentId: a1 }, T0 + OFFER_TTL, CALL_TTL),
        'LEASE_STALE',
      );
      await expectCode(
        store.reject(TENANT, { leaseId: old.leaseId, agentId: a1 }, T0 + OFFER_TTL),
        'LEASE_STALE',
      );
      const snap = await store.snapshot(ref);
      expect(snap.leases[fresh.leaseId]).toMatchObject({ state: 'o', agentId: 'a2' });
      const done = await complete(fresh.leaseId, 'answered', T0 + OFFER_TTL + 2);
      expect(done).toMatchObject({ ok: true, late: false });
    });

    it('expires a lease on demand: the next reclaim puts the lead back, and its call can still complete late', async () => {
      await define();
      await store.enqueue(ref, [lead(1)], T0);
      const l = await leaseOne();
      await store.accept(TENANT, { leaseId: l.leaseId, agentId: asAgentId('a1') }, T0, CALL_TTL);
      const [expired] = await store.expire(
        TENANT,
        [{ leaseId: l.leaseId, agentId: asAgentId('a1') }],
        T0 + 10,
      );
      expect(expired).toEqual({ ok: true, leaseId: l.leaseId, expiresAt: T0 + 10 });
      expect(await store.reclaim(ref, T0 + 10, 10)).toHaveLength(1);
      expect(await complete(l.leaseId, 'answered', T0 + 20)).toMatchObject({ ok: true, late: true });
      const [again] = await store.expire(TENANT, [{ leaseId: l.leaseId, agentId: asAgentId('a1') }], T0 + 30);
      expect(again).toMatchObject({ ok: false, code: 'LEASE_STALE' });
    });

    it('accepts a late completion of an expired lease whose lead was not leased again', async () => {
      await define();
      await store.enqueue(ref, [lead(1)], T0);
      const l = await leaseOne();
      await store.accept(TENANT, { leaseId: l.leaseId, agentId: asAgentId('a1') }, T0, CALL_TTL);
      await store.reclaim(ref, T0 + CALL_TTL, 100);
      expect((await store.stats(ref, T0 + CALL_TTL)).ready).toBe(1);
      const r = await complete(l.leaseId, 'answered', T0 + CALL_TTL + 500);
      expect(r).toMatchObject({ ok: true, late: true, disposition: { kind: 'final' }, attempts: 1 });
      expect(await store.stats(ref, T0 + CALL_TTL)).toMatchObject({ ready: 0, leased: 0 });
    });

    it('accepts a completion of an expired lease not yet reclaimed, marked late', async () => {
      await define();
      await store.enqueue(ref, [lead(1)], T0);
      const l = await leaseOne();
      const r = await complete(l.leaseId, 'busy', T0 + OFFER_TTL + 1);
      expect(r).toMatchObject({ ok: true, late: true, disposition: { kind: 'retry' } });
      expect(await store.reclaim(ref, T0 + OFFER_TTL + 2, 100)).toEqual([]);
    });

    it('forgets done leases after the retention and calls them stale', async () => {
      await t.dispose();
      t = await makeStore(kind, { tombstoneRetentionMs: 10_000 });
      store = t.store;
      await define();
      await store.enqueue(ref, [lead(1)], T0);
      const l = await leaseOne();
      await complete(l.leaseId, 'answered', T0);
      await store.reclaim(ref, T0 + 10_000, 100);
      expect(await complete(l.leaseId, 'answered', T0 + 10_001)).toMatchObject({
        ok: false,
        code: 'LEASE_STALE',
      });
    });
  });

  describe('update in place', () => {
    it('rewrites a queued lead (number, name, fields, zone) and keeps its first-in place', async () => {
      await define();
      await store.enqueue(ref, [lead(1), lead(2, { timeZone: null }), lead(3)], T0);
      const changed = lead(2, { phone: '+447700900999', name: 'Renamed', fields: { crm: 'X-9' } });
      expect(await store.updateLead(ref, lead(2).phone, changed, T0)).toBe('updated');
      const ids: string[] = [];
      for (let i = 1; i <= 3; i++) {
        const l = await leaseOne(agent(i));
        ids.push(l.lead.id);
        if (l.lead.id === 'L2') {
          expect(l.lead).toMatchObject({ phone: '+447700900999', name: 'Renamed', fields: { crm: 'X-9' } });
          expect(l.lead.timeZone).toBe('Europe/London');
        }
      }
      // Its zone was unknown (never dialled) and is now London: it is offered, in its old place.
      expect(ids).toEqual(['L1', 'L2', 'L3']);
      // The old number is free again; the new one is taken.
      expect((await store.enqueue(ref, [lead(7, { phone: lead(2).phone })], T0)).enqueued).toBe(1);
      expect((await store.enqueue(ref, [lead(8, { phone: '+447700900999' })], T0)).duplicates).toEqual([
        'L8',
      ]);
    });

    it('re-prioritizes, reschedules and pins: the queue order follows at once', async () => {
      await define();
      await store.enqueue(ref, [lead(1), lead(2), lead(3), lead(4)], T0);
      expect(await store.updateLead(ref, lead(3).phone, lead(3, { priority: 9 }), T0)).toBe('updated');
      expect(await store.updateLead(ref, lead(1).phone, lead(1, { dueAt: T0 + 10 * MIN }), T0)).toBe(
        'updated',
      );
      expect(
        await store.updateLead(
          ref,
          lead(4).phone,
          lead(4, { dueAt: T0 + 5 * MIN, pinnedAgentId: asAgentId('a2') }),
          T0,
        ),
      ).toBe('updated');
      expect(await store.stats(ref, T0)).toMatchObject({ ready: 2, scheduled: 2 });
      expect((await leaseOne(agent(1))).lead.id).toBe('L3');
      expect((await leaseOne(agent(3))).lead.id).toBe('L2');
      expect(await store.lease(ref, agent(5), T0 + 5 * MIN, OFFER_TTL)).toBeNull(); // L4 is a2's
      expect(await leaseOne(agent(2), T0 + 5 * MIN)).toMatchObject({ pinned: true, lead: { id: 'L4' } });
      expect((await leaseOne(agent(6), T0 + 10 * MIN)).lead.id).toBe('L1');
    });

    it('moves a pinned callback to anyone or to now, keeping its time unless given one', async () => {
      await define();
      await store.enqueue(ref, [lead(1, { dueAt: T0 + 30 * MIN, pinnedAgentId: asAgentId('a1') })], T0);
      // To anyone, same time: still scheduled until then.
      expect(await store.updateLead(ref, lead(1).phone, lead(1), T0)).toBe('updated');
      expect(await store.lease(ref, agent(2), T0 + 29 * MIN, OFFER_TTL)).toBeNull();
      // Due now (a cancelled callback): anyone gets it at once.
      expect(await store.updateLead(ref, lead(1).phone, lead(1, { dueAt: T0 }), T0)).toBe('updated');
      expect(await leaseOne(agent(2))).toMatchObject({
        pinned: false,
        lead: { id: 'L1', pinnedAgentId: null },
      });
    });

    it('never touches a lead under a live lease, and names a duplicate, suppressed or absent lead', async () => {
      await define();
      await store.enqueue(ref, [lead(1), lead(2)], T0);
      const l = await leaseOne();
      expect(l.lead.id).toBe('L1');
      expect(await store.updateLead(ref, lead(1).phone, lead(1, { phone: '+447700900999' }), T0)).toBe(
        'leased',
      );
      await store.reject(TENANT, { leaseId: l.leaseId, agentId: asAgentId('a1') }, T0);
      expect(await store.updateLead(ref, lead(1).phone, lead(1, { phone: lead(2).phone }), T0)).toBe(
        'duplicate',
      );
      await store.removeNumbers(ref, ['+447700900999'], T0);
      expect(await store.updateLead(ref, lead(1).phone, lead(1, { phone: '+447700900999' }), T0)).toBe(
        'suppressed',
      );
      expect(await store.updateLead(ref, lead(1).phone, lead(5), T0)).toBe('absent');
      expect(await store.updateLead(ref, '+15550000000', lead(1), T0)).toBe('absent');
      // Nothing changed: the rejected lead is still at the head under its number.
      expect(await leaseOne(agent(2))).toMatchObject({ lead: { id: 'L1', phone: lead(1).phone } });
      await expectCode(
        store.updateLead(campaignRef('acme', 'nope'), lead(1).phone, lead(1), T0),
        'CAMPAIGN_UNKNOWN',
      );
    });
  });

  describe('removal by number', () => {
    it('removes a number wherever it is, revoking a live lease for routing', async () => {
      await define();
      await store.enqueue(ref, [lead(1), lead(2), lead(3, { dueAt: T0 + MIN }), lead(4)], T0);
      const l = await leaseOne();
      expect(l.lead.id).toBe('L1');
      const removed = await store.removeNumbers(ref, [lead(1).phone, lead(3).phone, '+15550000000'], T0);
      expect(removed).toEqual([
        {
          phone: lead(1).phone,
          leadId: 'L1',
          revoked: { leaseId: l.leaseId, agentId: 'a1', deviceId: 'd1' },
        },
        { phone: lead(3).phone, leadId: 'L3', revoked: null },
      ]);
      const stats = await store.stats(ref, T0 + MIN);
      expect(stats).toMatchObject({ ready: 2, scheduled: 0, leased: 0 });
      // The agent is free again; the numbers stay suppressed in this campaign, even one that was
      // not queued when it was listed.
      await leaseOne(agent(1));
      expect(await store.enqueue(ref, [lead(1), lead(9, { phone: '+15550000000' }), lead(10)], T0)).toEqual({
        enqueued: 1,
        duplicates: [],
        alreadyQueued: [],
        suppressed: ['L1', 'L9'],
      });
      expect((await store.snapshot(ref)).suppressed).toEqual(
        [lead(3).phone, lead(1).phone, '+15550000000'].sort(),
      );
    });

    it('still accepts the outcome of a call whose number was listed mid-call, and never requeues the lead', async () => {
      await define({ dispositions: { no_answer: { final: false, retryDelayMs: MIN, maxAttempts: 5 } } });
      await store.enqueue(ref, [lead(1), lead(2)], T0);
      const l = await leaseOne();
      await store.accept(TENANT, { leaseId: l.leaseId, agentId: asAgentId('a1') }, T0, CALL_TTL);
      await store.removeNumbers(ref, [lead(1).phone], T0 + 10);
      expect(await store.peekLease(TENANT, l.leaseId, T0 + 20)).toMatchObject({ state: 'r', live: false });
      // Not renewable (revoked for routing) ...
      const [beat] = await store.extend(
        TENANT,
        [{ leaseId: l.leaseId, agentId: asAgentId('a1') }],
        T0 + 20,
        CALL_TTL,
      );
      expect(beat).toMatchObject({ ok: false, code: 'LEASE_STALE' });
      // ... but the call happened: its outcome is decided and applied, and a retry outcome does not bring the lead back.
      const r = await complete(l.leaseId, 'no_answer', T0 + 30);
      expect(r).toMatchObject({ ok: true, leadId: 'L1', attempts: 1, disposition: { kind: 'retry' } });
      const snap = await store.snapshot(ref);
      expect(Object.values(snap.records)).toEqual(['L2']);
      expect(await store.promote(ref, T0 + 10 * MIN, 100)).toBe(0);
      expect((await store.lease(ref, agent(2), T0 + 10 * MIN, OFFER_TTL))?.lead.id).toBe('L2');
      expect(await store.lease(ref, agent(3), T0 + 10 * MIN, OFFER_TTL)).toBeNull();
    });

    it('never offers a number listed while its lead was being completed', async () => {
      await define({ dispositions: { no_answer: { final: false, retryDelayMs: MIN, maxAttempts: 5 } } });
      await store.enqueue(ref, [lead(1)], T0);
      const l = await leaseOne();
      const [claimed] = await store.claimCompletions(
        TENANT,
        [{ leaseId: l.leaseId, outcome: 'no_answer' }],
        T0,
        MIN,
      );
      expect(claimed).toMatchObject({ ok: true });
      await store.removeNumbers(ref, [lead(1).phone], T0 + 1);
      const c = claimed as Extract<typeof claimed, { ok: true }>;
      await store.applyCompletions(
        TENANT,
        [
          {
            leaseId: l.leaseId,
            outcome: c.outcome,
            attempts: c.attempts,
            disposition: c.disposition,
            leadId: c.leadId,
            late: c.late,
          },
        ],
        T0 + 2,
      );
      expect((await store.snapshot(ref)).records).toEqual({});
      expect(await store.lease(ref, agent(2), T0 + 10 * MIN, OFFER_TTL)).toBeNull();
    });

    it('never queues again a number a do-not-call outcome listed, even after a rebuild', async () => {
      await define();
      await store.enqueue(ref, [lead(1)], T0);
      const l = await leaseOne();
      await complete(l.leaseId, 'dnc', T0);
      expect((await store.enqueue(ref, [lead(2, { phone: lead(1).phone })], T0)).suppressed).toEqual(['L2']);
      const r = await store.rebuild(ref, [[lead(3, { phone: lead(1).phone }), lead(4)]], T0);
      expect(r.enqueued).toBe(1);
      expect(Object.values((await store.snapshot(ref)).records)).toEqual(['L4']);
    });

    it('refuses malformed numbers', async () => {
      await define();
      await expectCode(store.removeNumbers(ref, ['12345'], T0), 'INPUT_INVALID');
    });
  });

  describe('erasure by number', () => {
    it('erases a number wherever it is: queued, scheduled, under a live lease; the lease is revoked and gone', async () => {
      await define();
      await store.enqueue(ref, [lead(1), lead(2), lead(3, { dueAt: T0 + MIN }), lead(4)], T0);
      const l = await leaseOne();
      expect(l.lead.id).toBe('L1');
      const erased = await store.eraseNumbers(ref, [lead(1).phone, lead(3).phone, '+15550000000']);
      expect([...erased].sort((a, b) => a.leadId.localeCompare(b.leadId))).toEqual([
        {
          phone: lead(1).phone,
          leadId: 'L1',
          revoked: { leaseId: l.leaseId, agentId: 'a1', deviceId: 'd1' },
        },
        { phone: lead(3).phone, leadId: 'L3', revoked: null },
      ]);
      const snap = await store.snapshot(ref);
      expect(Object.values(snap.records).sort()).toEqual(['L2', 'L4']);
      expect(snap.suppressed).toEqual([]);
      // A late completion of the erased call keeps nothing: the lease is unknown to the queue.
      expect(await complete(l.leaseId, 'answered', T0 + 10)).toMatchObject({
        ok: false,
        code: 'LEASE_STALE',
      });
      // The agent is free again and is offered the next lead.
      expect((await leaseOne(agent(1), T0 + 20)).lead.id).toBe('L2');
      if (kind === 'redis') {
        const digits = [lead(1).phone.slice(1), lead(3).phone.slice(1)];
        expect(await redisKeysHolding(digits, `${t.prefix}*`)).toEqual([]);
      }
    });

    it('drops the record a do-not-call removal kept for a call in progress, and the suppression entry', async () => {
      await define();
      await store.enqueue(ref, [lead(1), lead(2)], T0);
      const l = await leaseOne();
      await store.accept(TENANT, { leaseId: l.leaseId, agentId: asAgentId('a1') }, T0, CALL_TTL);
      await store.removeNumbers(ref, [lead(1).phone], T0 + 10);
      expect((await store.snapshot(ref)).suppressed).toEqual([lead(1).phone]);
      const erased = await store.eraseNumbers(ref, [lead(1).phone]);
      expect(erased).toEqual([{ phone: lead(1).phone, leadId: 'L1', revoked: null }]);
      const snap = await store.snapshot(ref);
      expect(Object.values(snap.records)).toEqual(['L2']);
      expect(snap.suppressed).toEqual([]);
      expect(await complete(l.leaseId, 'answered', T0 + 30)).toMatchObject({
        ok: false,
        code: 'LEASE_STALE',
      });
      if (kind === 'redis')
        expect(await redisKeysHolding([lead(1).phone.slice(1)], `${t.prefix}*`)).toEqual([]);
    });

    it('refuses malformed numbers and unknown campaigns', async () => {
      await define();
      await expectCode(store.eraseNumbers(ref, ['12345']), 'INPUT_INVALID');
      await expectCode(
        store.eraseNumbers(campaignRef('acme', 'nope'), ['+447700900001']),
        'CAMPAIGN_UNKNOWN',
      );
    });
  });

  describe('statistics', () => {
    it('counts ready, scheduled, leased and ready agents, per zone', async () => {
      await define({ window: BUSINESS_HOURS });
      await store.enqueue(
        ref,
        [
          lead(1),
          lead(2),
          lead(3, { timeZone: 'America/New_York' }),
          lead(4, { dueAt: T0 + MIN }),
          lead(5, { pinnedAgentId: asAgentId('a7'), dueAt: T0 + MIN }),
        ],
        T0,
      );
      await leaseOne();
      await store.setAgentsReady(ref, [agent(8), agent(9)], T0);
      expect(await store.stats(ref, T0)).toEqual({
        ready: 2,
        scheduled: 2,
        leased: 1,
        readyAgents: 2,
        zones: [
          { zone: 'America/New_York', ready: 1, open: false },
          { zone: 'Europe/London', ready: 1, open: true },
        ],
      });
    });
  });

  describe('rebuild', () => {
    it('replaces the queue from the source, keeping leads under a live lease', async () => {
      await define();
      await store.enqueue(ref, [lead(1), lead(2), lead(3)], T0);
      const l = await leaseOne();
      const source = [[lead(1), lead(3, { priority: 2 })], [lead(4)]];
      const r = await store.rebuild(ref, source, T0);
      expect(r).toEqual({
        enqueued: 2,
        duplicates: 1,
        suppressed: 0,
        keptLeased: 1,
        reattached: 0,
        waited: false,
      });
      const snap = await store.snapshot(ref);
      expect(Object.values(snap.records).sort()).toEqual(['L1', 'L3', 'L4']);
      expect(snap.leases[l.leaseId]).toBeDefined();
      const next = await leaseOne(agent(2));
      expect(next.lead.id).toBe('L3');
      expect(await complete(l.leaseId, 'answered', T0)).toMatchObject({ ok: true, leadId: 'L1' });
    });

    it('refuses completions while it reads the system of record, so a lead completed meanwhile is not queued again', async () => {
      await define();
      await store.enqueue(ref, [lead(1), lead(2)], T0);
      const l = await leaseOne();
      let during: unknown;
      async function* source() {
        // A final outcome arrives while the rebuild reads; what the read returns was read before
        // that outcome was saved, so it still shows L1 as queued.
        during = await complete(l.leaseId, 'answered', T0);
        yield [lead(1), lead(2)];
      }
      await store.rebuild(ref, source(), T0);
      expect(during).toMatchObject({ ok: false, code: 'CAMPAIGN_STALE' });
      expect(await complete(l.leaseId, 'answered', T0 + 1)).toMatchObject({ ok: true, leadId: 'L1' });
      const snap = await store.snapshot(ref);
      expect(Object.values(snap.records)).toEqual(['L2']);
      expect((await store.lease(ref, agent(2), T0 + 2, OFFER_TTL))?.lead.id).toBe('L2');
      expect(await store.lease(ref, agent(3), T0 + 2, OFFER_TTL)).toBeNull();
    });

    it('runs one rebuild of a campaign at a time: a second one asked meanwhile waits for it and reads nothing', async () => {
      await define();
      await store.enqueue(ref, [lead(1), lead(2)], T0);
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      async function* slow() {
        await gate;
        yield [lead(1), lead(2)];
      }
      let secondRead = false;
      function* second() {
        secondRead = true;
        yield [lead(1), lead(2), lead(3)];
      }
      const first = store.rebuild(ref, slow(), T0);
      await new Promise((r) => setTimeout(r, 50));
      const other = store.rebuild(ref, second(), T0);
      await new Promise((r) => setTimeout(r, 50));
      release();
      const [a, b] = await Promise.all([first, other]);
      expect(a).toMatchObject({ enqueued: 2, waited: false });
      expect(b).toMatchObject({ enqueued: 0, waited: true });
      expect(secondRead).toBe(false);
      const snap = await store.snapshot(ref);
      expect(Object.values(snap.records).sort()).toEqual(['L1', 'L2']);
    });

    it('reads nothing when another rebuild ended after the caller saw the need for its own', async () => {
      expect(await store.rebuilds(campaignRef(TENANT, 'never-defined'))).toBeNull();
      await define();
      await store.enqueue(ref, [lead(1), lead(2)], T0);
      // Two gateways find the campaign needing a rebuild at once; the first one's ends, its queue
      // leases again, and only then does the second get to its own (it asked every gateway for
      // their calls first): it must not empty the queue and read the system of record again.
      const seen = await store.rebuilds(ref);
      expect(seen).toBe(0);
      expect(await store.rebuild(ref, [[lead(1), lead(2)]], T0, { unlessRebuiltSince: seen! })).toMatchObject(
        {
          enqueued: 2,
          waited: false,
        },
      );
      expect(await store.rebuilds(ref)).toBe(1);
      const l = await leaseOne();
      let read = false;
      function* late() {
        read = true;
        yield [lead(1), lead(2), lead(3)];
      }
      expect(await store.rebuild(ref, late(), T0, { unlessRebuiltSince: seen! })).toEqual(REBUILD_WAITED);
      expect(read).toBe(false);
      expect(await store.rebuilds(ref)).toBe(1);
      const snap = await store.snapshot(ref);
      expect(Object.values(snap.records).sort()).toEqual(['L1', 'L2']);
      expect(snap.leases[l.leaseId]).toBeDefined();
      expect((await store.lease(ref, agent(2), T0, OFFER_TTL))?.lead.id).toBe('L2');
      // Asked since that rebuild (or with nothing seen), a rebuild runs.
      expect(await store.rebuild(ref, [[lead(3)]], T0, { unlessRebuiltSince: 1 })).toMatchObject({
        enqueued: 1,
        waited: false,
      });
      expect(await store.rebuilds(ref)).toBe(2);
    });
  });

  describe('one call, one agent, one outcome', () => {
    it('lets only the session that made an agent ready take it out of routing again', async () => {
      await define();
      await store.setAgentsReady(ref, [{ ...agent(1), session: 's2' }], T0);
      expect(await store.setAgentNotReady(ref, asAgentId('a1'), 's1')).toBe(false);
      expect((await store.stats(ref, T0)).readyAgents).toBe(1);
      expect(await store.setAgentNotReady(ref, asAgentId('a1'), 's2')).toBe(true);
      expect((await store.stats(ref, T0)).readyAgents).toBe(0);
    });

    it('says when a closed zone opens if ready agents are left waiting, so dispatch can be triggered then', async () => {
      await define({ window: BUSINESS_HOURS });
      await store.enqueue(ref, [lead(1, { timeZone: 'America/New_York' })], T0); // opens 09:00 local
      await store.setAgentsReady(ref, [agent(1)], T0);
      expect(await store.dispatch(ref, T0, 10, OFFER_TTL)).toEqual({
        leases: [],
        nextOpenAt: T0 + 120 * MIN,
      });
      const opened = await store.dispatch(ref, T0 + 120 * MIN, 10, OFFER_TTL);
      expect(opened.leases.map((l) => l.lead.id)).toEqual(['L1']);
      expect(opened.nextOpenAt).toBeNull();
    });

    it('withdraws an offer accepted after its calling window closed', async () => {
      await define({ window: BUSINESS_HOURS });
      await store.enqueue(ref, [lead(1)], T0); // London closes at 21:00 local = T0 + 9 h
      const l = await leaseOne(agent(1), T0 + 9 * 60 * MIN - 2_000);
      await expectCode(
        store.accept(
          TENANT,
          { leaseId: l.leaseId, agentId: asAgentId('a1') },
          T0 + 9 * 60 * MIN + 1_000,
          CALL_TTL,
        ),
        'OUTSIDE_CALLING_WINDOW',
      );
      const stats = await store.stats(ref, T0 + 9 * 60 * MIN + 1_000);
      expect(stats).toMatchObject({ ready: 1, leased: 0 });
      expect(await complete(l.leaseId, 'answered', T0 + 9 * 60 * MIN + 2_000)).toMatchObject({
        ok: false,
        code: 'LEASE_STALE',
      });
      // Offered again when the window opens the next morning, attempts untouched.
      const next = await leaseOne(agent(2), T0 + 21 * 60 * MIN);
      expect(next.lead).toMatchObject({ id: 'L1', attempts: 0 });
    });

    it('remembers how far an accepted call got, only forward, for a resumed device', async () => {
      await define();
      await store.enqueue(ref, [lead(1)], T0);
      const l = await leaseOne();
      const a1 = asAgentId('a1');
      const [early] = await store.setPhase(
        TENANT,
        [{ leaseId: l.leaseId, agentId: a1, phase: 'on_call' }],
        T0,
        CALL_TTL,
      );
      expect(early).toMatchObject({ ok: false, code: 'LEASE_NOT_ACCEPTED' });
      expect(await store.peekLease(TENANT, l.leaseId, T0)).toMatchObject({
        state: 'o',
        live: true,
        phase: 'offered',
      });
      await store.accept(TENANT, { leaseId: l.leaseId, agentId: a1 }, T0, CALL_TTL);
      expect(await store.peekLease(TENANT, l.leaseId, T0)).toMatchObject({ phase: 'dialing' });
      const [connected] = await store.setPhase(
        TENANT,
        [{ leaseId: l.leaseId, agentId: a1, phase: 'on_call' }],
        T0 + 10,
        CALL_TTL,
      );
      expect(connected).toEqual({ ok: true, leaseId: l.leaseId, expiresAt: T0 + 10 + CALL_TTL });
      expect(await store.peekLease(TENANT, l.leaseId, T0 + 10)).toMatchObject({
        state: 'n',
        phase: 'on_call',
      });
      await store.setPhase(
        TENANT,
        [{ leaseId: l.leaseId, agentId: a1, phase: 'wrap_up' }],
        T0 + 20,
        CALL_TTL,
      );
      await store.setPhase(
        TENANT,
        [{ leaseId: l.leaseId, agentId: a1, phase: 'on_call' }],
        T0 + 30,
        CALL_TTL,
      );
      await store.extend(TENANT, [{ leaseId: l.leaseId, agentId: a1 }], T0 + 40, CALL_TTL);
      expect(await store.peekLease(TENANT, l.leaseId, T0 + 40)).toMatchObject({
        state: 'w',
        phase: 'wrap_up',
        live: true,
      });
      // Expired: not live any more, whatever phase it reached.
      expect(await store.peekLease(TENANT, l.leaseId, T0 + 40 + CALL_TTL)).toMatchObject({
        live: false,
        phase: null,
      });
    });

    describe('a lease the queue lost', () => {
      beforeEach(async () => {
        await t.dispose();
        t = await makeStore(kind, { newEpoch: countingEpoch });
        store = t.store;
      });

      async function lostLease() {
        await define();
        await store.enqueue(ref, [lead(1), lead(2)], T0);
        const l = await leaseOne();
        // The queue's keys are lost; the campaign is defined again and rebuilt from the system of record.
        await store.dropCampaign(ref);
        await define();
        await store.enqueue(ref, [lead(1), lead(2)], T0 + 1);
        return l;
      }

      const orphan = (leaseId: string, extra: object = {}) => ({
        leaseId,
        agentId: asAgentId('a1'),
        deviceId: asDeviceId('d1'),
        leadId: 'L1',
        phone: lead(1).phone,
        outcome: 'answered',
        ...extra,
      });

      it('adopts its completion for the lead it was granted for, then applies it', async () => {
        const l = await lostLease();
        const [unknown] = await store.claimCompletions(
          TENANT,
          [{ leaseId: l.leaseId, outcome: 'answered', agentId: asAgentId('a1') }],
          T0 + 2,
          MIN,
        );
        expect(unknown).toMatchObject({ ok: false, code: 'LEASE_UNKNOWN' });
        const [adopted] = await store.adoptCompletions(TENANT, [orphan(l.leaseId)], T0 + 3, MIN);
        expect(adopted).toMatchObject({
          ok: true,
          leadId: 'L1',
          late: true,
          attempts: 1,
          disposition: { kind: 'final' },
        });
        // Out of routing while it commits: the next offer is the other lead.
        expect((await leaseOne(agent(2), T0 + 4)).lead.id).toBe('L2');
        const a = adopted as Extract<typeof adopted, { ok: true }>;
        const [applied] = await store.applyCompletions(
          TENANT,
          [
            {
              leaseId: l.leaseId,
              outcome: a.outcome,
              attempts: a.attempts,
              disposition: a.disposition,
              leadId: a.leadId,
              late: a.late,
            },
          ],
          T0 + 5,
        );
        expect(applied).toMatchObject({ ok: true, duplicate: false });
        expect(Object.values((await store.snapshot(ref)).records)).toEqual(['L2']);
        const [repeat] = await store.adoptCompletions(TENANT, [orphan(l.leaseId)], T0 + 6, MIN);
        expect(repeat).toMatchObject({ ok: true, duplicate: true });
      });

      it('adopts several in one call, each retry due from its own completion time', async () => {
        const dispositions = { no_answer: { final: false, retryDelayMs: 10 * MIN, maxAttempts: 5 } };
        await define({ dispositions });
        await store.enqueue(ref, [lead(1), lead(2)], T0);
        const l1 = await leaseOne(agent(1));
        const l2 = await leaseOne(agent(2));
        await store.dropCampaign(ref);
        await define({ dispositions });
        await store.enqueue(ref, [lead(1), lead(2)], T0 + 1);
        const [r1, r2] = await store.adoptCompletions(
          TENANT,
          [
            orphan(l1.leaseId, { outcome: 'no_answer', completedAt: T0 + 2 }),
            orphan(l2.leaseId, {
              ...agent(2),
              leadId: 'L2',
              phone: lead(2).phone,
              outcome: 'no_answer',
              completedAt: T0 + 3,
            }),
          ],
          T0 + 5,
          MIN,
        );
        expect(r1).toMatchObject({
          ok: true,
          leadId: 'L1',
          disposition: { kind: 'retry', dueAt: T0 + 2 + 10 * MIN },
        });
        expect(r2).toMatchObject({
          ok: true,
          leadId: 'L2',
          disposition: { kind: 'retry', dueAt: T0 + 3 + 10 * MIN },
        });
      });

      it('refuses it when the lead has been leased again, or the id was not granted to this agent for this lead', async () => {
        const l = await lostLease();
        expect(
          (
            await store.adoptCompletions(
              TENANT,
              [orphan(l.leaseId, { agentId: asAgentId('a2') })],
              T0 + 2,
              MIN,
            )
          )[0],
        ).toMatchObject({
          ok: false,
          code: 'LEASE_UNKNOWN',
        });
        expect(
          (
            await store.adoptCompletions(
              TENANT,
              [orphan(l.leaseId, { leadId: 'L2', phone: lead(2).phone })],
              T0 + 2,
              MIN,
            )
          )[0],
        ).toMatchObject({
          ok: false,
          code: 'LEASE_UNKNOWN',
        });
        expect((await leaseOne(agent(2), T0 + 3)).lead.id).toBe('L1');
        expect((await store.adoptCompletions(TENANT, [orphan(l.leaseId)], T0 + 4, MIN))[0]).toMatchObject({
          ok: false,
          code: 'LEASE_STALE',
        });
      });
    });
  });

  describe('rebuild after the queue lost its keys', () => {
    beforeEach(async () => {
      await t.dispose();
      t = await makeStore(kind, { newEpoch: countingEpoch });
      store = t.store;
    });

    it('attaches the calls in progress again before anything is leased, in their phase', async () => {
      await define();
      await store.enqueue(ref, [lead(1), lead(2), lead(3)], T0);
      const onCall = await leaseOne(agent(1));
      const offered = await leaseOne(agent(2));
      await store.dropCampaign(ref);
      await define({}, ref, T0 + 1);
      const held = [
        {
          leaseId: onCall.leaseId,
          agentId: asAgentId('a1'),
          deviceId: asDeviceId('d1'),
          phase: 'on_call' as const,
          expiresAt: T0 + CALL_TTL,
          lead: lead(1),
        },
        {
          leaseId: offered.leaseId,
          agentId: asAgentId('a2'),
          deviceId: asDeviceId('d2'),
          phase: 'offered' as const,
          expiresAt: T0 + OFFER_TTL,
          lead: lead(2),
        },
        // Not granted for this campaign: ignored.
        {
          leaseId: idOf('other', 'e9', 1),
          agentId: asAgentId('a3'),
          deviceId: asDeviceId('d3'),
          phase: 'dialing' as const,
          expiresAt: T0 + CALL_TTL,
          lead: lead(3),
        },
      ];
      const r = await store.rebuild(ref, [[lead(1), lead(2), lead(3)]], T0 + 2, { held });
      expect(r).toMatchObject({ reattached: 2, enqueued: 1 });
      // Only the lead no call holds is offered; the held ones resume and complete as usual.
      expect((await leaseOne(agent(4), T0 + 3)).lead.id).toBe('L3');
      expect(await store.lease(ref, agent(5), T0 + 3, OFFER_TTL)).toBeNull();
      expect(await store.peekLease(TENANT, onCall.leaseId, T0 + 3)).toMatchObject({
        live: true,
        phase: 'on_call',
        agentId: 'a1',
      });
      expect(await complete(onCall.leaseId, 'answered', T0 + 4)).toMatchObject({ ok: true, leadId: 'L1' });
      expect(await store.peekLease(TENANT, offered.leaseId, T0 + 4)).toMatchObject({
        live: true,
        phase: 'offered',
      });
    });
  });

  describe('tenancy', () => {
    it('keeps the same campaign id of two tenants apart', async () => {
      const other = campaignRef('globex', 'spring');
      await define();
      await define({}, other);
      await store.enqueue(ref, [lead(1)], T0);
      await store.enqueue(other, [lead(1, { id: 'G1' })], T0);
      const mine = await leaseOne();
      expect(mine.lead.id).toBe('L1');
      // A lease id from one tenant means nothing under another: it reaches no lease there.
      const [cross] = await store.complete(
        asTenantId('globex'),
        [{ leaseId: mine.leaseId, outcome: 'answered' }],
        T0,
      );
      expect(cross).toMatchObject({ ok: false, code: 'LEASE_UNKNOWN' });
      expect((await store.snapshot(ref)).leases[mine.leaseId]).toBeDefined();
      const theirs = await store.lease(other, agent(1), T0, OFFER_TTL);
      expect(theirs?.lead.id).toBe('G1');
      await expectCode(store.peekLease(asTenantId('initech'), mine.leaseId, T0), 'CAMPAIGN_UNKNOWN');
      await store.dropCampaign(other);
      expect(await store.hasCampaign(other)).toBe(false);
      expect(await store.hasCampaign(ref)).toBe(true);
    });
  });

  describe('unsuppression (a number off the do-not-call list)', () => {
    it('queues and offers a number again once unsuppressed; the lead the listing removed stays removed', async () => {
      await define();
      await store.enqueue(ref, [lead(1), lead(2)], T0);
      await store.removeNumbers(ref, [lead(1).phone, '+15550000000'], T0);
      expect(await store.unsuppressNumbers(ref, [lead(1).phone, lead(7).phone])).toEqual({
        removed: 1,
        held: [],
      });
      expect((await store.snapshot(ref)).suppressed).toEqual(['+15550000000']);
      // Removed is removed: nothing came back by itself.
      expect(Object.values((await store.snapshot(ref)).records)).toEqual(['L2']);
      expect(await store.enqueue(ref, [lead(1, { id: 'L1b' })], T0)).toMatchObject({
        enqueued: 1,
        suppressed: [],
      });
      const offered = [await leaseOne(agent(1)), await leaseOne(agent(2))].map((l) => l.lead.id).sort();
      expect(offered).toEqual(['L1b', 'L2']);
      await expectCode(
        store.unsuppressNumbers(campaignRef('acme', 'nope'), [lead(1).phone]),
        'CAMPAIGN_UNKNOWN',
      );
      await expectCode(store.unsuppressNumbers(ref, ['12345']), 'INPUT_INVALID');
    });

    it('changes nothing while a lead the listing removed is still on a call, then works once it is completed', async () => {
      await define({ dispositions: { no_answer: { final: false, retryDelayMs: MIN, maxAttempts: 5 } } });
      await store.enqueue(ref, [lead(1)], T0);
      const l = await leaseOne();
      await store.accept(TENANT, { leaseId: l.leaseId, agentId: asAgentId('a1') }, T0, CALL_TTL);
      await store.removeNumbers(ref, [lead(1).phone], T0 + 10);
      expect(await store.unsuppressNumbers(ref, [lead(1).phone])).toEqual({
        removed: 0,
        held: [lead(1).phone],
      });
      expect((await store.snapshot(ref)).suppressed).toEqual([lead(1).phone]);
      // The call's retry outcome does not bring the removed lead back ...
      expect(await complete(l.leaseId, 'no_answer', T0 + 30)).toMatchObject({ ok: true, leadId: 'L1' });
      // ... and now the number can leave the set.
      expect(await store.unsuppressNumbers(ref, [lead(1).phone])).toEqual({ removed: 1, held: [] });
      expect(await store.promote(ref, T0 + 10 * MIN, 100)).toBe(0);
      expect(await store.lease(ref, agent(2), T0 + 10 * MIN, OFFER_TTL)).toBeNull();
    });
  });
});
