// `engine --cluster`: the lease+complete cycle on a local Redis Cluster of 3 masters (started from
// the redis-server binary for the run, test/support/redis-servers.ts) against the single Redis of
// the run, in the same invocation. Each measurement drives CAMPAIGNS campaigns at once (a campaign
// is one hash tag, so it lives on one master; several spread over the masters), alternating the
// two sides round after round, starting with a different side each round; the figures are medians.
// On the 2-core reference machine the three masters, the client and the single server share two
// cores, so this measures what the cluster costs a client (routing by slot, one connection per
// master), not the throughput three shard hosts would add.
import { createRedisQueueStore } from '../../../engine/redis/redis-queue-store.js';
import type { RedisQueueStore } from '../../../engine/redis/redis-queue-store.js';
import { startRedisCluster } from '../../../test/support/redis-servers.js';
import { CpuMeter } from '../../lib/cpu-meter.js';
import type { AdminClient } from '../../lib/redis-admin.js';
import { fmt } from '../../lib/report.js';
import type { ScenarioResult, TableRow } from '../../lib/report.js';
import type { ScenarioContext } from '../../lib/scenario.js';
import { newCampaign, runDialhubCycles } from './dialhub-cycles.js';
import type { Plan } from './plan.js';

const TENANT = 'bench';
/** Campaigns driven at once per measurement (three masters: each has work when spread). */
export const CAMPAIGNS = 3;

type Side = 'single' | 'cluster';

const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** CAMPAIGNS campaigns at once on one store: total cycles over the wall time of the slowest. */
async function measure(
  ctx: ScenarioContext,
  plan: Plan,
  store: RedisQueueStore,
  admin: AdminClient,
  label: string,
  leads: number,
): Promise<number> {
  const shape = plan.dialhubCandidates[0]!;
  const refs = await Promise.all(
    Array.from({ length: CAMPAIGNS }, (_, i) => newCampaign(store, TENANT, `${label}-${i}`)),
  );
  try {
    const runs = await Promise.all(
      refs.map((ref) =>
        runDialhubCycles(store, ref, {
          leads: Math.ceil(leads / CAMPAIGNS),
          agents: plan.agents,
          enqueueBatch: plan.enqueueBatch,
          offerTtlMs: plan.offerTtlMs,
          signal: ctx.signal,
          // The meter reads the single server's CPU only; it is not reported for this comparison.
          meter: new CpuMeter(admin),
          maxPairs: shape.maxPairs,
          concurrency: shape.concurrency,
        }),
      ),
    );
    // Each run's timed loop excludes its enqueue: the slowest loop bounds the aggregate.
    const cycles = runs.reduce((a, r) => a + r.cycles, 0);
    const ms = Math.max(...runs.map((r) => r.ms));
    return (cycles / ms) * 1000;
  } finally {
    for (const ref of refs) await store.dropCampaign(ref);
  }
}

export async function runClusterComparison(
  ctx: ScenarioContext,
  plan: Plan,
  admin: AdminClient,
  single: RedisQueueStore,
  keyPrefix: string,
): Promise<{ result: ScenarioResult; rows: TableRow[] }> {
  const cluster = await startRedisCluster(3);
  let store: RedisQueueStore | undefined;
  try {
    store = await createRedisQueueStore({
      clusterNodes: cluster.nodes,
      keyPrefix,
      tombstoneRetentionMs: plan.tombstoneRetentionMs,
    });
    const stores: Record<Side, RedisQueueStore> = { single, cluster: store };
    for (const side of ['single', 'cluster'] as const)
      await measure(ctx, plan, stores[side], admin, `warmup-${side}`, plan.warmupLeads);
    const perRound: Record<Side, number>[] = [];
    for (let round = 1; round <= plan.rounds; round++) {
      const order: Side[] = round % 2 === 1 ? ['single', 'cluster'] : ['cluster', 'single'];
      const got = {} as Record<Side, number>;
      for (const side of order) {
        got[side] = await measure(ctx, plan, stores[side], admin, `r${round}-${side}`, plan.leadsPerRound);
        ctx.log(`round ${round} ${side}: ${fmt(got[side])} cycles/s (${CAMPAIGNS} campaigns at once)`);
      }
      perRound.push(got);
    }
    const single1 = median(perRound.map((r) => r.single));
    const cluster3 = median(perRound.map((r) => r.cluster));
    const ratio = cluster3 / single1;
    const shape = plan.dialhubCandidates[0]!;
    const result: ScenarioResult = {
      metrics: {
        cycles_per_s_single: Math.round(single1),
        cycles_per_s_cluster: Math.round(cluster3),
      },
      ratios: { cluster_vs_single: Number(ratio.toFixed(3)) },
      config: {
        cluster: '3 masters, no replicas, local redis-server started for the run',
        single: ctx.redisUrl,
        campaigns_at_once: CAMPAIGNS,
        leads_per_round: plan.leadsPerRound,
        rounds: plan.rounds,
        agents_per_campaign: plan.agents,
        max_pairs: shape.maxPairs,
        concurrency_per_campaign: shape.concurrency,
        quick: ctx.quick,
      },
      rounds: perRound,
    };
    const rows: TableRow[] = [
      {
        scenario: 'engine --cluster',
        metric: 'lease+complete cycles/s, 3-master cluster',
        value: fmt(cluster3),
        baseline: `${fmt(single1)} (single Redis)`,
        ratio: ratio.toFixed(2),
        better: 'higher',
        goal: '',
        explain: `${CAMPAIGNS} campaigns at once through the Redis store; medians over ${plan.rounds} alternating rounds`,
      },
    ];
    return { result, rows };
  } finally {
    await store?.close();
    await cluster.stop();
  }
}
