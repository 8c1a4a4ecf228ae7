// A campaign rebuilt from Postgres attaches again the calls in progress of every gateway alive, not
// only of those the Socket.IO adapter counts. The adapter waits for as many answers as it counts
// gateways (PUBSUB NUMSUB of its channel; heartbeats heard, in the adapters that count those): a
// gateway whose subscription is not counted (its subscriber reconnecting after a Redis restart or
// failover) or whose heartbeat is late is left out, and a gateway that counts itself alone had its
// request for the calls held elsewhere answered at once with nothing. The rebuild then queued again the lead of a call in
// progress on the other gateway and offered it to a second agent while the first was on the phone.
// Now every gateway registered alive in Redis (gateway/gateway-registry.ts) must answer, or the
// rebuild fails UNAVAILABLE (retryable) and nothing is queued meanwhile.
import { createAdapter } from '@socket.io/redis-streams-adapter';
import { createClient } from 'redis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { CampaignRef } from '../../engine/ids.js';
import { asTenantId } from '../../engine/ids.js';
import { campaignKeyPattern, gatewayRegistryKey } from '../../engine/keys.js';
import { parseLeaseId } from '../../engine/lease.js';
import type { OfferPayload } from '../../gateway/protocol/schemas.js';
import { AGENT_NAMESPACE } from '../../gateway/protocol/events.js';
import { createRights } from '../../gateway/privacy/rights.js';
import { call, next, TestGateway, until } from '../support/gateway.js';
import type { Device } from '../support/gateway.js';
import { deleteKeys, REDIS_URL } from '../support/stores.js';

const T = 'every-gw';
const C = 'c1';

/** The part of the Socket.IO adapter this test changes: how many gateways it counts. */
interface CountingAdapter {
  serverCount(): Promise<number>;
}

const adapterOf = (g: TestGateway) => g.gateway.io.of(AGENT_NAMESPACE).adapter as unknown as CountingAdapter;

/**
 * Gateway `g`'s adapter counts one gateway fewer than there are, as it does while another
 * gateway's subscription is not counted (its subscriber reconnecting after a Redis restart or
 * failover: PUBSUB NUMSUB) or its heartbeat is not heard (an adapter counting heartbeats, in its
 * first moments or on a loaded machine). Returns the cure.
 */
function undercounting(g: TestGateway): () => void {
  const adapter = adapterOf(g);
  const counted = adapter.serverCount.bind(adapter);
  adapter.serverCount = async () => (await counted()) - 1;
  return () => {
    adapter.serverCount = counted;
  };
}

describe('a rebuild hears the calls in progress of every gateway alive', () => {
  const name = `test:every-gw:${process.pid}:${Date.now()}`;
  const clients: ReturnType<typeof createClient>[] = [];
  let a: TestGateway;
  let b: TestGateway;
  let ref: CampaignRef;
  const devices: Device[] = [];
  /** The lead and number of the call a0 stays on (the first test). */
  let leadOnThePhone: { leadId: string; phone: string } | undefined;
  /** Ends b's undercount (also when the first test fails before it does). */
  let hear: (() => void) | undefined;

  async function adapter() {
    const client = createClient({ url: REDIS_URL });
    client.on('error', () => undefined);
    await client.connect();
    clients.push(client);
    return createAdapter(client, { streamName: name, channelPrefix: name, sessionKeyPrefix: `${name}:s:` });
  }

  beforeAll(async () => {
    b = await TestGateway.start({ adapter: await adapter() });
    // Gateway a leaves the rebuilding to b: its own maintenance and lease heartbeats (which would
    // notice the lost campaign and rebuild it, asking b correctly) come long after the test.
    a = await TestGateway.start({
      shared: { store: b.store, pg: b.pg },
      adapter: await adapter(),
      config: { RECLAIM_INTERVAL_MS: '60000', LEASE_HEARTBEAT_MS: '30000', CALL_TTL_MS: '60000' },
    });
    await b.seedTenant(T, 2);
    ref = await b.campaign(T, C);
    await b.leads(T, C, 2);
  });
  afterEach(() => {
    hear?.();
    hear = undefined;
  });
  afterAll(async () => {
    for (const d of devices) d.disconnect();
    await a?.stop();
    await b?.stop();
    for (const c of clients) if (c.isOpen) await c.close().catch(() => undefined);
    await deleteKeys(`${name}*`);
  });

  it("never offers the lead of a call in progress on a gateway the rebuilding gateway's adapter does not know", async () => {
    // Agent a0 takes the first lead on gateway a and is on the phone.
    const first = await a.connect(T, 0);
    devices.push(first);
    const offered = next(first, 'call:offer');
    expect(await call(first, 'agent:ready', { campaignId: C })).toMatchObject({ ok: true });
    const [offer, reply] = await offered;
    reply({ accept: true });
    await until(
      async () => (await b.store.store.peekLease(ref.tenantId, offer.leaseId, Date.now())).state === 'a',
    );
    const onThePhone = parseLeaseId(offer.leaseId).leadId;

    // Gateway b's adapter counted a, then does not: b counts itself alone.
    await until(async () => (await adapterOf(b).serverCount()) === 2, 15_000);
    hear = undercounting(b);
    expect(await adapterOf(b).serverCount()).toBe(1);

    // Redis loses the campaign; agent a1 goes ready on gateway b, whose rebuild must not queue a0's lead.
    await deleteKeys(campaignKeyPattern(b.store.prefix, ref));
    const second = await b.connect(T, 1);
    devices.push(second);
    const offers: OfferPayload[] = [];
    second.on('call:offer', (o, ack) => {
      offers.push(o);
      ack({});
    });
    // (Answered once the rebuild gave up asking, ASK_TIMEOUT_MS: longer than call()'s 5 s.)
    const ready = (await second.timeout(15_000).emitWithAck('agent:ready', { campaignId: C })) as Awaited<
      ReturnType<typeof call<'agent:ready'>>
    >;
    await new Promise((r) => setTimeout(r, 500));
    expect(offers.map((o) => parseLeaseId(o.leaseId).leadId)).not.toContain(onThePhone);
    // Refused retryable while a gateway registered alive has not answered ...
    expect(ready).toMatchObject({ ok: false, error: { code: 'UNAVAILABLE', retryable: true } });
    await expect(b.gateway.campaigns.recover(ref)).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    // ... and nothing was queued meanwhile: the campaign is still unknown to the queue.
    expect(await b.store.store.hasCampaign(ref)).toBe(false);

    // Once b hears a again the rebuild goes ahead, a0's call attached, and a1 gets the other lead.
    hear();
    hear = undefined;
    const got = next(second, 'call:offer', 10_000);
    await until(async () => (await call(second, 'agent:ready', { campaignId: C })).ok, 15_000, 250);
    const [other] = await got;
    expect(parseLeaseId(other.leaseId).leadId).not.toBe(onThePhone);
    expect(Object.keys((await b.store.store.snapshot(ref)).leases)).toContain(offer.leaseId);
    expect(offers.map((o) => parseLeaseId(o.leaseId).leadId)).not.toContain(onThePhone);
    leadOnThePhone = { leadId: onThePhone, phone: offer.lead.phone };
  }, 60_000);

  it("refuses to correct the data of a person on a call on a gateway the asking gateway's adapter does not count", async () => {
    // a0 is still on the phone on gateway a (the test above); b counts itself alone again. A
    // rectification asked of b must hear a's calls, as a rebuild does, and wait for the call's end.
    expect(leadOnThePhone).toBeDefined();
    const { leadId, phone } = leadOnThePhone!;
    hear = undercounting(b);
    expect(await adapterOf(b).serverCount()).toBe(1);
    const rights = createRights(b.gateway);
    const rectify = () =>
      rights.rectify(
        asTenantId(T),
        phone,
        { name: 'Corrected mid-call' },
        { actor: 'boss', now: Date.now() },
      );
    // Not every gateway alive answered: refused retryable, nothing changed ...
    await expect(rectify()).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    // ... and once b hears a, refused because the person is on a call there.
    hear();
    hear = undefined;
    await expect(rectify()).rejects.toMatchObject({ code: 'CONFLICT' });
    expect((await b.pg.db.leads.get(asTenantId(T), leadId))?.name).not.toBe('Corrected mid-call');
  }, 30_000);

  it('waits for a registered gateway that died until its registration expires, then rebuilds', async () => {
    // A gateway that died without leaving: its entry stays until it expires (here in 1.5 s).
    const redis = createClient({ url: REDIS_URL });
    await redis.connect();
    try {
      const key = gatewayRegistryKey(b.store.prefix);
      const started = Date.now();
      await redis.zAdd(key, { score: Date.now() + 1_500, value: 'dead-gateway' });
      await b.gateway.campaigns.rebuild(ref);
      expect(Date.now() - started).toBeGreaterThanOrEqual(1_200);
      expect((await b.gateway.registry!.roll()).others).not.toContain('dead-gateway');
    } finally {
      await redis.close();
    }
  }, 30_000);

  it('a gateway that stops gracefully leaves the registry: no rebuild waits for it', async () => {
    const c = await TestGateway.start({ shared: { store: b.store, pg: b.pg }, adapter: await adapter() });
    const id = c.gateway.registry!.id;
    expect((await b.gateway.registry!.roll()).others).toContain(id);
    await c.stop();
    expect((await b.gateway.registry!.roll()).others).not.toContain(id);
    const started = Date.now();
    await b.gateway.campaigns.rebuild(ref);
    expect(Date.now() - started).toBeLessThan(1_000);
  }, 30_000);
});
