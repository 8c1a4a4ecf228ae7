// Builds the two QueueStore adapters for tests. Each call gets its own Redis key prefix, so test
// files (and tests within them) never see each other's keys and can run in parallel.
import { randomUUID } from 'node:crypto';
import { createClient } from 'redis';
import { MemoryQueueStore } from '../../engine/memory/memory-queue-store.js';
import { createRedisQueueStore } from '../../engine/redis/redis-queue-store.js';
import type { QueueStore } from '../../engine/queue-store.js';
import { createLeaseIds, randomEpoch } from '../../engine/lease.js';

/** One lease id key for every store in the tests, so both stores issue the very same ids. */
export const TEST_LEASE_IDS = createLeaseIds('test-lease-id-secret-test-lease-id-secret');

export const REDIS_URL = 'redis://127.0.0.1:6379';

/** 'cluster': the Redis store on the Redis Cluster given to useRedisCluster (redis-servers.ts). */
export type StoreKind = 'memory' | 'redis' | 'cluster';

let clusterNodes: readonly string[] | null = null;
/** The Redis Cluster makeStore('cluster') connects to (null: none any more). */
export function useRedisCluster(nodes: readonly string[] | null): void {
  clusterNodes = nodes;
}

export interface TestStore {
  readonly store: QueueStore;
  readonly prefix: string;
  /** Close the store and delete every key under its prefix. */
  dispose(): Promise<void>;
}

let epochs = 0;
/** Deterministic epochs, so both stores issue the same lease ids in a test. */
export const fixedEpoch = () => 'e1';
export const countingEpoch = () => `e${++epochs}`;

export async function makeStore(
  kind: StoreKind,
  options: {
    tombstoneRetentionMs?: number;
    promoteInline?: number;
    newEpoch?: () => string;
    /** A Redis logical database of the file's own (0 when not given). */
    database?: number;
  } = {},
): Promise<TestStore> {
  // A test passes newEpoch: undefined to get random epochs, as in production.
  const newEpoch = 'newEpoch' in options ? (options.newEpoch ?? randomEpoch) : fixedEpoch;
  const leaseIds = TEST_LEASE_IDS;
  if (kind === 'memory') {
    const store = new MemoryQueueStore({ ...options, newEpoch, leaseIds });
    return { store, prefix: '', dispose: () => store.close() };
  }
  const prefix = `test:${randomUUID().slice(0, 8)}:`;
  if (kind === 'cluster') {
    if (!clusterNodes) throw new Error('makeStore("cluster") needs useRedisCluster(nodes) first');
    const store = await createRedisQueueStore({
      clusterNodes,
      keyPrefix: prefix,
      ...options,
      newEpoch,
      leaseIds,
    });
    // The cluster is the test's own and is killed with every key in it.
    return { store, prefix, dispose: () => store.close() };
  }
  const store = await createRedisQueueStore({
    url: REDIS_URL,
    keyPrefix: prefix,
    ...options,
    newEpoch,
    leaseIds,
  });
  return {
    store,
    prefix,
    async dispose() {
      await store.close();
      await deleteKeys(`${prefix}*`, options.database);
    },
  };
}

/** Delete every key matching, in one UNLINK (as a flush would: nothing rebuilt in between is hit). */
export async function deleteKeysAtOnce(pattern: string, database = 0): Promise<number> {
  const client = createClient({ url: REDIS_URL, database });
  await client.connect();
  try {
    const keys: string[] = [];
    for await (const batch of client.scanIterator({ MATCH: pattern, COUNT: 1000 })) keys.push(...batch);
    return keys.length > 0 ? await client.unlink(keys) : 0;
  } finally {
    await client.close();
  }
}

export async function deleteKeys(pattern: string, database = 0): Promise<void> {
  const client = createClient({ url: REDIS_URL, database });
  await client.connect();
  try {
    for await (const keys of client.scanIterator({ MATCH: pattern, COUNT: 1000 })) {
      if (keys.length > 0) await client.unlink(keys);
    }
  } finally {
    await client.close();
  }
}
