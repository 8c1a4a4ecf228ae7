// The privacy side's periodic work, run by every gateway: the retention purge (db/privacy/
// retention.ts; a tenant is purged by one gateway at a time, the others skip it) and the consent
// sweep (consent.ts). Each job runs on its own timer, never overlapping itself, and stops when
// the gateway's server closes.
import type { Logger } from '../logger.js';

export interface PeriodicJob {
  readonly name: string;
  readonly everyMs: number;
  run(): Promise<void>;
}

export interface Jobs {
  stop(): Promise<void>;
}

export function startJobs(jobs: readonly PeriodicJob[], logger: Logger): Jobs {
  let stopped = false;
  const timers = new Set<NodeJS.Timeout>();
  const running = new Set<Promise<void>>();

  function schedule(job: PeriodicJob): void {
    if (stopped) return;
    const timer = setTimeout(() => {
      timers.delete(timer);
      const run = job
        .run()
        .catch((err: unknown) => logger.error({ err, job: job.name }, 'privacy.job_failed'))
        .finally(() => {
          running.delete(run);
          schedule(job);
        });
      running.add(run);
    }, job.everyMs);
    timer.unref();
    timers.add(timer);
  }
  for (const job of jobs) schedule(job);

  return {
    async stop() {
      stopped = true;
      for (const t of timers) clearTimeout(t);
      await Promise.all([...running]);
    },
  };
}
