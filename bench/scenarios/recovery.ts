// The `recovery` scenario: what happens to the calls of agents that go silent while they hold
// them (a frozen app, a dead radio: no packets and no disconnect). 10% of the agents hold a call
// each; their process is frozen (SIGSTOP); the scenario measures the time until each of those
// calls is offered to another agent, then resumes the frozen process and lets its devices
// complete their calls late, counting what the system accepts.
//
// dialhub: the real gateway in a child process (5 s lease, the rest at its defaults), devices in
// worker processes. Baseline: BullMQ's stalled-job recovery, a frozen Worker process holding jobs
// and a live one taking them over, at BullMQ's defaults (30 s lock, 30 s stalled check) and tuned
// to a 2 s lock. Goal: re-offer p99 <= lease TTL + 100 ms, 0 lost, 0 duplicates, every late
// completion of a call offered again refused.
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Queue } from 'bullmq';
import { createClient } from 'redis';
import type { Chart } from '../lib/charts.js';
import { fmt, tableRow } from '../lib/report.js';
import type { TableRow } from '../lib/report.js';
import type { Scenario, ScenarioContext, ScenarioOutcome } from '../lib/scenario.js';
import { round, summarize } from '../lib/stats.js';
import type { LatencySummary } from '../lib/stats.js';
import type { QueueServerApi } from './loop/api.js';
import { ChildHandle } from './loop/ipc.js';
import type { ChildApi } from './loop/ipc.js';
import { Teardowns } from './loop/rig.js';
import { CAMPAIGN, createSchemas, dialhubServerArgs, seedDialhub } from './loop/seed.js';
import type { BullmqWorkerApi, DialhubFleetApi, LateCompletions, Tally } from './recovery/api.js';
import type { BullmqWorkerArgs } from './recovery/bullmq-worker.js';
import {
  BULLMQ_VARIANTS,
  DIALHUB_CONFIG,
  DIALHUB_TTL_MS,
  FULL,
  GOALS,
  QUICK,
  SUITE,
  recoveryDeadlineMs,
} from './recovery/plan.js';
import type { BullmqVariant, RecoveryPlan } from './recovery/plan.js';

const NAME = 'recovery';
/** dialhub's reaper interval (RECLAIM_INTERVAL_MS default): the check that puts leads back. */
const DIALHUB_CHECK_MS = 1_000;
const POLL_MS = 100;
/** Live agents get this long to settle into their loop before the freeze. */
const STEADY_MS = 1_500;

/** One system's run: when each orphaned call came back, and what the late completions got. */
interface SystemResult {
  readonly system: string;
  readonly ttlMs: number;
  readonly orphans: number;
  readonly reofferMs: readonly number[];
  readonly reoffer: LatencySummary;
  readonly lost: number;
  readonly duplicates: number;
  readonly late: LateCompletions;
  /** Late completions accepted although the call had been offered again. */
  readonly lateAcceptedOfReoffered: number;
  readonly errors: Readonly<Record<string, number>>;
  readonly config: Readonly<Record<string, unknown>>;
}

const entry = (path: string) => new URL(path, import.meta.url);

async function forkChild<A extends ChildApi<A>>(t: Teardowns, name: string, path: string, args: unknown) {
  const child = await ChildHandle.fork<A>(name, entry(path), args);
  t.add(name, async () => {
    // A frozen child cannot answer its shutdown request.
    if (child.alive) process.kill(child.pid, 'SIGCONT');
    await child.close(5_000);
  });
  return child;
}

async function waitFor(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(POLL_MS);
  }
}

/**
 * After the freeze at t0: poll the live side's sightings until every orphan was offered again
 * (at or after t0) or the deadline passed. Returns the delay per orphan that came back.
 */
async function watchReoffers(
  orphans: readonly string[],
  t0: number,
  deadlineMs: number,
  tally: () => Promise<Tally>,
): Promise<Map<string, number>> {
  const back = new Map<string, number>();
  const wanted = new Set(orphans);
  while (back.size < wanted.size && Date.now() - t0 < deadlineMs) {
    await sleep(POLL_MS);
    for (const [id, at] of (await tally()).offers) {
      if (at >= t0 && wanted.has(id) && !back.has(id)) back.set(id, at - t0);
    }
  }
  return back;
}

function verdict(
  system: string,
  ttlMs: number,
  orphans: readonly string[],
  back: Map<string, number>,
  late: LateCompletions,
  tallies: readonly Tally[],
  config: Record<string, unknown>,
): SystemResult {
  const completions = new Map<string, number>();
  const errors: Record<string, number> = {};
  for (const t of tallies) {
    for (const [id, n] of Object.entries(t.completed)) completions.set(id, (completions.get(id) ?? 0) + n);
    for (const [k, n] of Object.entries(t.errors)) errors[k] = (errors[k] ?? 0) + n;
  }
  const reofferMs = [...back.values()];
  return {
    system,
    ttlMs,
    orphans: orphans.length,
    reofferMs,
    reoffer: summarize(reofferMs),
    lost: orphans.filter((id) => !back.has(id)).length,
    duplicates: [...completions.values()].filter((n) => n > 1).length,
    late,
    lateAcceptedOfReoffered: late.accepted.filter((id) => back.has(id)).length,
    errors,
    config,
  };
}

async function runDialhub(ctx: ScenarioContext, plan: RecoveryPlan): Promise<SystemResult> {
  const t = new Teardowns();
  try {
    const postgres = await createSchemas(ctx.postgresUrl, ctx.runId);
    t.add('postgres schemas', () => postgres.drop());
    const secret = randomBytes(32).toString('hex');
    const creds = await seedDialhub(postgres.dialhub, plan.agents, secret);
    const args = dialhubServerArgs(ctx, postgres.dialhub, secret, DIALHUB_CONFIG);
    const server = await forkChild<QueueServerApi>(t, 'dialhub gateway', './loop/dialhub-server.ts', args);
    const { port } = await server.call('start');
    const silentCount = Math.round(plan.agents * plan.silentShare);
    const leads = (plan.agents - silentCount) * plan.leadsPerLiveAgent + silentCount;
    await server.call('fill', { from: 0, count: leads, batch: 1_000 });
    const url = `http://127.0.0.1:${port}/agent`;
    const [silent, live] = await Promise.all([
      forkChild<DialhubFleetApi>(t, 'silent devices', './recovery/dialhub-fleet.ts', {}),
      forkChild<DialhubFleetApi>(t, 'live devices', './recovery/dialhub-fleet.ts', {}),
    ]);
    const common = { url, campaignId: CAMPAIGN, talkMs: plan.talkMs, concurrency: plan.connectConcurrency };
    await silent.call('connect', { ...common, agents: creds.slice(0, silentCount), role: 'silent' });
    await live.call('connect', { ...common, agents: creds.slice(silentCount), role: 'live' });
    await silent.call('start');
    await waitFor('every silent device to hold a call', 30_000, async () => {
      return (await silent.call('held')).length === silentCount;
    });
    const orphans = await silent.call('held');
    await live.call('start');
    await sleep(STEADY_MS);
    ctx.log(`dialhub: ${orphans.length} devices hold calls; freezing their process`);
    const t0 = Date.now();
    process.kill(silent.pid, 'SIGSTOP');
    const back = await watchReoffers(orphans, t0, recoveryDeadlineMs(DIALHUB_TTL_MS, DIALHUB_CHECK_MS), () =>
      live.call('tally'),
    );
    ctx.log(`dialhub: ${back.size}/${orphans.length} calls offered again; resuming the frozen devices`);
    await live.call('stop');
    process.kill(silent.pid, 'SIGCONT');
    const late = await silent.call('release');
    await sleep(plan.talkMs + 1_000); // live calls in hand finish
    const tallies = [await live.call('tally'), await silent.call('tally')];
    return verdict('dialhub', DIALHUB_TTL_MS, orphans, back, late, tallies, {
      gateway: DIALHUB_CONFIG,
      reclaim_interval_ms: DIALHUB_CHECK_MS,
      leads,
    });
  } finally {
    await t.run((m) => ctx.log(m));
  }
}

async function runBullmq(
  ctx: ScenarioContext,
  plan: RecoveryPlan,
  variant: BullmqVariant,
): Promise<SystemResult> {
  const t = new Teardowns();
  const { lockDurationMs, stalledIntervalMs } = BULLMQ_VARIANTS[variant];
  const prefix = `${ctx.keyPrefix}bq`;
  const queueName = `recovery-${variant}`;
  try {
    const client = createClient({ url: ctx.redisUrl });
    client.on('error', () => undefined);
    await client.connect();
    t.add('redis client', () => client.quit());
    const queue = new Queue(queueName, { connection: client, prefix });
    t.add('bullmq queue', async () => {
      await queue.obliterate({ force: true }).catch(() => undefined);
      await queue.close();
    });
    const silentCount = Math.round(plan.agents * plan.silentShare);
    const jobs = (plan.agents - silentCount) * plan.leadsPerLiveAgent + silentCount;
    for (let i = 0; i < jobs; i += 1_000) {
      const n = Math.min(1_000, jobs - i);
      await queue.addBulk(
        Array.from({ length: n }, (_, k) => ({
          name: 'call',
          data: { lead: i + k },
          opts: { jobId: `j${i + k}` },
        })),
      );
    }
    const base = {
      redisUrl: ctx.redisUrl,
      prefix,
      queueName,
      talkMs: plan.talkMs,
      lockDurationMs,
      stalledIntervalMs,
    };
    const silent = await forkChild<BullmqWorkerApi>(
      t,
      `bullmq silent worker (${variant})`,
      './recovery/bullmq-worker.ts',
      {
        ...base,
        role: 'silent',
        concurrency: silentCount,
      } satisfies BullmqWorkerArgs,
    );
    await silent.call('start');
    await waitFor('the silent worker to hold its jobs', 30_000, async () => {
      return (await silent.call('held')).length === silentCount;
    });
    const orphans = await silent.call('held');
    const live = await forkChild<BullmqWorkerApi>(
      t,
      `bullmq live worker (${variant})`,
      './recovery/bullmq-worker.ts',
      {
        ...base,
        role: 'live',
        concurrency: plan.agents - silentCount,
      } satisfies BullmqWorkerArgs,
    );
    await live.call('start');
    await sleep(STEADY_MS);
    ctx.log(`bullmq ${variant}: a worker holds ${orphans.length} jobs; freezing its process`);
    const t0 = Date.now();
    process.kill(silent.pid, 'SIGSTOP');
    const back = await watchReoffers(orphans, t0, recoveryDeadlineMs(lockDurationMs, stalledIntervalMs), () =>
      live.call('tally'),
    );
    ctx.log(`bullmq ${variant}: ${back.size}/${orphans.length} jobs taken over; resuming the frozen worker`);
    process.kill(silent.pid, 'SIGCONT');
    const late = await silent.call('release');
    await sleep(plan.talkMs + 1_000);
    const tallies = [await live.call('tally'), await silent.call('tally')];
    return verdict(`bullmq ${variant}`, lockDurationMs, orphans, back, late, tallies, {
      lock_duration_ms: lockDurationMs,
      stalled_interval_ms: stalledIntervalMs,
      max_stalled_count: 1,
      jobs,
    });
  } finally {
    await t.run((m) => ctx.log(m));
  }
}

const lateRefused = (r: SystemResult) => Object.values(r.late.refused).reduce((a, n) => a + n, 0);

function outcome(
  plan: RecoveryPlan,
  quick: boolean,
  dh: SystemResult,
  baselines: readonly SystemResult[],
): ScenarioOutcome {
  const over = (r: SystemResult) => r.reoffer.p99 - r.ttlMs;
  const metrics: Record<string, number> = {
    orphans: dh.orphans,
    reoffer_p50_ms: round(dh.reoffer.p50, 1),
    reoffer_p99_ms: round(dh.reoffer.p99, 1),
    reoffer_max_ms: round(dh.reoffer.max, 1),
    lease_ttl_ms: dh.ttlMs,
    reoffer_p99_ms_over_ttl: round(over(dh), 1),
    lost: dh.lost,
    duplicates: dh.duplicates,
    late_completions: dh.late.accepted.length + lateRefused(dh),
    late_refused: lateRefused(dh),
    late_accepted_of_reoffered: dh.lateAcceptedOfReoffered,
  };
  const ratios: Record<string, number> = {};
  for (const b of baselines) {
    const key = b.system.replace(/\W+/g, '_');
    metrics[`${key}_reoffer_p50_ms`] = round(b.reoffer.p50, 1);
    metrics[`${key}_reoffer_p99_ms`] = round(b.reoffer.p99, 1);
    metrics[`${key}_reoffer_p99_ms_over_lock`] = round(over(b), 1);
    metrics[`${key}_lost`] = b.lost;
    metrics[`${key}_duplicates`] = b.duplicates;
    metrics[`${key}_late_accepted_of_reoffered`] = b.lateAcceptedOfReoffered;
    ratios[`reoffer_p99_vs_${key}`] = round(dh.reoffer.p99 / b.reoffer.p99, 3);
  }
  const row = (r: Parameters<typeof tableRow>[1]): TableRow => tableRow(NAME, r);
  const rows: TableRow[] = [
    row({
      metric: 'orphaned call offered again, p50 / p99 ms',
      value: `${fmt(dh.reoffer.p50)} / ${fmt(dh.reoffer.p99)}`,
      goal: `p99 <= lease TTL (${fmt(dh.ttlMs)}) + ${GOALS.reofferOverTtlMs}`,
      explain: `from freezing ${fmt(dh.orphans)} devices that hold calls (SIGSTOP: no packets, no disconnect) to each call's offer to another agent`,
    }),
    ...baselines.map((b) =>
      row({
        metric: `vs ${b.system}: job taken over, p99 ms`,
        value: fmt(dh.reoffer.p99),
        baseline: fmt(b.reoffer.p99),
        ratio: `${fmt(dh.reoffer.p99 / b.reoffer.p99, 2)}x`,
        better: 'lower',
        explain: `BullMQ (lock ${fmt(b.ttlMs)} ms, stalled check every ${fmt(Number(b.config['stalled_interval_ms']))} ms): freezing a Worker process holding ${fmt(b.orphans)} jobs to another Worker starting each`,
      }),
    ),
    row({
      metric: 'lost / duplicated calls',
      value: `${dh.lost} / ${dh.duplicates}`,
      baseline: baselines.map((b) => `${b.lost} / ${b.duplicates}`).join(', '),
      goal: '0 / 0',
      explain:
        'orphaned calls never offered again by the deadline / leads whose completion was accepted twice (baselines in the order above)',
    }),
    row({
      metric: 'late completions refused',
      value: `${fmt(lateRefused(dh))} of ${fmt(dh.late.accepted.length + lateRefused(dh))}`,
      baseline: baselines
        .map((b) => `${lateRefused(b)} of ${b.late.accepted.length + lateRefused(b)}`)
        .join(', '),
      goal: 'every completion of a call offered again refused',
      explain:
        'the frozen devices resume and complete the calls they held, after those were offered to others; accepted ones would be duplicates',
    }),
  ];
  const charts: Chart[] = [
    {
      kind: 'lines',
      title: 'Orphaned calls offered again (ms after the freeze, sorted)',
      xLabel: 'orphaned calls, share',
      yLabel: 'ms',
      series: [dh, ...baselines].map((r) => {
        const sorted = [...r.reofferMs].sort((a, b) => a - b);
        return {
          name: r.system,
          points: sorted.map((ms, i) => [round((i + 1) / Math.max(1, r.orphans), 3), round(ms, 1)] as const),
        };
      }),
    },
  ];
  return {
    result: {
      metrics,
      ratios,
      config: {
        quick,
        plan,
        dialhub: dh.config,
        baselines: Object.fromEntries(baselines.map((b) => [b.system, b.config])),
      },
      errors: Object.fromEntries([dh, ...baselines].map((r) => [r.system, r.errors])),
      late: Object.fromEntries([dh, ...baselines].map((r) => [r.system, r.late.refused])),
      charts,
    },
    rows,
  };
}

export const recoveryScenario: Scenario = {
  name: NAME,
  summary:
    'agents frozen while holding calls: time until each call is offered again, lost and duplicate completions, vs BullMQ stalled-job recovery',
  async run(ctx: ScenarioContext): Promise<ScenarioOutcome> {
    const plan = ctx.quick ? QUICK : ctx.suite ? SUITE : FULL;
    const sized = ctx.agents ? { ...plan, agents: ctx.agents } : plan;
    const dh = await runDialhub(ctx, sized);
    ctx.log(
      `dialhub: re-offer p50 ${fmt(dh.reoffer.p50)} ms, p99 ${fmt(dh.reoffer.p99)} ms; lost ${dh.lost}`,
    );
    const variants: BullmqVariant[] = sized.bullmqDefaults ? ['lock2s', 'defaults'] : ['lock2s'];
    const baselines: SystemResult[] = [];
    for (const v of variants) {
      const b = await runBullmq(ctx, sized, v);
      ctx.log(
        `bullmq ${v}: take-over p50 ${fmt(b.reoffer.p50)} ms, p99 ${fmt(b.reoffer.p99)} ms; lost ${b.lost}`,
      );
      baselines.push(b);
    }
    return outcome(sized, ctx.quick, dh, baselines);
  },
};
