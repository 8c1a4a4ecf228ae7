// What the loop scenario's processes say to each other: the API each child serves to the
// orchestrator (agent workers, the three servers under test) and the shapes they report. Plain
// JSON, since it crosses the IPC channel.

/** The three systems measured side by side. */
export type SystemName = 'dialhub' | 'socketio' | 'bullmq';

/**
 * closed: every agent starts its next cycle the moment the last one ends (max throughput).
 * open: agents start cycles at scheduled instants, `slotMs` apart across this worker's agents in
 * turn, whether or not the system keeps up; latency is measured from the scheduled instant, so
 * a stall counts against every cycle it delays (no coordinated omission).
 */
export type LoadMode =
  | { readonly kind: 'closed' }
  | { readonly kind: 'open'; readonly slotMs: number; readonly firstSlotMs: number };

export interface AgentCredential {
  readonly agentId: string;
  readonly deviceId: string;
  /** Device token for dialhub's handshake; empty for the baselines, which trust the agent id. */
  readonly token: string;
}

export interface ConnectRequest {
  readonly system: SystemName;
  /** Base URL plus namespace, e.g. http://127.0.0.1:1234/agent. */
  readonly url: string;
  /** dialhub's campaign the agents work. */
  readonly campaignId: string;
  readonly agents: readonly AgentCredential[];
  /** Handshakes in flight at once per worker. */
  readonly concurrency: number;
  /**
   * dialhub, closed loop: complete with `ready: true` (straight back to ready, two round trips a
   * call); false sends a separate `agent:ready` after the completion's ack (three).
   */
  readonly chainReady: boolean;
}

/** Compressed HDR histograms (microseconds) of the samples since the previous mark. */
export interface LatencyHistograms {
  /** Scheduled ready instant -> offer received (open loop: the headline latency). */
  readonly offer: string;
  /** Ready actually sent -> offer received (leaves out the worker's own timer lateness). */
  readonly offerFromSend: string;
  /** Scheduled ready instant -> cycle done (dialhub: completion acknowledged; Socket.IO: ack). */
  readonly cycle: string;
}

export interface WorkerMark {
  /** CPU the worker process has used (user + system), cumulative. */
  readonly cpuUs: number;
  /** Cycles done, cumulative: dialhub completions acknowledged ok, Socket.IO acks, BullMQ offers answered. */
  readonly calls: number;
  readonly offers: number;
  readonly errors: number;
  /** Socket.IO messages (events and acknowledgements) received from / sent to the server, cumulative. */
  readonly messagesIn: number;
  readonly messagesOut: number;
  /** The first few error messages, for the log. */
  readonly errorSamples: readonly string[];
  readonly histograms: LatencyHistograms;
}

export type WorkerApi = {
  connect(req: ConnectRequest): Promise<{ readonly connected: number; readonly ms: number }>;
  start(req: { readonly system: SystemName; readonly mode: LoadMode }): Promise<void>;
  /** Counters so far and the histograms since the previous mark (which it resets). */
  mark(): Promise<WorkerMark>;
  /** Stop starting cycles, wait for those in flight; `stuck` did not end within the timeout. */
  stop(req: { readonly timeoutMs: number }): Promise<{ readonly stuck: number }>;
  shutdown(): Promise<void>;
};

export interface ServerMark {
  /** CPU of the server process (user + system), cumulative. */
  readonly cpuUs: number;
  /** Event loop time, cumulative: utilisation over a window is Δactive / (Δactive + Δidle). */
  readonly loopActiveMs: number;
  readonly loopIdleMs: number;
  /** Calls the server finished, cumulative (dialhub: outcome rows committed; BullMQ: jobs completed). */
  readonly completed: number;
  /** Server-specific counters, cumulative. */
  readonly counters: Readonly<Record<string, number>>;
}

export type ProfileRequest =
  { readonly action: 'start' } | { readonly action: 'stop'; readonly path: string };

/** The server process's memory (bytes), read after a full GC when the process allows it. */
export interface MemoryReading {
  readonly rss: number;
  readonly heapUsed: number;
  /** Memory of C++ objects bound to JS ones, ArrayBuffers included (socket buffers live here). */
  readonly external: number;
  /** Whether a full GC ran first (the child was started with --expose-gc). */
  readonly collected: boolean;
}

/** What every server under test serves. */
export type ServerApi = {
  start(): Promise<{ readonly port: number }>;
  mark(): Promise<ServerMark>;
  memory(): Promise<MemoryReading>;
  /** Sample its own CPU with the V8 profiler over a window (the phase being measured). */
  profile(req: ProfileRequest): Promise<void>;
  shutdown(): Promise<void>;
};

/** Servers whose calls consume queued work: dialhub's leads, the BullMQ dialer's jobs. */
export type QueueServerApi = ServerApi & {
  /** Queue `count` standard leads numbered from `from`, in batches of `batch`. */
  fill(req: { readonly from: number; readonly count: number; readonly batch: number }): Promise<{
    readonly queued: number;
    readonly ms: number;
  }>;
  /** Items waiting to be offered. */
  depth(): Promise<number>;
};
