// The Socket.IO streams adapter for several in-process test gateways on one Redis: every gateway
// of a test gets its own client on one stream name of the test's own (deleted on close).
import { createAdapter } from '@socket.io/redis-streams-adapter';
import { createClient } from 'redis';
import type { GatewayDeps } from '../../gateway/gateway.js';
import { deleteKeys, REDIS_URL } from './stores.js';

export interface SharedAdapter {
  /** One more gateway's adapter on the shared stream (a client of its own). */
  adapter(): Promise<NonNullable<GatewayDeps['adapter']>>;
  /** Close every client and delete the stream and session keys. */
  close(): Promise<void>;
}

export function sharedAdapter(label: string): SharedAdapter {
  const name = `test:${label}:${process.pid}:${Date.now()}`;
  const clients: ReturnType<typeof createClient>[] = [];
  return {
    async adapter() {
      const client = createClient({ url: REDIS_URL });
      await client.connect();
      clients.push(client);
      return createAdapter(client, { streamName: name, channelPrefix: name, sessionKeyPrefix: `${name}:s:` });
    },
    async close() {
      for (const c of clients.splice(0)) if (c.isOpen) await c.close();
      await deleteKeys(`${name}*`);
    },
  };
}
