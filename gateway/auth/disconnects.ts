// Ending live connections of a revoked device, a deleted agent, a logged-out session or a revoked
// wallboard link on every gateway. Published on a Redis channel (every gateway subscribes; the
// publisher hears its own message too), or straight to the local listeners when there is no Redis
// (one process). The agent hub disconnects the matching devices (session:replaced, reason
// logged_out), the supervisor side the matching wallboards (session:ended); a reconnect with the
// same token is refused, since the session, the device or the link it names is gone.
import type { Logger } from '../logger.js';

export interface DisconnectTarget {
  readonly tenantId: string;
  readonly agentId?: string;
  readonly deviceId?: string;
  /** A person's login session (their supervisor sockets end with it). */
  readonly sessionId?: string;
  /** A wallboard TV link (gateway/supervisor/tv-links.ts). */
  readonly linkId?: string;
  readonly reason: string;
}

export type DisconnectListener = (target: DisconnectTarget) => void;

/** The part of a node-redis client this needs. */
export interface PubSubClient {
  duplicate(): PubSubClient;
  connect(): Promise<unknown>;
  publish(channel: string, message: string): Promise<unknown>;
  subscribe(channel: string, listener: (message: string) => void): Promise<unknown>;
  close(): Promise<unknown>;
  on(event: 'error', listener: (err: unknown) => void): unknown;
}

export interface Disconnects {
  /** Disconnect matching sockets on every gateway. */
  publish(target: DisconnectTarget): Promise<void>;
  /** Called on every gateway for every published target (the agent hub, the supervisor side). */
  listen(listener: DisconnectListener): void;
  /** Resolves once this gateway hears published targets. */
  readonly ready: Promise<void>;
  close(): Promise<void>;
}

export function createDisconnects(options: {
  readonly redis?: { readonly client: unknown; readonly keyPrefix: string };
  readonly logger: Logger;
}): Disconnects {
  const listeners: DisconnectListener[] = [];
  const deliver = (target: DisconnectTarget) => {
    for (const l of listeners) {
      try {
        l(target);
      } catch (err) {
        options.logger.error({ err }, 'disconnects.listener_failed');
      }
    }
  };
  if (!options.redis) {
    return {
      publish: (target) => {
        deliver(target);
        return Promise.resolve();
      },
      listen: (l) => void listeners.push(l),
      ready: Promise.resolve(),
      close: () => Promise.resolve(),
    };
  }
  const channel = `${options.redis.keyPrefix}identity:disconnect`;
  const client = options.redis.client as PubSubClient;
  const subscriber = client.duplicate();
  subscriber.on('error', () => undefined); // reconnects on its own
  const ready = (async () => {
    await subscriber.connect();
    await subscriber.subscribe(channel, (message) => {
      try {
        deliver(JSON.parse(message) as DisconnectTarget);
      } catch (err) {
        options.logger.error({ err }, 'disconnects.bad_message');
      }
    });
  })();
  ready.catch((err: unknown) => options.logger.error({ err }, 'disconnects.subscribe_failed'));
  return {
    async publish(target) {
      await client.publish(channel, JSON.stringify(target));
    },
    listen: (l) => void listeners.push(l),
    ready,
    async close() {
      await ready.catch(() => undefined);
      await subscriber.close().catch(() => undefined);
    },
  };
}
