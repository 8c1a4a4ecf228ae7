// Redis must never evict a queue key: a lead, a lease or a ready flag that silently disappears
// under memory pressure is a lost or doubled call. Which `maxmemory-policy` values are safe:
//   - noeviction: writes fail when memory is full (callers get retryable errors), nothing is lost;
//   - volatile-lru, volatile-lfu, volatile-random, volatile-ttl: evict only keys with a TTL, and
//     the engine never sets one (a unit test checks no script expires a key; a contract run leaves
//     no key with a TTL). What may go are the Socket.IO adapter's recovery sessions and rate-limit
//     counters, which are rebuilt or only loosened.
// Refused: allkeys-lru, allkeys-lfu, allkeys-random (they evict any key, queue keys included).

export const SAFE_EVICTION_POLICIES = [
  'noeviction',
  'volatile-lru',
  'volatile-lfu',
  'volatile-random',
  'volatile-ttl',
] as const;

export class EvictionPolicyError extends Error {
  override readonly name = 'EvictionPolicyError';
  constructor(
    readonly node: string,
    readonly policy: string,
  ) {
    super(
      `Redis at ${node} has maxmemory-policy ${policy}, which can evict queue keys; ` +
        `set maxmemory-policy to noeviction (or a volatile-* policy) before starting dialhub`,
    );
  }
}

/** The maxmemory-policy in an INFO memory reply ('' when absent). */
export function policyFromInfo(info: string): string {
  return /^maxmemory_policy:(\S+)/m.exec(info)?.[1] ?? '';
}

/** Throw EvictionPolicyError unless the node's policy (from its INFO memory reply) is safe. */
export function checkEvictionPolicy(node: string, info: string): void {
  const policy = policyFromInfo(info);
  if (!(SAFE_EVICTION_POLICIES as readonly string[]).includes(policy)) {
    throw new EvictionPolicyError(node, policy || '(unknown: INFO memory has no maxmemory_policy)');
  }
}
