// The periodic work that keeps queues moving when no one is calling in: the lease reaper (puts
// the leads of expired leases back), the scheduled-lead promoter (retries and callbacks that fell
// due) and the calling-window refresh (zone intervals are computed days ahead). Any number of
// gateways may run it at once: every step is an atomic store operation, safe under races.
import type { Clock } from './clock.js';
import type { CampaignRef } from './ids.js';
import type { LeaseId } from './lease.js';
import type { QueueStore, ReclaimedLease } from './queue-store.js';

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
   * Called with expired leases before they are reclaimed, so the caller can complete the ones
   * whose outcome the system of record already holds (the call happened; the process that saved
   * it died before the queue heard). Whatever it leaves live is reclaimed.
   */
  readonly settleExpired?: (ref: CampaignRef, leaseIds: readonly LeaseId[]) => Promise<void>;
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

  async function look(ref: CampaignRef): Promise<void> {
    if (options.settleExpired) {
      const expired = await store.expiredLeases(ref, clock.now(), batch);
      if (expired.length > 0) await options.settleExpired(ref, expired);
    }
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const reclaimed = await store.reclaim(ref, clock.now(), batch);
      if (reclaimed.length > 0) options.onReclaimed?.(ref, reclaimed);
      if (reclaimed.length < batch) break;
    }
    let promoted = 0;
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const n = await store.promote(ref, clock.now(), batch);
      promoted += n;
      if (n < batch) break;
    }
    if (promoted > 0) options.onPromoted?.(ref, promoted);
    const key = `${ref.tenantId}\x00${ref.campaignId}`;
    const now = clock.now();
    const last = refreshedAt.get(key);
    if (last === undefined || now - last >= refreshEvery) {
      await store.refreshWindows(ref, now);
      refreshedAt.set(key, now);
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
      try {
        await look(ref);
      } catch (err) {
        options.onError?.(err, ref);
      }
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
