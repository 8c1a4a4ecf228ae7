// The floor model and the campaign tile's reasoning, as pure functions: point-in-time replay from
// the records' publication times (in any arrival order), averages per visit, "today" in the
// tenant's time zone, and why a queue has nothing to dial.
import { describe, expect, it } from 'vitest';
import { zoneKey } from '../../engine/calling-window.js';
import type { QueueStats } from '../../engine/queue-store.js';
import { emptyReason, startOfDay } from '../../gateway/supervisor/counters.js';
import { HISTORY_MS, TenantFloor } from '../../gateway/supervisor/floor.js';
import type { StateRecord } from '../../gateway/supervisor/floor.js';

const rec = (agentId: string, state: StateRecord['state'], at: number, extra: Partial<StateRecord> = {}) => ({
  agentId,
  state,
  since: at,
  at,
  campaignId: 'c1',
  leadFirstName: null,
  ...extra,
});

describe('the floor', () => {
  it('rebuilds any moment of the last hour, whatever order the records arrived in', () => {
    const floor = new TenantFloor();
    floor.setRoster(
      new Map([
        ['a1', 'Ann'],
        ['a2', 'Bo'],
      ]),
    );
    const t0 = 1_000_000;
    // Arrives out of order: the on_call record before the ready one that preceded it.
    expect(floor.apply(rec('a1', 'paused', t0, { reason: 'login' }))).toBe(true);
    expect(floor.apply(rec('a1', 'on_call', t0 + 300, { leadFirstName: 'Zoe' }))).toBe(true);
    expect(floor.apply(rec('a1', 'ready', t0 + 100))).toBe(false);
    expect(floor.apply(rec('a1', 'on_call', t0 + 300, { leadFirstName: 'Zoe' }))).toBe(false);

    expect(floor.tilesAt(t0 + 50, null)).toEqual([
      {
        agentId: 'a1',
        name: 'Ann',
        state: 'paused',
        reason: 'login',
        since: t0,
        campaignId: 'c1',
        leadFirstName: null,
      },
      { agentId: 'a2', name: 'Bo', state: 'offline', since: null, campaignId: null, leadFirstName: null },
    ]);
    expect(floor.tilesAt(t0 + 150, null)[0]).toMatchObject({ state: 'ready' });
    expect(floor.tilesAt(t0 + 999, null)[0]).toMatchObject({ state: 'on_call', leadFirstName: 'Zoe' });
    expect(floor.tiles('c1').map((t) => t.agentId)).toEqual(['a1']);
    expect(floor.tiles(null).map((t) => t.state)).toEqual(['on_call', 'offline']);
  });

  it('orders by publication, not by when a state began (a newer session logs in before the old one is gone)', () => {
    const floor = new TenantFloor();
    // The new session's login state began at 100; the old session went offline at 110, published
    // first; the new session's state is published after it and is the current one.
    floor.apply(rec('a1', 'offline', 110, { since: 110, at: 110 }));
    expect(floor.apply(rec('a1', 'paused', 120, { since: 100, at: 120, reason: 'login' }))).toBe(true);
    expect(floor.current('a1')).toMatchObject({ state: 'paused', since: 100 });
  });

  it('averages each state per visit over the last hour, and forgets what ended before it', () => {
    const floor = new TenantFloor();
    const now = 10 * HISTORY_MS;
    floor.apply(rec('a1', 'ready', now - 100_000));
    floor.apply(rec('a1', 'on_call', now - 80_000));
    floor.apply(rec('a1', 'wrap_up', now - 20_000));
    floor.apply(rec('a1', 'ready', now - 10_000));
    const { agents, campaigns } = floor.averages(now);
    // ready 20 s and 10 s: 15 s a visit; talk 60 s; wrap-up 10 s.
    expect(agents.a1).toEqual({ waitSec: 15, talkSec: 60, wrapSec: 10, pauseSec: 0 });
    expect(campaigns.c1).toEqual(agents.a1);

    floor.apply(rec('a2', 'paused', now - HISTORY_MS - 50_000));
    floor.apply(rec('a2', 'ready', now - HISTORY_MS - 10_000));
    floor.trim(now);
    expect(floor.earliest(now)).toBe(now - HISTORY_MS);
    expect(floor.tilesAt(now - 1, null).find((t) => t.agentId === 'a2')).toMatchObject({ state: 'ready' });
  });
});

/** The averages as a rescan of every record of the hour computes them (the definition). */
function rescan(floor: TenantFloor, now: number) {
  const horizon = now - HISTORY_MS;
  const bucket = {
    ready: 0,
    offered: 0,
    dialing: 1,
    on_call: 1,
    wrap_up: 2,
    paused: 3,
    offline: -1,
  } as const;
  const zero = () => [0, 1, 2, 3].map(() => ({ ms: 0, n: 0 }));
  const out = (acc: { ms: number; n: number }[]) => {
    const avg = (x: { ms: number; n: number }) => (x.n === 0 ? 0 : Math.round(x.ms / x.n / 1000));
    return { waitSec: avg(acc[0]!), talkSec: avg(acc[1]!), wrapSec: avg(acc[2]!), pauseSec: avg(acc[3]!) };
  };
  const agents: Record<string, ReturnType<typeof out>> = {};
  const byCampaign = new Map<string, { ms: number; n: number }[]>();
  for (const agentId of floor.agentsWithRecords()) {
    const list = floor.records(agentId);
    const acc = zero();
    list.forEach((r, i) => {
      const end = list[i + 1]?.at ?? now;
      const b = bucket[r.state];
      if (end <= horizon || b < 0) return;
      const ms = Math.max(0, end - Math.max(r.at, horizon));
      acc[b]!.ms += ms;
      acc[b]!.n += 1;
      if (r.campaignId !== null) {
        const c = byCampaign.get(r.campaignId) ?? zero();
        c[b]!.ms += ms;
        c[b]!.n += 1;
        byCampaign.set(r.campaignId, c);
      }
    });
    agents[agentId] = out(acc);
  }
  return { agents, campaigns: Object.fromEntries([...byCampaign].map(([id, acc]) => [id, out(acc)])) };
}

describe('the floor averages', () => {
  it('kept as running sums over the sliding hour, equal a rescan of the hour at every tick', () => {
    // A seeded pseudo-random floor: 40 agents over three hours, three campaigns (and none),
    // records arriving late and out of order, an agent flapping past the per-agent record cap,
    // the hourly trim, and ticks reading the averages as the hour slides.
    let seed = 42;
    const rand = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const states = ['ready', 'offered', 'dialing', 'on_call', 'wrap_up', 'paused', 'offline'] as const;
    const campaignsOf = ['c1', 'c2', 'c3', null] as const;
    const floor = new TenantFloor();
    let now = 5 * HISTORY_MS;
    let ticks = 0;
    let late = 0;
    let capped = false;
    const end = now + 3 * HISTORY_MS;
    while (now < end) {
      now += Math.floor(rand() * 4_000);
      const agentId = `a${Math.floor(rand() * 40)}`;
      const lateBy = rand() < 0.05 ? Math.floor(rand() * 30_000) : 0;
      if (lateBy > 0) late++;
      floor.apply(
        rec(agentId, states[Math.floor(rand() * states.length)]!, now - lateBy, {
          campaignId: campaignsOf[Math.floor(rand() * campaignsOf.length)]!,
        }),
      );
      if (rand() < 0.02) {
        // The flapping agent: many changes at one moment.
        for (let k = 0; k < 100; k++) floor.apply(rec('flap', states[k % 6]!, now + k));
        capped ||= floor.records('flap').length === 2_000;
      }
      if (rand() < 0.01) floor.trim(now);
      if (rand() < 0.03) {
        expect(floor.averages(now + 500)).toEqual(rescan(floor, now + 500));
        ticks++;
      }
    }
    // And an hour after the last change: only the current visits are left.
    expect(floor.averages(now + HISTORY_MS + 1)).toEqual(rescan(floor, now + HISTORY_MS + 1));
    expect(ticks).toBeGreaterThan(100);
    expect(late).toBeGreaterThan(100);
    expect(capped).toBe(true);
  });
});

describe('the campaign tile', () => {
  it('counts today from midnight in the tenant’s time zone, DST included', () => {
    // 2026-03-29 10:00 UTC is 11:00 in London (BST began that night at 01:00 UTC).
    const now = Date.UTC(2026, 2, 29, 10, 0);
    expect(startOfDay(now, 'Europe/London')).toBe(Date.UTC(2026, 2, 29, 0, 0));
    // 03:00 UTC on the 29th is still the 28th in New York.
    expect(startOfDay(Date.UTC(2026, 2, 29, 3, 0), 'America/New_York')).toBe(Date.UTC(2026, 2, 28, 4, 0));
    expect(startOfDay(now, 'UTC')).toBe(Date.UTC(2026, 2, 29));
  });

  const stats = (s: Partial<QueueStats>): QueueStats => ({
    ready: 0,
    scheduled: 0,
    leased: 0,
    readyAgents: 0,
    zones: [],
    ...s,
  });
  const leads = { queued: 0, final: 0, removed: 0 };

  it('says why nothing can be dialled', () => {
    expect(emptyReason('paused', null, leads)?.reason).toBe('paused');
    expect(
      emptyReason(
        'active',
        stats({ ready: 5, zones: [{ zone: zoneKey('Europe/London'), ready: 5, open: false }] }),
        leads,
      ),
    ).toMatchObject({
      reason: 'window_closed',
      detail: '5 ready, but outside calling hours in Europe/London.',
    });
    expect(
      emptyReason(
        'active',
        stats({ ready: 5, zones: [{ zone: zoneKey('Europe/London'), ready: 5, open: true }] }),
        leads,
      ),
    ).toBeNull();
    expect(emptyReason('active', stats({ scheduled: 3 }), leads)?.reason).toBe('all_scheduled');
    expect(emptyReason('active', stats({ leased: 2 }), leads)?.reason).toBe('all_leased');
    expect(emptyReason('active', stats({}), { queued: 0, final: 0, removed: 4 })?.reason).toBe('dnc');
    expect(emptyReason('active', stats({}), { queued: 0, final: 9, removed: 0 })).toEqual({
      reason: 'no_leads',
      detail: 'No lead left: all 9 are finished.',
    });
  });
});
