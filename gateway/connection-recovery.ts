// Socket.IO connection-state recovery on the Redis streams adapter, for devices: what the adapter
// may keep in Redis, what it replays, and when. Socket.IO 4 with recovery on sends every
// socket.emit through adapter.broadcast (the streams adapter appends it to the shared stream so a
// reconnecting client can be sent what it missed), persists the socket's id, rooms and data when
// a connection drops, and on a reconnect naming its private session id restores them and sends
// the missed packets at once, before the handshake's middleware has run. This wrapper keeps that
// machinery to what is safe for dialhub:
//   - an emit with an acknowledgement (call:offer) stays on this process: it carries the lead's
//     phone number and name, and the streams adapter would replay it without its acknowledgement;
//   - the device's other frames keep their order with it (one socket's emits go out one after
//     another), and a disconnect waits for the frames sent before it (session:replaced);
//   - only /agent sessions are kept, and only who the device is and which calls (no token, no
//     login session, no expiry); /supervisor frames stay on this process (a wallboard takes a
//     fresh snapshot on every connect, and the frames carry names);
//   - missed packets are sent only once the handshake passed again (token, device, Origin), and
//     only to the same tenant, agent and device; otherwise the restored rooms are left.
import type { Namespace, Socket } from 'socket.io';
import type { Adapter, BroadcastOptions, PrivateSessionId, Session } from 'socket.io-adapter';
import { AGENT_NAMESPACE } from './protocol/events.js';

/** The only fields of a device socket's data a recovery session keeps (agent-session.ts SessionData). */
export const KEPT_SESSION_FIELDS = ['tenantId', 'agentId', 'deviceId', 'leaseId', 'resumeLeaseId'] as const;

/** How long restored packets wait for the handshake (Socket.IO's own connect timeout is 45 s). */
const HOLD_MS = 45_000;

/** Socket.IO's Server option: sessions kept for the reconnect grace, the handshake checked again. */
export function recoveryOptions(graceMs: number): {
  maxDisconnectionDuration: number;
  skipMiddlewares: false;
} {
  return { maxDisconnectionDuration: graceMs, skipMiddlewares: false };
}

/** How long a failed stream read waits before the adapter reads again (ms). */
const STREAM_RETRY_MS = 100;

/**
 * Make the streams adapter's Redis client safe against a Redis that is gone (a failover, a
 * restart); `client` is the one given to createAdapter.
 * - Its persistSession (run by Socket.IO when a socket drops, with recovery on) starts a SET and
 *   drops the promise: with Redis unreachable that was an unhandled rejection, which ends the
 *   gateway (the fault suite's redis-failover lost a gateway that way). The client's `set` serves
 *   nothing else: a failed one is reported and answered null (the session is not saved: the phone
 *   reconnects fresh and resumes its call by lease id).
 * - Its messages that go by pub/sub (heartbeats, server-side emits: a rebuild or a rectification
 *   asking every gateway for its calls) are published the same way, the promise dropped: one in
 *   flight when Redis went away ended a gateway (the fault suite's redis-rollback). The client's
 *   `publish` and `sPublish` serve the adapter only: a failed one is reported and answered 0 (no
 *   gateway heard it; whoever asked times out and retries, as for any gateway that does not answer).
 * - Its stream reader (a duplicate of the client) reads again at once after a failed read: a
 *   client that fails commands at once (a cluster client whose node died) made that a loop of
 *   promises that starved the event loop. A failed read now fails after STREAM_RETRY_MS.
 */
export function guardAdapterClient<C extends object>(client: C, onError: (err: unknown) => void): C {
  const c = client as unknown as Record<string, unknown> & {
    duplicate?: (...args: unknown[]) => object;
  };
  const guard = (name: string, failed: null | number) => {
    const command = c[name];
    if (typeof command !== 'function') return;
    const call = (command as (...args: unknown[]) => Promise<unknown>).bind(client);
    c[name] = (...args: unknown[]) =>
      call(...args).catch((err: unknown) => {
        onError(err);
        return failed;
      });
  };
  guard('set', null);
  guard('publish', 0);
  guard('sPublish', 0);
  if (typeof c.duplicate === 'function') {
    const duplicate = c.duplicate.bind(client);
    c.duplicate = (...args: unknown[]) => {
      const copy = duplicate(...args) as { xRead?: (...a: unknown[]) => Promise<unknown> };
      if (typeof copy.xRead === 'function') {
        const xRead = copy.xRead.bind(copy);
        copy.xRead = (...a: unknown[]) =>
          xRead(...a).catch(
            (err: unknown) =>
              new Promise((_, reject) => setTimeout(() => reject(err as Error), STREAM_RETRY_MS)),
          );
      }
      return copy;
    };
  }
  return client;
}

type Kept = Partial<Record<(typeof KEPT_SESSION_FIELDS)[number], unknown>>;

function kept(data: unknown): Kept {
  const out: Kept = {};
  if (typeof data !== 'object' || data === null) return out;
  for (const k of KEPT_SESSION_FIELDS) {
    const v = (data as Record<string, unknown>)[k];
    if (typeof v === 'string') out[k] = v;
  }
  return out;
}

const sameDevice = (a: Kept, b: unknown): boolean => {
  const now = kept(b);
  return (
    a.tenantId !== undefined &&
    a.tenantId === now.tenantId &&
    a.agentId === now.agentId &&
    a.deviceId === now.deviceId
  );
};

/** Wrap an adapter factory (the streams adapter) for connection-state recovery as above. */
export function withRecovery(make: (nsp: unknown) => Adapter): (nsp: Namespace) => Adapter {
  // Socket.IO constructs the adapter with `new`: a function, not an arrow (it returns an object).
  return function recoverable(nsp: Namespace): Adapter {
    const adapter = make(nsp);
    const devices = nsp.name === AGENT_NAMESPACE;
    /** Per socket id: its emits not yet handed to the socket, in order. */
    const pending = new Map<string, Promise<unknown>>();
    /** Restored sessions whose handshake has not passed yet: their missed packets. */
    const held = new Map<string, { data: Kept; packets: unknown[][] }>();

    const broadcast = adapter.broadcast.bind(adapter) as (p: unknown, o: BroadcastOptions) => unknown;
    const local = (opts: BroadcastOptions): BroadcastOptions => ({
      ...opts,
      flags: { ...opts.flags, local: true },
    });
    adapter.broadcast = (packet: { id?: number }, opts: BroadcastOptions): void => {
      const rooms = opts.rooms;
      const only = rooms.size === 1 && (opts.except?.size ?? 0) === 0 ? [...rooms][0]! : undefined;
      // socket.emit: the one room named for the socket itself.
      const direct = only !== undefined && (nsp.sockets.has(only) || pending.has(only));
      // Only socket.emit broadcasts a packet with an acknowledgement (a room broadcast with one
      // goes through broadcastWithAck): it never enters the stream, wherever its socket is.
      const stays = packet.id !== undefined || (direct && !devices);
      if (!direct) {
        broadcast(packet, stays ? local(opts) : opts);
        return;
      }
      const prior = pending.get(only);
      if (!prior && stays) {
        broadcast(packet, local(opts));
        return;
      }
      const send = () => broadcast(packet, stays ? local(opts) : opts);
      const done: Promise<unknown> = prior ? prior.then(send) : Promise.resolve(send());
      const settled = done.catch(() => undefined);
      pending.set(only, settled);
      void settled.then(() => {
        if (pending.get(only) === settled) pending.delete(only);
      });
    };

    const persist = adapter.persistSession.bind(adapter);
    adapter.persistSession = (session) => {
      if (!devices) return;
      persist({ ...session, data: kept(session.data) });
    };

    const restore = adapter.restoreSession.bind(adapter);
    adapter.restoreSession = async (pid: PrivateSessionId, offset: string): Promise<Session> => {
      const session = await restore(pid, offset);
      if (!session) return session;
      held.set(session.sid, { data: kept(session.data), packets: session.missedPackets });
      setTimeout(() => held.delete(session.sid), HOLD_MS).unref();
      return { ...session, missedPackets: [] };
    };

    // 'connect' fires once the middleware passed, before the namespace's 'connection' handlers.
    nsp.on('connect', (socket: Socket) => {
      const close = socket.disconnect.bind(socket);
      socket.disconnect = (all?: boolean) => {
        const before = pending.get(socket.id);
        if (before) void before.then(() => close(all));
        else close(all);
        return socket;
      };
      const restored = held.get(socket.id);
      if (!restored) return;
      held.delete(socket.id);
      if (!sameDevice(restored.data, socket.data)) {
        for (const room of [...socket.rooms]) if (room !== socket.id) void socket.leave(room);
        return;
      }
      // As Socket.IO sends them on a recovery (socket.ts), now that the handshake passed: events.
      const raw = socket as unknown as { packet(p: { type: number; data: unknown[] }): void };
      for (const data of restored.packets) raw.packet({ type: 2, data });
    });
    return adapter;
  };
}
