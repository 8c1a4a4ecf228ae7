// Reads every key under a pattern, whatever its type, and reports the keys whose name or content
// holds a needle: how the erasure tests prove a number is gone from Redis (queues, leases, lead
// records, suppression sets, the Socket.IO adapter's stream), rather than checking the keys they
// expect to hold it.
import { createClient } from 'redis';
import { REDIS_URL } from './stores.js';

/** The keys matching `pattern` whose name or any stored value contains one of `needles`. */
export async function redisKeysHolding(
  needles: readonly string[],
  pattern = '*',
  database = 0,
): Promise<string[]> {
  const client = createClient({ url: REDIS_URL, database });
  await client.connect();
  const found: string[] = [];
  try {
    for await (const batch of client.scanIterator({ MATCH: pattern, COUNT: 20_000 })) {
      for (const key of batch) {
        const text = `${key}\n${await contentOf(client, key)}`;
        if (needles.some((n) => text.includes(n))) found.push(key);
      }
    }
  } finally {
    await client.close();
  }
  return found.sort();
}

type Client = ReturnType<typeof createClient>;

async function contentOf(client: Client, key: string): Promise<string> {
  const type = await client.type(key);
  switch (type) {
    case 'string':
      return (await client.get(key)) ?? '';
    case 'hash':
      return JSON.stringify(await client.hGetAll(key));
    case 'set':
      return JSON.stringify(await client.sMembers(key));
    case 'zset':
      return JSON.stringify(await client.zRange(key, 0, -1));
    case 'list':
      return JSON.stringify(await client.lRange(key, 0, -1));
    case 'stream':
      // Entries may be binary (msgpack); decoding keeps ASCII digits as they are.
      return JSON.stringify(await client.sendCommand(['XRANGE', key, '-', '+']));
    default:
      return '';
  }
}
