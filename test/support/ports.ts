// Ports for the servers tests and benches start (gateways, redis-server, HAProxy), picked below
// Linux's ephemeral range (32768-60999). A port the OS hands out for `listen(0)` comes from that
// range, and once it is closed again any outgoing connection on the machine (a Redis or Postgres
// client of another test file) may take it as its local port before the server binds it: the
// server then fails with EADDRINUSE. Outgoing connections never take a port below the range, so
// the only race left is two test files drawing the same random port at once.
import { createServer } from 'node:net';

const LOW = 10_000;
const HIGH = 32_700;
/** Redis Cluster's bus port is the node's port + 10000, which must stay below the range too. */
export const CLUSTER_BUS_OFFSET = 10_000;

// Ports this process handed out: never twice, even once their server is gone (a restarted
// process is started on its old port, which the caller still holds).
const handedOut = new Set<number>();

/** Whether `port` can be bound on 127.0.0.1 right now (nothing listening, nothing connected from it). */
export function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** A random `port` below `high` with `port + offset` free for each of `offsets`, all reserved. */
async function pick(high: number, offsets: readonly number[]): Promise<number> {
  for (let tries = 0; tries < 1_000; tries++) {
    const port = LOW + Math.floor(Math.random() * (high - LOW));
    const all = offsets.map((o) => port + o);
    if (all.some((p) => handedOut.has(p))) continue;
    // Reserved before the check, so concurrent callers never draw them too.
    for (const p of all) handedOut.add(p);
    if ((await Promise.all(all.map(canBind))).every(Boolean)) return port;
    for (const p of all) handedOut.delete(p);
  }
  throw new Error(`no free port between ${LOW} and ${high} after 1,000 tries`);
}

/** A port free right now, outside the ephemeral range. */
export function freePort(): Promise<number> {
  return pick(HIGH, [0]);
}

/** `n` ports for Redis Cluster nodes: each free, and its bus port (+10000) free too. */
export async function freeClusterPorts(n: number): Promise<number[]> {
  const ports: number[] = [];
  while (ports.length < n) ports.push(await pick(HIGH - CLUSTER_BUS_OFFSET, [0, CLUSTER_BUS_OFFSET]));
  return ports;
}
