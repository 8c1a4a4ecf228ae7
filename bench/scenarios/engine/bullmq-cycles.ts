// The baseline: BullMQ's add/process cycle on the same Redis. addBulk plays the part of
// dialhub's enqueue and a Worker with a no-op processor the part of lease+complete (BullMQ's
// moveToActive / moveToFinished pair, which also fetches the next job in the same call).
//
// BullMQ talks to Redis through the node-redis client the engine uses (BullMQ 6 accepts a
// node-redis instance as `connection` and wraps it), so both sides run on the same driver and
// the project needs no second Redis client. BullMQ's own default, ioredis 5 with
// maxRetriesPerRequest: null, was tried side by side on the reference machine and processed no
// faster, so this costs the baseline nothing. Job data matches a standard lead's payload.
import { Queue, Worker } from 'bullmq';
import { createClient } from 'redis';
import type { CpuMeter, CpuShare } from '../../lib/cpu-meter.js';
import { elapsedMs } from '../../lib/stats.js';
import { standardLead } from './leads.js';

export interface BullmqCycleSettings {
  readonly jobs: number;
  readonly concurrency: number;
  readonly addBatch: number;
  readonly signal: AbortSignal;
  /** Measures who used the CPU during the timed phase. */
  readonly meter: CpuMeter;
}

export interface BullmqCycleResult {
  readonly jobs: number;
  readonly addPerS: number;
  readonly ms: number;
  readonly jobsPerS: number;
  readonly cpu: CpuShare;
}

async function connect(url: string) {
  const client = createClient({ url });
  client.on('error', () => undefined); // BullMQ listens on its wrapper; avoid an unhandled 'error'
  await client.connect();
  return client;
}

/**
 * Add `jobs` jobs in batches, then process them all with one Worker at the given concurrency and
 * obliterate the queue. Add rate and process rate are timed separately.
 */
export async function runBullmqCycles(
  url: string,
  prefix: string,
  queueName: string,
  s: BullmqCycleSettings,
): Promise<BullmqCycleResult> {
  const queueClient = await connect(url);
  const workerClient = await connect(url);
  const queue = new Queue(queueName, { connection: queueClient, prefix });
  let worker: Worker | undefined;
  // Removed in `finally`: the run's signal outlives this call and would collect one per run.
  const stop = new AbortController();
  try {
    await queue.waitUntilReady();
    const addStart = process.hrtime.bigint();
    for (let i = 0; i < s.jobs; i += s.addBatch) {
      s.signal.throwIfAborted();
      const count = Math.min(s.addBatch, s.jobs - i);
      await queue.addBulk(
        Array.from({ length: count }, (_, k) => {
          const lead = standardLead(i + k);
          return {
            name: 'call',
            data: { phone: lead.phone, name: lead.name },
            opts: { removeOnComplete: true, removeOnFail: true },
          };
        }),
      );
    }
    const addMs = elapsedMs(addStart);

    const w = new Worker(queueName, () => Promise.resolve(), {
      connection: workerClient,
      prefix,
      concurrency: s.concurrency,
      autorun: false,
      removeOnComplete: { count: 0 },
      removeOnFail: { count: 0 },
    });
    worker = w;
    let completed = 0;
    const allDone = new Promise<void>((resolve, reject) => {
      w.on('completed', () => {
        if (++completed === s.jobs) resolve();
      });
      // A no-op processor never fails; if a job does, the baseline is broken, not slow.
      w.on('failed', (_job, err) => reject(err));
      w.on('error', reject);
      s.signal.addEventListener('abort', () => reject(s.signal.reason as Error), { signal: stop.signal });
    });
    await w.waitUntilReady();
    await s.meter.start();
    const start = process.hrtime.bigint();
    const running = w.run();
    await allDone;
    const ms = elapsedMs(start);
    const cpu = await s.meter.stop();
    await w.close();
    await running;
    return { jobs: completed, addPerS: (s.jobs / addMs) * 1000, ms, jobsPerS: (completed / ms) * 1000, cpu };
  } finally {
    stop.abort();
    await worker?.close(true).catch(() => undefined);
    await queue.obliterate({ force: true }).catch(() => undefined);
    await queue.close().catch(() => undefined);
    for (const c of [queueClient, workerClient]) if (c.isOpen) await c.close().catch(() => undefined);
  }
}
