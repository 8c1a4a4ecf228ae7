// A socket that drops while Redis is gone must not end the gateway. With connection-state
// recovery on, Socket.IO asks the streams adapter to save the dropped socket's session, and the
// adapter starts a SET without handling its promise: with Redis unreachable (a failover, a
// restart) that was an unhandled rejection, and the gateway's handler ends the process (the fault
// suite's redis-failover lost a gateway that way). guardAdapterClient answers such a SET null.
// The adapter's messages that go by pub/sub (heartbeats, server-side emits, a gateway asking the
// others for their calls) are published the same way, their promises dropped: one in flight when
// Redis went away ended a gateway in the fault suite's redis-rollback. Against a real
// redis-server, killed before the drop or the emit.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAdapter } from '@socket.io/redis-streams-adapter';
import { createClient } from 'redis';
import { Server } from 'socket.io';
import { io as connect } from 'socket.io-client';
import { afterEach, describe, expect, it } from 'vitest';
import { guardAdapterClient, recoveryOptions, withRecovery } from '../../gateway/connection-recovery.js';
import { AGENT_NAMESPACE } from '../../gateway/protocol/events.js';
import { startRedisServer } from '../support/redis-servers.js';
import type { RedisServers } from '../support/redis-servers.js';

describe('the streams adapter’s writes while Redis is gone', () => {
  let redis: RedisServers | undefined;
  let server: Server | undefined;
  afterEach(async () => {
    await server?.close();
    await redis?.stop();
  });

  /**
   * A Socket.IO server on the streams adapter over a guarded client of a real redis-server, which
   * `fault` kills before it makes the adapter write: the failures are reported, and nothing is an
   * unhandled rejection.
   */
  async function whileRedisIsGone(
    recovery: boolean,
    fault: (server: Server, kill: () => void) => Promise<void>,
  ): Promise<void> {
    redis = await startRedisServer();
    // As a cluster client whose node died: every command fails at once while it reconnects.
    const client = createClient({
      url: redis.servers[0]!.url,
      disableOfflineQueue: true,
      socket: { reconnectStrategy: () => 200 },
    });
    client.on('error', () => undefined);
    await client.connect();
    const failures: unknown[] = [];
    guardAdapterClient(client, (err) => failures.push(err));
    const http = createServer();
    server = new Server(http, {
      adapter: withRecovery(createAdapter(client) as never) as never,
      ...(recovery ? { connectionStateRecovery: recoveryOptions(30_000) } : {}),
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));

    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const servers = redis.servers;
      await fault(server, () => servers[0]!.kill());
      for (let i = 0; i < 40 && failures.length === 0; i++) await new Promise((r) => setTimeout(r, 50));
      await new Promise((r) => setTimeout(r, 100));
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
    expect(failures.length).toBeGreaterThan(0);
    expect(unhandled).toEqual([]);
  }

  it('a dropped socket’s session: reported, not an unhandled rejection', async () => {
    await whileRedisIsGone(true, async (server, kill) => {
      const connected = new Promise<void>((resolve) =>
        server.of(AGENT_NAMESPACE).on('connection', () => resolve()),
      );
      const { port } = server.httpServer.address() as AddressInfo;
      const device = connect(`http://127.0.0.1:${port}${AGENT_NAMESPACE}`, {
        transports: ['websocket'],
        reconnection: false,
      });
      await connected;
      kill();
      await new Promise((r) => setTimeout(r, 200));
      const dropped = new Promise<void>((resolve) =>
        server.of(AGENT_NAMESPACE).sockets.forEach((s) => s.on('disconnect', () => resolve())),
      );
      // A dropped connection (not a goodbye): Socket.IO saves the session for a recovery; the
      // session write is started on the drop.
      device.io.engine.close();
      await dropped;
    });
  });

  it('a message to the other gateways: reported, not an unhandled rejection', async () => {
    await whileRedisIsGone(false, async (server, kill) => {
      kill();
      await new Promise((r) => setTimeout(r, 200));
      // An ephemeral message: the adapter publishes it and drops the promise.
      server.of(AGENT_NAMESPACE).serverSideEmit('calls:held:probe');
    });
  });
});
