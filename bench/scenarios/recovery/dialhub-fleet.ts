// A process of simulated dialhub devices for the recovery scenario, speaking the real protocol.
// Live devices work calls in a loop: ready -> offer (accepted in its acknowledgement) -> talk ->
// `call:complete` with `ready: true`. Silent devices go ready once and keep the call they are
// offered; the orchestrator then freezes this whole process (SIGSTOP: no packets, no
// disconnect), and after resuming it asks them to complete those calls late, as a phone that
// froze and came back would.
import { io } from 'socket.io-client';
import type { Socket } from 'socket.io-client';
import type { AgentClientEvents, AgentServerEvents, OfferPayload } from '../../../gateway/protocol/index.js';
import type { AgentCredential } from '../loop/api.js';
import { serve } from '../loop/ipc.js';
import type { DialhubFleetApi, LateCompletions, Role, Sighting } from './api.js';

type DeviceSocket = Socket<AgentServerEvents, AgentClientEvents>;

interface Device {
  readonly cred: AgentCredential;
  socket: DeviceSocket;
  /** Silent: the call it keeps. */
  held?: OfferPayload;
}

let url = '';
let campaignId = '';
let role: Role = 'live';
let talkMs = 0;
let working = false;
const devices: Device[] = [];
const offers: Sighting[] = [];
const completed: Record<string, number> = {};
const errors: Record<string, number> = {};
const timers = new Set<NodeJS.Timeout>();

const count = (into: Record<string, number>, key: string) => {
  into[key] = (into[key] ?? 0) + 1;
};

function open(cred: AgentCredential): Promise<DeviceSocket> {
  const socket: DeviceSocket = io(url, {
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
    auth: { token: cred.token, deviceId: cred.deviceId },
  });
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', (err) => {
      socket.close();
      reject(err);
    });
  });
}

function ready(d: Device): void {
  d.socket.emit('agent:ready', { campaignId }, (res) => {
    if (!res.ok) count(errors, `agent:ready ${res.error.code}`);
  });
}

function complete(d: Device, offer: OfferPayload, again: boolean): Promise<string | null> {
  return new Promise((resolve) => {
    d.socket.emit(
      'call:complete',
      { leaseId: offer.leaseId, outcome: 'answered', durationSec: Math.round(talkMs / 1000), ready: again },
      (res) => {
        if (res.ok) {
          count(completed, offer.lead.id);
          resolve(null);
        } else {
          resolve(res.error.code);
        }
      },
    );
  });
}

function listen(d: Device): void {
  d.socket.on('call:offer', (offer, ack) => {
    ack({ accept: true });
    offers.push([offer.lead.id, Date.now()]);
    if (role === 'silent') {
      d.held ??= offer;
      return;
    }
    const timer = setTimeout(() => {
      timers.delete(timer);
      void complete(d, offer, working).then((code) => {
        if (code === null) return;
        count(errors, `call:complete ${code}`);
        if (working) ready(d);
      });
    }, talkMs);
    timers.add(timer);
  });
  d.socket.on('call:revoked', (r) => count(errors, `call:revoked ${r.reason}`));
}

const api: DialhubFleetApi = {
  async connect(req) {
    url = req.url;
    campaignId = req.campaignId;
    role = req.role;
    talkMs = req.talkMs;
    for (let i = 0; i < req.agents.length; i += req.concurrency) {
      const batch = req.agents.slice(i, i + req.concurrency);
      const sockets = await Promise.all(batch.map(open));
      sockets.forEach((socket, k) => {
        const d: Device = { cred: batch[k]!, socket };
        listen(d);
        devices.push(d);
      });
    }
    return { connected: devices.length };
  },
  start() {
    working = true;
    for (const d of devices) ready(d);
    return Promise.resolve();
  },
  held() {
    return Promise.resolve(devices.flatMap((d) => (d.held ? [d.held.lead.id] : [])));
  },
  tally() {
    return Promise.resolve({ offers, completed, errors });
  },
  stop() {
    working = false;
    return Promise.resolve();
  },
  async release(): Promise<LateCompletions> {
    const accepted: string[] = [];
    const refused: Record<string, number> = {};
    await Promise.all(
      devices.map(async (d) => {
        const offer = d.held;
        if (!offer) return;
        if (!d.socket.connected) {
          // The gateway dropped the frozen connection: come back as the phone would.
          d.socket.close();
          try {
            d.socket = await open(d.cred);
          } catch (err) {
            count(refused, `reconnect ${err instanceof Error ? err.message : String(err)}`);
            return;
          }
        }
        const code = await complete(d, offer, false);
        if (code === null) accepted.push(offer.lead.id);
        else count(refused, code);
      }),
    );
    return { accepted, refused };
  },
  shutdown() {
    working = false;
    for (const t of timers) clearTimeout(t);
    for (const d of devices) d.socket.close();
    return Promise.resolve();
  },
};

serve<DialhubFleetApi>(api);
