// Which gateways are alive, kept in Redis, for requests that must reach every gateway (a campaign
// rebuild asking for the calls in progress: gateway/ask-gateways.ts askEveryGateway). The Socket.IO
// adapter cannot answer that question: it waits for as many answers as it counts gateways, and it
// counts too few at the worst moments. The streams adapter counts the subscribers of its channel
// (PUBSUB NUMSUB), leaving out a gateway whose subscriber is reconnecting after a Redis restart or
// failover; an adapter counting heartbeats leaves out one it has not heard yet, or whose heartbeat
// a loaded machine delayed past its timeout. Counting itself alone, a gateway asks no one and
// hears that every gateway answered.
//
// One sorted set for the deployment (engine/keys.ts gatewayRegistryKey): member a gateway's id,
// score when its registration expires (Redis's clock). Each gateway writes its own entry again
// every REGISTRY_REFRESH_MS for REGISTRY_TTL_MS (several refreshes: a late refresh on a loaded
// machine does not make a live gateway look dead); a gateway that stops gracefully removes its
// entry; a dead gateway's entry expires (its devices resume their calls elsewhere with the lease
// id). Every command names the one key, so it works on a Redis Cluster unchanged.
//
// The registry lives in the Redis that can lose keys (a flush, a failover to a lagging replica).
// A registry that lost entries would name too few gateways, so it is not believed until every live
// gateway has had time to write its entry back: for REGISTRY_TRUST_MS after this gateway finds its
// own entry missing (written afresh by its refresh, or absent when read), and after it starts.
// Expiries are on the shared clock (Redis's, so gateways agree); that wait is this process's own
// duration, on its monotonic clock.
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Clock } from '../engine/clock.js';
import { gatewayRegistryKey } from '../engine/keys.js';
import type { QueueStore } from '../engine/queue-store.js';
import { RedisQueueStore } from '../engine/redis/redis-queue-store.js';
import type { Logger } from './logger.js';

/** How often (ms) a gateway writes its registration again. */
export const REGISTRY_REFRESH_MS = 1_000;
/** How long (ms) a registration lives without being written again: a dead gateway is waited for this long. */
export const REGISTRY_TTL_MS = 5_000;
/** How long (ms) after this gateway's own entry was missing the registry is not believed. */
export const REGISTRY_TRUST_MS = 2 * REGISTRY_REFRESH_MS;

/** The gateways registered alive, as seen now. */
export interface Roll {
  /** The other gateways registered alive (this one left out). */
  readonly others: readonly string[];
  /**
   * False while the registry may have lost entries (this gateway's own was missing lately, or it
   * has only just started): a gateway missing from `others` may still be alive.
   */
  readonly trusted: boolean;
}

export interface GatewayRegistry {
  /** This gateway's id (random per process), the one its answers carry. */
  readonly id: string;
  /** Register, and keep the registration fresh (refresh every refreshMs) until stop. */
  start(): Promise<void>;
  /** Write this gateway's entry again now (the timer's work). */
  refresh(): Promise<void>;
  /** The gateways registered alive now. Rejects when Redis cannot be read. */
  roll(): Promise<Roll>;
  /** Stop refreshing and remove this gateway's entry (a graceful stop: no one waits for it). */
  stop(): Promise<void>;
}

/** The commands the registry uses: the store's client, single node or cluster (each names one key). */
interface RegistryClient {
  zAdd(key: string, member: { score: number; value: string }): Promise<number>;
  zRangeByScore(key: string, min: number | string, max: number | string): Promise<unknown[]>;
  zRemRangeByScore(key: string, min: number | string, max: number | string): Promise<number>;
  zRem(key: string, member: string): Promise<number>;
}

export interface RegistryTiming {
  readonly refreshMs: number;
  readonly ttlMs: number;
  readonly trustMs: number;
}

const DEFAULT_TIMING: RegistryTiming = {
  refreshMs: REGISTRY_REFRESH_MS,
  ttlMs: REGISTRY_TTL_MS,
  trustMs: REGISTRY_TRUST_MS,
};

export function redisGatewayRegistry(deps: {
  client: RegistryClient;
  prefix: string;
  clock: Clock;
  logger: Logger;
  timing?: Partial<RegistryTiming>;
  id?: string;
  /** This process's monotonic time (ms), for the wait before the registry is believed. */
  monotonic?: () => number;
}): GatewayRegistry {
  const { client, clock, logger } = deps;
  const monotonic = deps.monotonic ?? (() => performance.now());
  const timing = { ...DEFAULT_TIMING, ...deps.timing };
  const key = gatewayRegistryKey(deps.prefix);
  const id = deps.id ?? randomUUID();
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  /** Not believed before this time (monotonic ms). */
  let trustedFrom = Number.POSITIVE_INFINITY;

  /** Write this gateway's entry; an entry that was not there means the registry lost it. */
  async function write(): Promise<void> {
    const now = clock.now();
    const added = await client.zAdd(key, { score: now + timing.ttlMs, value: id });
    if (added > 0) {
      if (Number.isFinite(trustedFrom)) logger.warn({ gatewayId: id }, 'gateway.registry_entry_lost');
      const from = monotonic() + timing.trustMs;
      trustedFrom = Number.isFinite(trustedFrom) ? Math.max(trustedFrom, from) : from;
    }
    // Entries of gateways that died: nobody waits for them any more.
    await client.zRemRangeByScore(key, '-inf', now);
  }

  function refreshSoon(): void {
    write().catch((err: unknown) => logger.warn({ err, gatewayId: id }, 'gateway.registry_refresh_failed'));
  }

  return {
    id,
    async start() {
      stopped = false;
      await write();
      if (timer === undefined) {
        timer = setInterval(refreshSoon, timing.refreshMs);
        timer.unref();
      }
      logger.info({ gatewayId: id }, 'gateway.registered');
    },
    refresh: write,
    async roll() {
      const now = clock.now();
      const alive = (await client.zRangeByScore(key, `(${now}`, '+inf')).map(String);
      if (!stopped && !alive.includes(id)) {
        // Lost since this gateway last wrote it (or expired while this process stalled): the
        // others' entries may be gone too. Written back now; believed once they had time too.
        await write();
      }
      return { others: alive.filter((g) => g !== id).sort(), trusted: monotonic() >= trustedFrom };
    },
    async stop() {
      stopped = true;
      clearInterval(timer);
      timer = undefined;
      await client.zRem(key, id);
      logger.info({ gatewayId: id }, 'gateway.unregistered');
    },
  };
}

/**
 * The registry of a deployment of several gateways on one Redis (the Redis store's client, beside
 * its queue); undefined for one process (the memory store), where no other gateway can hold calls.
 */
export function gatewayRegistryFor(
  store: QueueStore,
  clock: Clock,
  logger: Logger,
  timing?: Partial<RegistryTiming>,
): GatewayRegistry | undefined {
  if (!(store instanceof RedisQueueStore)) return undefined;
  return redisGatewayRegistry({
    client: store.client,
    prefix: store.keyPrefix,
    clock,
    logger,
    ...(timing ? { timing } : {}),
  });
}
