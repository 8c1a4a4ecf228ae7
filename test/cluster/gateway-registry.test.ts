// The registry of live gateways in Redis (gateway/gateway-registry.ts), on real Redis with a clock
// the test moves: who is on the roll, when an entry lapses, and why a registry that lost entries
// is not believed until every live gateway had time to write its own back.
import { randomUUID } from 'node:crypto';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../engine/clock.js';
import { gatewayRegistryKey } from '../../engine/keys.js';
import { redisGatewayRegistry } from '../../gateway/gateway-registry.js';
import type { GatewayRegistry } from '../../gateway/gateway-registry.js';
import { silentLogger } from '../../gateway/logger.js';
import { deleteKeys, REDIS_URL } from '../support/stores.js';

const timing = { refreshMs: 60_000, ttlMs: 5_000, trustMs: 2_000 };

describe('the registry of live gateways', () => {
  const prefix = `test:${randomUUID().slice(0, 8)}:`;
  const client = createClient({ url: REDIS_URL });
  const clock = new ManualClock(1_000_000);
  const registries: GatewayRegistry[] = [];

  const gateway = async (id: string) => {
    const r = redisGatewayRegistry({
      client,
      prefix,
      clock,
      logger: silentLogger,
      timing,
      id,
      // The test's clock stands for Redis's and for this process's own time alike.
      monotonic: () => clock.now(),
    });
    registries.push(r);
    await r.start();
    return r;
  };

  beforeAll(async () => {
    await client.connect();
  });
  afterAll(async () => {
    for (const r of registries) await r.stop().catch(() => undefined);
    await deleteKeys(`${prefix}*`);
    await client.close();
  });

  it('lists the other gateways alive, believed once a gateway has been registered trustMs', async () => {
    const a = await gateway('a');
    const b = await gateway('b');
    // Just started: a registry that lost entries just before would name too few.
    expect(await b.roll()).toEqual({ others: ['a'], trusted: false });
    clock.advance(timing.trustMs);
    expect(await b.roll()).toEqual({ others: ['a'], trusted: true });
    expect(await a.roll()).toEqual({ others: ['b'], trusted: true });
  });

  it("a gateway that stopped gracefully leaves; a dead gateway's entry lapses after ttlMs", async () => {
    const [a, b] = registries;
    const c = await gateway('c');
    await gateway('dead');
    await c.stop();
    expect((await a!.roll()).others).toEqual(['b', 'dead']);
    // 'dead' never writes its entry again; 'a' and 'b' do, as their timers would.
    clock.advance(timing.ttlMs - 1);
    await a!.refresh();
    await b!.refresh();
    expect((await a!.roll()).others).toEqual(['b', 'dead']);
    clock.advance(1);
    expect(await a!.roll()).toEqual({ others: ['b'], trusted: true });
  });

  it('a registry Redis lost is not believed until trustMs after a gateway found its own entry gone', async () => {
    const [a, b] = registries;
    clock.advance(timing.trustMs);
    expect((await a!.roll()).trusted).toBe(true);
    await client.unlink(gatewayRegistryKey(prefix));
    // 'a' finds itself missing: it writes its entry back, and does not believe the roll yet.
    expect(await a!.roll()).toEqual({ others: [], trusted: false });
    // 'b' writes its entry back on its next refresh (the registry had lost it: b distrusts it too).
    await b!.refresh();
    expect(await b!.roll()).toEqual({ others: ['a'], trusted: false });
    clock.advance(timing.trustMs);
    expect(await a!.roll()).toEqual({ others: ['b'], trusted: true });
    expect(await b!.roll()).toEqual({ others: ['a'], trusted: true });
  });
});
