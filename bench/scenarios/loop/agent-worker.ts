// An agent worker: a process holding a share of the simulated agents, one WebSocket
// (socket.io-client, websocket transport) per agent and per system, driven by the orchestrator
// over IPC. Keeping the clients out of the server's process means the server under test is not
// slowed by the load generator's JavaScript, only by its share of the cores.
import { performance } from 'node:perf_hooks';
import { io } from 'socket.io-client';
import type { Socket } from 'socket.io-client';
import type { ConnectRequest, SystemName, WorkerApi } from './api.js';
import { DialerDevice } from './dialer-device.js';
import { DialhubDevice } from './dialhub-device.js';
import { Driver } from './driver.js';
import type { Agent } from './driver.js';
import { serve } from './ipc.js';
import { PingClient } from './ping-client.js';
import { Recorder } from './recorder.js';

interface Fleet {
  readonly sockets: readonly Socket[];
  readonly driver: Driver;
}

const rec = new Recorder();
const fleets = new Map<SystemName, Fleet>();
let active: Driver | undefined;

function open(url: string, auth: Record<string, string>): Promise<Socket> {
  const socket = io(url, { transports: ['websocket'], reconnection: false, forceNew: true, auth });
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', (err) => {
      socket.close();
      reject(err);
    });
  });
}

function agentFor(req: ConnectRequest, socket: Socket, done: (a: Agent) => void): Agent {
  const { system } = req;
  switch (system) {
    case 'dialhub':
      return new DialhubDevice(socket, req.campaignId, req.chainReady, rec, done);
    case 'socketio':
      return new PingClient(socket, rec, done);
    case 'bullmq':
      return new DialerDevice(socket, rec, done);
    default: {
      const never: never = system;
      throw new Error(`unknown system ${String(never)}`);
    }
  }
}

async function connect(req: ConnectRequest): Promise<{ connected: number; ms: number }> {
  if (fleets.has(req.system)) throw new Error(`${req.system} agents already connected`);
  const started = performance.now();
  const sockets: Socket[] = [];
  try {
    for (let i = 0; i < req.agents.length; i += req.concurrency) {
      const batch = req.agents.slice(i, i + req.concurrency);
      const opened = await Promise.allSettled(
        batch.map((a) =>
          open(
            req.url,
            req.system === 'dialhub' ? { token: a.token, deviceId: a.deviceId } : { agentId: a.agentId },
          ),
        ),
      );
      for (const o of opened) if (o.status === 'fulfilled') sockets.push(o.value);
      const failed = opened.find((o) => o.status === 'rejected');
      if (failed) throw failed.reason;
    }
  } catch (err) {
    for (const s of sockets) s.close();
    throw err;
  }
  for (const s of sockets) {
    // After connecting, a dropped socket is a failure of the run, not something to hide.
    s.on('disconnect', (reason) => {
      if (reason !== 'io client disconnect') rec.error(`${req.system} disconnect: ${reason}`);
    });
    // Every event and acknowledgement is one engine.io 'message' packet (one WebSocket frame);
    // pings are not counted.
    s.io.engine.on('packet', (p) => {
      if (p.type === 'message') rec.messagesIn++;
    });
    s.io.engine.on('packetCreate', (p) => {
      if (p.type === 'message') rec.messagesOut++;
    });
  }
  const agents: Agent[] = [];
  const driver = new Driver(agents);
  for (const s of sockets) agents.push(agentFor(req, s, (a) => driver.done(a)));
  fleets.set(req.system, { sockets, driver });
  return { connected: sockets.length, ms: performance.now() - started };
}

serve<WorkerApi>({
  connect,
  start({ system, mode }) {
    const fleet = fleets.get(system);
    if (!fleet) throw new Error(`${system} agents are not connected`);
    if (active?.running) throw new Error('another system is running');
    active = fleet.driver;
    fleet.driver.start(mode);
    return Promise.resolve();
  },
  mark: () => Promise.resolve(rec.mark()),
  async stop({ timeoutMs }) {
    const stuck = (await active?.stop(timeoutMs)) ?? 0;
    active = undefined;
    return { stuck };
  },
  async shutdown() {
    await active?.stop(0);
    for (const fleet of fleets.values()) for (const s of fleet.sockets) s.close();
    fleets.clear();
  },
});
