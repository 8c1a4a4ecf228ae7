// A gateway whose Socket.IO adapter cannot reach Redis still answers its agents. The fault suite's
// redis-failover ended with agents stuck ("drain-stuck"): after the Redis master was killed, a
// campaign rebuild asked the other gateways for the calls they hold (serverSideEmit with an
// acknowledgement); the adapter's request failed before it was sent (counting the gateways
// through a client the failover dropped), Socket.IO dropped that failure, the acknowledgement
// never came, and the rebuild, every agent:ready waiting on it and every later command of those
// agents (agent:pause too) waited for ever. A ready refused retryable must leave the agent able
// to go ready again, and able to pause.
import { createAdapter } from '@socket.io/redis-streams-adapter';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { guardAdapterClient } from '../../gateway/connection-recovery.js';
import { AGENT_NAMESPACE } from '../../gateway/protocol/events.js';
import { call, TestGateway, until } from '../support/gateway.js';
import { deleteKeys, REDIS_URL } from '../support/stores.js';

const T = 'adapter-down';
const C = 'c1';

describe("a gateway whose adapter lost Redis during a campaign's rebuild", () => {
  const name = `test:adapter-failure:${process.pid}:${Date.now()}`;
  const clients: ReturnType<typeof createClient>[] = [];
  let a: TestGateway;
  let b: TestGateway;

  async function adapter() {
    const client = createClient({ url: REDIS_URL });
    client.on('error', () => undefined);
    await client.connect();
    clients.push(client);
    // As main.ts does: a session the destroyed client cannot save (a drain closing a phone's
    // connection) is reported, not an unhandled rejection.
    guardAdapterClient(client, () => undefined);
    return createAdapter(client, { streamName: name, channelPrefix: name, sessionKeyPrefix: `${name}:s:` });
  }

  beforeAll(async () => {
    // b's own maintenance would rebuild the lost campaign (without a's calls, once a's adapter is
    // silent) before a's ready under a loaded machine: it runs once a minute here.
    b = await TestGateway.start({ adapter: await adapter(), config: { RECLAIM_INTERVAL_MS: '60000' } });
    a = await TestGateway.start({ shared: { store: b.store, pg: b.pg }, adapter: await adapter() });
    await b.seedTenant(T, 1);
    await b.campaign(T, C);
    await b.leads(T, C, 3);
  });
  afterAll(async () => {
    await a?.stop();
    await b?.stop();
    for (const c of clients) if (c.isOpen) await c.close().catch(() => undefined);
    await deleteKeys(`${name}*`);
  });

  it('answers agent:ready (UNAVAILABLE, never hanging), and the agent can still pause and retry', async () => {
    const device = await a.connect(T, 0);
    expect(await call(device, 'agent:pause', { reason: 'break' })).toMatchObject({ ok: true });
    // Gateway a knows of b (b's heartbeat reached it): until then a counts itself alone, asks
    // no one, and its rebuild would go ahead (a loaded machine delays the heartbeat).
    const agents = a.gateway.io.of(AGENT_NAMESPACE).adapter as unknown as { serverCount(): Promise<number> };
    await until(async () => (await agents.serverCount()) === 2, 15_000);
    // Gateway a's adapter loses its Redis client (as a failover's dropped node client does) ...
    clients[1]!.destroy();
    // ... and the queue loses the campaign, so the next ready rebuilds it from Postgres, which
    // needs the calls the other gateways hold.
    await deleteKeys(`${a.store.prefix}*`);

    // Answered, never left hanging: refused UNAVAILABLE (retryable) when its rebuild had to ask
    // the other gateways, or accepted when the campaign was back before it (on a loaded machine
    // either happens: the race is in how soon the gateways notice the campaign is gone).
    const first = await call(device, 'agent:ready', { campaignId: C });
    if (!first.ok) expect(first.error).toMatchObject({ code: 'UNAVAILABLE', retryable: true });
    // The agent is not stuck: a drain's pause is answered, and a retried ready is answered too.
    expect(await call(device, 'agent:pause', { reason: 'break' })).toMatchObject({ ok: true });
    // (Gateway b's maintenance may have rebuilt the campaign meanwhile: it can still ask a.)
    const again = await call(device, 'agent:ready', { campaignId: C });
    expect(again.ok || again.error.code === 'UNAVAILABLE').toBe(true);
    // The rebuild itself fails rather than rebuilding without the other gateways' calls.
    await expect(a.gateway.hub.heldCalls({ tenantId: T, campaignId: C } as never)).rejects.toMatchObject({
      code: 'UNAVAILABLE',
    });
  }, 30_000);
});
