// The `scale` scenario: does a lease stay as cheap when the queue grows a thousandfold? Leads are
// spread evenly over many campaigns of one tenant (as a large floor holds them) and the total
// grows step by step (10k, 100k, 1M, 10M by default). At each step:
//  - Redis memory per queued lead (INFO used_memory over what the empty campaigns took; MEMORY
//    USAGE key by key, as `engine` reads it, would mean SCANning millions of keys per campaign);
//  - sequential lease latency on a fixed set of probe campaigns, each lease completed and its lead
//    replaced (so the depth holds), interleaved across the probes;
//  - how fast the step's leads went in (enqueue, import-sized batches, a few campaigns at once).
// The baseline is the smallest step of the same run: the ratio says how much a lease slows down
// from it to the largest. Keys live under the run's prefix; campaigns are dropped at the end and
// run.ts sweeps the prefix whatever happens.
import { setTimeout as sleep } from 'node:timers/promises';
import type { CampaignRef } from '../../engine/ids.js';
import { createRedisQueueStore } from '../../engine/redis/redis-queue-store.js';
import type { RedisQueueStore } from '../../engine/redis/redis-queue-store.js';
import type { Chart } from '../lib/charts.js';
import { connectAdmin, usedMemory } from '../lib/redis-admin.js';
import type { AdminClient } from '../lib/redis-admin.js';
import { fmt, tableRow } from '../lib/report.js';
import type { TableRow } from '../lib/report.js';
import type { Scenario, ScenarioContext, ScenarioOutcome } from '../lib/scenario.js';
import { round, summarize } from '../lib/stats.js';
import type { LatencySummary } from '../lib/stats.js';
import { undisturbed, WindowMeter } from '../lib/window-meter.js';
import type { RetryBudget, WindowCpu } from '../lib/window-meter.js';
import { newCampaign } from './engine/dialhub-cycles.js';
import { fillCampaign } from './engine/fill.js';
import { measureLeaseLatency } from './engine/lease-latency.js';
import { STANDARD_LEAD } from './engine/leads.js';
import { FULL, GOALS, QUICK, SUITE, stepLabel } from './scale/plan.js';
import type { ScalePlan } from './scale/plan.js';

const NAME = 'scale';
const TENANT = 'bench';
/** Settle time before reading used_memory, so the load's replies and buffers are freed. */
const SETTLE_MS = 500;
/** Cores other processes may take during a latency window before it is measured again. */
const MAX_OTHER_CORES = 0.25;

interface Probe {
  readonly ref: CampaignRef;
  /** Index of the next standard lead this campaign takes (fills and refills share it). */
  next: number;
}

interface StepResult {
  readonly total: number;
  readonly label: string;
  readonly enqueuePerS: number;
  readonly usedBytesPerLead: number;
  readonly latency: LatencySummary;
  readonly cpu: WindowCpu;
  readonly disturbed: boolean;
}

/** Fill every campaign up to `perCampaign` queued leads, `concurrency` campaigns at a time. */
async function fillTo(
  store: RedisQueueStore,
  campaigns: Probe[],
  depth: number[],
  perCampaign: number,
  plan: ScalePlan,
  ctx: ScenarioContext,
): Promise<number> {
  const bar = ctx.progress(`fill to ${fmt(perCampaign)}/campaign`, campaigns.length, 'campaigns');
  const start = process.hrtime.bigint();
  let added = 0;
  let cursor = 0;
  let done = 0;
  const worker = async () => {
    for (let i = cursor++; i < campaigns.length; i = cursor++) {
      const c = campaigns[i]!;
      const missing = perCampaign - depth[i]!;
      if (missing > 0) {
        const r = await fillCampaign(store, c.ref, missing, plan.enqueueBatch, ctx.signal, c.next);
        c.next += missing;
        depth[i] = perCampaign;
        added += r.leads;
      }
      bar.update(++done);
    }
  };
  try {
    await Promise.all(Array.from({ length: plan.fillConcurrency }, worker));
  } finally {
    bar.stop();
  }
  const s = Number(process.hrtime.bigint() - start) / 1e9;
  return added / s;
}

async function measureStep(
  env: { store: RedisQueueStore; admin: AdminClient; plan: ScalePlan; ctx: ScenarioContext },
  campaigns: Probe[],
  depth: number[],
  total: number,
  baseUsed: number,
  budget: RetryBudget,
): Promise<StepResult> {
  const { store, admin, plan, ctx } = env;
  const label = stepLabel(total);
  const enqueuePerS = await fillTo(store, campaigns, depth, total / plan.campaigns, plan, ctx);
  await sleep(SETTLE_MS);
  const used = await usedMemory(admin);
  const probes = campaigns.slice(0, plan.probes);
  const perLead = total / plan.campaigns;
  const measured = await undisturbed(
    async () => {
      const meter = new WindowMeter(admin, () => []);
      await meter.start();
      const samples = await measureLeaseLatency(
        store,
        probes.map((p, i) => ({ label: `p${i}`, ref: p.ref, depth: p.next })),
        {
          samples: plan.samples,
          warmup: plan.warmup,
          block: plan.block,
          offerTtlMs: plan.offerTtlMs,
          signal: ctx.signal,
        },
      );
      const cpu = await meter.stop();
      // Each timed or warm-up lease was replaced by the next standard lead of its campaign.
      for (const p of probes) p.next += plan.samples + plan.warmup;
      for (const s of samples) {
        if (s.depthBefore !== perLead || s.depthAfter !== perLead) {
          throw new Error(`probe ${s.label}: depth ${s.depthBefore} -> ${s.depthAfter}, expected ${perLead}`);
        }
      }
      return { latency: summarize(samples.flatMap((s) => s.samplesMs)), cpu };
    },
    { maxOtherCores: MAX_OTHER_CORES, retries: 1, budget, log: (m) => ctx.log(m) },
  );
  const step: StepResult = {
    total,
    label,
    enqueuePerS,
    usedBytesPerLead: (used - baseUsed) / total,
    latency: measured.latency,
    cpu: measured.cpu,
    disturbed: measured.disturbed,
  };
  ctx.log(
    `${label} leads: lease p50 ${fmt(step.latency.p50, 3)} ms, p99 ${fmt(step.latency.p99, 3)} ms; ` +
      `${fmt(step.usedBytesPerLead, 1)} B/lead; enqueue ${fmt(enqueuePerS)} leads/s`,
  );
  return step;
}

function outcome(
  plan: ScalePlan,
  quick: boolean,
  steps: readonly StepResult[],
  budget: RetryBudget,
): ScenarioOutcome {
  const first = steps[0]!;
  const last = steps[steps.length - 1]!;
  const metrics: Record<string, number> = {};
  for (const s of steps) {
    metrics[`lease_p50_ms_${s.label}`] = round(s.latency.p50, 4);
    metrics[`lease_p99_ms_${s.label}`] = round(s.latency.p99, 4);
    metrics[`redis_bytes_per_lead_${s.label}`] = round(s.usedBytesPerLead, 1);
    metrics[`enqueue_per_s_${s.label}`] = Math.round(s.enqueuePerS);
  }
  metrics['leads_max'] = last.total;
  metrics['campaigns'] = plan.campaigns;
  metrics['redis_bytes_per_lead'] = round(last.usedBytesPerLead, 1);
  metrics['rounds_repeated'] = budget.repeated;
  metrics['rounds_counted_disturbed'] = budget.countedDisturbed;
  const ratioName = `p50_${last.label}_vs_${first.label}`;
  const ratio = round(last.latency.p50 / first.latency.p50, 3);
  const ratios = {
    [ratioName]: ratio,
    [`p99_${last.label}_vs_${first.label}`]: round(last.latency.p99 / first.latency.p99, 3),
  };

  const row = (r: Parameters<typeof tableRow>[1]): TableRow => tableRow(NAME, r);
  const rows: TableRow[] = [
    ...steps.map((s) =>
      row({
        metric: `lease p50 / p99 ms at ${s.label}`,
        value: `${fmt(s.latency.p50, 3)} / ${fmt(s.latency.p99, 3)}`,
        baseline: s === first ? '' : `${fmt(first.latency.p50, 3)} / ${fmt(first.latency.p99, 3)}`,
        ratio: s === first ? '' : `${fmt(s.latency.p50 / first.latency.p50, 2)}x`,
        better: s === first ? undefined : 'lower',
        goal:
          s === last && s !== first ? `p50 <= ${GOALS.p50LargestVsSmallest}x the ${first.label} figure` : '',
        explain: `one lease (a round trip and the lease script), awaited alone, with ${fmt(s.total)} leads queued over ${fmt(plan.campaigns)} campaigns${s.disturbed ? ' (disturbed window)' : ''}`,
      }),
    ),
    row({
      metric: `Redis bytes per lead at ${last.label}`,
      value: fmt(last.usedBytesPerLead, 1),
      goal: '<= 150 B (performance issue)',
      explain:
        'INFO used_memory grown by the queued leads, over the count (includes the keyspace overhead; the shared server may add noise)',
    }),
    row({
      metric: `enqueue leads/s to ${last.label}`,
      value: fmt(last.enqueuePerS),
      explain: `leads added per second while growing to the last step, batches of ${fmt(plan.enqueueBatch)}, ${plan.fillConcurrency} campaigns at once`,
    }),
  ];
  const charts: Chart[] = [
    {
      kind: 'lines',
      title: 'Lease latency as the queue grows',
      xLabel: 'log10(leads queued)',
      yLabel: 'ms',
      series: (['p50', 'p99'] as const).map((p) => ({
        name: p,
        points: steps.map((s) => [round(Math.log10(s.total), 3), round(s.latency[p], 4)] as const),
      })),
    },
  ];
  return {
    result: {
      metrics,
      ratios,
      config: {
        quick,
        plan,
        lead: STANDARD_LEAD,
        window: 'ALWAYS_OPEN',
        max_other_cores: MAX_OTHER_CORES,
        lease: 'store.lease -> complete(answered) -> enqueue one fresh lead; only the lease is timed',
      },
      steps: steps.map((s) => ({
        leads: s.total,
        per_campaign: s.total / plan.campaigns,
        lease_ms: s.latency,
        used_bytes_per_lead: round(s.usedBytesPerLead, 1),
        enqueue_per_s: Math.round(s.enqueuePerS),
        cpu: s.cpu,
        disturbed: s.disturbed,
      })),
      charts,
    },
    rows,
  };
}

export const scaleScenario: Scenario = {
  name: NAME,
  summary:
    'lease latency and Redis bytes per lead as the queue grows from 10k to 10M leads over 1,000 campaigns',
  async run(ctx: ScenarioContext): Promise<ScenarioOutcome> {
    const plan = ctx.quick ? QUICK : ctx.suite ? SUITE : FULL;
    const prefix = `${ctx.keyPrefix}scale:`;
    const admin = await connectAdmin(ctx.redisUrl);
    let store: RedisQueueStore | undefined;
    const refs: CampaignRef[] = [];
    try {
      store = await createRedisQueueStore({ url: ctx.redisUrl, keyPrefix: prefix });
      for (let i = 0; i < plan.campaigns; i++) refs.push(await newCampaign(store, TENANT, `s${i}`));
      await sleep(SETTLE_MS);
      const baseUsed = await usedMemory(admin);
      const campaigns: Probe[] = refs.map((ref) => ({ ref, next: 0 }));
      const depth = refs.map(() => 0);
      const budget: RetryBudget = { left: plan.steps.length, repeated: 0, countedDisturbed: 0 };
      const env = { store, admin, plan, ctx };
      const steps: StepResult[] = [];
      for (const total of plan.steps) {
        steps.push(await measureStep(env, campaigns, depth, total, baseUsed, budget));
      }
      return outcome(plan, ctx.quick, steps, budget);
    } finally {
      // No dropCampaign per campaign: each SCANs the whole keyspace (1,000 passes over millions of
      // keys); run.ts sweeps the run's prefix in one pass at the end.
      await store?.close();
      await admin.close();
    }
  },
};
