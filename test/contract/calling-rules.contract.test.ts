// The calling rules' part of the QueueStore contract (engine/calling-rules.ts), run against both
// adapters and a Redis Cluster: presets and regional hours, holidays, call caps, the minimum gap
// and the lockout are all checked inside the atomic lease, and a lead they hold back waits.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ALWAYS_OPEN } from '../../engine/calling-window.js';
import type { CallingRulesInput } from '../../engine/calling-rules.js';
import { parseCampaignConfig } from '../../engine/campaign.js';
import type { CampaignConfigInput } from '../../engine/campaign.js';
import { asAgentId, asDeviceId, asTenantId, campaignRef } from '../../engine/ids.js';
import type { CampaignRef } from '../../engine/ids.js';
import type { LeadInput } from '../../engine/lead.js';
import type { QueueStore, ReadyAgent } from '../../engine/queue-store.js';
import { redisKeysHolding } from '../support/redis-scan.js';
import { startRedisCluster } from '../support/redis-servers.js';
import type { RedisCluster } from '../support/redis-servers.js';
import { makeStore, useRedisCluster } from '../support/stores.js';
import type { StoreKind, TestStore } from '../support/stores.js';

const T0 = Date.UTC(2026, 0, 5, 12, 0); // Monday 12:00 UTC: London 12:00, New York 07:00, Tokyo 21:00
const TENANT = asTenantId('acme');
const OFFER_TTL = 5_000;
const CALL_TTL = 60_000;
const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

const lead = (i: number, extra: Partial<LeadInput> = {}): LeadInput => ({
  id: `L${i}`,
  phone: `+4477009${String(i).padStart(5, '0')}`,
  name: `Lead ${i}`,
  timeZone: 'Europe/London',
  ...extra,
});
const agent = (i: number): ReadyAgent => ({ agentId: asAgentId(`a${i}`), deviceId: asDeviceId(`d${i}`) });

/** Outcomes of the tests' campaign: one that retries at once, and an abandoned call. */
const DISPOSITIONS = {
  again: { final: false, retryDelayMs: 0 },
  abandoned: { final: false, retryDelayMs: 0 },
  abandoned_final: { final: true },
  done: { final: true },
};

describe.each<StoreKind>(['memory', 'redis', 'cluster'])('calling rules contract: %s', (kind) => {
  let t: TestStore;
  let store: QueueStore;
  let ref: CampaignRef;

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

  beforeEach(async () => {
    t = await makeStore(kind);
    store = t.store;
    ref = campaignRef('acme', 'rules');
  });
  afterEach(async () => {
    await t.dispose();
  });

  const define = (callingRules: CallingRulesInput, config: Partial<CampaignConfigInput> = {}, now = T0) =>
    store.defineCampaign(
      ref,
      parseCampaignConfig({ window: ALWAYS_OPEN, dispositions: DISPOSITIONS, callingRules, ...config }),
      now,
    );

  /** Offer, accept (the call is dialled) and complete one call; returns the lead id called. */
  async function call(now: number, outcome = 'again', a = agent(1)): Promise<string> {
    const l = await store.lease(ref, a, now, OFFER_TTL);
    expect(l, `a lead is offered at ${new Date(now).toISOString()}`).not.toBeNull();
    await store.accept(TENANT, { leaseId: l!.leaseId, agentId: a.agentId }, now, CALL_TTL);
    const [done] = await store.complete(TENANT, [{ leaseId: l!.leaseId, outcome }], now + MIN);
    expect(done?.ok).toBe(true);
    return l!.lead.id;
  }

  const dueOf = async (member = '11') =>
    (await store.snapshot(ref)).scheduled.find(([m]) => m === member)?.[1] ?? null;

  describe('hours', () => {
    it("closes a region on its holidays, on the callee's local calendar, and leaves other regions open", async () => {
      await define({ packs: [{ name: 'uk', zones: ['Europe/London'], holidays: ['2026-01-05'] }] });
      await store.enqueue(ref, [lead(1, { priority: 9 }), lead(2, { timeZone: 'Asia/Tokyo' })], T0);
      // Monday 5 January is closed in London all day; Tokyo (no holiday there) is open.
      expect((await store.lease(ref, agent(1), T0, OFFER_TTL))?.lead.id).toBe('L2');
      expect(await store.lease(ref, agent(2), Date.UTC(2026, 0, 5, 23, 59), OFFER_TTL)).toBeNull();
      // London's next local day opens at its midnight.
      expect((await store.lease(ref, agent(2), Date.UTC(2026, 0, 6, 0, 0), OFFER_TTL))?.lead.id).toBe('L1');
    });

    it('keeps a number of several candidate zones closed while any of them has a holiday', async () => {
      await define({ packs: [{ name: 'fr', zones: ['Europe/Paris'], holidays: ['2026-01-06'] }] });
      await store.enqueue(ref, [lead(1, { timeZone: ['Europe/London', 'Europe/Paris'] })], T0);
      // 6 January 00:30 London is 01:30 in Paris: a holiday there.
      expect(await store.lease(ref, agent(1), Date.UTC(2026, 0, 6, 0, 30), OFFER_TTL)).toBeNull();
      // 7 January 00:30 Paris: open in both.
      expect(await store.lease(ref, agent(1), Date.UTC(2026, 0, 6, 23, 30), OFFER_TTL)).not.toBeNull();
    });

    it("applies a preset's hours on top of the campaign window (US telemarketing: 08:00-21:00 local)", async () => {
      await define({ preset: 'us-tcpa' });
      await store.enqueue(ref, [lead(1, { timeZone: 'America/New_York' })], T0);
      // 07:00 in New York: closed; 08:00: open.
      expect(await store.lease(ref, agent(1), T0, OFFER_TTL)).toBeNull();
      expect(await store.lease(ref, agent(1), T0 + HOUR, OFFER_TTL)).not.toBeNull();
    });

    it('applies a state preset to its region only (Texas: Sunday from noon)', async () => {
      await define({ packs: [{ name: 'texas', zones: ['America/Chicago'], preset: 'us-tx' }] });
      const sunday11 = Date.UTC(2026, 0, 11, 17, 0); // 11:00 in Chicago, 12:00 in New York
      await store.enqueue(
        ref,
        [lead(1, { timeZone: 'America/Chicago', priority: 9 }), lead(2, { timeZone: 'America/New_York' })],
        sunday11,
      );
      expect((await store.lease(ref, agent(1), sunday11, OFFER_TTL))?.lead.id).toBe('L2');
      expect(await store.lease(ref, agent(2), sunday11, OFFER_TTL)).toBeNull();
      expect((await store.lease(ref, agent(2), sunday11 + HOUR, OFFER_TTL))?.lead.id).toBe('L1');
    });
  });

  describe('per number', () => {
    it('caps the calls to one number: at most 3 in 24 h, the fourth waits until the first leaves the period', async () => {
      await define({ packs: [{ name: 'cap', maxCalls: [{ count: 3, periodMs: DAY }] }] });
      await store.enqueue(ref, [lead(1)], T0);
      for (let i = 0; i < 3; i++) await call(T0 + i * HOUR);
      expect(await store.lease(ref, agent(1), T0 + 3 * HOUR, OFFER_TTL)).toBeNull();
      // It waits, scheduled for the moment the first call is 24 h old.
      expect(await dueOf()).toBe(T0 + DAY);
      expect(await store.lease(ref, agent(1), T0 + DAY - 1, OFFER_TTL)).toBeNull();
      expect(await call(T0 + DAY)).toBe('L1');
      // Now the calls at +1 h, +2 h and +24 h fill the cap until +25 h.
      expect(await store.lease(ref, agent(1), T0 + DAY + 30 * MIN, OFFER_TTL)).toBeNull();
      expect(await dueOf()).toBe(T0 + DAY + HOUR);
    });

    it('keeps the minimum gap between two calls to one number, through dispatch too', async () => {
      await define({ packs: [{ name: 'gap', minGapMs: 2 * HOUR }] });
      await store.enqueue(ref, [lead(1, { priority: 9 }), lead(2)], T0);
      expect(await call(T0)).toBe('L1');
      // L1 is back in the queue at the head (retry at once) but held: L2 goes first.
      await store.setAgentsReady(ref, [agent(1), agent(2)], T0 + HOUR);
      const { leases } = await store.dispatch(ref, T0 + HOUR, 10, OFFER_TTL);
      expect(leases.map((l) => l.lead.id)).toEqual(['L2']);
      expect(await dueOf()).toBe(T0 + 2 * HOUR);
      const { leases: later } = await store.dispatch(ref, T0 + 2 * HOUR, 10, OFFER_TTL);
      expect(later.map((l) => l.lead.id)).toEqual(['L1']);
    });

    it('drops the histories no rule can hold back any more, and keeps those still in reach or locked out', async () => {
      await define({
        packs: [
          { name: 'cap', maxCalls: [{ count: 3, periodMs: DAY }] },
          { name: 'abandon', lockout: { outcomes: ['abandoned_final'], durationMs: 3 * DAY } },
        ],
      });
      await store.enqueue(ref, [lead(1), lead(2), lead(3)], T0);
      await call(T0, 'done'); // L1: a final outcome, never called again
      await call(T0 + HOUR, 'done'); // L2
      await call(T0 + 2 * HOUR, 'abandoned_final'); // L3: locked out for 3 days
      const phones = Object.keys((await store.snapshot(ref)).numbers).sort();
      expect(phones).toHaveLength(3);
      // Within a day of the calls: the cap still reaches every one of them.
      expect(await store.trimHistory(ref, T0 + DAY - 1)).toBe(0);
      // A day after L2's call: L1 and L2 are past every rule; L3 is locked out.
      expect(await store.trimHistory(ref, T0 + DAY + HOUR)).toBe(2);
      expect(Object.keys((await store.snapshot(ref)).numbers)).toEqual([lead(3).phone]);
      expect(await store.trimHistory(ref, T0 + 4 * DAY)).toBe(1);
      expect((await store.snapshot(ref)).numbers).toEqual({});
    });

    it('counts a call when it is dialled: an offer declined is offered again at once', async () => {
      await define({ packs: [{ name: 'gap', minGapMs: 2 * HOUR }] });
      await store.enqueue(ref, [lead(1)], T0);
      const offered = await store.lease(ref, agent(1), T0, OFFER_TTL);
      await store.reject(TENANT, { leaseId: offered!.leaseId, agentId: agent(1).agentId }, T0);
      expect((await store.lease(ref, agent(2), T0 + 1000, OFFER_TTL))?.lead.id).toBe('L1');
      expect((await store.snapshot(ref)).numbers).toEqual({});
    });

    it('locks a number out after an abandoned call, even when its lead is imported again', async () => {
      await define({
        packs: [
          { name: 'abandon', lockout: { outcomes: ['abandoned', 'abandoned_final'], durationMs: 3 * DAY } },
        ],
      });
      await store.enqueue(ref, [lead(1)], T0);
      await call(T0, 'abandoned_final');
      // The lead left the queue for good; the same number under a new lead still waits.
      await store.enqueue(ref, [lead(1, { id: 'L1b' })], T0 + HOUR);
      expect(await store.lease(ref, agent(1), T0 + 2 * HOUR, OFFER_TTL)).toBeNull();
      const snap = await store.snapshot(ref);
      expect(snap.numbers[lead(1).phone]).toEqual({ lockedUntil: T0 + MIN + 3 * DAY, calls: [T0] });
      expect((await store.lease(ref, agent(1), T0 + MIN + 3 * DAY, OFFER_TTL))?.lead.id).toBe('L1b');
    });

    it("holds only the numbers of the pack's region", async () => {
      await define({ packs: [{ name: 'uk gap', zones: ['Europe/London'], minGapMs: DAY }] });
      await store.enqueue(ref, [lead(1), lead(2, { timeZone: 'Asia/Tokyo' })], T0);
      const first = await call(T0);
      const second = await call(T0 + HOUR);
      expect([first, second].sort()).toEqual(['L1', 'L2']);
      // Tokyo's number has no limits: called again; London's waits a day.
      expect(await call(T0 + 2 * HOUR)).toBe('L2');
      expect(await dueOf('11')).toBe(T0 + DAY);
    });

    it('keeps a held callback pinned to its agent until the rules allow it', async () => {
      await define({ packs: [{ name: 'gap', minGapMs: 2 * HOUR }] });
      await store.enqueue(ref, [lead(1)], T0);
      const l = await store.lease(ref, agent(1), T0, OFFER_TTL);
      await store.accept(TENANT, { leaseId: l!.leaseId, agentId: agent(1).agentId }, T0, CALL_TTL);
      const callback = { at: T0 + 30 * MIN, scope: 'agent' as const };
      await store.complete(TENANT, [{ leaseId: l!.leaseId, outcome: 'callback', callback }], T0 + MIN);
      // Due at +30 min, but the gap holds it until +2 h: it waits pinned to its agent.
      expect(await store.lease(ref, agent(1), T0 + HOUR, OFFER_TTL)).toBeNull();
      expect((await store.snapshot(ref)).pinned).toEqual({ a1: [['11', T0 + 2 * HOUR]] });
      expect((await store.lease(ref, agent(1), T0 + 2 * HOUR, OFFER_TTL))?.lead.id).toBe('L1');
    });

    it("forgets a number's call history when the number is erased", async () => {
      await define({ packs: [{ name: 'gap', minGapMs: 2 * HOUR }] });
      await store.enqueue(ref, [lead(1)], T0);
      await call(T0);
      expect(Object.keys((await store.snapshot(ref)).numbers)).toEqual([lead(1).phone]);
      await store.eraseNumbers(ref, [lead(1).phone]);
      expect((await store.snapshot(ref)).numbers).toEqual({});
      if (kind === 'redis') {
        expect(await redisKeysHolding([lead(1).phone.slice(1)], `${t.prefix}*`)).toEqual([]);
      }
    });

    it('takes new limits at once when the campaign is defined again', async () => {
      await define({ packs: [{ name: 'gap', minGapMs: HOUR }] });
      await store.enqueue(ref, [lead(1)], T0);
      await call(T0);
      await define({ packs: [{ name: 'gap', minGapMs: 3 * HOUR }] }, {}, T0 + 30 * MIN);
      expect(await store.lease(ref, agent(1), T0 + 2 * HOUR, OFFER_TTL)).toBeNull();
      expect(await dueOf()).toBe(T0 + 3 * HOUR);
      expect(await store.lease(ref, agent(1), T0 + 3 * HOUR, OFFER_TTL)).not.toBeNull();
    });
  });

  describe('history restored from the system of record (after Redis lost it)', () => {
    it('holds a number its restored calls fill a cap for, and a gap after its last one', async () => {
      await define({ packs: [{ name: 'caps', maxCalls: [{ count: 2, periodMs: DAY }], minGapMs: HOUR }] });
      await store.enqueue(ref, [lead(1), lead(2)], T0);
      const written = await store.restoreHistory(
        ref,
        [
          { phone: lead(1).phone, calls: [T0 - 5 * HOUR, T0 - 3 * HOUR], lockouts: [] },
          { phone: lead(2).phone, calls: [T0 - 10 * MIN, T0 - 2 * DAY], lockouts: [] },
          { phone: '+447700999999', calls: [T0 - HOUR], lockouts: [] }, // no lead queued under it
        ],
        T0,
      );
      expect(written).toBe(2);
      // L1: two calls within a day (cap full); L2: its last call 10 min ago (gap of an hour).
      expect(await store.lease(ref, agent(1), T0, OFFER_TTL)).toBeNull();
      // L2 is free once the hour since its last call has passed; L1 once its first call is a day old.
      expect((await store.lease(ref, agent(1), T0 + 50 * MIN, OFFER_TTL))?.lead.id).toBe('L2');
      expect(await store.lease(ref, agent(2), T0 + 50 * MIN, OFFER_TTL)).toBeNull();
      expect((await store.lease(ref, agent(2), T0 + 19 * HOUR, OFFER_TTL))?.lead.id).toBe('L1');
    });

    it('is restored by the rebuild itself, before anything is leased from the rebuilt queue', async () => {
      await define({ packs: [{ name: 'once a day', maxCalls: [{ count: 1, periodMs: DAY }] }] });
      let leasedMeanwhile: unknown = 'not tried';
      const r = await store.rebuild(ref, [[lead(1), lead(2)]], T0, {
        history: async () => {
          // Asked once the leads are queued, while the queue is still being rebuilt.
          leasedMeanwhile = await store
            .lease(ref, agent(9), T0, OFFER_TTL)
            .catch((e: unknown) => (e as { code?: string }).code);
          return [{ phone: lead(1).phone, calls: [T0 - HOUR], lockouts: [] }];
        },
      });
      expect(r.enqueued).toBe(2);
      // L1 was called an hour ago: only L2 is offered today.
      expect((await store.lease(ref, agent(1), T0, OFFER_TTL))?.lead.id).toBe('L2');
      expect(await store.lease(ref, agent(2), T0, OFFER_TTL)).toBeNull();
      expect(leasedMeanwhile).toBe('CAMPAIGN_STALE');
    });

    it('merges with the history the queue holds, and keeps the later lockout', async () => {
      await define({
        packs: [
          {
            name: 'abandon',
            maxCalls: [{ count: 3, periodMs: DAY }],
            lockout: { outcomes: ['abandoned'], durationMs: 3 * DAY },
          },
        ],
      });
      await store.enqueue(ref, [lead(1)], T0);
      await call(T0); // one call known to the queue
      await store.restoreHistory(
        ref,
        [{ phone: lead(1).phone, calls: [T0 - HOUR, T0], lockouts: [T0 - DAY] }], // T0: the same call again
        T0 + 2 * MIN,
      );
      // Two calls in the day (T0 - 1 h, T0), not three: the cap still has room, but the lockout of
      // an abandoned call a day ago holds the number for two more days.
      expect(await store.lease(ref, agent(1), T0 + 2 * DAY - MIN, OFFER_TTL)).toBeNull();
      expect((await store.lease(ref, agent(1), T0 + 2 * DAY, OFFER_TTL))?.lead.id).toBe('L1');
    });
  });
});
