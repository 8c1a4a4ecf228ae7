// What a result was measured on. Numbers from different machines are not comparable, and numbers
// taken while other people's processes ate a core are not the same numbers, so every JSON report
// carries this block next to its metrics: the hardware, the versions of everything in the loop,
// and how busy the machine already was just before the run.
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import pg from 'pg';
import { machineTicks } from './cpu-meter.js';
import { infoField } from './redis-admin.js';
import type { AdminClient } from './redis-admin.js';

export interface MachineInfo {
  readonly cpus: number;
  readonly cpuModel: string;
  readonly memGiB: number;
  /** Memory available to new processes when the run started. */
  readonly memAvailableGiB: number;
  readonly node: string;
  readonly redis: string;
  readonly postgres: string;
  readonly os: string;
  /** 1, 5 and 15 minute load averages when the run started. */
  readonly loadAvg: readonly number[];
  /**
   * Cores other processes kept busy (everything but this one) over a one-second sample just before
   * the run: above ~0.25 on 2 cores, expect noisy figures and repeated rounds.
   */
  readonly otherCoresBusy: number;
  /** The git commit of the code measured (and whether it had uncommitted changes). */
  readonly commit: string;
  readonly date: string;
}

const SAMPLE_MS = 1000;

function gitCommit(): string {
  const git = (...args: string[]) =>
    execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  try {
    const dirty = git('status', '--porcelain', '--', 'engine', 'db', 'gateway') !== '';
    return `${git('rev-parse', '--short=12', 'HEAD')}${dirty ? '+uncommitted' : ''}`;
  } catch {
    return 'unknown';
  }
}

async function postgresVersion(url: string): Promise<string> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    const { rows } = await client.query<{ server_version: string }>('SHOW server_version');
    return rows[0]?.server_version ?? 'unknown';
  } catch {
    return 'unavailable';
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Machine-wide busy cores minus this process's, over a short sample. */
async function otherCoresBusy(): Promise<number> {
  const a = await machineTicks();
  const selfA = process.cpuUsage();
  await new Promise((r) => setTimeout(r, SAMPLE_MS));
  const b = await machineTicks();
  const self = process.cpuUsage(selfA);
  const selfS = (self.user + self.system) / 1e6;
  const busy = b.busyS - a.busyS + (b.stealS - a.stealS) - selfS;
  return Math.round(Math.max(0, busy / (SAMPLE_MS / 1000)) * 100) / 100;
}

export async function describeMachine(redis: AdminClient, postgresUrl: string): Promise<MachineInfo> {
  const cpus = os.cpus();
  const [redisVersion, postgres, other] = await Promise.all([
    infoField(redis, 'server', 'redis_version'),
    postgresVersion(postgresUrl),
    otherCoresBusy(),
  ]);
  const gib = (bytes: number) => Math.round((bytes / 2 ** 30) * 10) / 10;
  return {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    memGiB: gib(os.totalmem()),
    memAvailableGiB: gib(os.freemem()),
    node: process.version,
    redis: redisVersion,
    postgres,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    loadAvg: os.loadavg().map((l) => Math.round(l * 100) / 100),
    otherCoresBusy: other,
    commit: gitCommit(),
    date: new Date().toISOString(),
  };
}
