// dialhub's lease+complete cycle under load: simulated agents in-process (no sockets), several
// dispatch loops sharing one Redis client the way one gateway process would. A cycle is one lead
// leased to an agent and completed as answered, after which the agent is ready again. As in the
// gateway (agent-hub: an agent's "ready" is readyAndDispatch), the agents a loop just completed
// are marked ready in its next dispatch call: two script calls per batch, not three.
import { ALWAYS_OPEN } from '../../../engine/calling-window.js';
import { parseCampaignConfig } from '../../../engine/campaign.js';
import type { CampaignKeys } from '../../../engine/keys.js';
import { TOMBSTONE_BAND } from '../../../engine/keys.js';
import type { AdminClient } from '../../lib/redis-admin.js';
import { asAgentId, asDeviceId, campaignRef } from '../../../engine/ids.js';
import type { CampaignRef } from '../../../engine/ids.js';
import type { QueueStore, ReadyAgent } from '../../../engine/queue-store.js';
import type { CpuMeter, CpuShare } from '../../lib/cpu-meter.js';
import { elapsedMs } from '../../lib/stats.js';
import { fillCampaign } from './fill.js';

export interface DialhubCycleSettings {
  readonly leads: number;
  readonly agents: number;
  /** Pairs one dispatch call may make. */
  readonly maxPairs: number;
  /** Dispatch loops running at once; node-redis pipelines their commands. */
  readonly concurrency: number;
  readonly offerTtlMs: number;
  readonly enqueueBatch: number;
  readonly signal: AbortSignal;
  /** Measures who used the CPU during the timed phase. */
  readonly meter: CpuMeter;
  /** Called once the campaign is filled and the agents are ready, just before the cycles start. */
  readonly onStart?: () => Promise<void>;
}

export interface DialhubCycleResult {
  readonly cycles: number;
  readonly ms: number;
  readonly cyclesPerS: number;
  readonly enqueuePerS: number;
  /** Dispatch calls that found no agent or no lead (loops waiting on each other near the end). */
  readonly emptyDispatches: number;
  readonly cpu: CpuShare;
}

export function simulatedAgents(count: number, tag: string): ReadyAgent[] {
  return Array.from({ length: count }, (_, i) => ({
    agentId: asAgentId(`${tag}a${i}`),
    deviceId: asDeviceId(`${tag}d${i}`),
  }));
}

export async function newCampaign(store: QueueStore, tenant: string, campaign: string): Promise<CampaignRef> {
  const ref = campaignRef(tenant, campaign);
  await store.defineCampaign(ref, parseCampaignConfig({ window: ALWAYS_OPEN }), Date.now());
  return ref;
}

/**
 * Fill a fresh campaign with `leads` standard leads, then run lease+complete cycles until every
 * lead is done. Only the cycle phase is timed for cycles/s; the fill is timed separately. The
 * caller drops the campaign.
 */
export async function runDialhubCycles(
  store: QueueStore,
  ref: CampaignRef,
  s: DialhubCycleSettings,
): Promise<DialhubCycleResult> {
  const fill = await fillCampaign(store, ref, s.leads, s.enqueueBatch, s.signal);
  await store.setAgentsReady(ref, simulatedAgents(s.agents, ''), Date.now());

  let done = 0;
  let emptyDispatches = 0;
  const loop = async (): Promise<void> => {
    let readyAgain: ReadyAgent[] = [];
    while (done < s.leads) {
      s.signal.throwIfAborted();
      const { ready, leases } = await store.readyAndDispatch(
        ref,
        readyAgain,
        Date.now(),
        s.maxPairs,
        s.offerTtlMs,
      );
      for (const r of ready) {
        if (!r.ok) throw new Error(`ready failed: ${r.code} ${r.message}`);
      }
      readyAgain = [];
      if (leases.length === 0) {
        // Other loops hold the remaining leads or the ready agents; let their replies land.
        emptyDispatches++;
        await new Promise<void>((resolve) => setImmediate(resolve));
        continue;
      }
      const results = await store.complete(
        ref.tenantId,
        leases.map((l) => ({ leaseId: l.leaseId, agentId: l.agentId, outcome: 'answered' })),
        Date.now(),
      );
      for (const r of results) {
        if (!r.ok) throw new Error(`completion failed: ${r.code} ${r.message}`);
      }
      done += results.length;
      readyAgain = leases.map((l) => ({ agentId: l.agentId, deviceId: l.deviceId }));
    }
    // The last batch's agents are ready again too, so every cycle pays for its agent's ready.
    if (readyAgain.length > 0) await store.setAgentsReady(ref, readyAgain, Date.now());
  };

  await s.onStart?.();
  await s.meter.start();
  const start = process.hrtime.bigint();
  // allSettled, not all: if one loop fails (or the run is aborted), wait for the others to stop
  // too, so none writes to the campaign while the caller drops it.
  const settled = await Promise.allSettled(Array.from({ length: s.concurrency }, loop));
  const ms = elapsedMs(start);
  const cpu = await s.meter.stop();
  const failure = settled.find((r) => r.status === 'rejected');
  if (failure) throw failure.reason;
  if (done !== s.leads) throw new Error(`expected ${s.leads} cycles, completed ${done}`);
  return { cycles: done, ms, cyclesPerS: (done / ms) * 1000, enqueuePerS: fill.perS, emptyDispatches, cpu };
}

/** Lease tombstones a campaign holds (in leaseExpiry's tombstone band; see engine/keys.ts). */
export async function tombstoneCount(admin: AdminClient, keys: CampaignKeys): Promise<number> {
  return admin.zCount(keys.leaseExpiry, TOMBSTONE_BAND, '+inf');
}

/** Tombstones removed per reclaim call while purging (the reaper's batch size). */
export const PURGE_BATCH = 1000;

/**
 * Purge every lease tombstone the cycles left, as the reaper will once their retention has
 * passed: `reclaim` at a time just past the retention, until none is left. Completion defers this
 * work (BullMQ's removeOnComplete pays it inside the cycle), so it is timed separately.
 * Returns how many were purged and how long it took (ms).
 */
export async function purgeTombstones(
  store: QueueStore,
  ref: CampaignRef,
  retentionMs: number,
  count: () => Promise<number>,
): Promise<{ purged: number; ms: number }> {
  const purged = await count();
  const later = Date.now() + retentionMs + 1;
  const start = process.hrtime.bigint();
  for (let left = purged; left > 0; left -= PURGE_BATCH) await store.reclaim(ref, later, PURGE_BATCH);
  const ms = elapsedMs(start);
  const left = await count();
  if (left !== 0) throw new Error(`${left} tombstones left after purging ${purged}`);
  return { purged, ms };
}
