// The `wallboard` scenario: what a busy floor costs the supervisor side. N simulated agents change
// state at a fixed rate (ready → offered → dialing → on call → wrap-up → paused → ready ...), fed
// into the real /supervisor namespace (gateway/supervisor: the tenant's floor, 50 ms delta
// gathering, per-second counters computed from Postgres and the queue) of a real gateway, while M
// supervisor sockets in another process watch the whole floor. Measured per supervisor: frames/s,
// bytes/s as received, the lag from a state change to the frame that shows it (p50/p99), and the
// gateway process's CPU per 1,000 changes. Baseline in the same run, same feed and same clients:
// a naive broadcast that sends every change to every supervisor as its own frame.
//
// The agents are simulated at the hub boundary (the state-change stream the agent hub publishes),
// not as 5,000 devices: the scenario measures the supervisor side; the device side is `loop`/`floor`.
import { cpuUsage } from 'node:process';
import { loadavg } from 'node:os';
import { InvalidArgumentError } from 'commander';
import pg from 'pg';
import type { Server } from 'socket.io';
import { ALWAYS_OPEN } from '../../engine/calling-window.js';
import { parseCampaignConfig } from '../../engine/campaign.js';
import { systemClock } from '../../engine/clock.js';
import { asAgentId, asTenantId } from '../../engine/ids.js';
import type { CampaignRef } from '../../engine/ids.js';
import { MemoryQueueStore } from '../../engine/memory/memory-queue-store.js';
import { createDatabase } from '../../db/index.js';
import type { AgentStateChange } from '../../gateway/agent/agent-hub.js';
import { createDeviceTokens } from '../../gateway/auth/device-token.js';
import { loadConfig } from '../../gateway/config.js';
import { createGateway } from '../../gateway/gateway.js';
import type { Gateway } from '../../gateway/gateway.js';
import { silentLogger } from '../../gateway/logger.js';
import type { AgentState, AgentStateName } from '../../gateway/protocol/schemas.js';
import { attachSupervisor } from '../../gateway/supervisor/index.js';
import { SUPERVISOR_NAMESPACE } from '../../gateway/supervisor/protocol.js';
import { fmt, tableRow } from '../lib/report.js';
import type { TableRow } from '../lib/report.js';
import type { Scenario, ScenarioContext, ScenarioOutcome } from '../lib/scenario.js';
import { round } from '../lib/stats.js';
import { ChildHandle } from './loop/ipc.js';
import type { WatchersApi, WatchReport } from './wallboard/watchers.js';

const TENANT = 'bench';
const CAMPAIGN = 'wb';
const NAIVE_NAMESPACE = '/naive';
const CYCLE: readonly AgentStateName[] = ['ready', 'offered', 'dialing', 'on_call', 'wrap_up', 'paused'];
const WITH_LEAD = new Set<AgentStateName>(['offered', 'dialing', 'on_call', 'wrap_up']);

export const GOALS = { lagP99Ms: 250, bytesPerSPerSupervisor: 50 * 1024 } as const;

interface Plan {
  agents: number;
  eventsPerS: number;
  supervisors: number;
  warmupS: number;
  windowS: number;
}

const FULL: Plan = { agents: 5_000, eventsPerS: 1_000, supervisors: 50, warmupS: 3, windowS: 20 };
const QUICK: Plan = { agents: 500, eventsPerS: 200, supervisors: 5, warmupS: 1, windowS: 3 };
/** Inside `all` (the whole suite in about 15 minutes): a shorter window. */
const SUITE: Plan = { ...FULL, windowS: 10 };

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('must be a positive integer');
  return n;
}

async function sql(url: string, text: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

/** The p-th percentile (0..100) of a 1-ms histogram. */
function percentileOf(counts: readonly number[], p: number): number {
  const total = counts.reduce((a, b) => a + b, 0);
  if (total === 0) return NaN;
  const rank = Math.ceil((p / 100) * total);
  let seen = 0;
  for (let ms = 0; ms < counts.length; ms++) {
    seen += counts[ms]!;
    if (seen >= rank) return ms;
  }
  return counts.length - 1;
}

interface PhaseFigures {
  readonly framesPerSPerSupervisor: number;
  readonly bytesPerSPerSupervisor: number;
  readonly lagP50Ms: number;
  readonly lagP99Ms: number;
  readonly cpuMsPer1kEvents: number;
  readonly eventsPerS: number;
  readonly tilesPerSPerSupervisor: number;
  readonly gaps: number;
}

export const wallboard: Scenario = {
  name: 'wallboard',
  summary:
    'the supervisor side under a busy floor: N agents changing state, M wallboards; frames/s, bytes/s, delta lag p50/p99, gateway CPU vs a naive broadcast of every change',
  options: [
    { flags: '--rate <n>', description: 'state changes per second (default 1000)', parse: positiveInt },
    { flags: '--supervisors <n>', description: 'supervisor sockets (default 50)', parse: positiveInt },
  ],
  async run(ctx: ScenarioContext): Promise<ScenarioOutcome> {
    const base = ctx.quick ? QUICK : ctx.suite ? SUITE : FULL;
    const plan: Plan = {
      ...base,
      agents: ctx.agents ?? base.agents,
      windowS: ctx.durationS ?? base.windowS,
      eventsPerS: (ctx.options['rate'] as number | undefined) ?? base.eventsPerS,
      supervisors: (ctx.options['supervisors'] as number | undefined) ?? base.supervisors,
    };
    const schema = `bench_${ctx.runId}_wb`.toLowerCase();
    const cleanups: (() => Promise<unknown>)[] = [];
    const cleanup = async () => {
      for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
    };
    try {
      // ---- the system under test: a gateway on Postgres (a schema of its own) ----
      await sql(ctx.postgresUrl, `CREATE SCHEMA ${schema}`);
      cleanups.push(() => sql(ctx.postgresUrl, `DROP SCHEMA IF EXISTS ${schema} CASCADE`));
      const db = createDatabase({ url: ctx.postgresUrl, searchPath: schema });
      cleanups.push(() => db.close());
      await db.migrate();
      await db.tenants.create({ id: TENANT, name: 'Bench', plan: { deviceLimit: 10 } });
      const names: string[] = [];
      const rows = Array.from({ length: plan.agents }, (_, i) => {
        names.push(`Agent ${i}`);
        return { tenant_id: TENANT, id: `a${i}`, name: `Agent ${i}`, role: 'agent' };
      });
      for (let i = 0; i < rows.length; i += 1_000) await db.knex('users').insert(rows.slice(i, i + 1_000));
      const config = parseCampaignConfig({ window: ALWAYS_OPEN });
      await db.campaigns.upsert({ tenantId: TENANT, id: CAMPAIGN, name: 'Bench', status: 'active', config });
      const store = new MemoryQueueStore();
      const gateway = createGateway({
        config: loadConfig({ HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'silent' }),
        store,
        clock: systemClock,
        db,
        logger: silentLogger,
        tokens: createDeviceTokens('bench-secret-bench-secret-bench-secret'),
      });
      const address = await gateway.start(0, '127.0.0.1');
      cleanups.push(() => gateway.stop());
      const ref = { tenantId: asTenantId(TENANT), campaignId: CAMPAIGN } as CampaignRef;
      await gateway.campaigns.define(ref, config);

      // The feed: the agent hub's state-change stream, driven here instead of by devices.
      let targets: ((c: AgentStateChange) => void)[] = [];
      const supervisorListeners: ((c: AgentStateChange) => void)[] = [];
      const feedHub = {
        onStateChange(l: (c: AgentStateChange) => void) {
          supervisorListeners.push(l);
          return () => undefined;
        },
        agentStates: () => [],
        forcePause: () => Promise.resolve(false),
        disconnectAgent: () => Promise.resolve(false),
      };
      const supervisor = attachSupervisor({ ...gateway, hub: feedHub } as unknown as Gateway, {
        verify: () => Promise.resolve({ tenantId: TENANT, userId: 'bench-sup', role: 'supervisor' }),
      });
      cleanups.push(() => Promise.resolve(supervisor.stop()));
      const naive = (gateway.io as unknown as Server).of(NAIVE_NAMESPACE);
      const naiveBroadcast = (c: AgentStateChange) => {
        const s = c.state;
        naive.emit('agent', {
          agentId: c.agentId,
          name: names[Number(c.agentId.slice(1))] ?? c.agentId,
          state: s.state,
          ...(s.state === 'paused' ? { reason: s.reason } : {}),
          since: s.since,
          campaignId: s.campaignId ?? null,
          leadFirstName: c.lead?.firstName ?? null,
        });
      };

      const step = new Uint8Array(plan.agents);
      let produced = 0;
      const change = (now: number): AgentStateChange => {
        const i = Math.floor(Math.random() * plan.agents);
        step[i] = (step[i]! + 1) % CYCLE.length;
        const name = CYCLE[step[i]] as AgentStateName;
        const state: AgentState =
          name === 'paused'
            ? { state: 'paused', reason: 'break', since: now, campaignId: CAMPAIGN }
            : { state: name, since: now, campaignId: CAMPAIGN };
        return {
          tenantId: asTenantId(TENANT),
          agentId: asAgentId(`a${i}`),
          deviceId: `d${i}`,
          state,
          lead: WITH_LEAD.has(name) ? { id: String(i), firstName: 'Ann' } : null,
          at: now,
        };
      };
      // Paced by the clock: every 5 ms, as many changes as the rate owes since the start.
      let feedTimer: NodeJS.Timeout | undefined;
      const startFeed = () => {
        const t0 = Date.now();
        let sent = 0;
        feedTimer = setInterval(() => {
          const now = Date.now();
          const owed = Math.floor(((now - t0) / 1000) * plan.eventsPerS) - sent;
          for (let k = 0; k < owed; k++) {
            const c = change(now);
            for (const t of targets) t(c);
          }
          sent += owed;
          produced += owed;
        }, 5);
      };
      const stopFeed = () => clearInterval(feedTimer);
      cleanups.push(() => Promise.resolve(stopFeed()));

      const watchers = await ChildHandle.fork<WatchersApi>(
        'wallboard-watchers',
        new URL('./wallboard/watchers.ts', import.meta.url),
        {},
      );
      cleanups.push(() => watchers.close());
      const url = `http://127.0.0.1:${address.port}`;

      const phase = async (label: string, namespace: string, consumers: typeof targets) => {
        ctx.log(
          `wallboard: ${label}: ${plan.supervisors} supervisors, ${plan.agents} agents, ${plan.eventsPerS} changes/s`,
        );
        await watchers.call('connect', { url, namespace, count: plan.supervisors, token: 'bench' });
        targets = consumers;
        startFeed();
        await new Promise((r) => setTimeout(r, plan.warmupS * 1000));
        await watchers.call('reset');
        const produced0 = produced;
        const cpu0 = cpuUsage();
        const t0 = performance.now();
        await new Promise((r) => setTimeout(r, plan.windowS * 1000));
        const cpu = cpuUsage(cpu0);
        const elapsedS = (performance.now() - t0) / 1000;
        const events = produced - produced0;
        const report: WatchReport = await watchers.call('report');
        stopFeed();
        targets = [];
        await watchers.call('close');
        await new Promise((r) => setTimeout(r, 500));
        const perSup = (n: number) => n / plan.supervisors / (report.elapsedMs / 1000);
        const figures: PhaseFigures = {
          framesPerSPerSupervisor: round(perSup(report.frames), 2),
          bytesPerSPerSupervisor: round(perSup(report.bytes), 0),
          tilesPerSPerSupervisor: round(perSup(report.tiles), 1),
          lagP50Ms: percentileOf(report.lagCounts, 50),
          lagP99Ms: percentileOf(report.lagCounts, 99),
          cpuMsPer1kEvents: round((cpu.user + cpu.system) / 1000 / (events / 1000), 2),
          eventsPerS: round(events / elapsedS, 1),
          gaps: report.gaps,
        };
        ctx.log(`wallboard: ${label}: ${JSON.stringify(figures)}`);
        return figures;
      };

      const dh = await phase('dialhub /supervisor', SUPERVISOR_NAMESPACE, supervisorListeners);
      const nv = await phase('naive broadcast', NAIVE_NAMESPACE, [naiveBroadcast]);

      const ratio = (a: number, b: number) => (b > 0 ? round(a / b, 3) : NaN);
      const metrics = {
        lag_p50_ms: dh.lagP50Ms,
        lag_p99_ms: dh.lagP99Ms,
        bytes_per_s_per_supervisor: dh.bytesPerSPerSupervisor,
        cpu_ms_per_1k_events: dh.cpuMsPer1kEvents,
        frames_per_s_per_supervisor: dh.framesPerSPerSupervisor,
        tiles_per_s_per_supervisor: dh.tilesPerSPerSupervisor,
        events_per_s: dh.eventsPerS,
        sequence_gaps: dh.gaps,
        baseline_lag_p50_ms: nv.lagP50Ms,
        baseline_lag_p99_ms: nv.lagP99Ms,
        baseline_bytes_per_s_per_supervisor: nv.bytesPerSPerSupervisor,
        baseline_cpu_ms_per_1k_events: nv.cpuMsPer1kEvents,
        baseline_frames_per_s_per_supervisor: nv.framesPerSPerSupervisor,
        baseline_events_per_s: nv.eventsPerS,
      };
      const ratios = {
        frames_vs_naive: ratio(dh.framesPerSPerSupervisor, nv.framesPerSPerSupervisor),
        bytes_vs_naive: ratio(dh.bytesPerSPerSupervisor, nv.bytesPerSPerSupervisor),
        cpu_vs_naive: ratio(dh.cpuMsPer1kEvents, nv.cpuMsPer1kEvents),
        lag_p99_vs_naive: ratio(dh.lagP99Ms, nv.lagP99Ms),
      };
      const x = (r: number) => `${fmt(r, 2)}x`;
      const rowsOut: TableRow[] = [
        tableRow('wallboard', {
          metric: 'frames/s per supervisor',
          value: fmt(dh.framesPerSPerSupervisor, 1),
          baseline: `${fmt(nv.framesPerSPerSupervisor, 1)} (naive broadcast)`,
          ratio: `${x(ratios.frames_vs_naive)}`,
          better: 'lower',
          explain: `WebSocket frames each supervisor socket received per second while ${plan.agents} agents changed state ${plan.eventsPerS} times/s (agent deltas gathered for 50 ms as compact tuples, counters once a second)`,
        }),
        tableRow('wallboard', {
          metric: 'bytes/s per supervisor',
          value: fmt(dh.bytesPerSPerSupervisor),
          baseline: fmt(nv.bytesPerSPerSupervisor),
          ratio: `${x(ratios.bytes_vs_naive)}`,
          better: 'lower',
          goal: `<= ${fmt(GOALS.bytesPerSPerSupervisor)} (${dh.bytesPerSPerSupervisor <= GOALS.bytesPerSPerSupervisor ? 'met' : 'missed'})`,
          explain:
            'engine.io payload bytes received per second by one supervisor socket (agent tiles and campaign counters)',
        }),
        tableRow('wallboard', {
          metric: 'delta lag p50 / p99 ms',
          value: `${dh.lagP50Ms} / ${dh.lagP99Ms}`,
          baseline: `${nv.lagP50Ms} / ${nv.lagP99Ms}`,
          ratio: `${x(ratios.lag_p99_vs_naive)}`,
          better: 'lower',
          goal: `p99 <= ${GOALS.lagP99Ms} ms (${dh.lagP99Ms <= GOALS.lagP99Ms ? 'met' : 'missed'})`,
          explain:
            'from the state change (the hub publishing it) to the frame showing it in a supervisor client in another process, 1-ms buckets',
        }),
        tableRow('wallboard', {
          metric: 'gateway CPU ms per 1,000 changes',
          value: fmt(dh.cpuMsPer1kEvents, 1),
          baseline: fmt(nv.cpuMsPer1kEvents, 1),
          ratio: `${x(ratios.cpu_vs_naive)}`,
          better: 'lower',
          explain: `CPU of the gateway process (feed, floor, counters from Postgres and the queue, Socket.IO writes to ${plan.supervisors} sockets) per 1,000 state changes`,
        }),
        tableRow('wallboard', {
          metric: 'changes/s fed / sequence gaps seen',
          value: `${fmt(dh.eventsPerS)} / ${dh.gaps}`,
          explain:
            'the rate actually produced in the window, and frames a supervisor saw out of sequence (must be 0)',
        }),
      ];
      return {
        result: {
          metrics,
          ratios,
          config: { ...plan, quick: ctx.quick, loadAvg: loadavg().map((l) => round(l, 2)) },
        },
        rows: rowsOut,
      };
    } finally {
      await cleanup();
    }
  },
};
