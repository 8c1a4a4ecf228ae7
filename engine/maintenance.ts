// The periodic work that keeps queues moving when no one is calling in: the lease reaper (puts
// the leads of expired leases back), the scheduled-lead promoter (retries and callbacks that fell
// due) and the calling-window refresh (zone intervals are computed days ahead). Any number of
// gateways may run it at once: every step is an atomic store operation, safe under races, and
// the reaper requeues only the leases its caller has settled against the system of record.
import type { Clock } from './clock.js';
import type { CampaignRef } from './ids.js';
import type { LeaseId } from './lease.js';
import type { ExpiredLease, QueueStore, ReclaimedLease } from './queue-store.js';

/** What the caller found for a round of expired leases in the system of record. */
export interface Settled {
  /** Unclaimed leases with no committed outcome: their leads go back to the queue. */
  readonly reclaim: readonly LeaseId[];
  /**
   * Claimed leases whose commit the caller fenced out (recorded as void): their leads go back,
   * the leases become void. Everything else was completed from the record, or left for later.
   */
  readonly voided: readonly LeaseId[];
}

export interface MaintenanceOptions {
  readonly store: QueueStore;
  readonly clock: Clock;
  /** The campaigns to look after (re-read every tick). */
  readonly campaigns: () => Iterable<CampaignRef> | Promise<Iterable<CampaignRef>>;
  readonly intervalMs?: number;
  /** Leases reclaimed (and scheduled leads promoted) per store call. */
  readonly batch?: number;
  /** How often each campaign's calling-window intervals are recomputed. */
  readonly windowRefreshMs?: number;
  /**
   * Called with each round of expired leases before any is reclaimed: the caller applies the
   * ones whose outcome the system of record holds (the call happened; the process that saved it
   * died before the queue heard), fences out the commits of claims that never landed, and says
   * which may be requeued. Without it every expired unclaimed lease is requeued, and claims are
   * left alone (nothing can fence their commit out).
   */
  readonly settleExpired?: (ref: CampaignRef, leases: readonly ExpiredLease[]) => Promise<Settled>;
  /** Leases whose leads went back: their devices must be told the call is revoked. */
  readonly onReclaimed?: (ref: CampaignRef, leases: readonly ReclaimedLease[]) => void;
  /** Leads became dialable: a dispatch may now find matches. */
  readonly onPromoted?: (ref: CampaignRef, count: number) => void;
  readonly onError?: (err: unknown, ref: CampaignRef | null) => void;
}

export interface Maintenance {
  /** One pass over every campaign (the timer calls this; tests call it directly). */
  tick(): Promise<void>;
  stop(): Promise<void>;
}

const HOUR = 3_600_000;
// Upper bound on store calls per campaign per tick, so one huge backlog cannot starve the rest.
const MAX_ROUNDS = 20;

export function startMaintenance(options: MaintenanceOptions, autoStart = true): Maintenance {
  const { store, clock } = options;
  const batch = options.batch ?? 500;
  const refreshEvery = options.windowRefreshMs ?? 6 * HOUR;
  const refreshedAt = new Map<string, number>();
  let running: Promise<void> | null = null;
  let stopped = false;

  async function reap(ref: CampaignRef): Promise<void> {
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const expired = await store.expiredLeases(ref, clock.now(), batch);
      let settled: Settled;
      if (options.settleExpired && expired.length > 0) {
        settled = await options.settleExpired(ref, expired);
      } else {
        settled = { reclaim: expired.filter((l) => l.state !== 'c').map((l) => l.leaseId), voided: [] };
      }
      // Listed, so a lease that expires between the two calls waits for the next round's check.
      const reclaimed = [
        ...(await store.reclaim(ref, clock.now(), batch, settled.reclaim)),
        ...(await store.voidClaims(ref, clock.now(), settled.voided)),
      ];
      if (reclaimed.length > 0) options.onReclaimed?.(ref, reclaimed);
      if (expired.length < batch) break;
    }
  }

  async function promote(ref: CampaignRef): Promise<void> {
    let promoted = 0;
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const n = await store.promote(ref, clock.now(), batch);
      promoted += n;
      if (n < batch) break;
    }
    if (promoted > 0) options.onPromoted?.(ref, promoted);
  }

  async function refresh(ref: CampaignRef): Promise<void> {
    const key = `${ref.tenantId}\x00${ref.campaignId}`;
    const now = clock.now();
    const last = refreshedAt.get(key);
    if (last === undefined || now - last >= refreshEvery) {
      await store.refreshWindows(ref, now);
      // Histories of numbers no rule can hold back any more go with the same (rare) pass.
      await store.trimHistory(ref, now);
      refreshedAt.set(key, now);
    }
  }

  /**
   * The three chores are independent: one that fails (the reaper, when Postgres cannot settle
   * expired leases) is reported and the others still run, so scheduled leads keep falling due
   * and windows keep opening while the system of record is away. An unknown or stale campaign
   * fails every chore alike: reported once.
   */
  async function look(ref: CampaignRef): Promise<void> {
    let failed = false;
    for (const chore of [reap, promote, refresh]) {
      try {
        await chore(ref);
      } catch (err) {
        if (!failed) options.onError?.(err, ref);
        failed = true;
      }
    }
  }

  async function tick(): Promise<void> {
    let refs: Iterable<CampaignRef>;
    try {
      refs = await options.campaigns();
    } catch (err) {
      options.onError?.(err, null);
      return;
    }
    for (const ref of refs) {
      if (stopped) return;
      await look(ref);
    }
  }

  const timer = autoStart
    ? setInterval(() => {
        if (running) return; // a slow pass is never overlapped by the next
        running = tick().finally(() => {
          running = null;
        });
      }, options.intervalMs ?? 1_000)
    : undefined;
  timer?.unref();

  return {
    tick,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
