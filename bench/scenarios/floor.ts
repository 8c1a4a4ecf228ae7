// The `floor` scenario: a realistic floor, the figure a call-centre manager reads. Simulated
// agents (socket.io-client devices in worker processes apart from the server) think, wait for
// numbers to ring, talk and wrap up with an outcome mix (answered, no answer, busy, voicemail,
// callbacks, DNC, failures; no-answers and busies come back as retries), for a fixed time. It sets
// itself up through the admin API (tenant, agents, devices, campaign, leads), so the same run
// works against a gateway it starts and against a remote dialhub (`--url --token`), and retires
// its campaign at the end. Baseline: the ideal floor, where every offer arrives the instant the
// agent is ready (talk time over cycle time from the same profile).
import { randomBytes } from 'node:crypto';
import { InvalidArgumentError } from 'commander';
import { ALWAYS_OPEN } from '../../engine/calling-window.js';
import { AdminClient } from '../lib/admin-client.js';
import type { FloorLead } from '../lib/admin-client.js';
import { latencyByPercentile, PERCENTILE_TICKS } from '../lib/charts.js';
import type { Chart } from '../lib/charts.js';
import { mergeHistograms, summarizeHistogram } from '../lib/hdr.js';
import { connectAdmin } from '../lib/redis-admin.js';
import { fmt, tableRow } from '../lib/report.js';
import type { RowInput, ScenarioResult, TableRow } from '../lib/report.js';
import type { Scenario, ScenarioContext, ScenarioOutcome } from '../lib/scenario.js';
import { round } from '../lib/stats.js';
import { WindowMeter } from '../lib/window-meter.js';
import type { WindowCpu } from '../lib/window-meter.js';
import type { FloorDeviceCredential, FloorMark, FloorWorkerApi } from './floor/api.js';
import type { FloorGatewayArgs } from './floor/gateway-server.js';
import { FULL, GOALS, QUICK, SUITE } from './floor/plan.js';
import type { FloorPlan } from './floor/plan.js';
import { DEFAULT_PROFILE, idealUtilisation, OUTCOMES, paced, withAnswerRate } from './floor/profile.js';
import type { FloorProfile } from './floor/profile.js';
import type { ServerApi } from './loop/api.js';
import { ChildHandle } from './loop/ipc.js';
import { Teardowns } from './loop/rig.js';
import { createSchemas } from './loop/seed.js';

const CAMPAIGN = 'floor';
/** Admin API requests in flight at once while setting up. */
const SETUP_CONCURRENCY = 8;
/** The admin API's largest lead list per request (MAX_LEADS_PER_REQUEST). */
const LEADS_PER_REQUEST = 10_000;
const FIRST_NUMBER = 447_700_900_000;

const entry = (file: string) => new URL(file, import.meta.url);

async function eachLimited<T>(items: readonly T[], limit: number, work: (t: T, i: number) => Promise<void>) {
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const i = next++;
      await work(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: limit }, lane));
}

function rate(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || n > 1) throw new InvalidArgumentError('must be a share in (0, 1]');
  return n;
}

function positive(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('must be a positive number');
  return n;
}

/** The campaign as the floor needs it: always open, retries and callbacks within the run. */
function campaignSpec(profile: FloorProfile, status: 'active' | 'archived') {
  const retry = {
    final: false,
    retryDelayMs: Math.round(profile.retryAfterMs),
    maxAttempts: 3,
    contact: false,
  };
  return {
    name: 'Bench floor',
    status,
    window: ALWAYS_OPEN,
    dispositions: { no_answer: retry, busy: retry },
  };
}

interface Setup {
  readonly tenant: string;
  readonly devices: FloorDeviceCredential[];
  readonly leads: number;
  readonly ms: number;
}

/** Tenant, agents, devices (their tokens), the campaign and its leads, all through the admin API. */
async function setUp(
  ctx: ScenarioContext,
  api: AdminClient,
  tenant: string,
  agents: number,
  leads: number,
  profile: FloorProfile,
): Promise<Setup> {
  const started = performance.now();
  await api.bootstrapTenant(tenant, agents);
  const ids = Array.from({ length: agents }, (_, i) => i);
  const devices: FloorDeviceCredential[] = new Array<FloorDeviceCredential>(agents);
  const progress = ctx.progress('agents and devices', agents, 'agents');
  let done = 0;
  await eachLimited(ids, SETUP_CONCURRENCY, async (i) => {
    ctx.signal.throwIfAborted();
    await api.createAgent(tenant, `fa${i}`);
    devices[i] = { deviceId: `fd${i}`, token: await api.registerDevice(tenant, `fd${i}`, `fa${i}`) };
    progress.update(++done);
  });
  progress.stop();
  await api.putCampaign(tenant, CAMPAIGN, campaignSpec(profile, 'active'));
  let queued = 0;
  for (let from = 0; from < leads; from += LEADS_PER_REQUEST) {
    const batch: FloorLead[] = Array.from({ length: Math.min(LEADS_PER_REQUEST, leads - from) }, (_, k) => ({
      phone: `+${FIRST_NUMBER + from + k}`,
      name: `Floor Lead ${from + k}`,
      timeZone: 'Europe/London',
    }));
    queued += await api.addLeads(tenant, CAMPAIGN, batch);
  }
  return { tenant, devices, leads: queued, ms: performance.now() - started };
}

function sumMarks(marks: readonly FloorMark[]) {
  const perSecond: number[] = [];
  for (const m of marks) m.perSecond.forEach((n, s) => (perSecond[s] = (perSecond[s] ?? 0) + n));
  const outcomes = Object.fromEntries(OUTCOMES.map((o) => [o, marks.reduce((a, m) => a + m.outcomes[o], 0)]));
  return {
    loggedInMs: marks.reduce((a, m) => a + m.loggedInMs, 0),
    talkMs: marks.reduce((a, m) => a + m.talkMs, 0),
    calls: marks.reduce((a, m) => a + m.calls, 0),
    redials: marks.reduce((a, m) => a + m.redials, 0),
    errors: marks.reduce((a, m) => a + m.errors, 0),
    errorSamples: marks.flatMap((m) => m.errorSamples).slice(0, 5),
    outcomes: outcomes as Record<(typeof OUTCOMES)[number], number>,
    offer: mergeHistograms(marks.map((m) => m.offer)),
    perSecond: Array.from(perSecond, (n) => n ?? 0),
  };
}

async function run(ctx: ScenarioContext): Promise<ScenarioOutcome> {
  const plan: FloorPlan = ctx.quick ? QUICK : ctx.suite ? SUITE : FULL;
  const agents = ctx.agents ?? plan.agents;
  const durationS = ctx.durationS ?? plan.durationS;
  const pace = typeof ctx.options['pace'] === 'number' ? ctx.options['pace'] : plan.pace;
  const answerRate = typeof ctx.options['answerRate'] === 'number' ? ctx.options['answerRate'] : undefined;
  const profile = paced(
    answerRate === undefined ? DEFAULT_PROFILE : withAnswerRate(DEFAULT_PROFILE, answerRate),
    pace,
  );
  const ideal = idealUtilisation(profile);
  const workersN = Math.min(plan.workers, agents);
  const leads =
    Math.ceil(((agents * ideal.callsPerAgentHour * durationS) / 3600) * plan.leadHeadroom) + agents * 2;
  const teardowns = new Teardowns();
  const remote = ctx.target !== undefined;
  try {
    const admin = await connectAdmin(ctx.redisUrl);
    teardowns.add('redis admin client', () => admin.close());
    // 1. The system under test: the one given with --url, or a gateway started here.
    let url: string;
    let token: string;
    let tenant: string;
    let server: ChildHandle<ServerApi> | undefined;
    if (ctx.target) {
      ({ url, token, tenant } = ctx.target);
    } else {
      const postgres = await createSchemas(ctx.postgresUrl, ctx.runId);
      teardowns.add('postgres schemas', () => postgres.drop());
      token = randomBytes(24).toString('hex');
      const args: FloorGatewayArgs = {
        redisUrl: ctx.redisUrl,
        keyPrefix: `${ctx.keyPrefix}dh:`,
        postgresUrl: postgres.dialhub.url,
        schema: postgres.dialhub.schema,
        deviceTokenSecret: randomBytes(24).toString('hex'),
        adminToken: token,
        config: { LOG_LEVEL: 'silent' },
      };
      server = await ChildHandle.fork<ServerApi>('dialhub gateway', entry('./floor/gateway-server.ts'), args);
      const started = server;
      teardowns.add('dialhub gateway', () => started.close());
      url = `http://127.0.0.1:${(await server.call('start')).port}`;
      tenant = `bench${ctx.runId.slice(-6)}`;
    }
    const api = new AdminClient(url, { token });
    if (remote) {
      // Runs last (after the workers have closed): a remote dialhub keeps no agent or device
      // token of the run. A local gateway's schema is dropped whole instead.
      teardowns.add('agents and their devices (deleted)', async () => {
        const ids = Array.from({ length: agents }, (_, i) => `fa${i}`);
        for (let i = 0; i < ids.length; i += 10) {
          await Promise.all(ids.slice(i, i + 10).map((id) => api.deleteAgent(tenant, id)));
        }
      });
    }
    const setup = await setUp(ctx, api, tenant, agents, leads, profile);
    // Retire the campaign whatever happens next, so a remote dialhub stops offering its leads.
    teardowns.add('campaign (archived)', () =>
      api.putCampaign(tenant, CAMPAIGN, campaignSpec(profile, 'archived')),
    );
    ctx.log(
      `${remote ? url : 'local gateway'}: tenant ${tenant}, ${fmt(agents)} agents, ${fmt(setup.leads)} leads (${fmt(setup.ms)} ms)`,
    );

    // 2. The floor.
    const workers = await Promise.all(
      Array.from({ length: workersN }, async (_, w) => {
        const h = await ChildHandle.fork<FloorWorkerApi>(
          `floor worker ${w}`,
          entry('./floor/floor-worker.ts'),
          {},
        );
        teardowns.add(`floor worker ${w}`, () => h.close());
        return h;
      }),
    );
    await Promise.all(
      workers.map((w, i) =>
        w.call('connect', {
          url: `${url}/agent`,
          campaignId: CAMPAIGN,
          devices: setup.devices.filter((_, k) => k % workersN === i),
          concurrency: plan.connectConcurrency,
        }),
      ),
    );
    const meter = new WindowMeter(admin, () => [
      ...workers.map((w) => w.pid),
      ...(server ? [server.pid] : []),
    ]);
    const serverCpu0 = server ? (await server.call('mark')).cpuUs : Number.NaN;
    await meter.start();
    await Promise.all(workers.map((w) => w.call('start', { profile })));
    const progress = ctx.progress('floor', Math.ceil(durationS), 's');
    const t0 = performance.now();
    while (performance.now() - t0 < durationS * 1000) {
      ctx.signal.throwIfAborted();
      await new Promise((r) => setTimeout(r, Math.min(1000, durationS * 1000 - (performance.now() - t0))));
      progress.update(Math.floor((performance.now() - t0) / 1000));
    }
    progress.stop();
    const marks = await Promise.all(workers.map((w) => w.call('stop', { timeoutMs: plan.stopTimeoutMs })));
    const cpu = await meter.stop();
    const serverCpuCores = server
      ? ((await server.call('mark')).cpuUs - serverCpu0) / 1e6 / cpu.seconds
      : Number.NaN;
    return buildOutcome({
      plan,
      agents,
      durationS,
      pace,
      profile,
      ideal,
      setup,
      marks,
      cpu,
      serverCpuCores,
      remote,
    });
  } finally {
    await teardowns.run((m) => ctx.log(m));
  }
}

interface OutcomeInput {
  readonly plan: FloorPlan;
  readonly agents: number;
  readonly durationS: number;
  readonly pace: number;
  readonly profile: FloorProfile;
  readonly ideal: ReturnType<typeof idealUtilisation>;
  readonly setup: Setup;
  readonly marks: readonly FloorMark[];
  readonly cpu: WindowCpu;
  readonly serverCpuCores: number;
  readonly remote: boolean;
}

function buildOutcome(o: OutcomeInput): ScenarioOutcome {
  const t = sumMarks(o.marks);
  const offer = summarizeHistogram(t.offer);
  const hours = t.loggedInMs / o.agents / 3_600_000;
  // Simulated time: at pace 10 one real second stands for ten floor seconds.
  const callsPerHour = (t.calls / hours) * (1 / o.pace);
  const idealCallsPerHour = (o.ideal.callsPerAgentHour * o.agents) / o.pace;
  const utilisation = t.loggedInMs > 0 ? t.talkMs / t.loggedInMs : Number.NaN;
  const disturbed = o.cpu.other + o.cpu.steal > o.plan.maxOtherCores;
  const metrics = {
    agents: o.agents,
    duration_s: o.durationS,
    calls: t.calls,
    calls_per_hour: round(callsPerHour, 0),
    ideal_calls_per_hour: round(idealCallsPerHour, 0),
    agent_utilisation: round(utilisation, 4),
    ideal_utilisation: round(o.ideal.utilisation, 4),
    offer_p50_ms: offer.p50_ms,
    offer_p99_ms: offer.p99_ms,
    offer_max_ms: offer.max_ms,
    offers: offer.count,
    redials: t.redials,
    errors: t.errors,
    gateway_cpu_cores: round(o.serverCpuCores, 3),
    gateway_cpu_ms_per_call: round((o.serverCpuCores * o.cpu.seconds * 1000) / Math.max(1, t.calls), 3),
    other_cores: o.cpu.other,
    rounds_repeated: 0,
    rounds_counted_disturbed: disturbed ? 1 : 0,
    ...Object.fromEntries(OUTCOMES.map((k) => [`outcome_${k}`, t.outcomes[k]])),
  };
  const ratios = {
    utilisation_vs_ideal: round(utilisation / o.ideal.utilisation, 3),
    calls_per_hour_vs_ideal: round(callsPerHour / idealCallsPerHour, 3),
  };
  const bucket = Math.max(1, Math.round(o.durationS / 60));
  const throughput: [number, number][] = [];
  for (let s = 0; s < t.perSecond.length; s += bucket) {
    const n = t.perSecond.slice(s, s + bucket).reduce((a, b) => a + b, 0);
    throughput.push([s, round(n / bucket, 2)]);
  }
  const charts: Chart[] = [
    {
      kind: 'lines',
      title: 'calls completed per second over the run',
      xLabel: 's since start',
      yLabel: 'calls/s',
      series: [{ name: 'calls/s', points: throughput }],
    },
    {
      kind: 'lines',
      title: 'ready->offer latency by percentile',
      xLabel: 'percentile',
      yLabel: 'ms',
      xTicks: PERCENTILE_TICKS,
      series: [latencyByPercentile('dialhub', t.offer)],
    },
    {
      kind: 'bars',
      title: 'outcome mix: planned vs observed (share of calls)',
      yLabel: 'share',
      groups: [...OUTCOMES],
      series: [
        { name: 'planned', values: OUTCOMES.map((k) => o.profile.mix[k]) },
        {
          name: 'observed',
          values: OUTCOMES.map((k) => (t.calls > 0 ? round(t.outcomes[k] / t.calls, 3) : 0)),
        },
      ],
    },
  ];
  const result: ScenarioResult = {
    metrics,
    ratios,
    config: {
      plan: o.plan,
      agents: o.agents,
      duration_s: o.durationS,
      pace: o.pace,
      profile: o.profile,
      remote: o.remote,
      leads_queued: o.setup.leads,
      setup_ms: round(o.setup.ms, 0),
    },
    window_cores: o.cpu,
    goals: { offer_p99_ms: { goal: `<= ${GOALS.offer_p99_ms}`, met: offer.p99_ms <= GOALS.offer_p99_ms } },
    error_samples: t.errorSamples,
    charts,
    notes: [
      `Profile: think ${round(o.profile.think.meanMs)} ms, ring ${round(o.profile.ring.meanMs)} ms, talk ${round(o.profile.talk.meanMs)} ms on average (log-normal), at pace ${o.pace} (every duration divided by it); calls per hour are given in floor time.`,
      'Utilisation is talk time over logged-in time of all agents; the ideal floor (baseline) has the same profile with every offer arriving the instant an agent is ready.',
      'Talk time counts when a call completes: calls still in progress when the floor stops, and the log-in spread at the start, make utilisation read low on short runs (--quick); the full run is long enough for that to fade.',
      'No-answers and busies come back as retries (campaign dispositions with a short retry delay) and callbacks are booked for anyone, so redials counts offers of leads dialled before.',
      o.remote
        ? 'Remote run: the server is not ours to measure, so gateway CPU is not reported; the run created its own tenant and owner with the operator token, worked as that owner, and at the end archived its campaign and deleted its agents with their devices (the admin API cannot delete tenants).'
        : 'The gateway ran in its own process on this machine, with its HTTP admin API; the floor set itself up through that API as it would on a remote dialhub.',
    ],
  };
  const goal = (text: string, ok: boolean) => `${text} (${ok ? 'met' : 'missed'})`;
  const row = (r: RowInput): TableRow => tableRow('floor', r);
  const x = (v: number) => `${v.toFixed(2)}x`;
  const rows: TableRow[] = [
    row({
      metric: `calls per hour, ${fmt(o.agents)} agents`,
      value: fmt(callsPerHour),
      baseline: `${fmt(idealCallsPerHour)} (ideal floor)`,
      ratio: x(ratios.calls_per_hour_vs_ideal),
      better: 'higher',
      explain:
        'dials completed per hour of floor time (answered or not), against a floor where offers arrive the instant agents are ready',
    }),
    row({
      metric: 'agent utilisation (talk / logged in)',
      value: `${round(utilisation * 100, 1)}%`,
      baseline: `${round(o.ideal.utilisation * 100, 1)}%`,
      ratio: x(ratios.utilisation_vs_ideal),
      better: 'higher',
      explain:
        'share of logged-in time agents spent talking to people; what waiting for offers costs shows as the gap to the ideal',
    }),
    row({
      metric: 'ready->offer p99 ms (p50)',
      value: `${offer.p99_ms.toFixed(2)} (${offer.p50_ms.toFixed(2)})`,
      goal: goal(`<= ${GOALS.offer_p99_ms} ms`, offer.p99_ms <= GOALS.offer_p99_ms),
      explain:
        'from an agent saying ready to the next call arriving on its device, slowest 1% (median in brackets)',
    }),
    row({
      metric: 'gateway CPU (cores) / ms per call',
      value: o.remote ? 'remote' : `${fmt(o.serverCpuCores, 3)} / ${fmt(metrics.gateway_cpu_ms_per_call, 2)}`,
      explain:
        "the gateway process's CPU over the floor window, and per completed call (not measured on a remote dialhub)",
    }),
    row({
      metric: 'outcomes: answered / no answer / busy / voicemail / callback / DNC / failed',
      value: OUTCOMES.map((k) => t.outcomes[k]).join(' / '),
      explain: 'completed calls by outcome, drawn from the profile mix',
    }),
    row({
      metric: 'redials offered (retries and callbacks)',
      value: fmt(t.redials),
      explain:
        'offers of leads that had been dialled before: no-answers and busies retried, callbacks coming due',
    }),
    row({
      metric: 'errors',
      value: fmt(t.errors),
      explain: `refused events and dropped connections seen by the devices${t.errorSamples.length > 0 ? ` (e.g. ${t.errorSamples[0]})` : ''}`,
    }),
    row({
      metric: 'floor window disturbed',
      value: disturbed ? `yes (${o.cpu.other} other cores)` : 'no',
      explain:
        'whether other processes took more than config.plan.maxOtherCores cores during the floor window (a floor run is long, so it is reported, not repeated)',
    }),
  ];
  return { result, rows };
}

export const floorScenario: Scenario = {
  name: 'floor',
  summary:
    'a realistic floor: agents with think/ring/talk times and an outcome mix; calls per hour, utilisation, offer p99, gateway CPU, vs the ideal floor',
  remote: true,
  options: [
    {
      flags: '--pace <x>',
      description: 'divide every think/ring/talk time by x (default 1; --quick 10)',
      parse: positive,
    },
    { flags: '--answer-rate <share>', description: 'share of dials answered (default 0.35)', parse: rate },
  ],
  run,
};
