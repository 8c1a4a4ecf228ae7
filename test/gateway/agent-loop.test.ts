// The live call loop over real sockets, real Redis and real Postgres: a device connects, says it
// is ready, gets a call pushed, reports status and the outcome, and the outcome is in Postgres
// before the device is told it is saved.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { call, next, TestGateway, until } from '../support/gateway.js';
import type { Device } from '../support/gateway.js';

const T = 'acme';
const C = 'spring';

describe('the agent call loop', () => {
  let g: TestGateway;
  beforeEach(async () => {
    g = await TestGateway.start();
    await g.seedTenant(T, 4);
    await g.campaign(T, C);
  });
  afterEach(async () => {
    await g.stop();
  });

  async function readyAndOffer(device: Device, accept = false) {
    const offered = next(device, 'call:offer');
    const ack = await call(device, 'agent:ready', { campaignId: C });
    // With a lead waiting, the call is offered in the same step that made the agent ready.
    expect(ack).toMatchObject({ ok: true, state: { state: 'offered' } });
    const [offer, reply] = await offered;
    reply({ accept });
    return offer;
  }

  it('pushes a call to a ready device, and saves the outcome before acknowledging it', async () => {
    await g.leads(T, C, 3);
    const device = await g.connect(T, 0);
    const offer = await readyAndOffer(device);
    expect(offer).toMatchObject({
      campaign: { id: C },
      lead: { phone: '+442079400000', name: 'Lead 0', attempts: 0 },
    });
    expect(offer.expiresAt).toBeGreaterThan(Date.now());

    expect(await call(device, 'call:accept', { leaseId: offer.leaseId })).toMatchObject({ ok: true });
    expect(await call(device, 'call:status', { leaseId: offer.leaseId, status: 'connected' })).toMatchObject({
      ok: true,
      state: { state: 'on_call' },
    });
    const done = await call(device, 'call:complete', {
      leaseId: offer.leaseId,
      outcome: 'answered',
      durationSec: 42,
      notes: 'interested in the gold plan',
      tags: ['gold'],
    });
    expect(done).toMatchObject({ ok: true, leadId: offer.lead.id, disposition: 'final', duplicate: false });
    // Acknowledged means committed: the row is there the moment the ack arrives.
    const stored = await g.db.outcomes.findByLeaseIds(T, [offer.leaseId]);
    expect(stored.get(offer.leaseId)).toMatchObject({
      outcome: 'answered',
      durationSec: 42,
      agentId: 'a0',
      deviceId: 'd0',
      tags: ['gold'],
      attempts: 1,
    });
    expect((await g.db.leads.get(T, offer.lead.id))?.status).toBe('final');
    const stats = await g.store.store.stats({ tenantId: T as never, campaignId: C as never }, Date.now());
    expect(stats).toMatchObject({ ready: 2, leased: 0 });
  });

  it('goes straight back to ready after saving, when the device asks, and gets the next call', async () => {
    await g.leads(T, C, 2);
    const device = await g.connect(T, 0);
    const first = await readyAndOffer(device, true);
    const offered = next(device, 'call:offer');
    const done = await call(device, 'call:complete', {
      leaseId: first.leaseId,
      outcome: 'answered',
      durationSec: 9,
      ready: true,
    });
    expect(done).toMatchObject({ ok: true, state: { state: 'offered', campaignId: C } });
    const [second, ack] = await offered;
    ack({ accept: true });
    expect(second.lead.id).not.toBe(first.lead.id);
  });

  it('accepts the offer in its acknowledgement, saving a round trip', async () => {
    await g.leads(T, C, 1);
    const device = await g.connect(T, 0);
    const offer = await readyAndOffer(device, true);
    await until(async () => {
      const view = await g.store.store.peekLease(T as never, offer.leaseId, Date.now());
      return view.state === 'a';
    });
  });

  it('schedules a retry in Postgres and in the queue', async () => {
    await g.leads(T, C, 1);
    const device = await g.connect(T, 0);
    const offer = await readyAndOffer(device, true);
    const done = await call(device, 'call:complete', {
      leaseId: offer.leaseId,
      outcome: 'no_answer',
      durationSec: 20,
    });
    expect(done).toMatchObject({ ok: true, disposition: expect.stringMatching(/^retry:\d+$/) as unknown });
    const lead = await g.db.leads.get(T, offer.lead.id);
    expect(lead).toMatchObject({ status: 'queued', attempts: 1 });
    expect(lead!.dueAt).toBeGreaterThan(Date.now() + 50 * 60_000);
    const stats = await g.store.store.stats({ tenantId: T as never, campaignId: C as never }, Date.now());
    expect(stats).toMatchObject({ ready: 0, scheduled: 1 });
  });

  it('answers a repeated completion with the same answer and writes nothing new', async () => {
    await g.leads(T, C, 1);
    const device = await g.connect(T, 0);
    const offer = await readyAndOffer(device, true);
    const payload = { leaseId: offer.leaseId, outcome: 'answered', durationSec: 5 };
    const [a, b] = await Promise.all([
      call(device, 'call:complete', payload),
      call(device, 'call:complete', payload),
    ]);
    const c = await call(device, 'call:complete', payload);
    expect(a.ok && b.ok && c.ok).toBe(true);
    const ids = [a, b, c].map((r) => (r.ok ? r.attemptId : ''));
    expect(new Set(ids).size).toBe(1);
    expect(c).toMatchObject({ duplicate: true });
    const rows = await g.db
      .knex('call_attempts')
      .where({ tenant_id: T, lease_id: offer.leaseId })
      .count<{ n: string }[]>({ n: '*' });
    expect(Number(rows[0]!.n)).toBe(1);
  });

  it('refuses a completion with a stale lease id with its code', async () => {
    await g.leads(T, C, 2);
    const device = await g.connect(T, 0);
    const offer = await readyAndOffer(device, true);
    expect(await call(device, 'call:reject', { leaseId: offer.leaseId, reason: 'declined' })).toMatchObject({
      ok: true,
    });
    const res = await call(device, 'call:complete', {
      leaseId: offer.leaseId,
      outcome: 'answered',
      durationSec: 1,
    });
    expect(res).toMatchObject({ ok: false, error: { code: 'LEASE_STALE' } });
    expect((await g.db.outcomes.findByLeaseIds(T, [offer.leaseId])).size).toBe(0);
  });

  it('refuses malformed payloads with their codes and writes nothing', async () => {
    await g.leads(T, C, 1);
    const device = await g.connect(T, 0);
    const offer = await readyAndOffer(device, true);
    const bad: [string, unknown, string][] = [
      ['agent:ready', { campaignId: 'has spaces' }, 'PAYLOAD_INVALID'],
      ['agent:ready', 'spring', 'PAYLOAD_INVALID'],
      ['call:complete', { leaseId: offer.leaseId, outcome: 'answered' }, 'PAYLOAD_INVALID'],
      ['call:complete', { leaseId: offer.leaseId, outcome: 'answered', durationSec: -1 }, 'PAYLOAD_INVALID'],
      ['call:complete', { leaseId: offer.leaseId, outcome: 'Answered!', durationSec: 1 }, 'PAYLOAD_INVALID'],
      ['call:complete', { leaseId: offer.leaseId, outcome: 'refund', durationSec: 1 }, 'OUTCOME_UNKNOWN'],
      ['call:complete', { leaseId: offer.leaseId, outcome: 'callback', durationSec: 1 }, 'CALLBACK_REQUIRED'],
      ['call:complete', { leaseId: 'spring.zz.99', outcome: 'answered', durationSec: 1 }, 'LEASE_UNKNOWN'],
      ['call:complete', { leaseId: 'garbage', outcome: 'answered', durationSec: 1 }, 'LEASE_UNKNOWN'],
      ['call:complete', { leaseId: 'nope.e1.1', outcome: 'answered', durationSec: 1 }, 'LEASE_UNKNOWN'],
      ['call:status', { leaseId: offer.leaseId, status: 'exploded' }, 'PAYLOAD_INVALID'],
      ['agent:pause', { reason: 'Lunch Break' }, 'PAYLOAD_INVALID'],
    ];
    for (const [event, payload, code] of bad) {
      const res = await call(device, event as 'agent:ready', payload);
      expect(res, `${event} ${JSON.stringify(payload)}`).toMatchObject({ ok: false, error: { code } });
    }
    expect((await g.db.outcomes.findByLeaseIds(T, [offer.leaseId])).size).toBe(0);
    const view = await g.store.store.peekLease(T as never, offer.leaseId, Date.now());
    expect(view.state).toBe('a');
  });

  it('answers a device that floods the gateway with RATE_LIMITED, and serves it again later', async () => {
    const device = await g.connect(T, 0);
    const burst = await Promise.all(
      Array.from({ length: 80 }, () => call(device, 'agent:pause', { reason: 'coffee' })),
    );
    const limited = burst.filter((r) => !r.ok && r.error.code === 'RATE_LIMITED').length;
    expect(limited).toBeGreaterThanOrEqual(80 - 50);
    await new Promise((r) => setTimeout(r, 1_100));
    expect(await call(device, 'agent:pause', { reason: 'coffee' })).toMatchObject({ ok: true });
  });

  it('puts a rejected call back for the next agent, with no attempt counted', async () => {
    await g.leads(T, C, 1);
    const first = await g.connect(T, 0);
    const offer = await readyAndOffer(first);
    const second = await g.connect(T, 1);
    const offered = next(second, 'call:offer');
    await call(second, 'agent:ready', { campaignId: C });
    await call(first, 'call:reject', { leaseId: offer.leaseId, reason: 'busy_device' });
    const [again] = await offered;
    expect(again.lead).toMatchObject({ id: offer.lead.id, attempts: 0 });
    expect(again.leaseId).not.toBe(offer.leaseId);
  });

  it('revokes an offer the device does not acknowledge and gives the lead to another agent', async () => {
    await g.leads(T, C, 1);
    const silent = await g.connect(T, 0);
    silent.on('call:offer', () => undefined); // receives, never acknowledges
    const revoked = next(silent, 'call:revoked');
    await call(silent, 'agent:ready', { campaignId: C });
    const [r] = await revoked;
    expect(r.reason).toBe('offer_timeout');
    const other = await g.connect(T, 1);
    const offer = await readyAndOffer(other);
    expect(offer.leaseId).not.toBe(r.leaseId);
  });

  it('keeps the lease of a device that reconnects within the grace period', async () => {
    await g.leads(T, C, 1);
    const device = await g.connect(T, 0);
    const offer = await readyAndOffer(device, true);
    await until(
      async () => (await g.store.store.peekLease(T as never, offer.leaseId, Date.now())).state === 'a',
    );
    device.disconnect();
    await new Promise((r) => setTimeout(r, 200));
    const { device: back, resumed } = await g.resume(T, 0, offer.leaseId);
    expect(resumed).toMatchObject({ leaseId: offer.leaseId, state: 'dialing' });
    await new Promise((r) => setTimeout(r, 1_800)); // past the grace period
    const done = await call(back, 'call:complete', {
      leaseId: offer.leaseId,
      outcome: 'answered',
      durationSec: 30,
    });
    expect(done).toMatchObject({ ok: true, duplicate: false });
  });

  it('gives the lead back when the device stays away past the grace period', async () => {
    await g.leads(T, C, 1);
    const device = await g.connect(T, 0);
    const offer = await readyAndOffer(device, true);
    await until(
      async () => (await g.store.store.peekLease(T as never, offer.leaseId, Date.now())).state === 'a',
    );
    device.disconnect();
    const other = await g.connect(T, 1);
    const offered = next(other, 'call:offer', 3_000);
    await call(other, 'agent:ready', { campaignId: C });
    const [again] = await offered;
    expect(again.lead.id).toBe(offer.lead.id);
    const late = await g.connect(T, 0, { leaseId: offer.leaseId });
    const res = await call(late, 'call:complete', {
      leaseId: offer.leaseId,
      outcome: 'answered',
      durationSec: 30,
    });
    expect(res).toMatchObject({ ok: false, error: { code: 'LEASE_STALE' } });
  });

  it('lets one live session per agent: a newer one replaces the older, which is told why', async () => {
    const older = await g.connect(T, 0);
    const told = next(older, 'session:replaced');
    const gone = new Promise<void>((resolve) => older.once('disconnect', () => resolve()));
    const newer = await g.connect(T, 0);
    expect((await told)[0]).toEqual({ reason: 'newer_session' });
    await gone;
    expect(newer.connected).toBe(true);
    expect(await call(newer, 'agent:ready', { campaignId: C })).toMatchObject({ ok: true });
  });

  it('refuses a device with a bad token or that is not registered to the agent', async () => {
    await expect(g.connect(T, 0, { device: 1 })).rejects.toMatchObject({ data: { code: 'DEVICE_UNKNOWN' } });
    const { io } = await import('socket.io-client');
    const socket = io(`${g.url}/agent`, {
      transports: ['websocket'],
      reconnection: false,
      auth: { token: 'not-a-real-token-at-all', deviceId: 'd0' },
    });
    const err = await new Promise<{ data?: unknown }>((resolve) => socket.once('connect_error', resolve));
    socket.close();
    expect(err.data).toMatchObject({ code: 'UNAUTHENTICATED' });
  });

  it("keeps tenants apart: another tenant's campaign and leases are out of reach", async () => {
    await g.leads(T, C, 1);
    const mine = await g.connect(T, 0);
    const offer = await readyAndOffer(mine, true);
    await g.seedTenant('globex', 1);
    const theirs = await g.connect('globex', 0);
    expect(await call(theirs, 'agent:ready', { campaignId: C })).toMatchObject({
      ok: false,
      error: { code: 'CAMPAIGN_UNKNOWN' },
    });
    const res = await call(theirs, 'call:complete', {
      leaseId: offer.leaseId,
      outcome: 'answered',
      durationSec: 1,
    });
    expect(res.ok).toBe(false);
    expect((await g.db.outcomes.findByLeaseIds(T, [offer.leaseId])).size).toBe(0);
  });

  it('takes a do-not-call number out of every queue of the tenant once the outcome is saved', async () => {
    const other = await g.campaign(T, 'autumn');
    await g.leads(T, C, 1);
    await g.leads(T, other.campaignId, 1); // the same number, in another campaign
    const device = await g.connect(T, 0);
    const offer = await readyAndOffer(device, true);
    const done = await call(device, 'call:complete', {
      leaseId: offer.leaseId,
      outcome: 'dnc',
      durationSec: 3,
    });
    expect(done).toMatchObject({ ok: true, disposition: 'dnc' });
    expect(await g.db.dnc.has(T, offer.lead.phone)).toBe(true);
    expect((await g.store.store.stats(other, Date.now())).ready).toBe(0);
  });
});
