// An idle-device worker: a process holding a share of the idle devices, one WebSocket
// (socket.io-client, websocket transport) each, connected and then doing nothing but answer the
// server's heartbeats, as a phone on a quiet floor does. Kept out of the server's process so the
// server's memory and CPU are its own.
import { performance } from 'node:perf_hooks';
import { io } from 'socket.io-client';
import type { Socket } from 'socket.io-client';
import { serve } from '../loop/ipc.js';
import type { IdleConnectRequest, IdleWorkerApi } from './api.js';

const KEPT_FAILURES = 5;
/** A handshake that takes longer than this counts as failed (the server is saturated). */
const HANDSHAKE_TIMEOUT_MS = 20_000;

const sockets: Socket[] = [];
const failures: string[] = [];
let failed = 0;
let dropped = 0;
let pings = 0;

function fail(reason: string): void {
  failed++;
  if (failures.length < KEPT_FAILURES) failures.push(reason);
}

function open(url: string, auth: Record<string, string>): Promise<Socket | undefined> {
  const socket = io(url, {
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
    timeout: HANDSHAKE_TIMEOUT_MS,
    auth,
  });
  return new Promise((resolve) => {
    socket.once('connect', () => {
      socket.on('disconnect', (reason) => {
        if (reason !== 'io client disconnect') dropped++;
      });
      socket.io.engine.on('ping', () => pings++);
      resolve(socket);
    });
    socket.once('connect_error', (err) => {
      socket.close();
      fail(err.message);
      resolve(undefined);
    });
  });
}

async function connect(req: IdleConnectRequest) {
  const started = performance.now();
  let connected = 0;
  for (let i = 0; i < req.auths.length; i += req.concurrency) {
    const batch = await Promise.all(
      req.auths.slice(i, i + req.concurrency).map((a) => open(req.url, { ...a })),
    );
    for (const s of batch) {
      if (!s) continue;
      sockets.push(s);
      connected++;
    }
  }
  return { connected, ms: performance.now() - started };
}

function closeAll(): Promise<void> {
  for (const s of sockets.splice(0)) s.close();
  return Promise.resolve();
}

serve<IdleWorkerApi>({
  connect,
  status() {
    const cpu = process.cpuUsage();
    return Promise.resolve({
      open: sockets.filter((s) => s.connected).length,
      dropped,
      failed,
      failures: [...failures],
      pings,
      cpuUs: cpu.user + cpu.system,
    });
  },
  closeAll,
  shutdown: closeAll,
});
