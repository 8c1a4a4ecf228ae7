import { describe, expect, it } from 'vitest';
import { ServerClock } from '../../engine/clock.js';
import { createRedisQueueStore } from '../../engine/redis/redis-queue-store.js';
import { REDIS_URL } from '../support/stores.js';

describe('ServerClock', () => {
  it('follows the server even when the local clock is off by minutes', async () => {
    let local = 1_000_000;
    const server = () => local + 5 * 60_000; // server five minutes ahead
    const clock = new ServerClock(
      () => {
        const ms = server();
        local += 2; // each round trip takes 2 ms
        return Promise.resolve([Math.floor(ms / 1000), (ms % 1000) * 1000] as const);
      },
      () => local,
    );
    await clock.sync(3);
    expect(Math.abs(clock.offsetMs - 5 * 60_000)).toBeLessThanOrEqual(2);
    local += 10_000;
    expect(Math.abs(clock.now() - server())).toBeLessThanOrEqual(2);
  });

  it('agrees with Redis TIME to within a few milliseconds', async () => {
    const store = await createRedisQueueStore({ url: REDIS_URL, keyPrefix: 'test:clock:' });
    try {
      const clock = new ServerClock(() => store.serverTime());
      await clock.sync();
      const [sec, usec] = await store.serverTime();
      expect(Math.abs(clock.now() - (sec * 1000 + usec / 1000))).toBeLessThan(50);
    } finally {
      await store.close();
    }
  });
});
