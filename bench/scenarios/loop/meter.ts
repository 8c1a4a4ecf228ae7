// Readings taken at the edges of a measurement window, and what they say about it: who used the
// CPU (this run's processes, the Redis server, the Postgres backends serving this run, everyone
// else, hypervisor steal), the Redis commands executed, and the counters and latency histograms
// of the agent workers and the servers. One reading asks every child at once, so the window's
// edges line up across processes to within an IPC round trip.
import type pg from 'pg';
import { machineTicks, redisCpuS } from '../../lib/cpu-meter.js';
import { cpuDeltaS, processesCpuS } from '../../lib/proc-cpu.js';
import type { AdminClient } from '../../lib/redis-admin.js';
import type { ServerApi, ServerMark, SystemName, WorkerApi, WorkerMark } from './api.js';
import type { ChildHandle } from './ipc.js';

export interface Processes {
  readonly workers: readonly ChildHandle<WorkerApi>[];
  readonly servers: Readonly<Record<SystemName, ChildHandle<ServerApi>>>;
}

/** Postgres processes that do this run's work but are not ours: their CPU counts with ours. */
export interface PostgresWatch {
  readonly client: pg.Client;
  /** application_name of each system's pool. */
  readonly apps: Readonly<Partial<Record<SystemName, string>>>;
}

interface CommandStat {
  readonly calls: number;
  readonly usec: number;
}

export interface Reading {
  readonly at: bigint;
  readonly busyS: number;
  readonly stealS: number;
  readonly mainUs: number;
  readonly redisS: number;
  readonly commands: ReadonlyMap<string, CommandStat>;
  /** CPU seconds of the Postgres backends of each system's pool, by pid. */
  readonly pg: Readonly<Record<SystemName, ReadonlyMap<number, number>>>;
  /** CPU seconds of Postgres's own processes (WAL writer, checkpointer, autovacuum), by pid. */
  readonly pgAux: ReadonlyMap<number, number>;
  readonly workers: readonly WorkerMark[];
  readonly servers: Readonly<Record<SystemName, ServerMark>>;
}

const SYSTEMS: readonly SystemName[] = ['dialhub', 'socketio', 'bullmq'];
/** Postgres processes that work for every connection (WAL, checkpoints, vacuum). */
const PG_AUX = ['walwriter', 'checkpointer', 'background writer', 'autovacuum worker', 'autovacuum launcher'];

async function commandStats(admin: AdminClient): Promise<Map<string, CommandStat>> {
  const out = new Map<string, CommandStat>();
  for (const line of (await admin.info('commandstats')).split(/\r?\n/)) {
    const m = /^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/.exec(line);
    if (m) out.set(m[1]!, { calls: Number(m[2]), usec: Number(m[3]) });
  }
  return out;
}

async function postgresPids(watch: PostgresWatch) {
  const { rows } = await watch.client.query<{ pid: number; application_name: string; backend_type: string }>(
    `SELECT pid, application_name, backend_type FROM pg_stat_activity
     WHERE application_name = ANY($1) OR backend_type = ANY($2)`,
    [Object.values(watch.apps), PG_AUX],
  );
  const pidsOf = (app: string | undefined) =>
    rows.filter((r) => app !== undefined && r.application_name === app).map((r) => r.pid);
  const aux = rows.filter((r) => PG_AUX.includes(r.backend_type)).map((r) => r.pid);
  const [dialhub, socketio, bullmq, pgAux] = await Promise.all([
    processesCpuS(pidsOf(watch.apps.dialhub)),
    processesCpuS(pidsOf(watch.apps.socketio)),
    processesCpuS(pidsOf(watch.apps.bullmq)),
    processesCpuS(aux),
  ]);
  return { pg: { dialhub, socketio, bullmq }, pgAux };
}

export async function takeReading(
  procs: Processes,
  admin: AdminClient,
  watch: PostgresWatch,
): Promise<Reading> {
  const [workers, servers, machine, redisS, commands, pgs] = await Promise.all([
    Promise.all(procs.workers.map((w) => w.call('mark'))),
    Promise.all(SYSTEMS.map(async (s) => [s, await procs.servers[s].call('mark')] as const)),
    machineTicks(),
    redisCpuS(admin),
    commandStats(admin),
    postgresPids(watch),
  ]);
  const cpu = process.cpuUsage();
  return {
    at: process.hrtime.bigint(),
    ...machine,
    mainUs: cpu.user + cpu.system,
    redisS,
    commands,
    ...pgs,
    workers,
    servers: Object.fromEntries(servers) as Record<SystemName, ServerMark>,
  };
}

/** Average cores busy over a window, by whom. */
export interface CoreShare {
  /** The server under test. */
  readonly server: number;
  /** The agent workers, together. */
  readonly workers: number;
  /** The orchestrator and the idle servers of the other systems. */
  readonly bench: number;
  readonly redis: number;
  /** Postgres backends serving the system under test. */
  readonly postgres: number;
  /** Postgres's own processes (WAL writer, checkpointer, autovacuum): shared with other users. */
  readonly postgresAux: number;
  /** Everything else on the machine: other people's work. */
  readonly other: number;
  readonly steal: number;
}

export interface WindowFigures {
  readonly seconds: number;
  readonly cores: CoreShare;
  /** CPU seconds in the window. */
  readonly cpuS: {
    readonly server: number;
    readonly redis: number;
    readonly postgres: number;
    readonly workers: number;
  };
  readonly serverLoopUtilization: number;
  /** Redis commands run in the window (every client of the shared server), by command. */
  readonly commands: ReadonlyMap<string, CommandStat>;
  readonly deviceCalls: number;
  readonly offers: number;
  readonly messagesIn: number;
  readonly messagesOut: number;
  readonly errors: number;
  readonly errorSamples: readonly string[];
  readonly serverCompleted: number;
  readonly serverCounters: Readonly<Record<string, number>>;
  /** Each worker's histograms for the window (merge them). */
  readonly histograms: readonly WorkerMark['histograms'][];
}

export function windowFigures(a: Reading, b: Reading, system: SystemName): WindowFigures {
  const seconds = Number(b.at - a.at) / 1e9;
  const sum = (marks: readonly WorkerMark[], f: (m: WorkerMark) => number) =>
    marks.reduce((acc, m) => acc + f(m), 0);
  const workersS = (sum(b.workers, (m) => m.cpuUs) - sum(a.workers, (m) => m.cpuUs)) / 1e6;
  const serverS = (b.servers[system].cpuUs - a.servers[system].cpuUs) / 1e6;
  const idleServersS =
    SYSTEMS.filter((s) => s !== system).reduce((acc, s) => acc + b.servers[s].cpuUs - a.servers[s].cpuUs, 0) /
    1e6;
  const mainS = (b.mainUs - a.mainUs) / 1e6;
  const redisS = b.redisS - a.redisS;
  const postgresS = cpuDeltaS(a.pg[system], b.pg[system]);
  const otherPgS = SYSTEMS.filter((s) => s !== system).reduce(
    (acc, s) => acc + cpuDeltaS(a.pg[s], b.pg[s]),
    0,
  );
  const auxS = cpuDeltaS(a.pgAux, b.pgAux);
  const ours = serverS + workersS + idleServersS + mainS + redisS + postgresS + otherPgS + auxS;
  const r = (x: number) => Math.round((x / seconds) * 100) / 100;

  const commands = new Map<string, CommandStat>();
  for (const [cmd, after] of b.commands) {
    const before = a.commands.get(cmd) ?? { calls: 0, usec: 0 };
    const calls = after.calls - before.calls;
    if (calls > 0) commands.set(cmd, { calls, usec: after.usec - before.usec });
  }
  const sa = a.servers[system];
  const sb = b.servers[system];
  const loopActive = sb.loopActiveMs - sa.loopActiveMs;
  const loopIdle = sb.loopIdleMs - sa.loopIdleMs;
  const counters: Record<string, number> = {};
  for (const [k, v] of Object.entries(sb.counters)) counters[k] = v - (sa.counters[k] ?? 0);

  return {
    seconds,
    cores: {
      server: r(serverS),
      workers: r(workersS),
      bench: r(mainS + idleServersS),
      redis: r(redisS),
      postgres: r(postgresS + otherPgS),
      postgresAux: r(auxS),
      // Clamped: tick granularity can make a quiet machine read a hair below zero.
      other: r(Math.max(0, b.busyS - a.busyS - ours)),
      steal: r(b.stealS - a.stealS),
    },
    cpuS: { server: serverS, redis: redisS, postgres: postgresS, workers: workersS },
    serverLoopUtilization: loopActive / (loopActive + loopIdle),
    commands,
    deviceCalls: sum(b.workers, (m) => m.calls) - sum(a.workers, (m) => m.calls),
    offers: sum(b.workers, (m) => m.offers) - sum(a.workers, (m) => m.offers),
    messagesIn: sum(b.workers, (m) => m.messagesIn) - sum(a.workers, (m) => m.messagesIn),
    messagesOut: sum(b.workers, (m) => m.messagesOut) - sum(a.workers, (m) => m.messagesOut),
    errors: sum(b.workers, (m) => m.errors) - sum(a.workers, (m) => m.errors),
    errorSamples: b.workers.flatMap((m) => m.errorSamples),
    serverCompleted: sb.completed - sa.completed,
    serverCounters: counters,
    histograms: b.workers.map((m) => m.histograms),
  };
}
