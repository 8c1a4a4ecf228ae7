// The loop of a durable-outbox worker (webhook deliveries, SMS follow-ups): run a round, then the
// next one at once when the round was full (more is due), after `pollMs` when it was not, and
// after four times that when it failed (logged as `<event>`). Stopping waits for the round in
// progress, so a worker never writes after its gateway closed the database.
import type { Logger } from './logger.js';

export interface OutboxPoller {
  stop(): Promise<void>;
}

export function startOutboxPoller(options: {
  /** One round; returns how many items it handled. */
  readonly runOnce: () => Promise<number>;
  /** Items a full round handles. */
  readonly batch: number;
  readonly pollMs: number;
  readonly logger: Logger;
  /** Log event of a failed round, e.g. `webhook.round_failed`. */
  readonly failedEvent: string;
}): OutboxPoller {
  const { runOnce, batch, pollMs, logger, failedEvent } = options;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let round: Promise<unknown> = Promise.resolve();

  function schedule(delay: number): void {
    if (stopped) return;
    timer = setTimeout(() => {
      round = runOnce().then(
        (n) => schedule(n === batch ? 0 : pollMs),
        (err: unknown) => {
          logger.error({ err }, failedEvent);
          schedule(pollMs * 4);
        },
      );
    }, delay);
    timer.unref();
  }
  schedule(pollMs);

  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await round.catch(() => undefined);
    },
  };
}
