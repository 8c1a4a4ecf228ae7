// Who used the CPU during a measurement: this process, the Redis server, and everything else on
// the machine (other people's tests share these 2 cores), plus hypervisor steal. A throughput
// figure taken while other load ate a core is not the same figure, so each measurement carries
// this alongside it instead of the reader having to guess why two rounds differ.
//
// Linux only (/proc/stat); elsewhere the machine-wide figures are NaN. "Redis" is meaningful
// only when the server runs on this machine.
import { readFile } from 'node:fs/promises';
import { infoField } from './redis-admin.js';
import type { AdminClient } from './redis-admin.js';

/** Kernel clock ticks per second for /proc/stat (USER_HZ, 100 on every mainstream Linux). */
export const USER_HZ = 100;

interface Sample {
  readonly at: bigint;
  readonly busyS: number;
  readonly stealS: number;
  readonly self: NodeJS.CpuUsage;
  readonly redisS: number;
}

/** Average cores busy over the window, by whom. */
export interface CpuShare {
  readonly self: number;
  readonly redis: number;
  readonly other: number;
  readonly steal: number;
}

/** Seconds the whole machine has spent busy (all cores) and stolen by the hypervisor, since boot. */
export async function machineTicks(): Promise<{ busyS: number; stealS: number }> {
  try {
    const line = (await readFile('/proc/stat', 'utf8')).split('\n', 1)[0] ?? '';
    // cpu user nice system idle iowait irq softirq steal ...
    const f = line.trim().split(/\s+/).slice(1).map(Number);
    const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = f;
    return { busyS: (user + nice + system + irq + softirq) / USER_HZ, stealS: steal / USER_HZ };
  } catch {
    return { busyS: Number.NaN, stealS: Number.NaN };
  }
}

/** CPU seconds the Redis server has used since it started (INFO cpu, user + sys). */
export async function redisCpuS(admin: AdminClient): Promise<number> {
  const info = await Promise.all([
    infoField(admin, 'cpu', 'used_cpu_user'),
    infoField(admin, 'cpu', 'used_cpu_sys'),
  ]);
  return Number(info[0]) + Number(info[1]);
}

export class CpuMeter {
  readonly #admin: AdminClient;
  #start: Sample | undefined;

  constructor(admin: AdminClient) {
    this.#admin = admin;
  }

  async #sample(): Promise<Sample> {
    const [ticks, redisS] = await Promise.all([machineTicks(), redisCpuS(this.#admin)]);
    return { at: process.hrtime.bigint(), ...ticks, self: process.cpuUsage(), redisS };
  }

  async start(): Promise<void> {
    this.#start = await this.#sample();
  }

  async stop(): Promise<CpuShare> {
    const a = this.#start;
    if (!a) throw new Error('CpuMeter.stop() before start()');
    const b = await this.#sample();
    const wallS = Number(b.at - a.at) / 1e9;
    const selfS = (b.self.user - a.self.user + b.self.system - a.self.system) / 1e6;
    const redisS = b.redisS - a.redisS;
    const r = (x: number) => Math.round((x / wallS) * 100) / 100;
    return {
      self: r(selfS),
      redis: r(redisS),
      // Clamped: tick granularity can make a quiet machine read a hair below zero.
      other: r(Math.max(0, b.busyS - a.busyS - selfS - redisS)),
      steal: r(b.stealS - a.stealS),
    };
  }
}
