// Turning the engine scenario's measurements into its result: medians of the rounds, the ratios
// against the baseline and the goals, the JSON block (metrics, ratios, config, per-round values,
// tuning trials) and the table rows.
import { createRequire } from 'node:module';
import { fmt } from '../../lib/report.js';
import { tableRow } from '../../lib/report.js';
import type { RowInput, ScenarioResult, TableRow } from '../../lib/report.js';
import type { ScenarioOutcome } from '../../lib/scenario.js';
import { median, round, summarize } from '../../lib/stats.js';
import type { BullmqCycleResult } from './bullmq-cycles.js';
import type { DialhubCycleResult } from './dialhub-cycles.js';
import { PURGE_BATCH } from './dialhub-cycles.js';
import type { Footprint } from './footprint.js';
import { STANDARD_LEAD } from './leads.js';
import type { DepthSamples } from './lease-latency.js';
import { GOALS } from './plan.js';
import type { WriteCount } from './write-count.js';
import type { DialhubShape, Plan } from './plan.js';

export interface DialhubRun extends DialhubCycleResult {
  readonly retainedBytesPerCycle: number;
  readonly purge: { readonly purged: number; readonly ms: number };
}

export interface RoundResult {
  readonly dialhub: DialhubRun;
  readonly bullmq: BullmqCycleResult;
  /** Other load or steal exceeded the plan's limit during one of the two timed phases. */
  readonly disturbed: boolean;
  /** Whether the medians include this round. */
  readonly counted: boolean;
}

export interface Tuning {
  readonly dialhub: DialhubShape;
  readonly bullmqConcurrency: number;
  readonly trials: {
    readonly dialhub: readonly (DialhubShape & { readonly cycles_per_s: readonly number[] })[];
    readonly bullmq: readonly { readonly concurrency: number; readonly jobs_per_s: readonly number[] }[];
  };
}

export interface DepthResult {
  readonly small: Footprint;
  readonly large: Footprint;
  readonly latency: readonly DepthSamples[];
}

export interface OutcomeInput {
  readonly quick: boolean;
  readonly redisUrl: string;
  readonly plan: Plan;
  readonly tuning: Tuning;
  readonly rounds: readonly RoundResult[];
  readonly depth: DepthResult;
  readonly writes: WriteCount;
}

const packageVersion = (name: string): string =>
  (createRequire(import.meta.url)(`${name}/package.json`) as { version: string }).version;

/** host:port only, so a URL with credentials never lands in a committed file. */
function redisEndpoint(url: string): string {
  const u = new URL(url);
  return `${u.hostname}:${u.port || '6379'}`;
}

const depthLabel = (n: number) => (n >= 1_000_000 ? `${n / 1_000_000}M` : `${n / 1000}k`);

/** Cycles per second counting the deferred tombstone purge as part of the work. */
const withPurge = (d: DialhubRun) => (d.cycles / (d.ms + d.purge.ms)) * 1000;

export function buildOutcome(input: OutcomeInput): ScenarioOutcome {
  const { plan, tuning, depth } = input;
  const rounds = input.rounds.filter((r) => r.counted);
  const cycles = median(rounds.map((r) => r.dialhub.cyclesPerS));
  const cyclesInclPurge = median(rounds.map((r) => withPurge(r.dialhub)));
  const jobs = median(rounds.map((r) => r.bullmq.jobsPerS));
  const enqueue = median(rounds.map((r) => r.dialhub.enqueuePerS));
  const add = median(rounds.map((r) => r.bullmq.addPerS));
  const retained = median(rounds.map((r) => r.dialhub.retainedBytesPerCycle));
  const purgePerS = median(rounds.map((r) => (r.dialhub.purge.purged / r.dialhub.purge.ms) * 1000));
  const [smallLat, largeLat] = depth.latency.map((d) => summarize(d.samplesMs));
  if (!smallLat || !largeLat) throw new Error('latency samples missing');
  const small = depthLabel(plan.smallDepth);
  const large = depthLabel(plan.largeDepth);

  const metrics = {
    dialhub_cycles_per_s: round(cycles, 0),
    bullmq_jobs_per_s: round(jobs, 0),
    // Named for the full run's depths; with --quick the large depth is smaller (see config).
    lease_p50_ms_10k: round(smallLat.p50, 4),
    lease_p50_ms_1m: round(largeLat.p50, 4),
    redis_bytes_per_lead: round(depth.large.bytesPerLead, 1),
    dialhub_enqueue_per_s: round(enqueue, 0),
    bullmq_add_per_s: round(add, 0),
    dialhub_enqueue_per_s_1m: round(depth.large.fill.perS, 0),
    dialhub_cycles_per_s_incl_purge: round(cyclesInclPurge, 0),
    dialhub_tombstone_purge_per_s: round(purgePerS, 0),
    lease_p90_ms_10k: round(smallLat.p90, 4),
    lease_p90_ms_1m: round(largeLat.p90, 4),
    lease_p99_ms_10k: round(smallLat.p99, 4),
    lease_p99_ms_1m: round(largeLat.p99, 4),
    lease_mean_ms_10k: round(smallLat.mean, 4),
    lease_mean_ms_1m: round(largeLat.mean, 4),
    lease_max_ms_10k: round(smallLat.max, 4),
    lease_max_ms_1m: round(largeLat.max, 4),
    redis_bytes_per_lead_10k: round(depth.small.bytesPerLead, 1),
    redis_key_bytes_per_lead_1m: round(depth.large.keyBytesPerLead, 1),
    redis_key_bytes_per_lead_10k: round(depth.small.keyBytesPerLead, 1),
    redis_bytes_retained_per_completed_lead: round(retained, 1),
    redis_writes_per_cycle: round(input.writes.perCycle, 2),
    redis_deferred_writes_per_cycle: round(input.writes.deferredPerCycle, 2),
    /** Attempts beyond the planned rounds (each one replaced a disturbed round). */
    rounds_repeated: Math.max(0, input.rounds.length - plan.rounds),
    rounds_disturbed: input.rounds.filter((r) => r.disturbed).length,
  };
  const ratios = {
    vs_bullmq: round(cycles / jobs, 3),
    p50_1m_vs_10k: round(largeLat.p50 / smallLat.p50, 3),
    vs_bullmq_incl_purge: round(cyclesInclPurge / jobs, 3),
    p99_1m_vs_10k: round(largeLat.p99 / smallLat.p99, 3),
    enqueue_vs_bullmq_add: round(enqueue / add, 3),
  };
  const met = {
    vs_bullmq: ratios.vs_bullmq >= GOALS.vs_bullmq,
    p50_1m_vs_10k: ratios.p50_1m_vs_10k <= GOALS.p50_1m_vs_10k,
    redis_bytes_per_lead: metrics.redis_bytes_per_lead <= GOALS.redis_bytes_per_lead,
    redis_writes_per_cycle: metrics.redis_writes_per_cycle <= GOALS.redis_writes_per_cycle,
  };

  const result: ScenarioResult = {
    metrics,
    ratios,
    config: {
      quick: input.quick,
      redis: redisEndpoint(input.redisUrl),
      lead: STANDARD_LEAD,
      window: 'ALWAYS_OPEN',
      throughput: {
        leads_per_round: plan.leadsPerRound,
        rounds: plan.rounds,
        order: 'per round: dialhub then BullMQ; metrics are medians of the counted rounds',
        max_other_cores: plan.maxOtherCores,
        attempts: input.rounds.length,
        counted_rounds_disturbed: rounds.some((r) => r.disturbed),
        cycle:
          "readyAndDispatch(the agents of the loop's previous batch, maxPairs) -> complete(answered, with agentId), Date.now() as now",
        agents: plan.agents,
        enqueue_batch: plan.enqueueBatch,
        offer_ttl_ms: plan.offerTtlMs,
        tombstone_retention_ms: plan.tombstoneRetentionMs,
        purge_batch: PURGE_BATCH,
        write_count: {
          cycles: input.writes.cycles,
          per_cycle: input.writes.breakdown,
          deferred_per_cycle: input.writes.deferredBreakdown,
        },
        dialhub_max_pairs: tuning.dialhub.maxPairs,
        dialhub_concurrency: tuning.dialhub.concurrency,
        bullmq_concurrency: tuning.bullmqConcurrency,
        bullmq_add_batch: plan.bullmqAddBatch,
        bullmq_job_opts: { removeOnComplete: true, removeOnFail: true },
        bullmq_processor: '() => Promise.resolve() (no-op)',
        bullmq_version: packageVersion('bullmq'),
        redis_client: `redis (node-redis) ${packageVersion('redis')}, both sides`,
        warmup_leads: plan.warmupLeads,
        tune_leads: plan.tuneLeads,
        tune_passes: plan.tunePasses,
      },
      latency: {
        small_depth: plan.smallDepth,
        large_depth: plan.largeDepth,
        samples_per_depth: plan.latencySamples,
        warmup_per_depth: plan.latencyWarmup,
        block: plan.latencyBlock,
        method:
          'sequential awaited store.lease(), hrtime per call; each lease then completed (answered) and one fresh lead enqueued, untimed, so the depth stays constant; depths interleaved in blocks',
        depth_before_after: depth.latency.map((d) => ({
          label: d.label,
          before: d.depthBefore,
          after: d.depthAfter,
        })),
      },
      memory: {
        method:
          'INFO memory used_memory after minus before enqueuing into a fresh campaign (500 ms settle each side), / leads; redis_key_bytes_*: sum of MEMORY USAGE (SAMPLES 0) over the campaign keys / leads',
        large_keys: depth.large.keys,
        small_keys: depth.small.keys,
      },
    },
    rounds: input.rounds.map((r, i) => ({
      attempt: i + 1,
      counted: r.counted,
      disturbed: r.disturbed,
      dialhub_cycles_per_s: round(r.dialhub.cyclesPerS, 0),
      dialhub_cycles_per_s_incl_purge: round(withPurge(r.dialhub), 0),
      dialhub_enqueue_per_s: round(r.dialhub.enqueuePerS, 0),
      dialhub_empty_dispatches: r.dialhub.emptyDispatches,
      dialhub_retained_bytes_per_cycle: round(r.dialhub.retainedBytesPerCycle, 1),
      dialhub_cpu_cores: r.dialhub.cpu,
      bullmq_jobs_per_s: round(r.bullmq.jobsPerS, 0),
      bullmq_add_per_s: round(r.bullmq.addPerS, 0),
      bullmq_cpu_cores: r.bullmq.cpu,
    })),
    tuning: tuning.trials,
    goals: {
      vs_bullmq: { goal: `>= ${GOALS.vs_bullmq}`, met: met.vs_bullmq },
      p50_1m_vs_10k: { goal: `<= ${GOALS.p50_1m_vs_10k}`, met: met.p50_1m_vs_10k },
      redis_bytes_per_lead: { goal: `<= ${GOALS.redis_bytes_per_lead}`, met: met.redis_bytes_per_lead },
      redis_writes_per_cycle: { goal: `<= ${GOALS.redis_writes_per_cycle}`, met: met.redis_writes_per_cycle },
    },
    charts: [
      {
        kind: 'bars',
        title: 'queue throughput on Redis alone (median of counted rounds)',
        yLabel: 'per s',
        groups: ['lease+complete vs process', 'enqueue vs addBulk'],
        series: [
          { name: 'dialhub', values: [cycles, enqueue] },
          { name: 'BullMQ', values: [jobs, add] },
        ],
      },
      {
        kind: 'bars',
        title: `lease latency with ${small} and ${large} leads queued (ms)`,
        yLabel: 'ms',
        groups: ['p50', 'p90', 'p99'],
        series: [
          { name: small, values: [smallLat.p50, smallLat.p90, smallLat.p99] },
          { name: large, values: [largeLat.p50, largeLat.p90, largeLat.p99] },
        ],
      },
    ],
    notes: [
      'Redis is shared with other clients: used_memory deltas and throughput include whatever they did meanwhile; redis_key_bytes_* (MEMORY USAGE of our keys only) is immune to that.',
      'dialhub_cycles_per_s leaves out the lease tombstones completion leaves behind for the retention period; dialhub_cycles_per_s_incl_purge adds the time the reaper later spends purging them (BullMQ removeOnComplete pays its removal inside the cycle).',
      'rounds[].*_cpu_cores: average cores busy during the timed phase: this process, the Redis server, everything else on the machine (other), and hypervisor steal. A round whose other + steal exceeded config.throughput.max_other_cores on either side is disturbed and re-run; medians use the undisturbed rounds (all rounds if too few were undisturbed; then counted_rounds_disturbed is true).',
      'redis_bytes_retained_per_completed_lead: campaign bytes left after every lead is done, before the purge (tombstones, agents, config).',
      'redis_writes_per_cycle: Redis element writes (hash fields, zset and set members added, changed or removed) per leased+completed lead, counted by a MONITOR client in a separate untimed pass of the same cycle (dispatch, complete, ready again); config.write_count breaks it down by script and key; redis_deferred_writes_per_cycle is the later tombstone purge.',
    ],
  };

  const goal = (text: string, ok: boolean) => `${text} (${ok ? 'met' : 'missed'})`;
  const x = (r: number) => `${r.toFixed(2)}x`;
  const row = (r: RowInput): TableRow => tableRow('engine', r);
  const rows: TableRow[] = [
    row({
      metric: 'lease+complete cycles/s vs BullMQ jobs/s',
      value: fmt(cycles),
      baseline: `${fmt(jobs)} (BullMQ c=${tuning.bullmqConcurrency})`,
      ratio: x(ratios.vs_bullmq),
      better: 'higher',
      goal: goal(`>= ${GOALS.vs_bullmq}x`, met.vs_bullmq),
      explain:
        'queue operations per second on Redis alone: dialhub lease + complete + ready again vs BullMQ take + complete of a no-op job, each at its best tuned concurrency',
    }),
    row({
      metric: '  same, tombstone purge included',
      value: fmt(cyclesInclPurge),
      baseline: fmt(jobs),
      ratio: x(ratios.vs_bullmq_incl_purge),
      better: 'higher',
      explain:
        'as above, charging dialhub the later purge of the lease tombstones too (BullMQ removes its jobs inside the cycle)',
    }),
    row({
      metric: 'enqueue leads/s vs BullMQ addBulk jobs/s',
      value: fmt(enqueue),
      baseline: fmt(add),
      ratio: x(ratios.enqueue_vs_bullmq_add),
      better: 'higher',
      explain: 'how fast a list of leads gets into the queue, in batches of the same size on both sides',
    }),
    row({
      metric: `lease p50 ms @${large} vs @${small}`,
      value: largeLat.p50.toFixed(3),
      baseline: smallLat.p50.toFixed(3),
      ratio: x(ratios.p50_1m_vs_10k),
      better: 'lower',
      goal: goal(`<= ${GOALS.p50_1m_vs_10k}x`, met.p50_1m_vs_10k),
      explain: `median time of one lease with ${large} leads queued, against the same with ${small}: how much a deep queue slows a lease`,
    }),
    row({
      metric: `lease p99 ms @${large} vs @${small}`,
      value: largeLat.p99.toFixed(3),
      baseline: smallLat.p99.toFixed(3),
      ratio: x(ratios.p99_1m_vs_10k),
      better: 'lower',
      explain: 'the same comparison for the slowest 1% of leases',
    }),
    row({
      metric: `Redis bytes/lead @${large} (used_memory)`,
      value: fmt(depth.large.bytesPerLead, 1),
      goal: goal(`<= ${GOALS.redis_bytes_per_lead}`, met.redis_bytes_per_lead),
      explain: `growth of the Redis server's memory (INFO used_memory) per queued lead, with ${large} queued; lower is better`,
    }),
    row({
      metric: `Redis bytes/lead @${large} (MEMORY USAGE)`,
      value: fmt(depth.large.keyBytesPerLead, 1),
      explain:
        "the same from MEMORY USAGE of the campaign's own keys (immune to other clients, leaves out Redis's per-key overhead)",
    }),
    row({
      metric: `Redis bytes/lead @${small} (used_memory)`,
      value: fmt(depth.small.bytesPerLead, 1),
      explain: `memory per queued lead with ${small} queued`,
    }),
    row({
      metric: 'Redis bytes kept per completed lead',
      value: fmt(retained, 1),
      explain: 'what a finished lead leaves in Redis until the retention purge (its lease tombstone)',
    }),
    row({
      metric: 'measurement rounds repeated (disturbed)',
      value: `${metrics.rounds_repeated}`,
      explain:
        'rounds run again because other processes or hypervisor steal took more than the allowed share of the CPU during them',
    }),
  ];
  return { result, rows };
}
