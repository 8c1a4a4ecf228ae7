// Read-only looks at the shared Redis plus the one write a benchmark may do outside its own
// operations: deleting the keys under its own prefix. Never FLUSHDB or CONFIG SET: other people's
// tests use the same server at the same time.
import { createClient } from 'redis';

export type AdminClient = ReturnType<typeof createClient>;

export async function connectAdmin(url: string): Promise<AdminClient> {
  const client = createClient({ url });
  client.on('error', () => undefined); // a failed command surfaces to its caller; no crash on reconnects
  await client.connect();
  return client;
}

/** One field of an INFO section, as a string ('' if absent). */
export async function infoField(client: AdminClient, section: string, field: string): Promise<string> {
  const info = await client.info(section);
  const line = info.split(/\r?\n/).find((l) => l.startsWith(`${field}:`));
  return line === undefined ? '' : line.slice(field.length + 1).trim();
}

/** INFO memory used_memory: bytes the allocator holds for the whole server (every user's keys). */
export async function usedMemory(client: AdminClient): Promise<number> {
  return Number(await infoField(client, 'memory', 'used_memory'));
}

/** Glob-escape a literal prefix for SCAN MATCH. */
function matchPrefix(prefix: string): string {
  return `${prefix.replace(/[*?[\]\\]/g, (c) => `\\${c}`)}*`;
}

/**
 * Sum of MEMORY USAGE over every key under `prefix` (exact: SAMPLES 0), with the key count.
 * Unlike a used_memory delta, it counts only our keys, so other clients' traffic cannot skew it;
 * it leaves out the server's per-key dictionary overhead, so it reads a little low.
 */
export async function memoryUsageOfPrefix(
  client: AdminClient,
  prefix: string,
): Promise<{ bytes: number; keys: number }> {
  let bytes = 0;
  let keys = 0;
  for await (const batch of client.scanIterator({ MATCH: matchPrefix(prefix), COUNT: 1000 })) {
    const sizes = await Promise.all(
      batch.map((key) => client.sendCommand(['MEMORY', 'USAGE', key, 'SAMPLES', '0'])),
    );
    for (const size of sizes) bytes += Number(size ?? 0);
    keys += batch.length;
  }
  return { bytes, keys };
}

/** Delete every key under `prefix` (SCAN + UNLINK, so a large key never blocks the server). Returns how many. */
export async function deleteKeysWithPrefix(client: AdminClient, prefix: string): Promise<number> {
  let deleted = 0;
  for await (const batch of client.scanIterator({ MATCH: matchPrefix(prefix), COUNT: 1000 })) {
    if (batch.length > 0) deleted += await client.unlink(batch);
  }
  return deleted;
}
