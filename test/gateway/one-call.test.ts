// One call, one agent, one outcome: the thirteen defects found in review (issue 6), each as the
// scenario that showed it, against a real gateway, real Redis and real Postgres. Each failed on
// the code before the fix; each must keep passing.
import { DateTime } from 'luxon';
import { createClient } from 'redis';
import { io as connect } from 'socket.io-client';
import { afterEach, describe, expect, it } from 'vitest';
import type { Clock } from '../../engine/clock.js';
import { asAgentId, asDeviceId, asTenantId } from '../../engine/ids.js';
import type { CampaignRef } from '../../engine/ids.js';
import { campaignKeys } from '../../engine/keys.js';
import type { QueueStore } from '../../engine/queue-store.js';
import { loadConfig } from '../../gateway/config.js';
import { AGENT_NAMESPACE } from '../../gateway/protocol/events.js';
import type { OfferPayload } from '../../gateway/protocol/schemas.js';
import { call, next, TestGateway, until } from '../support/gateway.js';
import type { Device } from '../support/gateway.js';
import { createTestDatabase } from '../support/postgres.js';
import { deleteKeysAtOnce, makeStore, REDIS_URL } from '../support/stores.js';

const T = 'acme';
const tenant = asTenantId(T);
const refOf = (campaignId: string) => ({ tenantId: tenant, campaignId }) as CampaignRef;
const EVERY_DAY = [1, 2, 3, 4, 5, 6, 7];

/** A clock that reads `at` now and runs on in real time. */
function clockAt(at: number): Clock & { set(at: number): void } {
  let offset = at - Date.now();
  return {
    now: () => Date.now() + offset,
    /** Jump to `at` and run on from there (a test's setup time does not eat its margins). */
    set: (to: number) => {
      offset = to - Date.now();
    },
  };
}

/** Today's London wall-clock time as epoch ms (tomorrow's if it has passed). */
function londonAt(hour: number, minute: number, second: number): number {
  const now = DateTime.now().setZone('Europe/London');
  let t = now.set({ hour, minute, second, millisecond: 0 });
  if (t <= now) t = t.plus({ days: 1 });
  return t.toMillis();
}

/** Resolves with every frame of `event` the device gets within `ms`. */
function collect<E extends 'call:offer' | 'call:revoked' | 'agent:state'>(
  device: Device,
  event: E,
  ms: number,
) {
  const seen: unknown[] = [];
  device.on(event, ((...args: unknown[]) => seen.push(args[0])) as never);
  return new Promise<unknown[]>((resolve) => setTimeout(() => resolve(seen), ms));
}

/** Every `event` the device receives until one matches `done` (or `ms` passes, on a slow machine). */
function collectUntil<E extends 'agent:state'>(
  device: Device,
  event: E,
  done: (payload: Record<string, unknown>) => boolean,
  ms: number,
) {
  const seen: Record<string, unknown>[] = [];
  return new Promise<Record<string, unknown>[]>((resolve) => {
    const timer = setTimeout(() => resolve(seen), ms);
    device.on(event, ((payload: Record<string, unknown>) => {
      seen.push(payload);
      if (done(payload)) {
        clearTimeout(timer);
        resolve(seen);
      }
    }) as never);
  });
}

async function readyAndOffer(
  device: Device,
  campaignId: string,
  answer?: { accept: boolean },
): Promise<OfferPayload> {
  const offered = next(device, 'call:offer');
  await call(device, 'agent:ready', { campaignId });
  const [offer, ack] = await offered;
  if (answer) ack(answer);
  return offer;
}

/** A store whose chosen operation can be made to fail, for the scenarios that need one. */
function failing(real: QueueStore, op: keyof QueueStore) {
  const state = { fail: false };
  const store = new Proxy(real, {
    get(target, prop) {
      const value = Reflect.get(target, prop) as unknown;
      if (prop === op) {
        return async (...args: unknown[]) => {
          if (state.fail)
            throw Object.assign(new Error('connect ECONNREFUSED (simulated)'), { code: 'ECONNREFUSED' });
          return (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        };
      }
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { store, state };
}

describe('one call, one agent, one outcome', () => {
  let g: TestGateway | undefined;
  afterEach(async () => {
    await g?.stop();
    g = undefined;
  });

  it('defect 1: a late or missing offer acknowledgement never cancels a call accepted with call:accept', async () => {
    g = await TestGateway.start();
    await g.seedTenant(T, 2);
    await g.campaign(T, 'A');
    await g.leads(T, 'A', 1);
    const d0 = await g.connect(T, 0);
    const offered = next(d0, 'call:offer');
    await call(d0, 'agent:ready', { campaignId: 'A' });
    const [offer, ack] = await offered;
    // A legal client: accepts with call:accept, and answers the offer's acknowledgement late.
    expect(await call(d0, 'call:accept', { leaseId: offer.leaseId })).toMatchObject({
      ok: true,
      state: { state: 'dialing' },
    });
    const revoked = collect(d0, 'call:revoked', 1_600); // past OFFER_ACK_TIMEOUT_MS (1,000 in FAST)
    setTimeout(() => ack({ accept: false }), 1_300);
    expect(await revoked).toEqual([]);
    // The lead is not offered to anyone else, and the first agent's outcome is saved.
    const d1 = await g.connect(T, 1);
    const other = collect(d1, 'call:offer', 500);
    await call(d1, 'agent:ready', { campaignId: 'A' });
    expect(await other).toEqual([]);
    expect(
      await call(d0, 'call:complete', { leaseId: offer.leaseId, outcome: 'answered', durationSec: 30 }),
    ).toMatchObject({
      ok: true,
      duplicate: false,
    });
  });

  it('a call accepted in the offer acknowledgement that cannot be taken is announced with agent:state', async () => {
    const closesAt = londonAt(21, 0, 0);
    const clock = clockAt(closesAt - 2_000);
    g = await TestGateway.start({
      clock,
      config: { OFFER_TTL_MS: '10000', OFFER_ACK_TIMEOUT_MS: '5000' },
    });
    await g.seedTenant(T, 1);
    await g.campaign(T, 'A', { window: { rules: [{ days: EVERY_DAY, from: '09:00', to: '21:00' }] } });
    await g.leads(T, 'A', 1);
    const d0 = await g.connect(T, 0);
    const offered = next(d0, 'call:offer');
    clock.set(closesAt - 2_000); // 20:59:58 in London, however long the setup took
    await call(d0, 'agent:ready', { campaignId: 'A' });
    const [, ack] = await offered;
    const announced = next(d0, 'agent:state', 6_000);
    await new Promise((r) => setTimeout(r, closesAt + 500 - clock.now())); // the window closed
    ack({ accept: true });
    const [state] = await announced;
    expect(state).toMatchObject({ state: 'paused', reason: 'window_closed' });
  });

  it('a call accepted in the offer acknowledgement is taken without a further message', async () => {
    g = await TestGateway.start();
    await g.seedTenant(T, 1);
    await g.campaign(T, 'A');
    await g.leads(T, 'A', 1);
    const d0 = await g.connect(T, 0);
    const states = collect(d0, 'agent:state', 800);
    const offer = await readyAndOffer(d0, 'A', { accept: true });
    expect(await states).toEqual([]);
    await until(
      async () => (await g!.store.store.peekLease(tenant, offer.leaseId, Date.now())).state === 'a',
    );
    expect(
      await call(d0, 'call:complete', { leaseId: offer.leaseId, outcome: 'answered', durationSec: 5 }),
    ).toMatchObject({ ok: true, duplicate: false });
  });

  it('defect 2: lease ids never repeat after Redis lost its last writes', async () => {
    g = await TestGateway.start();
    await g.seedTenant(T, 1);
    const ref = await g.campaign(T, 'A');
    await g.leads(T, 'A', 4);
    const d0 = await g.connect(T, 0);
    const ids: string[] = [];
    const first = await readyAndOffer(d0, 'A', { accept: true });
    ids.push(first.leaseId);
    await call(d0, 'call:complete', { leaseId: first.leaseId, outcome: 'answered', durationSec: 1 });
    // Redis "restarts" from a copy a moment old: the lease counter goes back, the run id changes.
    const k = campaignKeys(g.store.prefix, ref);
    const client = createClient({ url: REDIS_URL });
    await client.connect();
    try {
      await client.hSet(k.cfg, { lseq: '0', rid: 'the-run-before-the-crash' });
    } finally {
      await client.close();
    }
    for (let i = 0; i < 3; i++) {
      const offer = await readyAndOffer(d0, 'A', { accept: true });
      ids.push(offer.leaseId);
      const done = await call(d0, 'call:complete', {
        leaseId: offer.leaseId,
        outcome: 'answered',
        durationSec: 1,
      });
      expect(done).toMatchObject({ ok: true, duplicate: false, leadId: offer.lead.id });
    }
    expect(new Set(ids).size).toBe(4);
    const rows = await g.db.knex('call_attempts').where({ tenant_id: T }).select('lease_id', 'lead_id');
    expect(rows).toHaveLength(4);
    expect(new Set(rows.map((r: { lead_id: string }) => String(r.lead_id))).size).toBe(4);
  });

  it('defect 3: a do-not-call number is durable before it is acknowledged, and a stale Redis never offers it or a final lead', async () => {
    g = await TestGateway.start();
    await g.seedTenant(T, 1);
    const ref = await g.campaign(T, 'A');
    await g.leads(T, 'A', 3);
    const d0 = await g.connect(T, 0);
    const first = await readyAndOffer(d0, 'A', { accept: true });
    await call(d0, 'call:complete', { leaseId: first.leaseId, outcome: 'answered', durationSec: 1 });
    expect(await g.gateway.suppress(tenant, ['+442079400001'], 'api')).toBe(1);
    expect(await g.db.dnc.has(T, '+442079400001')).toBe(true);
    // Redis goes back in time: the final lead and the listed one are queued again, the
    // suppression forgotten; the server's run id changed.
    const k = campaignKeys(g.store.prefix, ref);
    const client = createClient({ url: REDIS_URL });
    await client.connect();
    try {
      await client.del(k.suppressed);
      await client.hSet(k.cfg, { rid: 'the-run-before-the-crash' });
    } finally {
      await client.close();
    }
    await g.store.store.enqueue(
      ref,
      [
        { id: first.lead.id, phone: first.lead.phone, timeZone: 'Europe/London' },
        { id: '999999', phone: '+442079400001', timeZone: 'Europe/London' },
      ],
      Date.now(),
    );
    const offers: string[] = [];
    for (let i = 0; i < 3; i++) {
      const got = next(d0, 'call:offer', 2_000).catch(() => null);
      await call(d0, 'agent:ready', { campaignId: 'A' });
      const o = await got;
      if (!o) break;
      offers.push(o[0].lead.phone);
      o[1]({ accept: true });
      await call(d0, 'call:complete', { leaseId: o[0].leaseId, outcome: 'answered', durationSec: 1 });
    }
    expect(offers).toEqual(['+442079400002']);
  });

  it('defect 4: a late completion is not raced by the reaper: its lead is never offered while the outcome commits', async () => {
    g = await TestGateway.start();
    await g.seedTenant(T, 2);
    await g.campaign(T, 'A');
    await g.leads(T, 'A', 1);
    const d0 = await g.connect(T, 0);
    const offer = await readyAndOffer(d0, 'A', { accept: false }); // acknowledged, never accepted: expires after 3 s
    const d1 = await g.connect(T, 1);
    const stolen = collect(d1, 'call:offer', 6_000);
    await call(d1, 'agent:ready', { campaignId: 'A' });
    // The commit of d0's late completion is slow; the offer expires meanwhile.
    const outcomes = g.db.outcomes;
    const write = outcomes.write.bind(outcomes);
    outcomes.write = async (input) => {
      await new Promise((r) => setTimeout(r, 2_500));
      return write(input);
    };
    await new Promise((r) => setTimeout(r, 2_000));
    const done = await call(d0, 'call:complete', {
      leaseId: offer.leaseId,
      outcome: 'answered',
      durationSec: 20,
    });
    expect(done).toMatchObject({ ok: true, duplicate: false });
    expect(await stolen).toEqual([]);
    expect((await g.db.leads.get(T, offer.lead.id))?.status).toBe('final');
    expect(await g.store.store.stats(refOf('A'), Date.now())).toMatchObject({ ready: 0, leased: 0 });
  });

  it("defect 5: a number listed mid-call revokes the lease for routing, but the call's outcome is stored", async () => {
    g = await TestGateway.start();
    await g.seedTenant(T, 1);
    await g.campaign(T, 'A');
    await g.leads(T, 'A', 1);
    const d0 = await g.connect(T, 0);
    const offer = await readyAndOffer(d0, 'A', { accept: true });
    await until(
      async () => (await g!.store.store.peekLease(tenant, offer.leaseId, Date.now())).state === 'a',
    );
    await call(d0, 'call:status', { leaseId: offer.leaseId, status: 'connected' });
    const revoked = next(d0, 'call:revoked');
    await g.gateway.suppress(tenant, [offer.lead.phone], 'api');
    expect((await revoked)[0]).toEqual({ leaseId: offer.leaseId, reason: 'removed' });
    // The heartbeat that comes before the call ends must not take it back as expired (the queue
    // keeps its lease as a tombstone, which is not renewable): the device would hang up.
    const expired = collect(d0, 'call:revoked', 300);
    await g.gateway.hub.extendHeld();
    expect(await expired).toEqual([]);
    const done = await call(d0, 'call:complete', {
      leaseId: offer.leaseId,
      outcome: 'no_answer',
      durationSec: 40,
    });
    expect(done).toMatchObject({ ok: true, duplicate: false, state: { state: 'wrap_up' } });
    expect((await g.db.outcomes.findByLeaseIds(T, [offer.leaseId])).get(offer.leaseId)).toMatchObject({
      outcome: 'no_answer',
    });
    expect((await g.db.leads.get(T, offer.lead.id))?.status).toBe('removed');
    expect(await g.store.store.stats(refOf('A'), Date.now() + 3_600_000)).toMatchObject({
      ready: 0,
      scheduled: 0,
      leased: 0,
    });
  });

  it('defect 6: an import the queue cannot take leaves no lead queued in Postgres alone, and its retry converges', async () => {
    const real = await makeStore('redis');
    const pg = await createTestDatabase();
    const { store, state } = failing(real.store, 'enqueue');
    try {
      g = await TestGateway.start({ shared: { store: { ...real, store }, pg } });
      await g.seedTenant(T, 1);
      await g.campaign(T, 'A');
      await g.leads(T, 'A', 2);
      state.fail = true;
      await expect(g.leads(T, 'A', 4)).rejects.toThrow(/ECONNREFUSED/);
      expect(await g.db.leads.countByStatus(T, 'A')).toMatchObject({ queued: 2 });
      state.fail = false;
      const retried = await g.leads(T, 'A', 4);
      expect(retried).toMatchObject({ inserted: 2, queued: 2, alreadyQueued: 2, duplicates: 0 });
      expect(retried.rows.map((r) => r.status)).toEqual([
        'already_queued',
        'already_queued',
        'queued',
        'queued',
      ]);
      const again = await g.leads(T, 'A', 4);
      expect(again).toMatchObject({ inserted: 0, queued: 0, alreadyQueued: 4 });
      expect(await g.db.leads.countByStatus(T, 'A')).toMatchObject({ queued: 4 });
      expect((await g.store.store.stats(refOf('A'), Date.now())).ready).toBe(4);
      // A number the queue holds under another lead (Postgres lost it): the new row is not kept.
      await g.db.knex('leads').where({ tenant_id: T, phone: '+442079400000' }).delete();
      const dup = await g.leads(T, 'A', 1);
      expect(dup).toMatchObject({ inserted: 0, queued: 0, duplicates: 1 });
      expect(await g.db.knex('leads').where({ tenant_id: T, phone: '+442079400000' })).toHaveLength(0);
    } finally {
      await g?.stop();
      g = undefined;
      await real.dispose();
      await pg.dispose();
    }
  });

  it('defect 7: an agent switching campaigns is on one ready list only, and an offer from the other campaign goes back', async () => {
    g = await TestGateway.start();
    await g.seedTenant(T, 1);
    await g.campaign(T, 'A');
    await g.campaign(T, 'B');
    await g.leads(T, 'A', 1);
    const d0 = await g.connect(T, 0);
    await call(d0, 'agent:ready', { campaignId: 'B' });
    // A dispatch of A that had the agent on its list is in flight: its lease reaches a session now
    // ready on B. (Leased here directly, as that dispatch would have.)
    const lease = await g.store.store.lease(
      refOf('A'),
      { agentId: 'a0' as never, deviceId: 'd0' as never },
      Date.now(),
      3_000,
    );
    expect(lease).not.toBeNull();
    const offers = collect(d0, 'call:offer', 500);
    g.gateway.hub.deliver(lease!, refOf('A'));
    expect(await offers).toEqual([]);
    await until(async () => (await g!.store.store.stats(refOf('A'), Date.now())).ready === 1);
    expect((await g.store.store.stats(refOf('A'), Date.now())).readyAgents).toBe(0);
    expect((await g.store.store.stats(refOf('B'), Date.now())).readyAgents).toBe(1);
    // Back to A, then paused: on no list at all.
    const back = await call(d0, 'agent:ready', { campaignId: 'A' });
    expect(back).toMatchObject({ ok: true, state: { state: 'offered', campaignId: 'A' } });
    expect((await g.store.store.stats(refOf('B'), Date.now())).readyAgents).toBe(0);
  });

  it('defect 8: an expired lease does not resume, and its late completion never races the reaper', async () => {
    g = await TestGateway.start({
      config: { CALL_TTL_MS: '5000', LEASE_HEARTBEAT_MS: '2000', RECONNECT_GRACE_MS: '4000' },
    });
    await g.seedTenant(T, 2);
    await g.campaign(T, 'A');
    await g.leads(T, 'A', 1);
    const d0 = await g.connect(T, 0);
    const offer = await readyAndOffer(d0, 'A', { accept: true });
    await until(
      async () => (await g!.store.store.peekLease(tenant, offer.leaseId, Date.now())).state === 'a',
    );
    d0.disconnect(); // SIGKILL-like: the gateway does not hear back before the lease expires
    await new Promise((r) => setTimeout(r, 5_300));
    // The paused state is sent right after the handshake: listened for before the connect.
    let resumed: ReturnType<typeof collectUntil<'agent:state'>> | undefined;
    const back = await g.connect(T, 0, {
      leaseId: offer.leaseId,
      before: (s) => {
        resumed = collectUntil(s, 'agent:state', (state) => state.state === 'paused', 5_000);
      },
    });
    expect((await resumed!).at(-1)).toMatchObject({ state: 'paused', reason: 'login' });
    const d1 = await g.connect(T, 1);
    const stolen = collect(d1, 'call:offer', 1_500);
    const done = await call(back, 'call:complete', {
      leaseId: offer.leaseId,
      outcome: 'answered',
      durationSec: 50,
    });
    expect(done).toMatchObject({ ok: true, duplicate: false });
    await call(d1, 'agent:ready', { campaignId: 'A' });
    expect(await stolen).toEqual([]);
    const rows = await g.db.knex('call_attempts').where({ tenant_id: T, voided: false });
    expect(rows).toHaveLength(1);
  });

  it('defect 9: after Redis lost a campaign, a session with a vanished offer can go ready, and a call that happened keeps its outcome', async () => {
    g = await TestGateway.start();
    await g.seedTenant(T, 2);
    const ref = await g.campaign(T, 'A');
    await g.leads(T, 'A', 3);
    const d0 = await g.connect(T, 0);
    const d1 = await g.connect(T, 1);
    const onCall = await readyAndOffer(d0, 'A', { accept: true });
    await until(
      async () => (await g!.store.store.peekLease(tenant, onCall.leaseId, Date.now())).state === 'a',
    );
    const offered = await readyAndOffer(d1, 'A'); // offered, not accepted
    // Every key of the campaign is gone at one instant (as a restart without persistence does).
    expect(await deleteKeysAtOnce(`${g.store.prefix}{c:${T}:A}:*`)).toBeGreaterThan(3);
    // Either the queue was rebuilt first, with the calls in progress attached again (the offer is
    // still d1's), or not yet (the offer is gone): never a session stranded with a dead offer. A
    // device retries what is answered retryable (a rebuild in progress), as the protocol says.
    let accepted = await call(d1, 'call:accept', { leaseId: offered.leaseId });
    for (let i = 0; i < 20 && !accepted.ok && accepted.error.retryable; i++) {
      await new Promise((r) => setTimeout(r, 100));
      accepted = await call(d1, 'call:accept', { leaseId: offered.leaseId });
    }
    if (accepted.ok) {
      expect(
        await call(d1, 'call:complete', { leaseId: offered.leaseId, outcome: 'busy', durationSec: 0 }),
      ).toMatchObject({
        ok: true,
      });
    }
    let readyAgain = await call(d1, 'agent:ready', { campaignId: 'A' });
    for (let i = 0; i < 20 && !readyAgain.ok && readyAgain.error.retryable; i++) {
      await new Promise((r) => setTimeout(r, 100));
      readyAgain = await call(d1, 'agent:ready', { campaignId: 'A' });
    }
    expect(readyAgain, JSON.stringify(readyAgain)).toMatchObject({ ok: true });
    // The call in progress when Redis lost it: its outcome is checked, stored and applied.
    const done = await call(d0, 'call:complete', {
      leaseId: onCall.leaseId,
      outcome: 'answered',
      durationSec: 90,
    });
    expect(done, JSON.stringify(done)).toMatchObject({ ok: true, duplicate: false, leadId: onCall.lead.id });
    expect((await g.db.leads.get(T, onCall.lead.id))?.status).toBe('final');
    const snap = await g.store.store.snapshot(ref);
    expect(Object.values(snap.records)).not.toContain(onCall.lead.id);
  });

  it('defect 14: an acknowledged offer that is never accepted ends at its expiry, even when the queue lost its lease', async () => {
    g = await TestGateway.start();
    await g.seedTenant(T, 1);
    const ref = await g.campaign(T, 'A');
    await g.leads(T, 'A', 2);
    const d0 = await g.connect(T, 0);
    // Received (a bare acknowledgement), and then neither accepted nor declined: the device lost
    // its call:accept in a Redis failover, say, whose replica had not got the lease either.
    const offer = await readyAndOffer(d0, 'A', { accept: false });
    const k = campaignKeys(g.store.prefix, ref);
    const redis = createClient({ url: REDIS_URL });
    await redis.connect();
    try {
      await redis.del([k.leases, k.leaseExpiry]);
    } finally {
      await redis.quit();
    }
    const revoked = new Promise<unknown>((resolve) => d0.on('call:revoked', resolve));
    const timeout = new Promise((resolve) =>
      setTimeout(() => resolve('none'), offer.expiresAt - Date.now() + 4_000),
    );
    expect(await Promise.race([revoked, timeout])).toEqual({ leaseId: offer.leaseId, reason: 'expired' });
    const ready = await call(d0, 'agent:ready', { campaignId: 'A' });
    expect(ready, JSON.stringify(ready)).toMatchObject({ ok: true });
  });

  it('an offer whose delivery was lost never keeps its agent out of routing (AGENT_BUSY until it expires)', async () => {
    g = await TestGateway.start({ config: { OFFER_TTL_MS: '60000' } });
    await g.seedTenant(T, 1);
    const ref = await g.campaign(T, 'A');
    await g.leads(T, 'A', 1);
    // As a gateway that crashed between leasing and delivering would leave it: the store holds
    // an offer for a0 that no session of a0 has ever seen.
    const lost = await g.store.store.lease(
      ref,
      { agentId: asAgentId('a0'), deviceId: asDeviceId('d0') },
      Date.now(),
      60_000,
    );
    expect(lost).not.toBeNull();
    const d0 = await g.connect(T, 0);
    const offered = next(d0, 'call:offer');
    const ready = await call(d0, 'agent:ready', { campaignId: 'A' });
    expect(ready, JSON.stringify(ready)).toMatchObject({ ok: true });
    const [offer] = await offered;
    expect(offer.lead.id).toBe(lost!.lead.id);
    expect(offer.leaseId).not.toBe(lost!.leaseId);
    expect((await g.store.store.agentLease(ref, asAgentId('a0'), Date.now()))?.leaseId).toBe(offer.leaseId);
    // An accepted call is another matter: it may be going on, so it keeps the agent busy.
    expect(await call(d0, 'call:accept', { leaseId: offer.leaseId })).toMatchObject({ ok: true });
  });

  it('a lease heartbeat that finds the campaign gone keeps the call, so the rebuild attaches it again', async () => {
    g = await TestGateway.start({ config: { RECLAIM_INTERVAL_MS: '60000' } });
    await g.seedTenant(T, 2);
    const ref = await g.campaign(T, 'A');
    await g.leads(T, 'A', 2);
    const d0 = await g.connect(T, 0);
    const onCall = await readyAndOffer(d0, 'A', { accept: true });
    await until(
      async () => (await g!.store.store.peekLease(tenant, onCall.leaseId, Date.now())).state === 'a',
    );
    const revoked = collect(d0, 'call:revoked', 1_000);
    // Redis loses the campaign; the heartbeat runs before anything has rebuilt it.
    expect(await deleteKeysAtOnce(`${g.store.prefix}{c:${T}:A}:*`)).toBeGreaterThan(3);
    await g.gateway.hub.extendHeld();
    expect(await revoked).toEqual([]);
    // An agent asking for work finds the campaign gone and has it rebuilt. The rebuilt queue never offers the lead of the call in progress to anyone else...
    const d1 = await g.connect(T, 1);
    const other = next(d1, 'call:offer');
    expect(await call(d1, 'agent:ready', { campaignId: 'A' })).toMatchObject({ ok: true });
    expect((await other)[0].lead.id).not.toBe(onCall.lead.id);
    expect(await g.store.store.hasCampaign(ref)).toBe(true);
    // ...and the call's outcome is saved and applied.
    expect(
      await call(d0, 'call:complete', { leaseId: onCall.leaseId, outcome: 'answered', durationSec: 30 }),
    ).toMatchObject({ ok: true, duplicate: false, leadId: onCall.lead.id });
  });

  it('defect 10: a ready agent is offered its lead the moment the calling window opens', async () => {
    g = await TestGateway.start({ clock: clockAt(londonAt(8, 59, 58)) });
    await g.seedTenant(T, 1);
    await g.campaign(T, 'A', { window: { rules: [{ days: EVERY_DAY, from: '09:00', to: '21:00' }] } });
    await g.leads(T, 'A', 1);
    const d0 = await g.connect(T, 0);
    const offered = next(d0, 'call:offer', 6_000);
    expect(await call(d0, 'agent:ready', { campaignId: 'A' })).toMatchObject({
      ok: true,
      state: { state: 'ready' },
    });
    const [offer] = await offered; // about 2 s later, with no other trigger
    expect(offer.lead.phone).toBe('+442079400000');
  });

  it('defect 11: a resumed call goes back to the state it was in', async () => {
    g = await TestGateway.start();
    await g.seedTenant(T, 1);
    await g.campaign(T, 'A');
    await g.leads(T, 'A', 1);
    const d0 = await g.connect(T, 0);
    const offer = await readyAndOffer(d0, 'A', { accept: true });
    await until(
      async () => (await g!.store.store.peekLease(tenant, offer.leaseId, Date.now())).state === 'a',
    );
    expect(await call(d0, 'call:status', { leaseId: offer.leaseId, status: 'connected' })).toMatchObject({
      state: { state: 'on_call' },
    });
    d0.disconnect();
    await new Promise((r) => setTimeout(r, 200));
    const { device: back, resumed } = await g.resume(T, 0, offer.leaseId);
    expect(resumed).toMatchObject({ leaseId: offer.leaseId, state: 'on_call' });
    const states = collect(back, 'agent:state', 200);
    expect(await call(back, 'call:status', { leaseId: offer.leaseId, status: 'ended' })).toMatchObject({
      state: { state: 'wrap_up' },
    });
    expect((await states).map((s) => (s as { state: string }).state)).not.toContain('dialing');
  });

  it('defect 12: every client event is acknowledged, even without a payload or with an unknown name; an oversized frame says why', async () => {
    g = await TestGateway.start();
    await g.seedTenant(T, 1);
    await g.campaign(T, 'A');
    const d0 = await g.connect(T, 0);
    const bare = (event: string) =>
      (d0.timeout(2_000) as unknown as { emitWithAck(e: string): Promise<unknown> }).emitWithAck(event);
    for (const event of [
      'agent:ready',
      'agent:pause',
      'call:accept',
      'call:reject',
      'call:status',
      'call:complete',
    ]) {
      expect(await bare(event), event).toMatchObject({
        ok: false,
        error: { code: 'PAYLOAD_INVALID', retryable: false },
      });
    }
    expect(await call(d0, 'agent:dance' as never, { steps: 3 })).toMatchObject({
      ok: false,
      error: { code: 'EVENT_UNKNOWN' },
    });
    const closed = new Promise<{ reason: string; code: unknown }>((resolve) =>
      d0.on('disconnect', (reason, details) =>
        resolve({ reason, code: (details as { context?: { code?: number } } | undefined)?.context?.code }),
      ),
    );
    (d0 as unknown as { emit(e: string, p: unknown): void }).emit('call:complete', {
      leaseId: 'x',
      outcome: 'answered',
      durationSec: 1,
      notes: 'x'.repeat(64_000),
    });
    expect(await closed).toEqual({ reason: 'transport close', code: 1009 });
  });

  it('defect 13: an offer accepted after its calling window closed is withdrawn, and offers live minutes at most', async () => {
    g = await TestGateway.start({ clock: clockAt(londonAt(20, 59, 58)), config: { OFFER_TTL_MS: '10000' } });
    await g.seedTenant(T, 1);
    await g.campaign(T, 'A', { window: { rules: [{ days: EVERY_DAY, from: '09:00', to: '21:00' }] } });
    await g.leads(T, 'A', 1);
    const d0 = await g.connect(T, 0);
    const offer = await readyAndOffer(d0, 'A', { accept: false });
    await new Promise((r) => setTimeout(r, 2_500)); // 21:00:00.5 in London
    const late = await call(d0, 'call:accept', { leaseId: offer.leaseId });
    expect(late).toMatchObject({ ok: false, error: { code: 'OUTSIDE_CALLING_WINDOW' } });
    expect(await g.store.store.stats(refOf('A'), Date.now())).toMatchObject({ ready: 1, leased: 0 });
    expect(() => loadConfig({ OFFER_TTL_MS: String(24 * 3_600_000) })).toThrow(/OFFER_TTL_MS/);
  });

  it("refuses junk before it costs anything: invalid payloads count against the device's rate limit", async () => {
    g = await TestGateway.start({ config: { AGENT_EVENT_RATE: '10' } });
    await g.seedTenant(T, 1);
    const d0 = await g.connect(T, 0);
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => call(d0, 'agent:pause', { reason: 'NOT VALID' })),
    );
    const codes = answers.map((a) => (a.ok ? 'ok' : a.error.code));
    expect(codes.filter((c) => c === 'RATE_LIMITED').length).toBeGreaterThanOrEqual(10);
    expect(codes.filter((c) => c === 'PAYLOAD_INVALID').length).toBeLessThanOrEqual(10);
  });

  it('answers a handshake with a bad token by saying the token is bad', async () => {
    g = await TestGateway.start();
    await g.seedTenant(T, 1);
    const socket = connect(`${g.url}${AGENT_NAMESPACE}`, {
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
      auth: { token: 'garbage', deviceId: 'd0' },
    });
    const err = await new Promise<Error & { data?: unknown }>((resolve) =>
      socket.once('connect_error', resolve),
    );
    socket.close();
    expect(err.data).toMatchObject({
      code: 'UNAUTHENTICATED',
      message: 'device token is invalid or expired',
    });
  });
});
