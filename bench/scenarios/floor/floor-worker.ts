// A floor worker: a process holding a share of the simulated agents (socket.io-client devices),
// apart from the server, driven by the orchestrator over IPC. Works the same against a gateway
// the bench started and a remote dialhub (`--url`): it only needs the URL and device tokens.
import { io } from 'socket.io-client';
import { serve } from '../loop/ipc.js';
import type { FloorConnectRequest, FloorWorkerApi } from './api.js';
import { FloorDevice } from './floor-device.js';
import type { FloorSocket } from './floor-device.js';
import { FloorTally } from './floor-tally.js';

const tally = new FloorTally();
const sockets: FloorSocket[] = [];
const devices: FloorDevice[] = [];

function open(url: string, auth: Record<string, string>): Promise<FloorSocket> {
  const socket: FloorSocket = io(url, {
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
    auth,
  });
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', (err) => {
      socket.close();
      reject(err);
    });
  });
}

async function connect(req: FloorConnectRequest) {
  for (let i = 0; i < req.devices.length; i += req.concurrency) {
    const batch = await Promise.all(
      req.devices
        .slice(i, i + req.concurrency)
        .map((d) => open(req.url, { token: d.token, deviceId: d.deviceId })),
    );
    for (const s of batch) {
      s.on('disconnect', (reason) => {
        if (reason !== 'io client disconnect') tally.error(`disconnect: ${reason}`);
      });
      sockets.push(s);
      devices.push(new FloorDevice(s, req.campaignId, tally));
    }
  }
  return { connected: sockets.length };
}

serve<FloorWorkerApi>({
  connect,
  start({ profile }) {
    tally.begin(devices.length);
    for (const d of devices) d.start(profile);
    return Promise.resolve();
  },
  mark: () => Promise.resolve(tally.mark()),
  async stop({ timeoutMs }) {
    tally.end();
    const mark = tally.mark();
    for (const d of devices) d.stop();
    const deadline = Date.now() + timeoutMs;
    while (devices.some((d) => d.busy) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    return mark;
  },
  shutdown() {
    for (const d of devices) d.stop();
    for (const s of sockets.splice(0)) s.close();
    return Promise.resolve();
  },
});
