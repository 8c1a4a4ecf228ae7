// A BullMQ Worker process for the recovery scenario's baseline. Live workers "talk" for talkMs
// and return, so BullMQ completes the job. A silent worker keeps every job it takes (its
// processors wait); the orchestrator freezes the process (SIGSTOP), so its lock renewals stop and
// the live workers' stalled-job check must hand the jobs to them. After resuming, the silent
// worker's processors return, and BullMQ decides whether those late completions count.
//
// BullMQ runs on node-redis clients, as in the engine and loop scenarios.
import { Worker } from 'bullmq';
import type { Job } from 'bullmq';
import { createClient } from 'redis';
import { childArgs, serve } from '../loop/ipc.js';
import type { BullmqWorkerApi, LateCompletions, Role, Sighting } from './api.js';

export interface BullmqWorkerArgs {
  readonly redisUrl: string;
  readonly prefix: string;
  readonly queueName: string;
  readonly role: Role;
  readonly concurrency: number;
  readonly talkMs: number;
  readonly lockDurationMs: number;
  readonly stalledIntervalMs: number;
}

const args = childArgs<BullmqWorkerArgs>();
const offers: Sighting[] = [];
const completed: Record<string, number> = {};
const errors: Record<string, number> = {};
const held: string[] = [];
let releaseAll: () => void = () => undefined;
const released = new Promise<void>((resolve) => (releaseAll = resolve));
/** Silent: what became of each held job once its processor returned. */
const late = new Map<string, { resolve: (ok: boolean) => void; promise: Promise<boolean> }>();

const count = (into: Record<string, number>, key: string) => {
  into[key] = (into[key] ?? 0) + 1;
};

async function connect() {
  const client = createClient({ url: args.redisUrl });
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

let worker: Worker | undefined;

async function processJob(job: Job): Promise<void> {
  const id = String(job.id);
  offers.push([id, Date.now()]);
  if (args.role === 'silent') {
    held.push(id);
    let resolve: (ok: boolean) => void = () => undefined;
    const promise = new Promise<boolean>((r) => (resolve = r));
    late.set(id, { resolve, promise });
    await released;
    return;
  }
  await new Promise((r) => setTimeout(r, args.talkMs));
}

serve<BullmqWorkerApi>({
  async start() {
    worker = new Worker(args.queueName, processJob, {
      connection: await connect(),
      prefix: args.prefix,
      concurrency: args.concurrency,
      lockDuration: args.lockDurationMs,
      stalledInterval: args.stalledIntervalMs,
    });
    worker.on('completed', (job) => {
      const id = String(job.id);
      count(completed, id);
      late.get(id)?.resolve(true);
    });
    worker.on('failed', (job, err) => {
      count(errors, `failed: ${err.message.slice(0, 60)}`);
      if (job) late.get(String(job.id))?.resolve(false);
    });
    // A completion BullMQ refuses (the lock moved on) surfaces here, not as 'failed'.
    worker.on('error', (err) => {
      count(errors, `error: ${err.message.replace(/job \S+/i, 'job').slice(0, 60)}`);
      const m = /job (\S+?)[.\s]/i.exec(err.message);
      if (m) late.get(m[1]!)?.resolve(false);
    });
    await worker.waitUntilReady();
  },
  held: () => Promise.resolve([...held]),
  tally: () => Promise.resolve({ offers, completed, errors }),
  async release(): Promise<LateCompletions> {
    releaseAll();
    const accepted: string[] = [];
    const refused: Record<string, number> = {};
    await Promise.all(
      [...late].map(async ([id, l]) => {
        // BullMQ reports a refused completion as a worker error; give it time to arrive.
        const ok = await Promise.race([
          l.promise,
          new Promise<null>((r) => setTimeout(() => r(null), 5_000)),
        ]);
        if (ok === true) accepted.push(id);
        else count(refused, ok === false ? 'lock lost' : 'no verdict within 5 s');
      }),
    );
    return { accepted, refused };
  },
  async shutdown() {
    releaseAll();
    await worker?.close(true);
  },
});
