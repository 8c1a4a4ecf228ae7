// The /supervisor namespace against a real gateway (real Redis, real Postgres): a supervisor sees
// the state routing uses, snapshot then deltas with sequence numbers, only its own tenant's floor,
// and its actions are acknowledged, carried out and audited.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CampaignRef } from '../../engine/ids.js';
import { supervisorWithLogins } from '../../gateway/supervisor/index.js';
import { call, next, TEST_SECRET, TestGateway } from '../support/gateway.js';
import type { Device } from '../support/gateway.js';
import { command, connectSupervisor, FloorWatcher, handshakeError, loginAs } from '../support/supervisor.js';

const A = 'floor-a';
const B = 'floor-b';
const C = 'c1';

describe('the /supervisor namespace', () => {
  let gw: TestGateway;
  let ref: CampaignRef;
  let supA: FloorWatcher;
  let supB: FloorWatcher;

  beforeAll(async () => {
    gw = await TestGateway.start({
      supervisor: supervisorWithLogins(TEST_SECRET, { countersIntervalMs: 200 }),
    });
    await gw.seedTenant(A, 3);
    await gw.seedTenant(B, 2);
    ref = await gw.campaign(A, C);
    await gw.campaign(B, C);
    supA = new FloorWatcher(await connectSupervisor(gw.url, await loginAs(gw.db, A, 'sup', 'supervisor')));
    supB = new FloorWatcher(await connectSupervisor(gw.url, await loginAs(gw.db, B, 'sup', 'supervisor')));
    expect(await command(supA.socket, 'floor:subscribe', {})).toMatchObject({ ok: true, seq: 1 });
    expect(await command(supB.socket, 'floor:subscribe', {})).toMatchObject({ ok: true, seq: 1 });
  });
  afterAll(async () => {
    supA?.socket.disconnect();
    supB?.socket.disconnect();
    await gw?.stop();
  });

  it('refuses a handshake without a valid token, and an agent’s token', async () => {
    expect(await handshakeError(gw.url, 'nope')).toMatchObject({ code: 'UNAUTHENTICATED' });
    expect(await handshakeError(gw.url, undefined)).toMatchObject({ code: 'UNAUTHENTICATED' });
    const agent = await loginAs(gw.db, A, 'agentx', 'agent');
    expect(await handshakeError(gw.url, agent)).toMatchObject({ code: 'FORBIDDEN' });
  });

  it('starts with a snapshot of every agent of the tenant, offline until seen, with names', () => {
    expect(supA.snapshots).toBe(1);
    expect([...supA.agents.keys()]).toEqual(['a0', 'a1', 'a2']);
    expect(supA.agents.get('a1')).toMatchObject({ name: 'Agent 1', state: 'offline', since: null });
    expect(supA.campaigns.map((c) => c.id)).toEqual([C]);
  });

  it('shows each state an agent goes through, with consecutive sequence numbers', async () => {
    const device = await gw.connect(A, 0);
    await supA.until((w) => w.state('a0') === 'paused');
    expect(supA.agents.get('a0')).toMatchObject({ reason: 'login' });

    expect(await call(device, 'agent:ready', { campaignId: C })).toMatchObject({
      ok: true,
      state: { state: 'ready' },
    });
    await supA.until((w) => w.state('a0') === 'ready');
    expect(supA.agents.get('a0')).toMatchObject({ campaignId: C });

    const offered = next(device, 'call:offer');
    await gw.leads(A, C, 1);
    const [offer, ack] = await offered;
    await supA.until((w) => w.state('a0') === 'offered');
    // The lead's first name only, never the full name or number.
    expect(supA.agents.get('a0')).toMatchObject({ leadFirstName: 'Lead' });
    expect(JSON.stringify([...supA.agents.values()])).not.toContain('+44');
    ack({ accept: true });
    await supA.until((w) => w.state('a0') === 'dialing');
    await call(device, 'call:status', { leaseId: offer.leaseId, status: 'connected' });
    await supA.until((w) => w.state('a0') === 'on_call');
    await call(device, 'call:status', { leaseId: offer.leaseId, status: 'ended' });
    await supA.until((w) => w.state('a0') === 'wrap_up');
    expect(
      await call(device, 'call:complete', { leaseId: offer.leaseId, outcome: 'answered', durationSec: 42 }),
    ).toMatchObject({ ok: true });

    const states = supA.history.filter((t) => t.agentId === 'a0').map((t) => t.state);
    expect(states).toEqual(
      expect.arrayContaining(['offline', 'paused', 'ready', 'offered', 'dialing', 'on_call', 'wrap_up']),
    );
    // Snapshot, agent frames and counters share one counter, with no gap.
    expect(supA.seqs).toEqual(supA.seqs.map((_, i) => i + 1));

    // The campaign tile counts the call (today in the tenant's zone) and its contact.
    await supA.until((w) => w.campaigns[0]?.callsToday === 1);
    expect(supA.campaigns[0]).toMatchObject({
      id: C,
      status: 'active',
      callsToday: 1,
      contactsPerHour: 1,
      answerRate: 1,
      ahtSec: 42,
    });
    expect(supA.campaigns[0]!.perMinute.at(-1)).toBeGreaterThanOrEqual(1);
    expect(supA.campaigns[0]!.agentsByState).toMatchObject({ wrap_up: 1 });
    device.disconnect();
    await supA.until((w) => w.state('a0') === 'offline');
  });

  it('never shows a supervisor another tenant’s floor', async () => {
    const deviceB = await gw.connect(B, 1);
    expect(await call(deviceB, 'agent:ready', { campaignId: C })).toMatchObject({ ok: true });
    await supB.until((w) => w.state('a1') === 'ready');
    // Tenant A has an a1 too: its tile never took tenant B's agent's state.
    await new Promise((r) => setTimeout(r, 300));
    expect(supA.state('a1')).toBe('offline');
    expect(supB.agents.get('a1')).toMatchObject({ name: 'Agent 1', state: 'ready' });
    expect([...supB.agents.keys()]).toEqual(['a0', 'a1']);
    // Nor can it act on it: force-pausing "a1" from A reaches A's a1 (offline), not B's.
    expect(
      await command(supA.socket, 'agent:force_pause', { agentId: 'a1', reason: 'coffee' }),
    ).toMatchObject({ ok: true, found: false });
    await new Promise((r) => setTimeout(r, 200));
    expect(supB.state('a1')).toBe('ready');
    // An agent that exists only in another tenant is unknown here.
    await gw.db.users.create({ tenantId: B, id: 'onlyb', name: 'Only B', role: 'agent' });
    expect(await command(supA.socket, 'agent:logout', { agentId: 'onlyb' })).toMatchObject({
      ok: false,
      error: { code: 'NOT_FOUND' },
    });
    // And a campaign of another tenant cannot be subscribed to or paused.
    await gw.campaign(B, 'only-b');
    expect(await command(supA.socket, 'floor:subscribe', { campaignId: 'only-b' })).toMatchObject({
      ok: false,
      error: { code: 'CAMPAIGN_UNKNOWN' },
    });
    expect(await command(supA.socket, 'campaign:pause', { campaignId: 'only-b' })).toMatchObject({
      ok: false,
      error: { code: 'CAMPAIGN_UNKNOWN' },
    });
    deviceB.disconnect();
  });

  it('force-pauses an agent with a reason: the device is told, the action audited', async () => {
    const device: Device = await gw.connect(A, 2);
    expect(await call(device, 'agent:ready', { campaignId: C })).toMatchObject({
      ok: true,
      state: { state: 'ready' },
    });
    await supA.until((w) => w.state('a2') === 'ready');
    const told = next(device, 'agent:state');
    expect(await command(supA.socket, 'agent:force_pause', { agentId: 'a2', reason: 'coaching' })).toEqual({
      ok: true,
      found: true,
    });
    expect((await told)[0]).toMatchObject({ state: 'paused', reason: 'coaching' });
    await supA.until((w) => w.state('a2') === 'paused' && w.agents.get('a2')?.reason === 'coaching');
    const [entry] = await gw.db.audit.list(A, { limit: 1 });
    expect(entry).toMatchObject({
      actor: 'sup',
      action: 'agent.force_pause',
      subject: 'a2',
      details: { reason: 'coaching', found: true },
    });
    expect(await command(supA.socket, 'agent:force_pause', { agentId: 'a2', reason: '' })).toMatchObject({
      ok: false,
      error: { code: 'PAYLOAD_INVALID' },
    });

    const replaced = next(device, 'session:replaced');
    expect(await command(supA.socket, 'agent:logout', { agentId: 'a2' })).toEqual({ ok: true, found: true });
    expect((await replaced)[0]).toEqual({ reason: 'logged_out' });
    await supA.until((w) => w.state('a2') === 'offline');
    const [logout] = await gw.db.audit.list(A, { limit: 1 });
    expect(logout).toMatchObject({ actor: 'sup', action: 'agent.logout', subject: 'a2' });
  });

  it('pauses and resumes a campaign: ready agents leave routing, the tile says why it is empty', async () => {
    const device = await gw.connect(A, 1);
    expect(await call(device, 'agent:ready', { campaignId: C })).toMatchObject({ ok: true });
    const told = next(device, 'agent:state');
    expect(await command(supA.socket, 'campaign:pause', { campaignId: C })).toEqual({
      ok: true,
      status: 'paused',
    });
    expect((await told)[0]).toMatchObject({ state: 'paused', reason: 'campaign_closed' });
    await supA.until((w) => w.campaigns[0]?.status === 'paused');
    expect(supA.campaigns[0]).toMatchObject({ emptyReason: 'paused', queue: null });
    expect((await gw.db.campaigns.get(A, C))?.status).toBe('paused');

    expect(await command(supA.socket, 'campaign:resume', { campaignId: C })).toEqual({
      ok: true,
      status: 'active',
    });
    expect(gw.gateway.campaigns.isLive(ref)).toBe(true);
    expect(await call(device, 'agent:ready', { campaignId: C })).toMatchObject({
      ok: true,
      state: { state: 'ready' },
    });
    // Nothing queued now and the one lead finished: the tile says so.
    await supA.until(
      (w) => w.campaigns[0]?.status === 'active' && w.campaigns[0]?.emptyReason === 'no_leads',
    );
    const actions = (await gw.db.audit.list(A, { limit: 2 })).map((e) => e.action);
    expect(actions).toEqual(['campaign.resume', 'campaign.pause']);
    device.disconnect();
  });

  it('answers a resync with a fresh snapshot and rebuilds the floor of a past moment', async () => {
    const before = supA.snapshots;
    const res = await command(supA.socket, 'floor:resync', {});
    expect(res).toMatchObject({ ok: true });
    await supA.until((w) => w.snapshots === before + 1);
    expect(res.ok && res.seq).toBe(supA.seq);

    const device = await gw.connect(A, 0);
    await supA.until((w) => w.state('a0') === 'paused');
    const pausedAt = Date.now();
    await new Promise((r) => setTimeout(r, 30));
    expect(await call(device, 'agent:ready', { campaignId: C })).toMatchObject({ ok: true });
    await supA.until((w) => w.state('a0') === 'ready');
    const past = await command(supA.socket, 'floor:replay', { at: pausedAt });
    expect(past.ok).toBe(true);
    if (!past.ok) return;
    expect(past.agents.find((a) => a.agentId === 'a0')).toMatchObject({ state: 'paused', reason: 'login' });
    const nowFloor = await command(supA.socket, 'floor:replay', { at: Date.now() });
    expect(nowFloor.ok && nowFloor.agents.find((a) => a.agentId === 'a0')?.state).toBe('ready');
    device.disconnect();
  });

  it('a campaign subscription shows only that campaign’s agents', async () => {
    await gw.campaign(A, 'c2');
    const sup = new FloorWatcher(await connectSupervisor(gw.url, await loginAs(gw.db, A, 'adm', 'admin')));
    try {
      expect(await command(sup.socket, 'floor:subscribe', { campaignId: 'c2' })).toMatchObject({ ok: true });
      await sup.until((w) => w.snapshots === 1);
      expect(sup.campaigns.map((c) => c.id)).toEqual(['c2']);
      const device = await gw.connect(A, 1);
      expect(await call(device, 'agent:ready', { campaignId: 'c2' })).toMatchObject({ ok: true });
      await sup.until((w) => w.state('a1') === 'ready');
      expect(await call(device, 'agent:ready', { campaignId: C })).toMatchObject({ ok: true });
      // Left c2: sent once more with its new campaign, so the page drops it.
      await sup.until((w) => w.agents.get('a1')?.campaignId === C);
      expect(sup.agents.has('a0')).toBe(false);
      device.disconnect();
    } finally {
      sup.socket.disconnect();
    }
  });
});
