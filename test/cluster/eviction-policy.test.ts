// dialhub refuses to start against a Redis that may evict queue keys under memory pressure
// (maxmemory-policy allkeys-*), naming the setting; noeviction and volatile-* are accepted, since
// no engine key ever carries a TTL. Against a real redis-server started on a random port.
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EvictionPolicyError, policyFromInfo } from '../../engine/redis/eviction-policy.js';
import { createRedisQueueStore } from '../../engine/redis/redis-queue-store.js';
import { startRedisServer } from '../support/redis-servers.js';
import type { RedisServers } from '../support/redis-servers.js';
import { TEST_LEASE_IDS } from '../support/stores.js';

describe('maxmemory-policy', () => {
  let redis: RedisServers;
  let url = '';
  const setPolicy = async (policy: string) => {
    const c = createClient({ url });
    await c.connect();
    await c.configSet('maxmemory-policy', policy);
    await c.close();
  };

  beforeAll(async () => {
    redis = await startRedisServer(['--maxmemory', '64mb', '--maxmemory-policy', 'allkeys-lru']);
    url = redis.servers[0]!.url;
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it('refuses allkeys-lru, allkeys-lfu and allkeys-random, naming the setting', async () => {
    for (const policy of ['allkeys-lru', 'allkeys-lfu', 'allkeys-random']) {
      await setPolicy(policy);
      const err = await createRedisQueueStore({ url, leaseIds: TEST_LEASE_IDS }).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(EvictionPolicyError);
      expect((err as Error).message).toContain(`maxmemory-policy ${policy}`);
      expect((err as Error).message).toContain(`127.0.0.1:${redis.servers[0]!.port}`);
    }
  });

  it('accepts noeviction and the volatile-* policies (no engine key has a TTL)', async () => {
    for (const policy of ['noeviction', 'volatile-lru', 'volatile-lfu', 'volatile-random', 'volatile-ttl']) {
      await setPolicy(policy);
      const store = await createRedisQueueStore({ url, leaseIds: TEST_LEASE_IDS });
      await store.close();
    }
  });

  it('no engine script ever sets a TTL, so volatile-* cannot evict a queue key', async () => {
    const dir = join(import.meta.dirname, '../../engine/redis/lua');
    const files = [
      ...(await readdir(dir)).map((f) => join(dir, f)),
      ...(await readdir(join(dir, 'includes'))).map((f) => join(dir, 'includes', f)),
    ].filter((f) => f.endsWith('.lua'));
    expect(files.length).toBeGreaterThan(10);
    for (const f of files) {
      const source = await readFile(f, 'utf8');
      expect(source, f).not.toMatch(/redis\.p?call\(\s*'(P?EXPIRE(AT)?|SETEX|PSETEX|GETEX)'/i);
      expect(source, f).not.toMatch(/redis\.p?call\(\s*'SET'[^\n]*'P?X'/i);
    }
    expect(policyFromInfo('# Memory\r\nmaxmemory_policy:noeviction\r\n')).toBe('noeviction');
  });

  it('the gateway process exits at start with the setting named', async () => {
    await setPolicy('allkeys-lru');
    const dataDir = await mkdtemp(join(tmpdir(), 'dialhub-evict-'));
    try {
      const child = spawn(process.execPath, ['--import', 'tsx', 'gateway/main.ts'], {
        env: {
          // eslint-disable-next-line no-restricted-syntax -- not configuration: handed on to the child
          PATH: process.env.PATH,
          REDIS_URL: url,
          DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/test',
          DATA_DIR: dataDir,
          SEED_DEMO: 'false',
          PORT: '0',
          HOST: '127.0.0.1',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (out += d.toString()));
      const code = await new Promise<number | null>((resolve) => {
        const timer = setTimeout(() => {
          if (child.pid) process.kill(-child.pid, 'SIGKILL');
        }, 30_000);
        child.once('exit', (c) => {
          clearTimeout(timer);
          resolve(c);
        });
      });
      expect(code).toBe(1);
      expect(out).toContain('maxmemory-policy allkeys-lru');
      expect(out).not.toContain('dialhub is running');
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 40_000);
});
