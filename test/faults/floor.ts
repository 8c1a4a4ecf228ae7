// A floor of simulated agents in one process (so a whole floor, or one device alone, can be
// frozen with SIGSTOP). Each device follows the README protocol as a phone would: ready, take the
// offer, report connected and ended, complete with an outcome, retry a completion until it gets
// a definite answer (across reconnects, resuming with auth.leaseId), ready again. It reports
// every operation and its result to the parent over IPC (floor-protocol.ts); it judges nothing.
// Usage: node --import tsx test/faults/floor.ts '<FloorOptions json>'   (with an IPC channel)
import { io } from 'socket.io-client';
import type { Socket } from 'socket.io-client';
import { AGENT_NAMESPACE } from '../../gateway/protocol/events.js';
import type { AgentClientEvents, AgentServerEvents } from '../../gateway/protocol/events.js';
import type { FloorAgent, FloorCommand, FloorEvent, FloorOptions } from './floor-protocol.js';

type DeviceSocket = Socket<AgentServerEvents, AgentClientEvents>;
type AckResult =
  { ok: true; [k: string]: unknown } | { ok: false; error: { code: string; retryable?: boolean } };

const options = JSON.parse(process.argv[2] ?? '{}') as FloorOptions;

function report(event: FloorEvent): void {
  process.send?.(event);
}

let seed = options.seed >>> 0;
function random(): number {
  // mulberry32: the same floor behaves the same for the same seed (faults aside).
  seed = (seed + 0x6d2b79f5) >>> 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

function pickOutcome(): string {
  const total = options.outcomes.reduce((n, o) => n + o.weight, 0);
  let r = random() * total;
  for (const o of options.outcomes) {
    r -= o.weight;
    if (r < 0) return o.outcome;
  }
  return options.outcomes[0]?.outcome ?? 'answered';
}

/** Emit with an acknowledgement; a timeout answers { ok: false, code: TIMEOUT } (retryable). */
async function request(
  socket: DeviceSocket,
  event: string,
  payload: unknown,
  ms: number,
): Promise<AckResult> {
  const timed = socket.timeout(ms) as unknown as { emitWithAck(e: string, p: unknown): Promise<AckResult> };
  try {
    return await timed.emitWithAck(event, payload);
  } catch {
    return { ok: false, error: { code: 'TIMEOUT', retryable: true } };
  }
}

interface Call {
  readonly leaseId: string;
  readonly leadId: string;
  readonly phone: string;
  readonly outcome: string;
  readonly talkMs: number;
  accepted: boolean;
  /** The conversation is over: the completion is due (sent until definitely answered). */
  ended: boolean;
  talk?: NodeJS.Timeout;
  inFlight: boolean;
  tries: number;
}

class SimDevice {
  private socket: DeviceSocket | undefined;
  private gateway: number;
  private call: Call | undefined;
  private awaitingResume: NodeJS.Timeout | undefined;
  private draining = false;
  private paused = false;
  private exiting = false;
  private readyPending = false;

  constructor(private readonly agent: FloorAgent) {
    this.gateway = agent.home;
  }

  private stamp(): { t: number; agentId: string } {
    return { t: Date.now(), agentId: this.agent.agentId };
  }

  connect(): void {
    if (this.exiting) return;
    const url = `${options.urls[this.gateway]}${AGENT_NAMESPACE}`;
    const leaseId = this.call?.leaseId;
    const socket: DeviceSocket = io(url, {
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
      timeout: 3_000,
      auth: { token: this.agent.token, deviceId: this.agent.deviceId, ...(leaseId ? { leaseId } : {}) },
    });
    this.socket = socket;
    const gateway = this.gateway;
    socket.on('connect', () => {
      report({ ...this.stamp(), kind: 'connect', gateway, ...(leaseId ? { leaseId } : {}) });
      this.paused = false;
      if (this.call) {
        // The server says call:resumed if the lease is still live; give it a moment to.
        const call = this.call;
        this.awaitingResume = setTimeout(() => {
          this.awaitingResume = undefined;
          if (this.call !== call) return;
          report({ ...this.stamp(), kind: 'resume-lost', leaseId: call.leaseId, accepted: call.accepted });
          if (!call.accepted) {
            this.dropCall();
            this.ready();
          } else {
            // The call happened: its outcome is still reported (a late completion).
            this.trySendComplete();
          }
        }, 1_500);
      } else {
        this.ready();
      }
    });
    socket.on('connect_error', (err) => {
      report({ ...this.stamp(), kind: 'connect-failed', gateway, message: err.message.slice(0, 80) });
      socket.close();
      this.reconnectSoon();
    });
    socket.on('disconnect', (reason) => {
      report({ ...this.stamp(), kind: 'disconnect', reason });
      if (this.socket === socket) this.socket = undefined;
      if (this.awaitingResume) clearTimeout(this.awaitingResume);
      this.awaitingResume = undefined;
      if (this.call) this.call.inFlight = false;
      this.reconnectSoon();
    });
    socket.on('call:offer', (offer, ack) => this.onOffer(socket, offer, ack));
    socket.on('call:resumed', (payload) => {
      const call = this.call;
      if (!call || call.leaseId !== payload.leaseId) return;
      if (this.awaitingResume) clearTimeout(this.awaitingResume);
      this.awaitingResume = undefined;
      report({ ...this.stamp(), kind: 'resumed', leaseId: payload.leaseId, state: payload.state });
      if (!call.accepted) void this.accept(socket, call);
      else this.trySendComplete();
    });
    socket.on('call:revoked', ({ leaseId, reason }) => {
      report({ ...this.stamp(), kind: 'revoked', leaseId, reason });
      const call = this.call;
      if (!call || call.leaseId !== leaseId) return;
      // A number put on the do-not-call list mid-call: routing is revoked, the call's outcome is
      // still reported. Anything else takes the call away.
      if (reason === 'removed' && call.accepted) return;
      this.dropCall();
      setTimeout(() => this.ready(), 100);
    });
    socket.on('agent:state', (state) => {
      if (this.call || this.draining) return;
      if (state.state === 'paused' || state.state === 'wrap_up') setTimeout(() => this.ready(), 200);
    });
  }

  private reconnectSoon(): void {
    if (this.exiting) return;
    if (options.failover) this.gateway = (this.gateway + 1) % options.urls.length;
    setTimeout(() => this.connect(), 250 + Math.floor(random() * 250));
  }

  private dropCall(): void {
    if (this.call?.talk) clearTimeout(this.call.talk);
    this.call = undefined;
  }

  private onOffer(
    socket: DeviceSocket,
    offer: Parameters<AgentServerEvents['call:offer']>[0],
    ack: (a: { accept?: boolean }) => void,
  ) {
    report({
      ...this.stamp(),
      kind: 'offer',
      leaseId: offer.leaseId,
      leadId: offer.lead.id,
      phone: offer.lead.phone,
      expiresAt: offer.expiresAt,
    });
    this.paused = false;
    if (this.call) {
      report({
        ...this.stamp(),
        kind: 'offer-while-holding',
        leaseId: offer.leaseId,
        held: this.call.leaseId,
      });
      ack({});
      return;
    }
    const [min, max] = options.callMs;
    const call: Call = {
      leaseId: offer.leaseId,
      leadId: offer.lead.id,
      phone: offer.lead.phone,
      outcome: pickOutcome(),
      talkMs: min + Math.floor(random() * (max - min)),
      accepted: false,
      ended: false,
      inFlight: false,
      tries: 0,
    };
    this.call = call;
    switch (this.agent.ackMode) {
      case 'ack-accept':
        ack({ accept: true });
        call.accepted = true;
        report({ ...this.stamp(), kind: 'accepted', leaseId: call.leaseId });
        this.talk(socket, call);
        return;
      case 'accept-event':
        ack({});
        void this.accept(socket, call);
        return;
      case 'no-ack':
        void this.accept(socket, call);
        return;
      case 'slow-ack':
        void this.accept(socket, call);
        setTimeout(() => ack({}), options.ackDelayMs);
        return;
    }
  }

  private async accept(socket: DeviceSocket, call: Call): Promise<void> {
    for (let i = 0; i < 3; i++) {
      const res = await request(socket, 'call:accept', { leaseId: call.leaseId }, 3_000);
      if (this.call !== call) return;
      if (res.ok) {
        call.accepted = true;
        report({ ...this.stamp(), kind: 'accepted', leaseId: call.leaseId });
        this.talk(socket, call);
        return;
      }
      if (res.error.code !== 'TIMEOUT' || this.socket !== socket) {
        report({ ...this.stamp(), kind: 'accept-refused', leaseId: call.leaseId, code: res.error.code });
        if (this.socket !== socket) return; // the reconnect decides (resume or not)
        this.dropCall();
        this.ready();
        return;
      }
    }
  }

  private talk(socket: DeviceSocket, call: Call): void {
    void request(socket, 'call:status', { leaseId: call.leaseId, status: 'connected' }, 3_000).then((res) => {
      if (res.ok && this.call === call) report({ ...this.stamp(), kind: 'on-call', leaseId: call.leaseId });
    });
    call.talk = setTimeout(() => {
      call.ended = true;
      if (this.socket && this.call === call) {
        void request(this.socket, 'call:status', { leaseId: call.leaseId, status: 'ended' }, 3_000);
      }
      this.trySendComplete();
    }, call.talkMs);
  }

  private trySendComplete(): void {
    const call = this.call;
    const socket = this.socket;
    if (!call || !call.ended || call.inFlight || !socket?.connected || this.awaitingResume) return;
    call.inFlight = true;
    call.tries++;
    const impatient = call.tries === 1 && random() < options.impatientShare;
    report({
      ...this.stamp(),
      kind: 'complete-sent',
      leaseId: call.leaseId,
      leadId: call.leadId,
      outcome: call.outcome,
      try: call.tries,
    });
    const payload = {
      leaseId: call.leaseId,
      outcome: call.outcome,
      durationSec: Math.round(call.talkMs / 1000),
    };
    void request(socket, 'call:complete', payload, impatient ? 1 : options.completeTimeoutMs).then((res) => {
      if (this.call !== call || this.socket !== socket) return; // a reconnect resends it
      call.inFlight = false;
      if (res.ok) {
        report({
          ...this.stamp(),
          kind: 'completed',
          leaseId: call.leaseId,
          leadId: call.leadId,
          outcome: call.outcome,
          attemptId: String(res.attemptId),
          duplicate: res.duplicate === true,
          disposition: String(res.disposition),
        });
        this.dropCall();
        setTimeout(() => this.ready(), 20);
      } else if (res.error.retryable) {
        report({ ...this.stamp(), kind: 'complete-retry', leaseId: call.leaseId, code: res.error.code });
        setTimeout(() => this.trySendComplete(), 300);
      } else {
        report({
          ...this.stamp(),
          kind: 'complete-refused',
          leaseId: call.leaseId,
          leadId: call.leadId,
          outcome: call.outcome,
          code: res.error.code,
        });
        this.dropCall();
        setTimeout(() => this.ready(), 20);
      }
    });
  }

  ready(): void {
    const socket = this.socket;
    if (this.exiting || !socket?.connected || this.call || this.readyPending) return;
    if (this.draining) {
      this.pause();
      return;
    }
    this.readyPending = true;
    void request(socket, 'agent:ready', { campaignId: options.campaignId }, 3_000).then((res) => {
      this.readyPending = false;
      if (res.ok || this.socket !== socket) return;
      report({ ...this.stamp(), kind: 'ready-refused', code: res.error.code });
      setTimeout(() => this.ready(), 500);
    });
  }

  private pause(): void {
    const socket = this.socket;
    if (this.paused || this.readyPending || !socket?.connected || this.call) return;
    this.readyPending = true;
    void request(socket, 'agent:pause', { reason: 'break' }, 3_000).then((res) => {
      this.readyPending = false;
      if (this.socket !== socket || this.call) return;
      if (res.ok) {
        this.paused = true;
        report({ ...this.stamp(), kind: 'drained' });
      } else {
        setTimeout(() => this.pause(), 300);
      }
    });
  }

  drain(): void {
    this.draining = true;
    const tick = () => {
      if (this.exiting) return;
      if (!this.paused) this.pause();
      setTimeout(tick, 300);
    };
    tick();
  }

  exit(): void {
    this.exiting = true;
    this.dropCall();
    this.socket?.disconnect();
  }
}

const devices = options.agents.map((a) => new SimDevice(a));
for (const d of devices) d.connect();

process.on('message', (msg: FloorCommand) => {
  if (msg.cmd === 'drain') for (const d of devices) d.drain();
  if (msg.cmd === 'exit') {
    for (const d of devices) d.exit();
    setTimeout(() => process.exit(0), 50);
  }
});
// The suite ended (or died): never outlive it.
process.on('disconnect', () => process.exit(0));
