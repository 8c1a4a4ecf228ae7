// The `connections` scenario (issue 9): how many idle devices one gateway process holds with
// heartbeats on, what each costs (heap + external per device, CPU while idle) and whether offers
// stay fast meanwhile; the baseline is a bare Socket.IO server with the same settings holding the
// same clients. The devices ramp up in steps; each step is measured; the ramp stops at the target
// or at the first step whose offer p99 or server memory is over its limit. Devices live in
// worker processes apart from the server; offers are taken by a few active agents in one more.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { Chart } from '../lib/charts.js';
import { mergeHistograms, summarizeHistogram } from '../lib/hdr.js';
import { waitWithProgress } from '../lib/progress.js';
import { connectAdmin } from '../lib/redis-admin.js';
import { fmt, tableRow } from '../lib/report.js';
import type { RowInput, ScenarioResult, TableRow } from '../lib/report.js';
import type { Scenario, ScenarioContext, ScenarioOutcome } from '../lib/scenario.js';
import { round } from '../lib/stats.js';
import { undisturbed, WindowMeter } from '../lib/window-meter.js';
import type { RetryBudget, WindowCpu } from '../lib/window-meter.js';
import type { IdleAuth, IdleWorkerApi } from './connections/api.js';
import type { BareServerArgs } from './connections/bare-server.js';
import { FULL, GOALS, QUICK, SUITE } from './connections/plan.js';
import type { ConnectionsPlan } from './connections/plan.js';
import { seedDevices } from './connections/seed.js';
import type { AgentCredential, MemoryReading, QueueServerApi, ServerApi, WorkerApi } from './loop/api.js';
import type { DialhubServerArgs } from './loop/dialhub-server.js';
import { ChildHandle } from './loop/ipc.js';
import type { ChildApi } from './loop/ipc.js';
import { GATEWAY_CONFIG, Teardowns } from './loop/rig.js';
import { createSchemas } from './loop/seed.js';

const TENANT = 'bench';
const CAMPAIGN = 'connections';
/** File descriptors asked for the server process: one per socket, far above the target. */
const SERVER_NOFILE = 65_536;
/** Descriptors the server needs besides devices (Redis, Postgres pool, IPC, the active agents). */
const FD_HEADROOM = 300;

const entry = (file: string) => new URL(file, import.meta.url);

interface StepResult {
  readonly devices: number;
  readonly open: number;
  readonly memory: MemoryReading;
  readonly bytesPerDevice: number;
  readonly heapPerDevice: number;
  readonly externalPerDevice: number;
  /** Server CPU while idle, in ms per second per 1,000 devices (milli-cores per 1k). */
  readonly idleCpuPer1k: number;
  readonly idleCpu: WindowCpu;
  readonly pingsPerDevice: number;
  readonly offer?: {
    readonly p50_ms: number;
    readonly p99_ms: number;
    readonly count: number;
    /** Other processes took more than the allowed cores in the offer window. */
    readonly disturbed: boolean;
  };
  readonly disturbed: boolean;
  readonly connectPerS: number;
}

/** A process's open-file limit (soft), NaN when it cannot be read. */
function noFileLimit(pid: number): number {
  try {
    const out = execFileSync('prlimit', ['--pid', String(pid), '--nofile', '--noheadings', '--output=SOFT'], {
      encoding: 'utf8',
    });
    return Number(out.trim());
  } catch {
    return Number.NaN;
  }
}

/**
 * Raise the child's open-file limit as far as allowed (a process without CAP_SYS_RESOURCE cannot
 * pass its hard limit); returns the limit it has. Each device is one descriptor in the server.
 */
function raiseNoFile(pid: number): number {
  for (const n of [SERVER_NOFILE, noFileLimit(process.pid)]) {
    if (!Number.isFinite(n)) continue;
    try {
      execFileSync('prlimit', ['--pid', String(pid), `--nofile=${n}:${n}`], { stdio: 'ignore' });
      break;
    } catch {
      // Not allowed: try the next, else the inherited limit stands.
    }
  }
  return noFileLimit(pid);
}

function deal<T>(items: readonly T[], n: number): T[][] {
  return Array.from({ length: n }, (_, w) => items.filter((_, i) => i % n === w));
}

interface Side {
  readonly name: 'dialhub' | 'socketio';
  readonly server: ChildHandle<ServerApi>;
  readonly url: string;
  readonly auths: readonly IdleAuth[];
  /** Measures offers over a window (dialhub only). */
  readonly offers?: (ms: number) => Promise<{ p50_ms: number; p99_ms: number; count: number }>;
}

interface Env {
  readonly ctx: ScenarioContext;
  readonly plan: ConnectionsPlan;
  readonly workers: readonly ChildHandle<IdleWorkerApi>[];
  readonly meter: WindowMeter;
  readonly budget: RetryBudget;
  readonly idleWindowMs: number;
}

async function workerTotals(workers: readonly ChildHandle<IdleWorkerApi>[]) {
  const all = await Promise.all(workers.map((w) => w.call('status')));
  return {
    open: all.reduce((a, s) => a + s.open, 0),
    dropped: all.reduce((a, s) => a + s.dropped, 0),
    failed: all.reduce((a, s) => a + s.failed, 0),
    failures: all.flatMap((s) => s.failures),
    pings: all.reduce((a, s) => a + s.pings, 0),
  };
}

/** Ramp one side up step by step; returns the measured steps and why the ramp stopped. */
async function ramp(env: Env, side: Side, target: number) {
  const { ctx, plan, workers } = env;
  const steps: StepResult[] = [];
  const base = await side.server.call('memory');
  let stop = 'reached the target';
  let connected = 0;
  const progress = ctx.progress(`${side.name} devices`, target, 'devices');
  try {
    for (let k = 1; k <= plan.steps; k++) {
      ctx.signal.throwIfAborted();
      const goal = Math.round((target * k) / plan.steps);
      const shares = deal(side.auths.slice(connected, goal), workers.length);
      const t0 = process.hrtime.bigint();
      let done = connected;
      await Promise.all(
        workers.map(async (w, i) => {
          const share = shares[i]!;
          // In slices, so the bar moves while thousands of handshakes run.
          for (let s = 0; s < share.length; s += plan.connectConcurrency * 4) {
            const slice = share.slice(s, s + plan.connectConcurrency * 4);
            await w.call('connect', { url: side.url, auths: slice, concurrency: plan.connectConcurrency });
            done += slice.length;
            progress.update(done);
          }
        }),
      );
      const connectS = Number(process.hrtime.bigint() - t0) / 1e9;
      connected = goal;
      await new Promise((r) => setTimeout(r, plan.settleMs));
      const before = await workerTotals(workers);
      if (before.failed > 0) {
        stop = `handshakes failed at ${fmt(goal)} devices: ${before.failures.slice(0, 2).join('; ')}`;
        break;
      }
      const memory = await side.server.call('memory');
      const idle = await undisturbed(
        async () => {
          const mark0 = await side.server.call('mark');
          const pings0 = (await workerTotals(workers)).pings;
          await env.meter.start();
          await waitWithProgress(`${side.name} idle window @${fmt(goal)}`, env.idleWindowMs, ctx.signal);
          const cpu = await env.meter.stop();
          const mark1 = await side.server.call('mark');
          const pings1 = (await workerTotals(workers)).pings;
          const cpuMsPerS = (mark1.cpuUs - mark0.cpuUs) / 1000 / cpu.seconds;
          return { cpu, cpuMsPerS, pings: pings1 - pings0 };
        },
        {
          maxOtherCores: plan.maxOtherCores,
          retries: plan.retries,
          budget: env.budget,
          log: (m) => ctx.log(m),
        },
      );
      let offer: StepResult['offer'];
      if (side.offers) {
        const offers = side.offers;
        await env.meter.start();
        const measured = await offers(plan.offerWindowMs);
        const cpu = await env.meter.stop();
        offer = measured && { ...measured, disturbed: cpu.other + cpu.steal > plan.maxOtherCores };
      }
      const after = await workerTotals(workers);
      const grown = memory.heapUsed + memory.external - (base.heapUsed + base.external);
      const step: StepResult = {
        devices: goal,
        open: after.open,
        memory,
        bytesPerDevice: round(grown / goal, 0),
        heapPerDevice: round((memory.heapUsed - base.heapUsed) / goal, 0),
        externalPerDevice: round((memory.external - base.external) / goal, 0),
        idleCpuPer1k: round((idle.cpuMsPerS / goal) * 1000, 3),
        idleCpu: idle.cpu,
        pingsPerDevice: round(idle.pings / goal, 2),
        ...(offer ? { offer } : {}),
        disturbed: idle.disturbed,
        connectPerS: round((goal - (steps.at(-1)?.devices ?? 0)) / connectS, 0),
      };
      steps.push(step);
      ctx.log(
        `${side.name} @${fmt(goal)}: ${fmt(step.bytesPerDevice)} B/device (heap ${fmt(step.heapPerDevice)}, external ` +
          `${fmt(step.externalPerDevice)}), rss ${fmt(memory.rss / 2 ** 20)} MiB, idle CPU ${step.idleCpuPer1k} ms/s per 1k, ` +
          `${step.pingsPerDevice} pings/device` +
          (offer ? `, offer p50 ${offer.p50_ms} p99 ${offer.p99_ms} ms (${offer.count})` : '') +
          `, ${after.dropped} dropped${idle.disturbed ? ' (disturbed)' : ''}`,
      );
      if (!plan.stopAtLimits) continue;
      if (after.dropped > 0) {
        stop = `${after.dropped} idle devices were dropped by the server at ${fmt(goal)}`;
        break;
      }
      // Over the limit while other processes ate the cores says nothing about the gateway: go on.
      if (offer && offer.p99_ms > plan.maxOfferP99Ms && !offer.disturbed) {
        stop = `offer p99 ${offer.p99_ms} ms over ${plan.maxOfferP99Ms} ms at ${fmt(goal)} devices`;
        break;
      }
      if (memory.rss > plan.maxServerRssBytes) {
        stop = `server RSS over ${fmt(plan.maxServerRssBytes / 2 ** 20)} MiB at ${fmt(goal)} devices`;
        break;
      }
    }
  } finally {
    progress.stop();
  }
  await Promise.all(workers.map((w) => w.call('closeAll')));
  return { steps, base, stop };
}

async function run(ctx: ScenarioContext): Promise<ScenarioOutcome> {
  const plan = ctx.quick ? QUICK : ctx.suite ? SUITE : FULL;
  const requested = ctx.agents ?? plan.devices;
  // The server holds one descriptor per device: without the right to raise its hard limit, the
  // bench cannot go past it, and says so (config.fd_capped) instead of failing at the end.
  const hardLimit = Number(
    (() => {
      try {
        return execFileSync(
          'prlimit',
          ['--pid', String(process.pid), '--nofile', '--noheadings', '--output=HARD'],
          {
            encoding: 'utf8',
          },
        ).trim();
      } catch {
        return 'NaN';
      }
    })(),
  );
  const fdCap = Number.isFinite(hardLimit) && hardLimit < SERVER_NOFILE ? hardLimit - FD_HEADROOM : Infinity;
  const target = Math.min(requested, fdCap);
  if (target < requested) {
    ctx.log(
      `open-file hard limit ${hardLimit} (cannot be raised here): ${fmt(target)} devices instead of ${fmt(requested)}`,
    );
  }
  const idleWindowMs = ctx.durationS === undefined ? plan.idleWindowMs : ctx.durationS * 1000;
  const teardowns = new Teardowns();
  try {
    const admin = await connectAdmin(ctx.redisUrl);
    teardowns.add('redis admin client', () => admin.close());
    const postgres = await createSchemas(ctx.postgresUrl, ctx.runId);
    teardowns.add('postgres schemas', () => postgres.drop());
    const secret = randomBytes(24).toString('hex');
    const t = process.hrtime.bigint();
    const credentials = await seedDevices(postgres.dialhub, {
      tenantId: TENANT,
      campaignId: CAMPAIGN,
      devices: target + plan.activeAgents,
      secret,
    });
    ctx.log(
      `seeded ${fmt(credentials.length)} agents and devices (${fmt(Number(process.hrtime.bigint() - t) / 1e6)} ms)`,
    );
    const idle: readonly AgentCredential[] = credentials.slice(0, target);
    const active: readonly AgentCredential[] = credentials.slice(target);

    const fork = async <A extends ChildApi<A>>(
      name: string,
      file: string,
      args: unknown,
      flags: string[] = [],
    ) => {
      const handle = await ChildHandle.fork<A>(name, entry(file), args, flags);
      teardowns.add(name, () => handle.close());
      return handle;
    };
    const workers = await Promise.all(
      Array.from({ length: plan.workers }, (_, w) =>
        fork<IdleWorkerApi>(`idle worker ${w}`, './connections/idle-worker.ts', {}),
      ),
    );
    const activeWorker = await fork<WorkerApi>('active agent worker', './loop/agent-worker.ts', {});
    const servers: ChildHandle<ServerApi>[] = [];
    const meter = new WindowMeter(admin, () => [...workers, activeWorker, ...servers].map((h) => h.pid));
    const budget: RetryBudget = { left: plan.retryBudget, repeated: 0, countedDisturbed: 0 };
    const env: Env = { ctx, plan, workers, meter, budget, idleWindowMs };

    // 1. dialhub: the real gateway (heartbeats on, as shipped), active agents taking offers.
    const dialhubArgs: DialhubServerArgs = {
      redisUrl: ctx.redisUrl,
      keyPrefix: `${ctx.keyPrefix}dh:`,
      postgresUrl: postgres.dialhub.url,
      schema: postgres.dialhub.schema,
      deviceTokenSecret: secret,
      tenantId: TENANT,
      campaignId: CAMPAIGN,
      config: GATEWAY_CONFIG,
    };
    const gateway = await fork<QueueServerApi>('dialhub gateway', './loop/dialhub-server.ts', dialhubArgs, [
      '--expose-gc',
    ]);
    servers.push(gateway);
    const gatewayPort = (await gateway.call('start')).port;
    const gatewayNoFile = raiseNoFile(gateway.pid);
    const offerMs = plan.offerWindowMs * plan.steps + plan.warmupMs;
    const leads = Math.ceil(plan.offerRatePerS * (offerMs / 1000) * 1.5) + 500;
    await gateway.call('fill', { from: 0, count: leads, batch: 5000 });
    const agentUrl = `http://127.0.0.1:${gatewayPort}/agent`;
    await activeWorker.call('connect', {
      system: 'dialhub',
      url: agentUrl,
      campaignId: CAMPAIGN,
      agents: active,
      concurrency: plan.connectConcurrency,
      chainReady: false,
    });
    const offers = async (ms: number) => {
      await activeWorker.call('start', {
        system: 'dialhub',
        mode: { kind: 'open', slotMs: 1000 / plan.offerRatePerS, firstSlotMs: 0 },
      });
      await activeWorker.call('mark');
      await new Promise((r) => setTimeout(r, ms));
      const mark = await activeWorker.call('mark');
      await activeWorker.call('stop', { timeoutMs: 10_000 });
      const s = summarizeHistogram(mergeHistograms([mark.histograms.offer]));
      return { p50_ms: s.p50_ms, p99_ms: s.p99_ms, count: s.count };
    };
    ctx.log(
      `gateway up on port ${gatewayPort} (pid ${gateway.pid}, open files ${gatewayNoFile}); ${fmt(leads)} leads queued`,
    );
    const dh = await ramp(
      env,
      {
        name: 'dialhub',
        server: gateway,
        url: agentUrl,
        auths: idle.map((c) => ({ token: c.token, deviceId: c.deviceId })),
        offers,
      },
      target,
    );
    await activeWorker.call('shutdown').catch(() => undefined);
    await gateway.close();

    // 2. the baseline: a bare Socket.IO server, the same clients, the same heartbeats.
    const bareArgs: BareServerArgs = {
      pingIntervalMs: plan.pingIntervalMs,
      pingTimeoutMs: plan.pingTimeoutMs,
    };
    const bare = await fork<ServerApi>('bare socket.io server', './connections/bare-server.ts', bareArgs, [
      '--expose-gc',
    ]);
    servers.push(bare);
    const barePort = (await bare.call('start')).port;
    raiseNoFile(bare.pid);
    const sio = await ramp(
      env,
      { name: 'socketio', server: bare, url: `http://127.0.0.1:${barePort}`, auths: idle.map(() => ({})) },
      dh.steps.at(-1)?.devices ?? target,
    );
    return buildOutcome({ plan, target, requested, hardLimit, idleWindowMs, dh, sio, budget, gatewayNoFile });
  } finally {
    await teardowns.run((m) => ctx.log(m));
  }
}

interface OutcomeInput {
  readonly plan: ConnectionsPlan;
  readonly target: number;
  readonly requested: number;
  readonly hardLimit: number;
  readonly idleWindowMs: number;
  readonly dh: Awaited<ReturnType<typeof ramp>>;
  readonly sio: Awaited<ReturnType<typeof ramp>>;
  readonly budget: RetryBudget;
  readonly gatewayNoFile: number;
}

function buildOutcome(o: OutcomeInput): ScenarioOutcome {
  const top = o.dh.steps.at(-1);
  const sioTop = o.sio.steps.find((s) => s.devices === top?.devices) ?? o.sio.steps.at(-1);
  if (!top || !sioTop) throw new Error(`no step measured (${o.dh.stop}; baseline: ${o.sio.stop})`);
  const reached = o.dh.stop === 'reached the target';
  // Every step within the limits up to a target the open-file limit cut short: the goal is missed
  // on this machine, for a reason the gateway has no say in.
  const fdCapped = o.target < o.requested && reached;
  const metrics = {
    devices: reached ? top.devices : (o.dh.steps.at(-2)?.devices ?? 0),
    devices_tried: top.devices,
    bytes_per_device: top.bytesPerDevice,
    heap_bytes_per_device: top.heapPerDevice,
    external_bytes_per_device: top.externalPerDevice,
    gateway_rss_mib: round(top.memory.rss / 2 ** 20, 1),
    idle_cpu_per_1k_devices: top.idleCpuPer1k,
    offer_p50_ms: top.offer?.p50_ms ?? Number.NaN,
    offer_p99_ms: top.offer?.p99_ms ?? Number.NaN,
    offer_window_disturbed: top.offer?.disturbed === true ? 1 : 0,
    connects_per_s: round(o.dh.steps.reduce((a, s) => a + s.connectPerS, 0) / o.dh.steps.length, 0),
    pings_per_device_per_window: top.pingsPerDevice,
    socketio_bytes_per_client: sioTop.bytesPerDevice,
    socketio_idle_cpu_per_1k_clients: sioTop.idleCpuPer1k,
    socketio_rss_mib: round(sioTop.memory.rss / 2 ** 20, 1),
    rounds_repeated: o.budget.repeated,
    rounds_counted_disturbed: o.budget.countedDisturbed,
  };
  const ratios = {
    bytes_vs_socketio: round(metrics.bytes_per_device / metrics.socketio_bytes_per_client, 3),
    idle_cpu_vs_socketio: round(
      metrics.idle_cpu_per_1k_devices / metrics.socketio_idle_cpu_per_1k_clients,
      3,
    ),
  };
  const met = {
    devices: metrics.devices >= GOALS.devices,
    bytes: metrics.bytes_per_device <= GOALS.bytes_per_device,
    offer: metrics.offer_p99_ms <= GOALS.offer_p99_ms,
  };
  const stepRecord = (s: StepResult) => ({
    devices: s.devices,
    open: s.open,
    bytes_per_device: s.bytesPerDevice,
    heap_bytes_per_device: s.heapPerDevice,
    external_bytes_per_device: s.externalPerDevice,
    rss_mib: round(s.memory.rss / 2 ** 20, 1),
    gc_before_reading: s.memory.collected,
    idle_cpu_per_1k: s.idleCpuPer1k,
    idle_window_cores: s.idleCpu,
    pings_per_device: s.pingsPerDevice,
    connects_per_s: s.connectPerS,
    disturbed: s.disturbed,
    ...(s.offer ? { offer: s.offer } : {}),
  });
  const line = (name: string, steps: readonly StepResult[], f: (s: StepResult) => number | undefined) => ({
    name,
    points: steps.flatMap((s) => {
      const v = f(s);
      return v === undefined || !Number.isFinite(v) ? [] : [[s.devices, v] as const];
    }),
  });
  const charts: Chart[] = [
    {
      kind: 'lines',
      title: 'server memory per idle device (heap + external)',
      xLabel: 'idle devices',
      yLabel: 'bytes per device',
      series: [
        line('dialhub gateway', o.dh.steps, (s) => s.bytesPerDevice),
        line('bare Socket.IO', o.sio.steps, (s) => s.bytesPerDevice),
      ],
    },
    {
      kind: 'lines',
      title: 'server CPU while idle (heartbeats), ms per s per 1,000 devices',
      xLabel: 'idle devices',
      yLabel: 'ms/s per 1k',
      series: [
        line('dialhub gateway', o.dh.steps, (s) => s.idleCpuPer1k),
        line('bare Socket.IO', o.sio.steps, (s) => s.idleCpuPer1k),
      ],
    },
    {
      kind: 'lines',
      title: `offer latency while the devices idle (${o.plan.offerRatePerS} offers/s)`,
      xLabel: 'idle devices',
      yLabel: 'ms',
      series: [
        line('p50', o.dh.steps, (s) => s.offer?.p50_ms),
        line('p99', o.dh.steps, (s) => s.offer?.p99_ms),
      ],
    },
  ];
  const result: ScenarioResult = {
    metrics,
    ratios,
    config: {
      plan: o.plan,
      target: o.target,
      requested: o.requested,
      fd_capped: o.target < o.requested,
      open_files_hard_limit: o.hardLimit,
      idle_window_ms: o.idleWindowMs,
      gateway_config: GATEWAY_CONFIG,
      gateway_open_files_limit: o.gatewayNoFile,
      stopped: o.dh.stop,
      baseline_stopped: o.sio.stop,
    },
    steps: { dialhub: o.dh.steps.map(stepRecord), socketio: o.sio.steps.map(stepRecord) },
    base_memory: { dialhub: o.dh.base, socketio: o.sio.base },
    goals: {
      devices: {
        goal: `>= ${GOALS.devices}`,
        met: met.devices,
        // Reached every step to a target cut short by the machine's open-file hard limit.
        fd_capped: fdCapped,
      },
      bytes_per_device: { goal: `<= ${GOALS.bytes_per_device}`, met: met.bytes },
      offer_p99_ms: { goal: `<= ${GOALS.offer_p99_ms}`, met: met.offer },
    },
    charts,
    notes: [
      'Memory is read in the server process after two full GCs (--expose-gc), as heap used + external (external includes ArrayBuffers: socket buffers); per device = growth since before the first device connected, over the devices connected.',
      "Idle CPU is the server process's CPU over an idle window at least one heartbeat interval long, so every device pings once or more (pings_per_device).",
      'Offer latency: a few active agents (config.plan.activeAgents, in their own worker) take calls at a fixed rate while the idle devices idle; from the scheduled ready instant to the offer arriving.',
      'The ramp stops at the first step whose offer p99 (measured in an undisturbed window) or server RSS is over its limit, or whose devices were dropped or refused; metrics.devices is the last step within every limit. A step over the offer limit in a disturbed window does not stop the ramp (steps[].offer.disturbed), and metrics.offer_p99_ms says what was measured.',
    ],
  };
  const goal = (text: string, ok: boolean) => `${text} (${ok ? 'met' : 'missed'})`;
  const row = (r: RowInput): TableRow => tableRow('connections', r);
  const rows: TableRow[] = [
    row({
      metric: 'idle devices held by one gateway process',
      value: fmt(metrics.devices),
      goal: fdCapped
        ? `>= ${fmt(GOALS.devices)} (missed: open-file limit ${o.hardLimit})`
        : goal(`>= ${fmt(GOALS.devices)}`, met.devices),
      explain:
        `devices connected and idle with heartbeats on, at the last ramp step within the limits (${o.dh.stop})` +
        (o.target < o.requested ? `; capped by the open-file hard limit ${o.hardLimit} of this machine` : ''),
    }),
    row({
      metric: 'bytes per idle device (heap + external)',
      value: fmt(metrics.bytes_per_device),
      baseline: `${fmt(metrics.socketio_bytes_per_client)} (bare Socket.IO)`,
      ratio: `${ratios.bytes_vs_socketio.toFixed(2)}x`,
      better: 'lower',
      goal: goal(`<= ${fmt(GOALS.bytes_per_device)}`, met.bytes),
      explain:
        "the server process's JS heap plus external memory per connected device, against a bare Socket.IO server holding the same clients",
    }),
    row({
      metric: '  heap / external bytes per device',
      value: `${fmt(metrics.heap_bytes_per_device)} / ${fmt(metrics.external_bytes_per_device)}`,
      explain: 'the same split: JavaScript objects (sessions, sockets) and buffers outside the heap',
    }),
    row({
      metric: 'idle CPU ms/s per 1,000 devices',
      value: fmt(metrics.idle_cpu_per_1k_devices, 2),
      baseline: fmt(metrics.socketio_idle_cpu_per_1k_clients, 2),
      ratio: `${ratios.idle_cpu_vs_socketio.toFixed(2)}x`,
      better: 'lower',
      explain:
        "server CPU spent per second per 1,000 idle devices (heartbeats and timers): a quiet floor's standing cost",
    }),
    row({
      metric: `offer p99 ms while ${fmt(top.devices)} devices idle`,
      value: metrics.offer_p99_ms.toFixed(2),
      goal: goal(`<= ${GOALS.offer_p99_ms} ms`, met.offer),
      explain: `ready->offer latency of ${o.plan.activeAgents} active agents at ${o.plan.offerRatePerS} offers/s while the idle devices are held, slowest 1%`,
    }),
    row({
      metric: 'gateway RSS MiB at the top step',
      value: fmt(metrics.gateway_rss_mib, 1),
      baseline: fmt(metrics.socketio_rss_mib, 1),
      explain:
        "the server process's resident memory with every device connected (includes the heap's free room)",
    }),
    row({
      metric: 'device handshakes per second',
      value: fmt(metrics.connects_per_s),
      explain:
        'how fast devices connected during the ramp (token check and session set-up included): what a reconnect storm costs',
    }),
    row({
      metric: 'windows repeated (disturbed) / counted though disturbed',
      value: `${metrics.rounds_repeated} / ${metrics.rounds_counted_disturbed}`,
      explain:
        'idle windows measured again because other processes took more than config.plan.maxOtherCores cores, and those still counted after the retry budget',
    }),
  ];
  return { result, rows };
}

export const connectionsScenario: Scenario = {
  name: 'connections',
  summary:
    'idle devices one gateway process holds with heartbeats on: bytes and idle CPU per device, offer p99 meanwhile, vs a bare Socket.IO server',
  run,
};
