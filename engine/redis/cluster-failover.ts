// Redis Cluster clients that follow a failover. node-redis (5.x) reads the cluster's slot map
// again only when a node answers MOVED or ASK; a master that dies answers nothing, so without
// this every command for its slots fails ("The client is offline") for ever, even once its
// replica has taken the slots over. Here a node's connection error makes the client read the
// slot map again from a live node (node-redis runs one refresh at a time); the errors repeat
// with each reconnect attempt of the dead node's client, so the map is read again until the
// replica owns the slots, and the dead node, out of the map, is dropped with its client.
// Every cluster client of dialhub is made here or in the queue store's newCluster, which both
// apply it, so tests, the bench and the gateway all follow failovers alike.
// (Tested by test/cluster/store-failover.test.ts, test/cluster/redis-failover.test.ts and the
// fault suite's redis-failover.)
import { createCluster } from '@redis/client';

/** The part of node-redis's cluster client this uses (`_slots` is its slot map). */
interface FollowableCluster {
  on(event: 'node-error', listener: (err: unknown) => void): unknown;
  readonly _slots: { rediscover(startWith: { options: unknown }): Promise<void> };
  duplicate?: (...args: unknown[]) => object;
}

/**
 * A plain cluster client (no scripts) on `rootNodes` that follows failovers, e.g. for the
 * Socket.IO adapter; not connected yet. The queue store makes its own (with its scripts).
 */
export function createClusterClient(rootNodes: readonly string[]) {
  const cluster = createCluster({ rootNodes: rootNodes.map((url) => ({ url })) });
  followFailovers(cluster, rootNodes);
  return cluster;
}

/** Never more often than this (ms): a dead node's reconnect attempts can be fast. */
const REFRESH_EVERY_MS = 200;

/** `cluster`: a node-redis cluster client (typed loosely: node-redis's types differ by modules). */
export function followFailovers(
  cluster: object,
  rootNodes: readonly string[],
  onError: (err: unknown) => void = () => undefined,
): void {
  const c = cluster as unknown as FollowableCluster;
  let last = 0;
  c.on('node-error', () => {
    const now = Date.now();
    if (now - last < REFRESH_EVERY_MS) return;
    last = now;
    // Start from any root node: a dead one is skipped (node-redis then tries every root node).
    const url = rootNodes[Math.floor(Math.random() * rootNodes.length)];
    c._slots.rediscover({ options: { url } }).catch(onError);
  });
  // The Socket.IO streams adapter reads its stream through a duplicate of the client it is given
  // (a cluster client of its own, with its own slot map): its duplicates follow failovers too.
  if (typeof c.duplicate === 'function') {
    const duplicate = c.duplicate.bind(c);
    c.duplicate = (...args: unknown[]) => {
      const copy = duplicate(...args);
      followFailovers(copy, rootNodes, onError);
      return copy;
    };
  }
}
