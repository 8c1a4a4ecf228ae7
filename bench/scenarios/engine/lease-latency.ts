// Latency of one lease at a given queue depth: sequential `lease` calls (each awaited, so a
// sample is one round trip plus one script run, nothing queued behind it), timed with hrtime.
// After each timed lease the lead is completed as answered and one fresh lead is enqueued,
// untimed, so the ready depth is the same for every sample (it dips by one only while the
// lease is out). Rejecting the lease instead would also keep the depth, but it puts the lead
// back at the head, so every sample would lease the same lead from a warm cache.
//
// Depths are measured interleaved, block by block, so machine noise (this is a shared, 2-core
// box) lands on all of them alike instead of on whichever ran second.
import { asAgentId, asDeviceId } from '../../../engine/ids.js';
import type { CampaignRef } from '../../../engine/ids.js';
import type { QueueStore, ReadyAgent } from '../../../engine/queue-store.js';
import { elapsedMs } from '../../lib/stats.js';
import { standardLead } from './leads.js';

export interface DepthTarget {
  readonly label: string;
  readonly ref: CampaignRef;
  /** Ready leads the campaign holds; the next refill lead continues from this index. */
  readonly depth: number;
}

export interface LatencySettings {
  readonly samples: number;
  readonly warmup: number;
  /** Consecutive leases on one depth before switching to the next. */
  readonly block: number;
  readonly offerTtlMs: number;
  readonly signal: AbortSignal;
}

export interface DepthSamples {
  readonly label: string;
  /** Per-call latency, ms, in the order taken. */
  readonly samplesMs: number[];
  readonly depthBefore: number;
  readonly depthAfter: number;
}

interface Probe {
  readonly target: DepthTarget;
  readonly agent: ReadyAgent;
  nextLead: number;
  readonly samplesMs: number[];
}

async function leaseOnce(store: QueueStore, p: Probe, offerTtlMs: number): Promise<number> {
  const { ref } = p.target;
  const start = process.hrtime.bigint();
  const lease = await store.lease(ref, p.agent, Date.now(), offerTtlMs);
  const ms = elapsedMs(start);
  if (lease === null) throw new Error(`${p.target.label}: queue unexpectedly empty`);
  const [done] = await store.complete(
    ref.tenantId,
    [{ leaseId: lease.leaseId, agentId: p.agent.agentId, outcome: 'answered' }],
    Date.now(),
  );
  if (!done?.ok) throw new Error(`${p.target.label}: completion failed`);
  await store.enqueue(ref, [standardLead(p.nextLead++)], Date.now());
  return ms;
}

export async function measureLeaseLatency(
  store: QueueStore,
  targets: readonly DepthTarget[],
  s: LatencySettings,
): Promise<DepthSamples[]> {
  const probes: Probe[] = targets.map((target) => ({
    target,
    agent: {
      agentId: asAgentId(`lat-${target.label}`),
      deviceId: asDeviceId(`lat-${target.label}-dev`),
    },
    nextLead: target.depth,
    samplesMs: [],
  }));
  const depths = async () =>
    Promise.all(probes.map(async (p) => (await store.stats(p.target.ref, Date.now())).ready));
  const before = await depths();

  const runBlocks = async (perTarget: number, keep: boolean) => {
    for (let taken = 0; taken < perTarget; taken += s.block) {
      for (const p of probes) {
        for (let i = 0; i < Math.min(s.block, perTarget - taken); i++) {
          s.signal.throwIfAborted();
          const ms = await leaseOnce(store, p, s.offerTtlMs);
          if (keep) p.samplesMs.push(ms);
        }
      }
    }
  };
  await runBlocks(s.warmup, false);
  await runBlocks(s.samples, true);

  const after = await depths();
  return probes.map((p, i) => ({
    label: p.target.label,
    samplesMs: p.samplesMs,
    depthBefore: before[i]!,
    depthAfter: after[i]!,
  }));
}
