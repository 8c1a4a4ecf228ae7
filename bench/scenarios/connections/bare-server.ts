// The connections baseline: a bare Socket.IO server with the gateway's transport settings
// (WebSocket only, the same heartbeat interval and timeout, no per-message deflate) and nothing
// else, holding the same idle clients. What it costs per client is Socket.IO's own floor.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server } from 'socket.io';
import type { ServerApi } from '../loop/api.js';
import { childArgs, serve } from '../loop/ipc.js';
import { createProfiler, memoryReading, serverMark } from '../loop/server-probe.js';

export interface BareServerArgs {
  readonly pingIntervalMs: number;
  readonly pingTimeoutMs: number;
}

const args = childArgs<BareServerArgs>();
const httpServer = createServer();
const io = new Server(httpServer, {
  serveClient: false,
  transports: ['websocket'],
  pingInterval: args.pingIntervalMs,
  pingTimeout: args.pingTimeoutMs,
  perMessageDeflate: false,
});
let connected = 0;
io.on('connection', () => {
  connected++;
});

serve<ServerApi>({
  async start() {
    await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', 1024, resolve));
    return { port: (httpServer.address() as AddressInfo).port };
  },
  mark: () => Promise.resolve(serverMark(connected)),
  memory: memoryReading,
  profile: createProfiler(),
  async shutdown() {
    await io.close();
  },
});
