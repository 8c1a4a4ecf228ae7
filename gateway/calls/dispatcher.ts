// Dispatch triggers. Anything that can make a match triggers its campaign: an agent becomes
// ready, leads are queued, a scheduled lead falls due, a lease is reclaimed or released, a
// campaign is edited or resumed, and a calling window opens (the store says when the next closed
// zone opens whenever ready agents are left waiting; a timer triggers the campaign then).
// Triggers in the same tick coalesce into one dispatch call that pairs many agents at once, and a
// campaign is dispatched again while it keeps filling whole batches.
import type { Clock } from '../../engine/clock.js';
import { isEngineError } from '../../engine/errors.js';
import type { CampaignRef } from '../../engine/ids.js';
import type { Lease } from '../../engine/lease.js';
import type { QueueStore } from '../../engine/queue-store.js';
import type { Logger } from '../logger.js';

export interface DispatcherOptions {
  readonly store: QueueStore;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly batch: number;
  /** How long an offer waits to be accepted (ms): one for all, or per campaign. */
  readonly offerTtlMs: number | ((ref: CampaignRef) => number);
  /** Hand a granted lease to its agent's device. */
  readonly deliver: (lease: Lease, ref: CampaignRef) => void;
  /** The store does not know the campaign, or may have lost writes: rebuild it from Postgres. */
  readonly onUnknownCampaign: (ref: CampaignRef) => void;
  /** Whether the campaign may be dispatched now (active on this gateway). */
  readonly isLive: (ref: CampaignRef) => boolean;
}

export interface Dispatcher {
  trigger(ref: CampaignRef): void;
  /** A dispatch found ready agents waiting for a closed window: trigger again when it opens. */
  triggerAt(ref: CampaignRef, at: number): void;
  /** Resolves when no dispatch is running or pending (tests, shutdown). */
  idle(): Promise<void>;
  stop(): void;
}

const key = (ref: CampaignRef) => `${ref.tenantId}\x00${ref.campaignId}`;
// A campaign that keeps filling whole batches yields to the event loop between rounds, but
// never loops more than this per trigger.
const MAX_ROUNDS = 50;
// Timers are set at most this far ahead (a window may open in a week; the refresh re-arms).
const MAX_TIMER_MS = 6 * 3_600_000;

export function createDispatcher(options: DispatcherOptions): Dispatcher {
  const { store, clock, logger, batch, offerTtlMs } = options;
  const pending = new Map<string, CampaignRef>();
  const running = new Map<string, Promise<void>>();
  const openings = new Map<string, { at: number; timer: NodeJS.Timeout }>();
  let scheduled = false;
  let stopped = false;

  async function run(ref: CampaignRef): Promise<void> {
    for (let round = 0; round < MAX_ROUNDS && !stopped; round++) {
      let leases: readonly Lease[];
      let nextOpenAt: number | null;
      try {
        ({ leases, nextOpenAt } = await store.dispatch(
          ref,
          clock.now(),
          batch,
          typeof offerTtlMs === 'number' ? offerTtlMs : offerTtlMs(ref),
        ));
      } catch (err) {
        if (isEngineError(err, 'CAMPAIGN_UNKNOWN') || isEngineError(err, 'CAMPAIGN_STALE')) {
          options.onUnknownCampaign(ref);
        } else {
          logger.error({ err, tenantId: ref.tenantId, campaignId: ref.campaignId }, 'dispatch.failed');
        }
        return;
      }
      for (const lease of leases) options.deliver(lease, ref);
      if (nextOpenAt !== null) triggerAt(ref, nextOpenAt);
      if (leases.length < batch) return;
    }
  }

  function flush(): void {
    scheduled = false;
    for (const [k, ref] of pending) {
      if (running.has(k)) continue; // picked up again when the running pass ends
      pending.delete(k);
      const p = run(ref).finally(() => {
        running.delete(k);
        if (pending.has(k)) schedule();
      });
      running.set(k, p);
    }
  }

  function schedule(): void {
    if (scheduled || stopped) return;
    scheduled = true;
    setImmediate(flush);
  }

  function trigger(ref: CampaignRef): void {
    if (!options.isLive(ref)) return;
    pending.set(key(ref), ref);
    schedule();
  }

  function triggerAt(ref: CampaignRef, at: number): void {
    if (stopped) return;
    const k = key(ref);
    const existing = openings.get(k);
    if (existing && existing.at <= at) return;
    if (existing) clearTimeout(existing.timer);
    const delay = Math.min(Math.max(at - clock.now(), 0), MAX_TIMER_MS);
    const timer = setTimeout(() => {
      openings.delete(k);
      trigger(ref);
    }, delay);
    timer.unref();
    openings.set(k, { at, timer });
  }

  return {
    trigger,
    triggerAt,
    async idle() {
      while (running.size > 0 || pending.size > 0) {
        await Promise.all(running.values());
        if (pending.size > 0 && running.size === 0) await new Promise((r) => setImmediate(r));
      }
    },
    stop() {
      stopped = true;
      pending.clear();
      for (const { timer } of openings.values()) clearTimeout(timer);
      openings.clear();
    },
  };
}
