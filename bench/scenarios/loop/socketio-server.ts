// Baseline 1, the socket layer's ceiling: a plain Socket.IO server (same version and WebSocket
// transport as the gateway) that acknowledges every `ping` at once. Nothing else runs on it, so
// its round trips per second bound what any system built on Socket.IO can do on this machine.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server } from 'socket.io';
import type { ServerApi } from './api.js';
import type { PingClientEvents } from './baseline-events.js';
import { serve } from './ipc.js';
import { createProfiler, memoryReading, serverMark } from './server-probe.js';

const httpServer = createServer();
const io = new Server<PingClientEvents>(httpServer, { serveClient: false, transports: ['websocket'] });
let acked = 0;
io.on('connection', (socket) => {
  socket.on('ping', (n, ack) => {
    acked++;
    ack(n);
  });
});

serve<ServerApi>({
  async start() {
    await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
    return { port: (httpServer.address() as AddressInfo).port };
  },
  mark: () => Promise.resolve(serverMark(acked)),
  profile: createProfiler(),
  memory: memoryReading,
  async shutdown() {
    await io.close();
  },
});
