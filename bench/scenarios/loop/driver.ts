// How a worker's agents are paced. Every simulated agent runs one cycle at a time (ready -> offer
// -> ... -> done); the driver decides when each next cycle starts:
//  - closed loop: at once, so the system runs as fast as it can;
//  - open loop: at scheduled instants. Slot j falls at t0 + firstSlot + j * slot and belongs to
//    agent j mod n, so each agent has one slot per n * slot ms and the worker as a whole starts
//    one cycle per slot. An agent still busy when its slot comes starts that cycle as soon as it
//    is free, and its latency still counts from the slot: a slow system pays for every cycle it
//    delays instead of the load politely waiting for it (coordinated omission).
import { performance } from 'node:perf_hooks';
import type { LoadMode } from './api.js';

/** One simulated agent as the driver sees it. */
export interface Agent {
  /** Start a cycle now, scheduled at `intendedAt` (performance.now() ms). Called only when idle. */
  begin(intendedAt: number): void;
  readonly busy: boolean;
  /** A phase with this load is about to start. */
  prepare?(mode: LoadMode): void;
  /** After a stop: finish whatever the system still holds for this agent; true if a cycle started. */
  settle?(): boolean;
}

/** How often stop() looks whether the agents have finished their cycles. */
const STOP_POLL_MS = 5;

export class Driver {
  readonly #agents: readonly Agent[];
  readonly #backlog = new Map<Agent, number[]>();
  #mode: LoadMode | undefined;
  #timer: NodeJS.Timeout | undefined;
  #t0 = 0;
  #nextSlot = 0;

  constructor(agents: readonly Agent[]) {
    this.#agents = agents;
  }

  get running(): boolean {
    return this.#mode !== undefined;
  }

  start(mode: LoadMode): void {
    if (this.#mode) throw new Error('driver already running');
    this.#mode = mode;
    for (const a of this.#agents) a.prepare?.(mode);
    switch (mode.kind) {
      case 'closed':
        for (const a of this.#agents) a.begin(performance.now());
        return;
      case 'open':
        this.#t0 = performance.now() + mode.firstSlotMs;
        this.#nextSlot = 0;
        this.#tick();
        return;
      default: {
        const never: never = mode;
        throw new Error(`unknown load mode ${JSON.stringify(never)}`);
      }
    }
  }

  /** An agent's cycle ended: start its next one if the load says so. */
  done(agent: Agent): void {
    const mode = this.#mode;
    if (!mode) return;
    if (mode.kind === 'closed') {
      agent.begin(performance.now());
      return;
    }
    const late = this.#backlog.get(agent)?.shift();
    if (late !== undefined) agent.begin(late);
  }

  #tick(): void {
    const mode = this.#mode;
    if (mode?.kind !== 'open') return;
    const now = performance.now();
    // Every slot that has come, including any a late timer skipped over.
    for (; this.#t0 + this.#nextSlot * mode.slotMs <= now; this.#nextSlot++) {
      const intendedAt = this.#t0 + this.#nextSlot * mode.slotMs;
      const agent = this.#agents[this.#nextSlot % this.#agents.length]!;
      if (!agent.busy) agent.begin(intendedAt);
      else {
        const queue = this.#backlog.get(agent);
        if (queue) queue.push(intendedAt);
        else this.#backlog.set(agent, [intendedAt]);
      }
    }
    const wait = this.#t0 + this.#nextSlot * mode.slotMs - performance.now();
    this.#timer = setTimeout(() => this.#tick(), Math.max(0, wait));
  }

  /**
   * Start no more cycles, let the ones in flight end, then let agents settle what the system still
   * holds for them. Resolves with how many agents were still busy after `timeoutMs`.
   */
  async stop(timeoutMs: number): Promise<number> {
    this.#mode = undefined;
    clearTimeout(this.#timer);
    this.#backlog.clear();
    const deadline = performance.now() + timeoutMs;
    const busy = async () => {
      while (this.#agents.some((a) => a.busy) && performance.now() < deadline) {
        await new Promise((r) => setTimeout(r, STOP_POLL_MS));
      }
      return this.#agents.filter((a) => a.busy).length;
    };
    const stuck = await busy();
    if (stuck > 0) return stuck;
    let settling = false;
    for (const a of this.#agents) if (a.settle?.()) settling = true;
    return settling ? busy() : 0;
  }
}
