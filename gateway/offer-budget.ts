// Where the time of a ready -> offer goes inside the gateway, for the bench's latency budget: an
// agent's `agent:ready` arrives (received), waits for its session and the state machine
// (submitted), waits in the batcher while a call of its campaign is in flight (flushed), waits for the
// ready-and-dispatch script's round trip to Redis (scripted), and its offer is handed to
// Socket.IO (sent). Off unless the process that builds the gateway passes one in (the bench's
// gateway does): a production gateway pays nothing for it.
//
// Sums and counts are cumulative, so a reader takes two readings and divides the differences:
// the mean time per stage over any window.
import { performance } from 'node:perf_hooks';

const STAGES = ['submitted', 'flushed', 'scripted', 'sent'] as const;
type Stage = (typeof STAGES)[number];

/** Cumulative counters, microseconds per stage (each from the stage before it). */
export interface OfferBudgetCounters {
  readonly budget_offers: number;
  readonly budget_session_us: number;
  readonly budget_batch_wait_us: number;
  readonly budget_script_us: number;
  readonly budget_after_script_us: number;
}

export class OfferBudget {
  /** Per agent (tenant + agent id): stage times of the ready in flight, index 0 = received. */
  readonly #open = new Map<string, number[]>();
  readonly #sumUs = [0, 0, 0, 0];
  #offers = 0;

  /** An `agent:ready` arrived: the clock starts (a previous unfinished one is dropped). */
  received(key: string): void {
    this.#open.set(key, [performance.now()]);
  }

  /** The ready reached a stage; ignored unless every earlier stage was seen in order. */
  stamp(key: string, stage: Stage): void {
    const times = this.#open.get(key);
    if (!times) return;
    if (times.length !== STAGES.indexOf(stage) + 1) {
      this.#open.delete(key);
      return;
    }
    times.push(performance.now());
    if (stage !== 'sent') return;
    this.#open.delete(key);
    for (let i = 0; i < STAGES.length; i++) this.#sumUs[i]! += (times[i + 1]! - times[i]!) * 1000;
    this.#offers++;
  }

  /** The agent's ready ended without an offer of its own (refused, or nothing to dial). */
  drop(key: string): void {
    this.#open.delete(key);
  }

  counters(): OfferBudgetCounters {
    const us = this.#sumUs.map(Math.round);
    return {
      budget_offers: this.#offers,
      budget_session_us: us[0]!,
      budget_batch_wait_us: us[1]!,
      budget_script_us: us[2]!,
      budget_after_script_us: us[3]!,
    };
  }
}
