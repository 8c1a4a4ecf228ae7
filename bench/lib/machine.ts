// What a result was measured on. Numbers from different machines are not comparable, so every
// JSON report carries this block next to its metrics.
import os from 'node:os';
import { infoField } from './redis-admin.js';
import type { AdminClient } from './redis-admin.js';

export interface MachineInfo {
  readonly cpus: number;
  readonly cpuModel: string;
  readonly memGiB: number;
  readonly node: string;
  readonly redis: string;
  readonly os: string;
  readonly date: string;
}

export async function describeMachine(redis: AdminClient): Promise<MachineInfo> {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    memGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    redis: await infoField(redis, 'server', 'redis_version'),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    date: new Date().toISOString(),
  };
}
