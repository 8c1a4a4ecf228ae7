// The `engine` scenario: dialhub's queue against BullMQ's on the same Redis, in one invocation.
//  1. throughput: dialhub lease+complete cycles/s vs BullMQ process jobs/s (and enqueue vs
//     addBulk), each side at the settings that serve it best (tuned in this run), alternating
//     dialhub, BullMQ, dialhub, ... for several rounds; medians reported;
//  2. memory: Redis bytes per queued lead at 10k and 1M leads;
//  3. lease latency at 10k and 1M queued, interleaved.
// Every key lives under the run's prefix; campaigns and queues are dropped as soon as they are
// measured, and run.ts sweeps the prefix at the end whatever happens.
import type { CampaignRef } from '../../engine/ids.js';
import { campaignKeys } from '../../engine/keys.js';
import { createRedisQueueStore } from '../../engine/redis/redis-queue-store.js';
import type { RedisQueueStore } from '../../engine/redis/redis-queue-store.js';
import { CpuMeter } from '../lib/cpu-meter.js';
import type { CpuShare } from '../lib/cpu-meter.js';
import { connectAdmin } from '../lib/redis-admin.js';
import type { AdminClient } from '../lib/redis-admin.js';
import { fmt } from '../lib/report.js';
import type { Scenario, ScenarioContext, ScenarioOutcome } from '../lib/scenario.js';
import { runBullmqCycles } from './engine/bullmq-cycles.js';
import { runClusterComparison } from './engine/cluster.js';
import { newCampaign, purgeTombstones, runDialhubCycles, tombstoneCount } from './engine/dialhub-cycles.js';
import { campaignKeyBytes, measureFootprint } from './engine/footprint.js';
import { measureLeaseLatency } from './engine/lease-latency.js';
import { countWrites } from './engine/write-count.js';
import { buildOutcome } from './engine/outcome.js';
import type { DepthResult, DialhubRun, RoundResult, Tuning } from './engine/outcome.js';
import { FULL, QUICK, SUITE } from './engine/plan.js';
import type { DialhubShape, Plan } from './engine/plan.js';

const TENANT = 'bench';

/** Cores busy during a timed phase, for the progress log. */
const cpuNote = (c: CpuShare) =>
  `[cores: self ${c.self}, redis ${c.redis}, other ${c.other}, steal ${c.steal}]`;

interface Env {
  readonly ctx: ScenarioContext;
  readonly plan: Plan;
  readonly store: RedisQueueStore;
  readonly admin: AdminClient;
  readonly dhPrefix: string;
  readonly bullPrefix: string;
}

/** One dialhub measurement on a fresh campaign, which is dropped afterwards. */
async function dialhubRun(
  env: Env,
  campaign: string,
  leads: number,
  shape: DialhubShape,
): Promise<DialhubRun> {
  const { store, plan, admin, dhPrefix } = env;
  const ref = await newCampaign(store, TENANT, campaign);
  try {
    const cycles = await runDialhubCycles(store, ref, {
      leads,
      agents: plan.agents,
      enqueueBatch: plan.enqueueBatch,
      offerTtlMs: plan.offerTtlMs,
      signal: env.ctx.signal,
      meter: new CpuMeter(admin),
      maxPairs: shape.maxPairs,
      concurrency: shape.concurrency,
    });
    // Every lead is done now: what is left is lease tombstones (kept for duplicate and late
    // completions) plus the agents and config, i.e. what a completed call goes on costing.
    const left = await campaignKeyBytes(admin, dhPrefix, ref);
    const keys = campaignKeys(dhPrefix, ref);
    const purge = await purgeTombstones(store, ref, plan.tombstoneRetentionMs, () =>
      tombstoneCount(admin, keys),
    );
    return { ...cycles, retainedBytesPerCycle: left.bytes / cycles.cycles, purge };
  } finally {
    await store.dropCampaign(ref);
  }
}

async function bullmqRun(env: Env, queue: string, jobs: number, concurrency: number) {
  return runBullmqCycles(env.ctx.redisUrl, env.bullPrefix, queue, {
    jobs,
    concurrency,
    addBatch: env.plan.bullmqAddBatch,
    signal: env.ctx.signal,
    meter: new CpuMeter(env.admin),
  });
}

/**
 * Try each side's candidate settings on `tuneLeads` items, interleaved (d1, b1, d2, b2, ...) and
 * repeated `tunePasses` times, so noise hits both sides alike; keep each side's best. A warm-up
 * run of each comes first, so the first candidate does not pay for JIT and script loading.
 */
async function tune(env: Env): Promise<Tuning> {
  const { plan, ctx } = env;
  await dialhubRun(env, 'warmup', plan.warmupLeads, plan.dialhubCandidates[0]!);
  await bullmqRun(env, 'warmup', plan.warmupLeads, plan.bullmqConcurrencies[0]!);
  const dialhub = plan.dialhubCandidates.map((shape) => ({ ...shape, cycles_per_s: [] as number[] }));
  const bullmq = plan.bullmqConcurrencies.map((concurrency) => ({ concurrency, jobs_per_s: [] as number[] }));
  for (let pass = 1; pass <= plan.tunePasses; pass++) {
    for (let i = 0; i < Math.max(dialhub.length, bullmq.length); i++) {
      const d = dialhub[i];
      if (d) {
        const r = await dialhubRun(env, `tune${pass}-${d.maxPairs}x${d.concurrency}`, plan.tuneLeads, d);
        d.cycles_per_s.push(Math.round(r.cyclesPerS));
        ctx.log(
          `tune dialhub maxPairs=${d.maxPairs} x${d.concurrency}: ${fmt(r.cyclesPerS)} cycles/s ${cpuNote(r.cpu)}`,
        );
      }
      const b = bullmq[i];
      if (b) {
        const r = await bullmqRun(env, `tune${pass}-c${b.concurrency}`, plan.tuneLeads, b.concurrency);
        b.jobs_per_s.push(Math.round(r.jobsPerS));
        ctx.log(`tune bullmq concurrency=${b.concurrency}: ${fmt(r.jobsPerS)} jobs/s ${cpuNote(r.cpu)}`);
      }
    }
  }
  const best = <T>(items: readonly T[], score: (t: T) => number[]): T =>
    items.reduce((a, b) => (Math.max(...score(b)) > Math.max(...score(a)) ? b : a));
  const bestD = best(dialhub, (d) => d.cycles_per_s);
  const bestB = best(bullmq, (b) => b.jobs_per_s);
  return {
    dialhub: { maxPairs: bestD.maxPairs, concurrency: bestD.concurrency },
    bullmqConcurrency: bestB.concurrency,
    trials: { dialhub, bullmq },
  };
}

const disturbance = (c: CpuShare) => c.other + c.steal;

/**
 * Alternate dialhub and BullMQ until `rounds` undisturbed pairs are measured (or the extra
 * attempts run out, in which case every attempt counts and the result says so).
 */
async function throughputRounds(env: Env, tuning: Tuning): Promise<RoundResult[]> {
  const { plan, ctx } = env;
  const attempts: Omit<RoundResult, 'counted'>[] = [];
  let clean = 0;
  for (let a = 1; clean < plan.rounds && a <= plan.rounds * 2; a++) {
    const dialhub = await dialhubRun(env, `cycles-a${a}`, plan.leadsPerRound, tuning.dialhub);
    ctx.log(
      `round ${a} dialhub: ${fmt(dialhub.cyclesPerS)} cycles/s ${cpuNote(dialhub.cpu)}, ` +
        `enqueue ${fmt(dialhub.enqueuePerS)} leads/s`,
    );
    const bullmq = await bullmqRun(env, `cycles-a${a}`, plan.leadsPerRound, tuning.bullmqConcurrency);
    ctx.log(
      `round ${a} bullmq: ${fmt(bullmq.jobsPerS)} jobs/s ${cpuNote(bullmq.cpu)}, add ${fmt(bullmq.addPerS)} jobs/s`,
    );
    const disturbed = Math.max(disturbance(dialhub.cpu), disturbance(bullmq.cpu)) > plan.maxOtherCores;
    if (disturbed) ctx.log(`round ${a} disturbed by other load; running another`);
    else clean++;
    attempts.push({ dialhub, bullmq, disturbed });
  }
  const enough = clean >= plan.rounds;
  return attempts.map((r) => ({ ...r, counted: enough ? !r.disturbed : true }));
}

async function depthAndMemory(env: Env): Promise<DepthResult> {
  const { store, admin, plan, ctx, dhPrefix } = env;
  const refs: CampaignRef[] = [];
  const fresh = async (campaign: string) => {
    const ref = await newCampaign(store, TENANT, campaign);
    refs.push(ref);
    return ref;
  };
  try {
    const smallRef = await fresh('depth-small');
    const small = await measureFootprint(
      store,
      admin,
      dhPrefix,
      smallRef,
      plan.smallDepth,
      plan.enqueueBatch,
      ctx.signal,
    );
    ctx.log(`${fmt(plan.smallDepth)} leads: ${fmt(small.bytesPerLead, 1)} B/lead (used_memory delta)`);
    const largeRef = await fresh('depth-large');
    const large = await measureFootprint(
      store,
      admin,
      dhPrefix,
      largeRef,
      plan.largeDepth,
      plan.enqueueBatch,
      ctx.signal,
    );
    ctx.log(
      `${fmt(plan.largeDepth)} leads: ${fmt(large.bytesPerLead, 1)} B/lead (used_memory delta), ` +
        `${fmt(large.keyBytesPerLead, 1)} B/lead (MEMORY USAGE), enqueue ${fmt(large.fill.perS)} leads/s`,
    );
    const latency = await measureLeaseLatency(
      store,
      [
        { label: 'small', ref: smallRef, depth: plan.smallDepth },
        { label: 'large', ref: largeRef, depth: plan.largeDepth },
      ],
      {
        samples: plan.latencySamples,
        warmup: plan.latencyWarmup,
        block: plan.latencyBlock,
        offerTtlMs: plan.offerTtlMs,
        signal: ctx.signal,
      },
    );
    return { small, large, latency };
  } finally {
    for (const ref of refs) await store.dropCampaign(ref);
  }
}

export const engineScenario: Scenario = {
  name: 'engine',
  summary: 'dialhub lease+complete vs BullMQ add/process, lease latency at 10k/1M, bytes per lead',
  options: [
    {
      flags: '--cluster',
      description:
        'instead: lease+complete cycles/s on a local 3-master Redis Cluster (redis-server) vs the single Redis, 3 campaigns at once',
    },
  ],
  async run(ctx: ScenarioContext): Promise<ScenarioOutcome> {
    const plan = ctx.quick ? QUICK : ctx.suite ? SUITE : FULL;
    const dhPrefix = `${ctx.keyPrefix}dh:`;
    const admin = await connectAdmin(ctx.redisUrl);
    let store: RedisQueueStore | undefined;
    try {
      store = await createRedisQueueStore({
        url: ctx.redisUrl,
        keyPrefix: dhPrefix,
        tombstoneRetentionMs: plan.tombstoneRetentionMs,
      });
      // --cluster: only the cycles on a local 3-master Redis Cluster against this single Redis.
      if (ctx.options['cluster'] === true)
        return await runClusterComparison(ctx, plan, admin, store, dhPrefix);
      const env: Env = { ctx, plan, store, admin, dhPrefix, bullPrefix: `${ctx.keyPrefix}bull` };
      const tuning = await tune(env);
      ctx.log(
        `tuned: dialhub maxPairs=${tuning.dialhub.maxPairs} concurrency=${tuning.dialhub.concurrency}; ` +
          `bullmq concurrency=${tuning.bullmqConcurrency}`,
      );
      const rounds = await throughputRounds(env, tuning);
      // Untimed: element writes per cycle, counted from Redis under MONITOR (engine/write-count.ts).
      const ref = await newCampaign(store, TENANT, 'writes');
      const writes = await countWrites(ctx.redisUrl, admin, dhPrefix, store, ref, {
        ...tuning.dialhub,
        leads: plan.writeCountLeads,
        agents: plan.agents,
        offerTtlMs: plan.offerTtlMs,
        enqueueBatch: plan.enqueueBatch,
        retentionMs: plan.tombstoneRetentionMs,
        signal: ctx.signal,
        meter: new CpuMeter(admin),
      }).finally(() => store?.dropCampaign(ref));
      ctx.log(
        `${fmt(writes.perCycle, 2)} Redis element writes per cycle (+${fmt(writes.deferredPerCycle, 2)} deferred)`,
      );
      const depth = await depthAndMemory(env);
      return buildOutcome({ quick: ctx.quick, redisUrl: ctx.redisUrl, plan, tuning, rounds, depth, writes });
    } finally {
      await store?.close();
      await admin.close();
    }
  },
};
