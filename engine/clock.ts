// Clocks. Every time the engine reasons about (lease expiry, due times, calling windows) comes
// from one Clock. In production it follows Redis's own clock, so gateways on hosts with skewed
// clocks still agree on when a lease expires: none can reclaim early or promote late.
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** A clock tests move by hand. */
export class ManualClock implements Clock {
  #now: number;
  constructor(start: number) {
    this.#now = start;
  }
  now(): number {
    return this.#now;
  }
  set(ms: number): void {
    this.#now = ms;
  }
  advance(ms: number): number {
    this.#now += ms;
    return this.#now;
  }
}

/** Reads the reference server's time as [seconds, microseconds] (Redis TIME). */
export type ServerTime = () => Promise<readonly [number, number]>;

/**
 * Follows a server clock: local monotonic time plus an offset measured against the server,
 * refreshed periodically. The offset is taken at the midpoint of the round trip; the sample with
 * the smallest round trip of each refresh wins, since it bounds the error best.
 */
export class ServerClock implements Clock {
  #offset = 0;
  #timer: NodeJS.Timeout | undefined;
  readonly #serverTime: ServerTime;
  readonly #local: () => number;

  constructor(
    serverTime: ServerTime,
    local: () => number = () => performance.timeOrigin + performance.now(),
  ) {
    this.#serverTime = serverTime;
    this.#local = local;
  }

  now(): number {
    return Math.round(this.#local() + this.#offset);
  }

  /** Difference server minus local, in ms. */
  get offsetMs(): number {
    return this.#offset;
  }

  async sync(samples = 3): Promise<void> {
    let best: { rtt: number; offset: number } | undefined;
    for (let i = 0; i < samples; i++) {
      const t0 = this.#local();
      const [sec, usec] = await this.#serverTime();
      const t1 = this.#local();
      const server = sec * 1000 + usec / 1000;
      const rtt = t1 - t0;
      const offset = server - (t0 + rtt / 2);
      if (!best || rtt < best.rtt) best = { rtt, offset };
    }
    if (best) this.#offset = best.offset;
  }

  /** Sync now, then keep syncing every `intervalMs` until stopped. */
  async start(intervalMs = 10_000): Promise<void> {
    await this.sync();
    this.#timer = setInterval(() => {
      this.sync().catch(() => undefined); // keep the last good offset through a blip
    }, intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}
