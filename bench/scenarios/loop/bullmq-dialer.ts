// Baseline 2, what a team would build on the best-known Redis queue: a Socket.IO server plus ONE
// BullMQ Worker whose concurrency equals the number of agents. Leads are jobs (addBulk
// beforehand). Agents announce readiness with `ready`; the server keeps the idle ones in arrival
// order (longest idle first, as dialhub's fairness rule). The processor takes an idle agent
// (waiting for one if none is idle), pushes the job with an acknowledged emit, gets the outcome in
// the device's acknowledgement, INSERTs it into Postgres (one row, one autocommit transaction per
// call: the straightforward way), and returns, so BullMQ completes the job.
//
// BullMQ runs on node-redis clients, as in the engine scenario (bullmq-cycles.ts says why).
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Queue, Worker } from 'bullmq';
import type { Job } from 'bullmq';
import pg from 'pg';
import { createClient } from 'redis';
import { Server } from 'socket.io';
import type { Socket } from 'socket.io';
import { elapsedMs } from '../../lib/stats.js';
import { standardLead } from '../engine/leads.js';
import type { QueueServerApi } from './api.js';
import type {
  DialerClientEvents,
  DialerHandshake,
  DialerJob,
  DialerServerEvents,
} from './baseline-events.js';
import { childArgs, serve } from './ipc.js';
import { createProfiler, memoryReading, serverMark } from './server-probe.js';

export interface BullmqDialerArgs {
  readonly redisUrl: string;
  readonly prefix: string;
  readonly queueName: string;
  /** Carries application_name and the schema (search_path) of the outcomes table. */
  readonly postgresUrl: string;
  readonly poolMax: number;
  readonly concurrency: number;
  /** How long an offer may go unanswered before the job fails. */
  readonly offerTimeoutMs: number;
}

type AgentSocket = Socket<DialerClientEvents, DialerServerEvents, Record<string, never>, DialerHandshake>;

const args = childArgs<BullmqDialerArgs>();

async function connect() {
  const client = createClient({ url: args.redisUrl });
  client.on('error', () => undefined); // BullMQ listens on its wrapper; avoid an unhandled 'error'
  await client.connect();
  return client;
}

// ---- idle agents ----
const idle = new Set<AgentSocket>(); // insertion order is idle order
/** Processors waiting for an agent, in arrival order. */
const waiting: { resolve: (socket: AgentSocket) => void; reject: (err: Error) => void }[] = [];

function agentReady(socket: AgentSocket): void {
  if (idle.has(socket)) return;
  const processor = waiting.shift();
  if (processor) processor.resolve(socket);
  else idle.add(socket);
}

function takeIdleAgent(): Promise<AgentSocket> {
  for (const socket of idle) {
    idle.delete(socket);
    if (socket.connected) return Promise.resolve(socket);
  }
  return new Promise((resolve, reject) => waiting.push({ resolve, reject }));
}

// ---- Socket.IO ----
const httpServer = createServer();
const io = new Server<DialerClientEvents, DialerServerEvents, Record<string, never>, DialerHandshake>(
  httpServer,
  { serveClient: false, transports: ['websocket'] },
);
io.on('connection', (socket) => {
  const { agentId } = socket.handshake.auth as Partial<DialerHandshake>;
  if (typeof agentId !== 'string') {
    socket.disconnect(true);
    return;
  }
  socket.data = { agentId };
  socket.on('ready', () => agentReady(socket));
  socket.on('disconnect', () => idle.delete(socket));
});

// ---- BullMQ + Postgres ----
const pool = new pg.Pool({ connectionString: args.postgresUrl, max: args.poolMax });
const queueClient = await connect();
const workerClient = await connect();
const queue = new Queue<DialerJob>(args.queueName, { connection: queueClient, prefix: args.prefix });
await queue.waitUntilReady();

async function dial(job: Job<DialerJob>): Promise<void> {
  const socket = await takeIdleAgent();
  const outcome = await socket.timeout(args.offerTimeoutMs).emitWithAck('offer', job.data);
  await pool.query(
    'INSERT INTO call_outcomes (job_id, lead_id, agent_id, outcome, duration_sec) VALUES ($1, $2, $3, $4, $5)',
    [job.id, job.data.id, socket.data.agentId, outcome.outcome, outcome.durationSec],
  );
}

const worker = new Worker<DialerJob>(args.queueName, dial, {
  connection: workerClient,
  prefix: args.prefix,
  concurrency: args.concurrency,
  autorun: false,
});
const counts = { completed: 0, failed: 0, errors: 0 };
worker.on('completed', () => counts.completed++);
worker.on('failed', () => counts.failed++);
worker.on('error', () => counts.errors++);
let running: Promise<void> | undefined;

serve<QueueServerApi>({
  async start() {
    await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
    await worker.waitUntilReady();
    running = worker.run();
    return { port: (httpServer.address() as AddressInfo).port };
  },
  async fill({ from, count, batch }) {
    const started = process.hrtime.bigint();
    for (let i = 0; i < count; i += batch) {
      await queue.addBulk(
        Array.from({ length: Math.min(batch, count - i) }, (_, k) => {
          const { id, phone, name, timeZone } = standardLead(from + i + k);
          return {
            name: 'call',
            data: { id, phone, name: name ?? '', timeZone: String(timeZone) },
            opts: { removeOnComplete: true, removeOnFail: true },
          };
        }),
      );
    }
    return { queued: count, ms: elapsedMs(started) };
  },
  async depth() {
    return queue.getWaitingCount();
  },
  mark: () =>
    Promise.resolve(
      serverMark(counts.completed, {
        failed: counts.failed,
        worker_errors: counts.errors,
        idle_agents: idle.size,
        waiting_processors: waiting.length,
      }),
    ),
  profile: createProfiler(),
  memory: memoryReading,
  async shutdown() {
    // Processors waiting for an agent would hold the worker's close forever: they give up (their
    // jobs fail and are removed; what is left in the queue goes with the run's key sweep).
    for (const w of waiting.splice(0)) w.reject(new Error('shutting down'));
    await worker.close(true);
    await running;
    await queue.close();
    await io.close();
    await pool.end();
    for (const c of [queueClient, workerClient]) if (c.isOpen) await c.close();
  },
});
