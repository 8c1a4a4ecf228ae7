// Who used the CPU during a measurement window, for scenarios whose processes the bench starts:
// the run's own processes (by pid), the Redis server (INFO), everything else on the machine and
// hypervisor steal. A window in which others took more than a bound is disturbed: it is measured
// again (up to a bound), and the result says how many were, so nobody has to guess why a figure
// moved.
import { machineTicks, redisCpuS } from './cpu-meter.js';
import { cpuDeltaS, processesCpuS } from './proc-cpu.js';
import type { AdminClient } from './redis-admin.js';

interface Reading {
  readonly at: bigint;
  readonly busyS: number;
  readonly stealS: number;
  readonly redisS: number;
  readonly ours: ReadonlyMap<number, number>;
}

/** Average cores busy over a window, by whom; `byPid` is the run's processes one by one. */
export interface WindowCpu {
  readonly seconds: number;
  readonly ours: number;
  readonly redis: number;
  readonly other: number;
  readonly steal: number;
  readonly byPid: Readonly<Record<number, number>>;
}

export class WindowMeter {
  readonly #admin: AdminClient;
  readonly #pids: () => readonly number[];
  #start: Reading | undefined;

  /** `pids`: the run's processes (read at each edge, so children started meanwhile count). */
  constructor(admin: AdminClient, pids: () => readonly number[]) {
    this.#admin = admin;
    this.#pids = pids;
  }

  async #read(): Promise<Reading> {
    const [ticks, redisS, ours] = await Promise.all([
      machineTicks(),
      redisCpuS(this.#admin),
      processesCpuS([process.pid, ...this.#pids()]),
    ]);
    return { at: process.hrtime.bigint(), ...ticks, redisS, ours };
  }

  async start(): Promise<void> {
    this.#start = await this.#read();
  }

  async stop(): Promise<WindowCpu> {
    const a = this.#start;
    if (!a) throw new Error('WindowMeter.stop() before start()');
    const b = await this.#read();
    const seconds = Number(b.at - a.at) / 1e9;
    const ours = cpuDeltaS(a.ours, b.ours);
    const redis = b.redisS - a.redisS;
    const r = (x: number) => Math.round((x / seconds) * 1000) / 1000;
    const byPid: Record<number, number> = {};
    for (const [pid, s] of b.ours) byPid[pid] = r(s - (a.ours.get(pid) ?? 0));
    return {
      seconds,
      ours: r(ours),
      redis: r(redis),
      other: r(Math.max(0, b.busyS - a.busyS - ours - redis)),
      steal: r(b.stealS - a.stealS),
      byPid,
    };
  }
}

/** Repeats left in a scenario, shared by all its windows. */
export interface RetryBudget {
  left: number;
  repeated: number;
  /** Windows that stayed disturbed after their retries and still count. */
  countedDisturbed: number;
}

/**
 * Run `measure` (which reports its window's CPU); run it again while the window was disturbed
 * (other + steal > maxOtherCores), at most `retries` times and within the budget. Returns the
 * last measurement.
 */
export async function undisturbed<T extends { readonly cpu: WindowCpu }>(
  measure: () => Promise<T>,
  o: {
    readonly maxOtherCores: number;
    readonly retries: number;
    readonly budget: RetryBudget;
    log(m: string): void;
  },
): Promise<T & { readonly disturbed: boolean }> {
  for (let attempt = 0; ; attempt++) {
    const m = await measure();
    const disturbed = m.cpu.other + m.cpu.steal > o.maxOtherCores;
    if (!disturbed) return { ...m, disturbed };
    if (attempt >= o.retries || o.budget.left <= 0) {
      o.budget.countedDisturbed++;
      return { ...m, disturbed };
    }
    o.budget.left--;
    o.budget.repeated++;
    o.log(`disturbed (other processes ${m.cpu.other} cores, steal ${m.cpu.steal}): measuring again`);
  }
}
